"""Bookkeeping: outcomes as events caused by the turn, scene close with per-POV summaries,
interrupted bookkeeping completed at start-up, the repetition guard."""

import asyncio
import json

import pytest

from eventstore.models import Event
from eventstore.replay import verify
from eventstore.services import append
from memory.models import Memory
from play.engine.recovery import pending_turns, recover
from play.models import Turn
from tests.factories import make_chat
from worlds.models import Activity, Container, Scene, WorldState

pytestmark = pytest.mark.django_db(databases=["default", "scratch"])


def send(client, chat, text):
    response = client.post(
        f"/api/chats/{chat.pk}/turns", json.dumps({"text": text}), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    return response.json()["turns"]


def test_moving_somewhere_closes_the_scene_with_a_summary_from_the_bot_s_angle(client, scripted):
    chat = make_chat()
    scripted.narrative += [
        "*She parks outside the diner.* We're here.",
        "I remember the drive: rain, and Sam asking about the lighthouse.",
    ]
    scripted.structured_replies.append(
        {"significance": 2, "scene": {"moved_to": "Lantern Diner", "moved_to_kind": "diner"}}
    )
    turns = send(client, chat, "Let's stop at the diner.")
    scene = Scene.objects.get(chat=chat, number=1)
    assert scene.closed_event and "moved to Lantern Diner" in scene.close_reason
    summary = Memory.objects.get(chat=chat, kind="summary")
    assert summary.owner == "host" and "I remember the drive" in summary.text
    assert "Key quotes:" in summary.text  # significance 2 keeps the exact words
    assert WorldState.objects.get(chat=chat).scene == 2
    diner = Container.objects.get(chat=chat, key="lantern_diner")
    assert diner.active and WorldState.objects.get(chat=chat).location == "lantern_diner"
    assert Activity.objects.get(chat=chat, role="host").container == "lantern_diner"
    caused = Event.objects.filter(caused_by_id=turns[1]["id"]).values_list("kind", flat=True)
    assert {"scene_closed", "scene_transition"} <= set(caused)
    # the summary prompt was written from the host's angle: its persona and its edge to you
    summary_call = next(c for c in scripted.calls if c["kind"] == "generate")
    assert "feelings toward" in summary_call["messages"][1]["content"]


def test_a_large_time_gap_advances_the_clock_and_closes_the_scene(client, scripted):
    chat = make_chat()
    scripted.structured_replies.append({"scene": {"minutes_passed": 240}})
    send(client, chat, "Let's sleep until dawn.")
    assert (
        WorldState.objects.get(chat=chat).story_time == "2024-10-13T00:00"
    )  # one exchange moves it 180 minutes at most
    assert Scene.objects.get(chat=chat, number=1).closed_event is not None


def test_edges_for_absent_or_self_pairs_are_dropped(client, scripted):
    chat = make_chat()
    scripted.structured_replies.append(
        {
            "edges": [
                {"source": "host", "target": "host", "affinity_delta": 5},
                {"source": "guest", "target": "you", "affinity_delta": 5},
                {"source": "you", "target": "host", "affinity_delta": 4},
            ]
        }
    )
    turns = send(client, chat, "hi")
    update = Event.objects.get(caused_by_id=turns[1]["id"], kind="edge_update")
    assert [(e["source"], e["target"]) for e in update.payload["edges"]] == [("you", "host")]


@pytest.mark.django_db(databases=["default", "scratch"], transaction=True)
def test_interrupted_bookkeeping_is_completed_at_start_up(scripted):
    chat = make_chat()
    append(stream=chat, kind="user_turn", payload={"text": "hi", "witnesses": {"host": True}})
    bot = append(
        stream=chat,
        kind="assistant_turn",
        payload={"speaker": "host", "name": "Mara", "text": "Hello.", "witnesses": {"host": True}},
    )
    assert (chat.pk, bot.id) in pending_turns()  # as if the server died before bookkeeping
    scripted.structured_replies.append({"significance": 1})
    assert asyncio.run(recover()) == 1
    assert Turn.objects.get(pk=bot.id).bookkept
    assert Turn.objects.get(pk=bot.id).significance == 1
    assert pending_turns() == []
    assert verify(chat) == []


def test_the_repetition_guard_rewrites_a_recycled_reply_once_and_says_so(client, scripted):
    chat = make_chat()
    stale = "The rain keeps falling on the old coast road and the radio hisses softly tonight."
    scripted.narrative += [stale]
    send(client, chat, "one")
    scripted.narrative += [stale, "Something new: a fox darts across the headlights!"]
    turns = send(client, chat, "two")
    assert turns[1]["text"] == "Something new: a fox darts across the headlights!"
    prompt = client.get(f"/api/chats/{chat.pk}/turns/{turns[1]['id']}/prompt").json()
    assert prompt["repetition_guard"]["fired"] is True
    assert prompt["repetition_guard"]["first_draft"] == stale
    page = client.get(f"/chats/{chat.pk}/turns/{turns[1]['id']}/prompt/").content.decode()
    assert "repetition guard fired" in page


def test_fact_keys_of_the_analysis_go_on_the_exchange_s_memories(client, scripted):
    chat = make_chat()
    scripted.narrative.append("A beagle! What's its name?")
    scripted.structured_replies.append({"memory_keys": ["Sam's dog Turnip is a beagle"]})
    user, bot = send(client, chat, "Meet Turnip, our new dog.")
    keys = Event.objects.get(caused_by_id=bot["id"], kind="memory_keys_added")
    assert keys.payload["turn_ids"] == [user["id"], bot["id"]]
    assert keys.payload["keys"] == ["Sam's dog Turnip is a beagle"]
    assert {user["id"], bot["id"]} <= set(keys.payload["sources"])  # the lines it was shown
    for turn in (user, bot):
        mem = Memory.objects.get(chat=chat, turn_id=turn["id"], owner="host")
        assert mem.keys == "Sam's dog Turnip is a beagle"
    said = Memory.objects.get(chat=chat, turn_id=user["id"], owner="host")
    assert said.text == "Sam: Meet Turnip, our new dog."  # the words stay verbatim
    assert verify(chat) == []
