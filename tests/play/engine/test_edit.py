"""Editing a line: the world follows the words (issue 26), through the engine's service.

A scripted analysis writes every canary of the exchange it reads into the speaker's mood and
edge knowledge, so what an analysis found from words is easy to follow.
"""

from __future__ import annotations

import json
import re

import pytest
from asgiref.sync import async_to_sync

from eventstore.models import Branch, Event
from eventstore.projection import dump_db
from eventstore.replay import verify
from eventstore.services import append
from memory.models import Memory
from play.engine import pipeline
from play.engine.impact import changes
from play.engine.inference.registry import get_backend
from play.engine.prompt import build_prompt
from play.engine.services.edit import spelling_only, state_edit, turn_edit, turn_edit_preview
from play.models import Turn
from tests.factories import edge_of, make_chat
from worlds.models import EntityState, WorldState

pytestmark = pytest.mark.django_db(databases=["default", "scratch"])

CANARY = re.compile(r"\bzq\d+x\b")


def echo_analysis(messages, params):
    """Writes the canaries of the exchange it was shown (its last two lines) into the host's
    mood and what the host knows of you."""
    text = messages[-1]["content"]
    lines = [ln for ln in text.splitlines() if "[heard by" in ln][-2:]
    found = sorted(set(CANARY.findall("\n".join(lines))))
    if not found:
        return {"significance": 1}
    return {
        "significance": 1,
        "entities": [{"role": "host", "mood": "thinking of " + " ".join(found)}],
        "edges": [
            {
                "source": "host",
                "target": "you",
                "affinity_delta": 1,
                "knowledge_facts": [f"Sam spoke of {w}" for w in found],
            }
        ],
    }


@pytest.fixture
def model(scripted):
    scripted.structured_replies = []

    def route(messages, params):
        return echo_analysis(messages, params)

    original = scripted.structured

    async def structured(messages, schema, params):
        if schema.__name__ == "TurnAnalysis":
            scripted.structured_replies.insert(0, route)
        return await original(messages, schema, params)

    scripted.structured = structured
    return scripted


def say(chat, text: str, reply: str = "Mm.") -> tuple[int, int]:
    get_backend().narrative.append(reply)
    outs = async_to_sync(pipeline.run_turn)(chat.pk, text)
    return outs[0].id, outs[1].id


def state(chat) -> str:
    return json.dumps(dump_db(chat.pk))


def host_mood(chat) -> str:
    return EntityState.objects.get(chat_id=chat.pk, role="host").mood


def edit(chat, turn_id, text, keep_after=True) -> dict:
    return async_to_sync(turn_edit)(
        chat_id=chat.pk, turn_id=turn_id, text=text, keep_after=keep_after, origin="api"
    )


def test_editing_your_line_redoes_the_exchange_and_keeps_what_followed(model):
    chat = make_chat()
    first, reply = say(chat, "I left the map at zq1x station.")
    second, _ = say(chat, "Shall we walk on?")
    assert "zq1x" in host_mood(chat) or "zq1x" in state(chat)

    out = edit(chat, first, "I left the map at zq2x station.")
    assert out["reanalysed"]
    after = state(chat)
    assert "zq1x" not in after  # the old words, and all they led to, are gone
    assert "zq2x" in host_mood(chat)  # the new words were analysed
    texts = [t.text for t in Turn.objects.filter(chat=chat).order_by("id")]
    assert texts[-4:] == ["I left the map at zq2x station.", "Mm.", "Shall we walk on?", "Mm."]
    new = Turn.objects.get(pk=out["turn_id"])
    assert new.edited_from == first
    assert verify(chat) == []
    # the old words stay reachable on the branch they were said on
    old_branch = Event.objects.get(pk=first).branch_id
    assert Branch.objects.get(pk=out["branch"]).kind == "edit"
    assert old_branch != out["branch"]


def test_editing_a_bot_line_redoes_its_own_analysis(model):
    chat = make_chat()
    _, reply = say(chat, "Hello there.", reply="Meet me at zq3x pier.")
    say(chat, "Sure.")
    assert "zq3x" in state(chat)
    edit(chat, reply, "Meet me at zq4x pier.")
    assert "zq3x" not in state(chat) and "zq4x" in host_mood(chat)
    assert verify(chat) == []


def test_a_narrator_line_is_edited_without_an_analysis(model):
    chat = make_chat()
    line = append(
        stream=chat,
        kind="narration",
        payload={
            "speaker": "narrator",
            "name": "Narrator",
            "text": "Rain falls.",
            "bot_text": "Rain falls.",
            "witnesses": {"you": True, "host": True},
        },
    )
    out = edit(chat, line.id, "Snow falls.")
    assert not out["reanalysed"]
    assert Turn.objects.get(pk=out["turn_id"]).text == "Snow falls."
    assert verify(chat) == []


