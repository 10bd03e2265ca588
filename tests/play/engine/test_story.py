"""Story events with props, promotion on close, time skips, threads, significance review."""

import json

import pytest

from eventstore.models import Event
from eventstore.replay import verify
from memory.models import Memory
from memory.selectors import visible_to
from play.engine.services.skip import detect
from play.models import Turn
from tests.factories import edge_of, make_chat
from worlds.models import Activity, EntityState, StoryEvent, Thread, WorldState
from worlds.services import manual_edit

pytestmark = pytest.mark.django_db(databases=["default", "scratch"])


def post(client, url, data=None):
    return client.post(url, json.dumps(data or {}), content_type="application/json")


def send(client, chat, text):
    response = post(client, f"/api/chats/{chat.pk}/turns", {"text": text})
    assert response.status_code == 200, response.content
    return response.json()["turns"]


def prompt_text(client, chat, turn_id):
    return json.dumps(client.get(f"/api/chats/{chat.pk}/turns/{turn_id}/prompt").json()["messages"])


def test_an_event_planned_started_and_completed_by_bookkeeping(client, scripted):
    chat = make_chat()
    scripted.structured_replies.append(
        {
            "story_events": [
                {
                    "action": "plan",
                    "title": "Picnic at the cliffs",
                    "props": ["wicker basket", "blanket"],
                    "planned_for": "2024-10-13T12:00",
                    "significance": 2,
                }
            ],
            "threads": [{"action": "open", "title": "Who left the note on the windscreen?"}],
        }
    )
    send(client, chat, "Let's have a picnic at the cliffs tomorrow.")
    event = StoryEvent.objects.get(chat=chat)
    assert (event.status, event.props) == ("planned", ["wicker basket", "blanket"])
    assert Thread.objects.get(chat=chat).status == "open"
    scripted.structured_replies.append({"story_events": [{"action": "start", "key": event.key}]})
    send(client, chat, "*spreads the blanket and opens the wicker basket*")
    scripted.narrative.append("Mara bites into a sandwich.")
    turns = send(client, chat, "Sandwich?")
    active = prompt_text(client, chat, turns[1]["id"])
    assert "wicker basket" in active and "Picnic at the cliffs" in active  # props while active
    scripted.structured_replies.append(
        {
            "story_events": [
                {
                    "action": "complete",
                    "key": event.key,
                    "gist": "We had a picnic at the cliffs and Mara laughed for the first time. "
                    "The wicker basket was heavy.",
                    "acquired": [{"role": "you", "item": "a sea-glass pendant"}],
                    "knowledge": [
                        {"source": "host", "target": "you", "fact": "Sam is afraid of heights"}
                    ],
                    "relationship": [
                        {
                            "source": "host",
                            "target": "you",
                            "summary": "Mara has started to trust Sam",
                        }
                    ],
                }
            ]
        }
    )
    closing = send(client, chat, "That was lovely. Let's pack up.")
    event.refresh_from_db()
    assert event.status == "completed" and event.props == ["wicker basket", "blanket"]
    assert "a sea-glass pendant" in EntityState.objects.get(chat=chat, role="you").inventory
    edge = edge_of(chat, "host", "you")
    assert "Sam is afraid of heights" in edge.knowledge
    assert edge.summary == "Mara has started to trust Sam"
    gist = Memory.objects.get(chat=chat, kind="gist", owner="host")
    assert "laughed for the first time" in gist.text and "basket" not in gist.text
    scripted.narrative.append("Mara smiles.")
    later = send(client, chat, "What should we do about lunch tomorrow, picnic style?")
    text = prompt_text(client, chat, later[1]["id"])
    assert "wicker basket" not in text and "blanket" not in text
    assert "Sam is afraid of heights" in text and "Mara has started to trust Sam" in text
    assert (
        Event.objects.get(pk=closing[1]["id"])
        .consequences.filter(kind="story_event_completed")
        .exists()
    )
    assert verify(chat) == []


