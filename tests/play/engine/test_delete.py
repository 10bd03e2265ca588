"""Surgical delete with an impact preview; hide from view."""

import json

import pytest

from eventstore.models import Branch, Event
from eventstore.replay import verify
from memory.models import Memory
from play.models import Turn
from tests.factories import edge_of, make_chat
from worlds.models import StoryEvent

pytestmark = pytest.mark.django_db(databases=["default", "scratch"])


def post(client, url, data=None):
    return client.post(url, json.dumps(data or {}), content_type="application/json")


def send(client, chat, text):
    return post(client, f"/api/chats/{chat.pk}/turns", {"text": text}).json()["turns"]


@pytest.fixture
def story(client, scripted):
    chat = make_chat()
    scripted.narrative += ["Reply one.", "Reply two: I will never forgive you.", "Reply three."]
    scripted.structured_replies += [
        {"edges": [{"source": "host", "target": "you", "affinity_delta": 4}]},
        {
            "significance": 3,
            "edges": [
                {
                    "source": "host",
                    "target": "you",
                    "affinity_delta": -9,
                    "knowledge_facts": ["Sam lied"],
                }
            ],
            "story_events": [{"action": "plan", "title": "Confrontation"}],
        },
        {"edges": [{"source": "host", "target": "you", "affinity_delta": 1}]},
    ]
    first = send(client, chat, "Hello.")
    second = send(client, chat, "I lied to you about the lighthouse.")
    third = send(client, chat, "Can we talk?")
    return chat, first, second, third


def test_the_preview_lists_what_would_change_and_changes_nothing(client, story):
    chat, _, second, _ = story
    events = Event.objects.count()
    response = client.get(f"/api/chats/{chat.pk}/turns/{second[0]['id']}/delete-preview")
    assert response.status_code == 200, response.content
    impact = response.json()
    removed = {m["text"] for m in impact["memories_removed"]}
    assert "Sam: I lied to you about the lighthouse." in removed
    assert "Mara: Reply two: I will never forgive you." in removed
    edge = next(e for e in impact["edges"] if (e["source"], e["target"]) == ("Mara", "Sam"))
    assert (edge["source_key"], edge["target_key"]) == (f"c{chat.character_id}", "you")
    assert edge["changes"]["affinity"] == {"now": -4, "after": 5}
    assert edge["changes"]["knowledge"]["now"] == ["Sam lied"]
    assert impact["story_events"] == [
        {"key": "confrontation", "title": "Confrontation", "now": "planned", "after": "—"}
    ]
    assert impact["turns_removed"] == 2
    assert Event.objects.count() == events  # a preview writes nothing
    assert edge_of(chat, "host", "you").affinity == -4


def test_deleting_a_turn_removes_it_and_its_consequences_on_a_new_branch(client, story):
    chat, first, second, third = story
    response = client.delete(f"/api/chats/{chat.pk}/turns/{second[0]['id']}")
    assert response.status_code == 200, response.content
    texts = [t["text"] for t in client.get(f"/api/chats/{chat.pk}/transcript").json()["turns"]]
    assert "I lied to you about the lighthouse." not in texts
    assert "Reply two: I will never forgive you." not in texts
    assert texts[-2:] == ["Can we talk?", "Reply three."]  # the later turns survive
    edge = edge_of(chat, "host", "you")
    assert (edge.affinity, edge.knowledge) == (5, [])
    assert not StoryEvent.objects.filter(chat=chat).exists()
    assert not Memory.objects.filter(chat=chat, text__contains="lied").exists()
    branch = Branch.objects.get(pk=response.json()["branch"])
    assert branch.kind == "delete"
    copies = Event.objects.filter(branch=branch)
    assert copies.exists() and all(e.copied_from_id for e in copies)
    assert verify(chat) == []
    # nothing left the log: the old line is still there to go back to
    main = Branch.objects.get(stream=chat, kind="main")
    post(client, f"/api/chats/{chat.pk}/branches/{main.pk}/activate")
    assert Turn.objects.filter(chat=chat, text="I lied to you about the lighthouse.").exists()


def test_a_copied_reference_follows_its_event(client, story):
    chat, first, _, third = story
    mem = Memory.objects.get(turn_id=third[1]["id"], owner="host")
    post(client, f"/chats/{chat.pk}/memories/{mem.id}/pin/")
    client.delete(f"/api/chats/{chat.pk}/turns/{first[0]['id']}")
    pinned = Memory.objects.get(chat=chat, pinned=True, pin_kind="manual")
    assert pinned.text == "Mara: Reply three." and pinned.id != mem.id
    assert verify(chat) == []


def test_invalid_deletes_are_clear_4xx(client, story):
    chat, *_ = story
    started = Event.objects.get(stream=chat, kind="chat_started")
    bad = client.delete(f"/api/chats/{chat.pk}/turns/{started.pk}")
    assert bad.status_code == 400 and "start of a chat" in bad.json()["detail"]
    preview = client.get(f"/api/chats/{chat.pk}/turns/{started.pk}/delete-preview")
    assert preview.status_code == 400
    assert client.delete(f"/api/chats/{chat.pk}/turns/999999").status_code == 404


def test_hiding_a_turn_keeps_it_in_the_story(client, story):
    chat, first, *_ = story
    response = post(client, f"/api/chats/{chat.pk}/turns/{first[0]['id']}/hide", {"hidden": True})
    assert response.json()["turn"]["hidden"] is True
    assert Turn.objects.get(pk=first[0]["id"]).hidden
    assert Memory.objects.filter(turn_id=first[0]["id"], owner="host").exists()
    assert Event.objects.filter(stream=chat, kind="turn_hidden").exists()
    assert verify(chat) == []
