"""Starting a chat offers the card's alternate greetings as swipes of the first message."""

from __future__ import annotations

import json

import pytest

from eventstore.replay import verify
from play.models import Chat
from tests.factories import make_character, make_persona

pytestmark = pytest.mark.django_db(databases=["default", "scratch"])

GREETINGS = {"first_mes": "Hello, {{user}}.", "alternate_greetings": ["Hi there.", "Evening."]}


def post(client, url, data=None):
    return client.post(url, json.dumps(data or {}), content_type="application/json")


def start(client, **body) -> int:
    character = make_character(**GREETINGS)
    make_persona("Sam")
    response = post(
        client, "/api/chats", {"character": character.pk, "parse_kickoff": False, **body}
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


def first_message(client, chat_id: int) -> dict:
    [turn] = client.get(f"/api/chats/{chat_id}/transcript").json()["turns"]
    return turn


def test_the_greetings_are_swipes_of_the_first_message_and_the_arrows_switch_them(client):
    chat_id = start(client)
    turn = first_message(client, chat_id)
    assert (turn["text"], turn["swipe"]) == ("Hello, Sam.", {"index": 1, "total": 3})
    seen = []
    for _ in range(2):
        swiped = post(client, f"/api/chats/{chat_id}/turns/{turn['id']}/swipe?direction=1")
        assert swiped.status_code == 200, swiped.content
        turn = first_message(client, chat_id)
        seen.append((turn["text"], turn["swipe"]["index"]))
    assert seen == [("Hi there.", 2), ("Evening.", 3)]
    assert (
        post(client, f"/api/chats/{chat_id}/turns/{turn['id']}/swipe?direction=1").status_code
        == 400
    )
    post(client, f"/api/chats/{chat_id}/turns/{turn['id']}/swipe?direction=-1")
    assert first_message(client, chat_id)["text"] == "Hi there."
    assert verify(Chat.objects.get(pk=chat_id)) == []


def test_the_chosen_greeting_is_shown_first_and_the_story_goes_on_from_it(client, scripted):
    chat_id = start(client, greeting=2)
    turn = first_message(client, chat_id)
    assert (turn["text"], turn["swipe"]) == ("Evening.", {"index": 3, "total": 3})
    reply = post(client, f"/api/chats/{chat_id}/turns", {"text": "Evening to you."})
    assert reply.status_code == 200
    sent = json.dumps(scripted.calls[0]["messages"])
    assert "Evening." in sent and "Hi there." not in sent and "Hello, Sam." not in sent
    turns = client.get(f"/api/chats/{chat_id}/transcript").json()["turns"]
    assert [t["speaker"] for t in turns] == ["host", "you", "host"]


def test_a_card_with_one_greeting_has_no_swipes_and_a_bad_choice_is_refused(client):
    character = make_character(first_mes="Only this.")
    response = post(client, "/api/chats", {"character": character.pk, "parse_kickoff": False})
    turn = first_message(client, response.json()["id"])
    assert turn["text"] == "Only this." and "swipe" not in turn
    bad = post(client, "/api/chats", {"character": character.pk, "greeting": 1})
    assert bad.status_code == 400