def test_regenerating_the_turn_that_completed_an_event_rolls_it_back(client, scripted):
    chat = make_chat()
    post(
        client,
        f"/api/chats/{chat.pk}/story_events",
        {"action": "plan", "title": "Dinner", "props": ["candles"]},
    )
    post(client, f"/api/chats/{chat.pk}/story_events", {"action": "start", "key": "dinner"})
    scripted.structured_replies.append(
        {"story_events": [{"action": "complete", "key": "dinner", "gist": "Dinner went well."}]}
    )
    turns = send(client, chat, "Thanks for dinner.")
    assert StoryEvent.objects.get(chat=chat, key="dinner").status == "completed"
    regen = post(client, f"/api/chats/{chat.pk}/turns/{turns[1]['id']}/regenerate")
    assert regen.status_code == 200
    event = StoryEvent.objects.get(chat=chat, key="dinner")
    assert event.status == "active" and not Memory.objects.filter(chat=chat, kind="gist").exists()
    assert verify(chat) == []
    transcript = client.get(f"/api/chats/{chat.pk}/transcript").json()["turns"]
    post(client, f"/api/chats/{chat.pk}/turns/{transcript[-1]['id']}/swipe?direction=-1")
    assert StoryEvent.objects.get(chat=chat, key="dinner").status == "completed"


def test_a_jump_over_a_planned_event_closes_it_and_lands_at_the_new_time(client, scripted):
    chat = make_chat()
    post(
        client,
        f"/api/chats/{chat.pk}/story_events",
        {
            "action": "plan",
            "title": "Ferry to the island",
            "props": ["ferry tickets"],
            "planned_for": "2024-10-13T07:00",
        },
    )
    post(
        client,
        f"/api/chats/{chat.pk}/story_events",
        {"action": "plan", "title": "Lighthouse tour", "planned_for": "2024-10-20T10:00"},
    )
    scripted.structured_replies.append(
        {
            "narration": "Morning light fills the guest room.",
            "activities": [
                {"role": "host", "posture": "sitting", "verb": "drinking coffee"},
                {"role": "you", "posture": "lying", "verb": "waking up"},
            ],
            "memories": [{"role": "host", "text": "I barely slept; the storm kept me up."}],
        }
    )
    response = post(
        client, f"/api/chats/{chat.pk}/skip", {"mode": "jump", "to": "the next morning"}
    )
    assert response.status_code == 200, response.content
    result = response.json()
    assert result["to_time"] == "2024-10-13T08:00"
    assert result["closed_events"] == [{"key": "ferry-to-the-island", "outcome": "expired"}]
    assert StoryEvent.objects.get(chat=chat, key="lighthouse-tour").status == "planned"
    assert WorldState.objects.get(chat=chat).story_time == "2024-10-13T08:00"
    assert Activity.objects.get(chat=chat, role="host").verb == "drinking coffee"
    assert (
        visible_to(chat.pk, "host")
        .filter(kind="synthesized", text__contains="storm kept me up")
        .exists()
    )
    assert Turn.objects.filter(
        chat=chat, speaker="narrator", text="Morning light fills the guest room."
    ).exists()
    scripted.narrative.append("Morning.")
    turns = send(client, chat, "Good morning!")
    text = prompt_text(client, chat, turns[1]["id"])
    assert "2024-10-13T08:00" in text and "drinking coffee" in text
    assert "ferry tickets" not in text
    assert verify(chat) == []


def test_a_jump_can_complete_an_overdue_event_when_the_story_says_so(client, scripted):
    chat = make_chat()
    post(
        client,
        f"/api/chats/{chat.pk}/story_events",
        {"action": "plan", "title": "Market trip", "planned_for": "2024-10-13T10:00"},
    )
    scripted.structured_replies.append(
        {"events": [{"key": "market-trip", "outcome": "completed", "gist": "We bought apples."}]}
    )
    result = post(
        client, f"/api/chats/{chat.pk}/skip", {"mode": "jump", "to": "a day later"}
    ).json()
    assert result["closed_events"] == [{"key": "market-trip", "outcome": "completed"}]
    assert Memory.objects.filter(chat=chat, kind="gist", text="We bought apples.").exists()


def test_an_elision_skips_the_rest_of_the_activity(client, scripted):
    chat = make_chat()
    post(client, f"/api/chats/{chat.pk}/state")

    manual_edit(
        chat=chat,
        target="activity",
        key={"role": "host"},
        changes={"verb": "driving", "expected_duration": "40 minutes"},
    )
    result = post(client, f"/api/chats/{chat.pk}/skip", {"mode": "elision"}).json()
    assert result["to_time"] == "2024-10-12T21:40"
    assert Event.objects.filter(stream=chat, kind="scene_closed").exists()


def test_bad_skips_are_clear_400s(client, scripted):
    chat = make_chat()
    bad = post(client, f"/api/chats/{chat.pk}/skip", {"mode": "sideways"})
    assert bad.status_code == 400 and "mode" in bad.json()["detail"]
    scripted.structured_replies.append({"to_time": "nonsense"})
    vague = post(client, f"/api/chats/{chat.pk}/skip", {"mode": "jump", "to": "whenever"})
    assert vague.status_code == 400 and "could not tell" in vague.json()["detail"]
    assert not Event.objects.filter(stream=chat, kind="time_skip").exists()