def test_a_spelling_fix_changes_no_state(model):
    chat = make_chat()
    first, _ = say(chat, "I left teh map at zq5x station.")
    say(chat, "Shall we walk on?")
    before = dump_db(chat.pk)
    calls = len(model.calls)
    out = edit(chat, first, "I left the map at zq5x station.")
    assert not out["reanalysed"] and len(model.calls) == calls  # no model call
    ids = dict(
        Event.objects.filter(branch_id=out["branch"], copied_from__isnull=False).values_list(
            "copied_from_id", "id"
        )
    )
    ids[first] = out["turn_id"]
    moved = {(c["table"], c["field"]) for c in changes(before, dump_db(chat.pk), ids)}
    allowed = {
        ("play.Turn", "text"),
        ("play.Turn", "bot_text"),
        ("play.Turn", "edited_from"),
        ("memory.Memory", "text"),
        ("worlds.Witness", "words"),
        ("worlds.Witness", "names"),
    }
    assert moved <= allowed, json.dumps(
        [c for c in changes(before, dump_db(chat.pk), ids) if c["field"] == "prov"]
    )
    assert verify(chat) == []


def test_spelling_only_is_letters_not_numbers():
    assert spelling_only("I recieve teh map.", "I receive the map!")
    assert not spelling_only("The code is 4417.", "The code is 4418.")
    assert not spelling_only("I left the map.", "I left the key.")
    assert not spelling_only("I left the map.", "I left the old map.")


def test_save_and_branch_stops_at_the_edited_line(model):
    chat = make_chat()
    first, _ = say(chat, "Say zq6x.")
    second, _ = say(chat, "And then?")
    edit(chat, first, "Say zq7x.", keep_after=False)
    texts = [t.text for t in Turn.objects.filter(chat=chat).order_by("id")]
    assert texts[-1] == "Say zq7x." and "And then?" not in texts
    assert "zq6x" not in state(chat)
    assert verify(chat) == []


def test_the_preview_names_what_the_old_words_took_with_them(model):
    chat = make_chat()
    first, _ = say(chat, "I left the map at zq8x station.")
    say(chat, "Shall we walk on?")
    preview = turn_edit_preview(chat_id=chat.pk, turn_id=first, text="I left the map at home.")
    removed = [e for e in preview["changes"] if "zq8x" in json.dumps(e["now"])]
    kinds = {e["kind"] for e in removed}
    assert {"transcript", "memories", "relationships", "characters"} <= kinds
    assert preview["reanalysed"] and preview["words_removed"] >= 1
    assert "zq8x" in state(chat)  # a preview changes nothing


@pytest.mark.parametrize("text", ["", "   "])
def test_an_empty_edit_is_refused_and_changes_nothing(model, text):
    chat = make_chat()
    first, _ = say(chat, "Hello.")
    before = state(chat)
    with pytest.raises(ValueError):
        edit(chat, first, text)
    assert state(chat) == before


# -- what the world holds, by hand ---------------------------------------------------------------


def test_hand_edits_of_the_world_are_events_gated_and_followed_by_swipes(model):
    chat = make_chat()
    say(chat, "Hello.")
    state_edit(
        chat_id=chat.pk,
        target="edge",
        key={"source": "host", "target": "you"},
        knowledge_add=["Sam keeps bees", "Sam hates rain"],
        origin="api",
    )
    state_edit(
        chat_id=chat.pk,
        target="edge",
        key={"source": "host", "target": "you"},
        knowledge_remove=["Sam hates rain"],
        origin="api",
    )
    assert edge_of(chat, "host", "you").knowledge == ["Sam keeps bees"]
    state_edit(
        chat_id=chat.pk,
        target="entity",
        key={"role": "host"},
        changes={"mood": "wary"},
        origin="api",
    )
    state_edit(chat_id=chat.pk, target="world", key={}, changes={"weather": "sleet"}, origin="api")
    memory = Memory.objects.filter(chat=chat, owner="host").last()
    state_edit(
        chat_id=chat.pk,
        target="memory",
        key={"id": memory.pk},
        changes={"text": "Sam: Hi."},
        origin="api",
    )
    assert Memory.objects.get(pk=memory.pk).text == "Sam: Hi."
    assert WorldState.objects.get(chat=chat).weather == "sleet"
    kinds = list(
        Event.objects.filter(stream=chat, kind="manual_edit").values_list("payload", flat=True)
    )
    assert len(kinds) == 5
    prompt = build_prompt(chat, "host")
    text = json.dumps(prompt.messages)
    assert "Sam keeps bees" in text and "wary" in text and "sleet" in text
    assert "Sam hates rain" not in text
    assert verify(chat) == []

    # a swipe to the first reply's sibling goes back before the edits: they follow the line
    _, reply = say(chat, "Again?")
    model.narrative.append("Other words.")
    async_to_sync(pipeline.regenerate)(chat.pk, reply)
    assert EntityState.objects.get(chat=chat, role="host").mood == "wary"  # edits were before
    with pytest.raises(ValueError):
        state_edit(chat_id=chat.pk, target="entity", key={"role": "host"}, changes={}, origin="api")
    with pytest.raises(ValueError):
        state_edit(
            chat_id=chat.pk, target="entity", key={"role": "host"}, changes={"x": 1}, origin="api"
        )
