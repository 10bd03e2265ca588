"""Continue and Impersonate (issue 26), through the engine's services."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync

from eventstore.projection import dump_db
from eventstore.replay import verify
from play.engine import pipeline
from play.engine.inference.registry import get_backend
from play.engine.selectors import swipe_groups
from play.engine.services.branches import swipe_switch
from play.engine.services.cast import (
    guest_add,
    meanwhile_continue,
    meanwhile_end,
    meanwhile_start,
)
from play.engine.services.compose import impersonate, joined, turn_continue
from play.models import Chat, Turn
from tests.factories import make_character, make_chat

pytestmark = pytest.mark.django_db(databases=["default", "scratch"])


def say(chat, text: str, reply: str = "Mm.") -> tuple[int, int]:
    get_backend().narrative.append(reply)
    outs = async_to_sync(pipeline.run_turn)(chat.pk, text)
    return outs[0].id, outs[-1].id


def test_joined_drops_what_the_continuation_repeats():
    assert joined("She opened the door and", "walked in.") == "She opened the door and walked in."
    assert joined("She opened the door", ", slowly.") == "She opened the door, slowly."
    assert joined("She opened the door and", "the door and walked in.") == (
        "She opened the door and walked in."
    )
    assert joined("She opened the door and", "She opened the door and walked in.") == (
        "She opened the door and walked in."
    )


def test_continue_writes_on_as_a_new_variant_and_the_shorter_one_stays(scripted):
    chat = make_chat()
    _, reply = say(chat, "Tell me about the lighthouse.", reply="The lighthouse was built in")
    scripted.narrative.append("1887 by my grandfather.")
    (out,) = async_to_sync(turn_continue)(chat_id=chat.pk, origin="api")
    longer = Turn.objects.get(pk=out.id)
    assert longer.text == "The lighthouse was built in 1887 by my grandfather."
    assert longer.continued_from == reply
    assert longer.bookkept  # the analysis covers the whole reply
    analysis = [c for c in scripted.calls if c.get("schema") == "TurnAnalysis"][-1]
    assert "1887 by my grandfather" in analysis["messages"][-1]["content"]
    # the model was told where the reply stops; a base model got it as the answer's start
    stream = [c for c in scripted.calls if c["kind"] == "stream"][-1]
    assert stream["params"].prefill == "The lighthouse was built in"
    assert "The lighthouse was built in" in stream["messages"][-1]["content"]
    # the shorter reply is one swipe away, with its state
    chat = Chat.objects.get(pk=chat.pk)
    group = swipe_groups(chat)[longer.pk]
    assert (group.index, group.total) == (2, 2)
    swipe_switch(chat_id=chat.pk, turn_id=longer.pk, direction=-1, origin="api")
    assert Turn.objects.filter(chat=chat).last().text == "The lighthouse was built in"
    assert verify(chat) == []


def test_only_the_newest_bot_reply_can_be_continued(scripted):
    chat = make_chat()
    _, reply = say(chat, "Hello.")
    say(chat, "Again.")
    with pytest.raises(ValueError, match="newest"):
        async_to_sync(turn_continue)(chat_id=chat.pk, turn_id=reply, origin="api")
    user = Turn.objects.filter(chat=chat, speaker="you").last()
    with pytest.raises(ValueError):
        async_to_sync(turn_continue)(chat_id=chat.pk, turn_id=user.pk, origin="api")


def test_impersonate_drafts_your_line_from_what_you_witnessed_and_stores_nothing(scripted):
    chat = make_chat()
    guest = make_character("Theo")
    async_to_sync(guest_add)(chat_id=chat.pk, character_id=guest.pk, origin="api")
    # a meanwhile scene: Mara and Theo talk without you
    async_to_sync(meanwhile_start)(chat_id=chat.pk, origin="api")
    scripted.narrative += ["The key is under the zq9x stone.", "Good to know."]
    async_to_sync(meanwhile_continue)(chat_id=chat.pk, exchanges=1, origin="api")
    async_to_sync(meanwhile_end)(chat_id=chat.pk, origin="api")
    say(chat, "Theo, Mara, I am back.", reply="Welcome back.")
    before = json.dumps(dump_db(chat.pk))
    assert "zq9x" in before  # it was said, where you were not

    scripted.narrative.append("Sam: I missed you both.")
    out = async_to_sync(impersonate)(chat_id=chat.pk, origin="api")
    assert out["text"] == "I missed you both."
    request = [c for c in scripted.calls if c["kind"] == "stream"][-1]
    sent = json.dumps(request["messages"])
    assert "zq9x" not in sent  # said where your persona was not
    assert "I am back" in sent and "Sam" in sent
    assert json.dumps(dump_db(chat.pk)) == before  # nothing stored
