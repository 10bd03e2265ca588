import json

import pytest

from eventstore.models import Event
from play.models import Turn
from tests.factories import edge_of, make_chat

pytestmark = pytest.mark.django_db(databases=["default", "scratch"])


def post(client, url, data=None, **extra):
    return client.post(url, json.dumps(data or {}), content_type="application/json", **extra)


def test_a_turn_streams_a_reply_and_bookkeeping_records_its_outcomes(client, scripted):
    chat = make_chat()
    scripted.narrative.append("*Mara grins.* The causeway is open tonight.")
    scripted.structured_replies.append(
        {
            "significance": 2,
            "edges": [
                {
                    "source": "host",
                    "target": "you",
                    "affinity_delta": 3,
                    "trust_delta": 1,
                    "knowledge_facts": ["Sam likes night drives"],
                }
            ],
            "entities": [{"role": "host", "mood": "amused"}],
            "activities": [{"role": "host", "verb": "driving", "holding": ["steering wheel"]}],
        }
    )
    response = post(client, f"/api/chats/{chat.pk}/turns", {"text": "Is the road open?"})
    assert response.status_code == 200, response.content
    turns = response.json()["turns"]
    assert [t["speaker"] for t in turns] == ["you", "host"]
    assert turns[1]["text"] == "*Mara grins.* The causeway is open tonight."
    edge = edge_of(chat, "host", "you")
    assert (edge.affinity, edge.trust, edge.knowledge) == (3, 1, ["Sam likes night drives"])
    assert edge_of(chat, "you", "host").affinity == 0
    bot = Turn.objects.get(pk=turns[1]["id"])
    assert bot.significance == 2 and bot.bookkept
    caused = set(Event.objects.filter(caused_by_id=bot.id).values_list("kind", flat=True))
    assert {
        "edge_update",
        "entity_state_change",
        "activity_change",
        "memory_significance_set",
        "turn_bookkept",
    } <= caused
    # one narrative call and one analysis call
    assert [c["kind"] for c in scripted.calls] == ["stream", "structured"]


def test_state_transcript_prompt_and_branches_answer_in_their_shapes(client, scripted):
    chat = make_chat()
    turns = post(client, f"/api/chats/{chat.pk}/turns", {"text": "Hello"}).json()["turns"]
    state = client.get(f"/api/chats/{chat.pk}/state").json()
    for key in (
        "entities",
        "activity",
        "containers",
        "edges",
        "memories",
        "scenes",
        "story_events",
        "threads",
    ):
        assert key in state
    mem = state["memories"][0]
    assert set(mem) >= {"id", "owner", "text", "witnesses", "significance", "pinned"}
    assert set(mem["witnesses"]) == {"you", "host", "guest"}
    prompt = client.get(f"/api/chats/{chat.pk}/turns/{turns[1]['id']}/prompt").json()
    assert prompt["messages"][0]["role"] == "system"
    assert {s["name"] for s in prompt["sections"]} >= {"identity", "activity", "recent dialogue"}
    assert all({"name", "tier", "tokens"} <= set(s) for s in prompt["sections"])
    branches = client.get(f"/api/chats/{chat.pk}/branches").json()["branches"]
    assert branches[0]["active"] and branches[0]["kind"] == "main"
    transcript = client.get(f"/api/chats/{chat.pk}/transcript").json()
    assert [t["text"] for t in transcript["turns"]][-1] == turns[1]["text"]


def test_regenerate_makes_a_swipe_and_switching_back_restores_state(client, scripted):
    chat = make_chat()
    scripted.narrative.append("First answer.")
    scripted.structured_replies.append(
        {"edges": [{"source": "host", "target": "you", "affinity_delta": 7}]}
    )
    turns = post(client, f"/api/chats/{chat.pk}/turns", {"text": "Hi"}).json()["turns"]
    first_id = turns[1]["id"]
    scripted.narrative.append("Second answer.")
    scripted.structured_replies.append(
        {"edges": [{"source": "host", "target": "you", "affinity_delta": -4}]}
    )
    regen = post(client, f"/api/chats/{chat.pk}/turns/{first_id}/regenerate")
    assert regen.status_code == 200, regen.content
    second_id = regen.json()["turns"][0]["id"]
    assert edge_of(chat, "host", "you").affinity == -4
    transcript = client.get(f"/api/chats/{chat.pk}/transcript").json()["turns"]
    assert transcript[-1]["swipe"] == {"index": 2, "total": 2}
    assert "First answer." not in [t["text"] for t in transcript]
    back = post(client, f"/api/chats/{chat.pk}/turns/{second_id}/swipe?direction=-1")
    assert back.status_code == 200, back.content
    assert edge_of(chat, "host", "you").affinity == 7
    transcript = client.get(f"/api/chats/{chat.pk}/transcript").json()["turns"]
    assert transcript[-1]["text"] == "First answer."
    assert transcript[-1]["swipe"] == {"index": 1, "total": 2}


def test_rewind_forks_at_the_turn_and_keeps_the_old_tail(client, scripted):
    chat = make_chat()
    first = post(client, f"/api/chats/{chat.pk}/turns", {"text": "one"}).json()["turns"]
    post(client, f"/api/chats/{chat.pk}/turns", {"text": "two"})
    response = post(client, f"/api/chats/{chat.pk}/turns/{first[1]['id']}/rewind")
    assert response.status_code == 200
    texts = [t["text"] for t in client.get(f"/api/chats/{chat.pk}/transcript").json()["turns"]]
    assert "two" not in texts and "one" in texts
    branches = client.get(f"/api/chats/{chat.pk}/branches").json()["branches"]
    assert len(branches) == 2
    main = next(b for b in branches if b["kind"] == "main")
    post(client, f"/api/chats/{chat.pk}/branches/{main['id']}/activate")
    texts = [t["text"] for t in client.get(f"/api/chats/{chat.pk}/transcript").json()["turns"]]
    assert "two" in texts


def test_errors_are_json_with_the_right_status(client, scripted):
    chat = make_chat()
    assert post(client, "/api/chats/999/turns", {"text": "hi"}).status_code == 404
    empty = post(client, f"/api/chats/{chat.pk}/turns", {"text": "   "})  # asks for a reply
    assert empty.status_code == 200 and [t["speaker"] for t in empty.json()["turns"]] == ["host"]
    long = post(client, f"/api/chats/{chat.pk}/turns", {"text": "x" * 9000})
    assert long.status_code == 400 and "limit" in long.json()["detail"]
    assert post(client, f"/api/chats/{chat.pk}/turns", {"txt": "hi"}).status_code == 422
    assert post(client, f"/api/chats/{chat.pk}/turns/123456/rewind").status_code == 404
    assert client.get(f"/api/chats/{chat.pk}/turns/5/prompt").status_code == 404