@pytest.mark.parametrize(
    "text, mode, to",
    [
        ("let's skip to the next morning", "jump", "the next morning"),
        ("Can we fast forward to tomorrow evening?", "jump", "tomorrow evening"),
        ("time skip: a week later", "jump", "a week later"),
        ("skip the rest of the drive", "elision", ""),
    ],
)
def test_skips_in_plain_words_are_detected(text, mode, to):
    intent = detect(text)
    assert intent is not None and (intent.mode, intent.to) == (mode, to)


@pytest.mark.parametrize("text", ["I skipped breakfast.", "Don't jump!", "Tell me about it."])
def test_ordinary_messages_are_not_skips(text):
    assert detect(text) is None


def test_threads_stay_in_every_prompt_until_resolved(client, scripted):
    chat = make_chat()
    post(
        client,
        f"/api/chats/{chat.pk}/threads",
        {"action": "open", "title": "Who cut the lighthouse power?"},
    )
    for i in range(3):
        turns = send(client, chat, f"small talk {i}")
        assert "Who cut the lighthouse power?" in prompt_text(client, chat, turns[1]["id"])
    scripted.structured_replies.append(
        {
            "threads": [
                {
                    "action": "resolve",
                    "key": "who-cut-the-lighthouse-power",
                    "notes": "It was the harbourmaster.",
                }
            ]
        }
    )
    send(client, chat, "It was the harbourmaster all along!")
    assert Thread.objects.get(chat=chat).status == "resolved"
    turns = send(client, chat, "What now?")
    assert "Who cut the lighthouse power?" not in prompt_text(client, chat, turns[1]["id"])


def test_the_significance_review_panel_shows_the_distribution_and_re_rates(client, scripted):
    chat = make_chat()
    scripted.structured_replies.append({"significance": 3})
    turns = send(client, chat, "I'm your sister.")
    page = client.get(f"/chats/{chat.pk}/significance/").content.decode()
    assert "pivotal" in page and 'class="level-3"' in page
    client.post(f"/chats/{chat.pk}/significance/", {"turn": turns[1]["id"], "significance": 1})
    assert Turn.objects.get(pk=turns[1]["id"]).significance == 1
    assert not Memory.objects.filter(turn_id=turns[1]["id"], pinned=True).exists()
    assert Event.objects.filter(
        stream=chat, kind="memory_significance_set", payload__by="user"
    ).exists()


def test_replay_is_clean_after_events_skips_and_threads(client, scripted):
    chat = make_chat()
    post(
        client,
        f"/api/chats/{chat.pk}/story_events",
        {"action": "plan", "title": "Storm watch", "props": ["lantern"]},
    )
    post(client, f"/api/chats/{chat.pk}/threads", {"action": "open", "title": "The note"})
    send(client, chat, "Let's watch the storm with the lantern.")
    post(client, f"/api/chats/{chat.pk}/story_events", {"action": "start", "key": "storm-watch"})
    send(client, chat, "The lantern flickers.")
    post(client, f"/api/chats/{chat.pk}/skip", {"mode": "jump", "to": "3 hours"})
    post(client, f"/api/chats/{chat.pk}/threads", {"action": "drop", "key": "the-note"})
    assert StoryEvent.objects.get(chat=chat).status == "completed"  # ended during the jump
    assert verify(chat) == []
    assert verify(chat, use_snapshot=True) == []


def test_authored_on_start_and_on_complete_effects_apply_at_the_transitions(client, scripted):
    chat = make_chat()
    post(
        client,
        f"/api/chats/{chat.pk}/story_events",
        {
            "action": "plan",
            "title": "Night swim",
            "props": ["towels"],
            "preconditions": ["the rain has stopped"],
            "on_start": {
                "activities": [{"role": "host", "verb": "swimming", "posture": "floating"}]
            },
            "on_complete": {"inventory": [{"role": "you", "item": "a smooth black stone"}]},
        },
    )
    post(client, f"/api/chats/{chat.pk}/story_events", {"action": "start", "key": "night-swim"})
    assert Activity.objects.get(chat=chat, role="host").verb == "swimming"
    post(
        client,
        f"/api/chats/{chat.pk}/story_events",
        {"action": "complete", "key": "night-swim", "gist": "We swam under the stars."},
    )
    assert "a smooth black stone" in EntityState.objects.get(chat=chat, role="you").inventory
    assert verify(chat) == []
