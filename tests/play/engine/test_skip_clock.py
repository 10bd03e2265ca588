"""A story with no clock can still skip: the first skip starts the clock."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from eventstore.models import Event
from eventstore.replay import verify
from play.engine.inference.base import InferenceError
from play.engine.services.chats import chat_start
from tests.factories import make_character, make_persona
from worlds.models import WorldState

pytestmark = pytest.mark.django_db(databases=["default", "scratch"])


def post(client, url, data=None):
    return client.post(url, json.dumps(data or {}), content_type="application/json")


def clockless():
    """A story whose start says no time (an import, an edited setup): a new card story gets
    now, so the setup here is written out."""
    setup = {
        "story_time": "",
        "location": "scene",
        "containers": [{"key": "scene", "name": "the scene", "kind": "place", "slots": []}],
        "activities": [],
    }
    chat = chat_start(character=make_character(), persona=make_persona(), setup=setup)
    assert WorldState.objects.get(chat=chat).story_time == ""
    return chat


def test_a_jump_in_a_story_without_a_clock_starts_one_and_lands_the_next_morning(client, scripted):
    chat = clockless()
    response = post(
        client, f"/api/chats/{chat.pk}/skip", {"mode": "jump", "to": "the next morning"}
    )
    assert response.status_code == 200, response.content
    result = response.json()
    began = timezone.localtime(chat.created_at)
    assert result["from_time"] == began.strftime("%Y-%m-%dT%H:%M")
    morning = (began + timedelta(days=1)).replace(hour=8, minute=0)
    assert result["to_time"] == morning.strftime("%Y-%m-%dT%H:%M")
    assert WorldState.objects.get(chat=chat).story_time == result["to_time"]
    skip = Event.objects.get(stream=chat, kind="time_skip").payload
    assert skip["clock_started"] is True and skip["from_time"] == result["from_time"]
    later = post(client, f"/api/chats/{chat.pk}/skip", {"mode": "jump", "minutes": 90}).json()
    assert later["from_time"] == result["to_time"]
    assert "clock_started" not in Event.objects.filter(kind="time_skip").last().payload
    assert verify(chat) == []


def test_an_elision_in_a_story_without_a_clock(client, scripted):
    chat = clockless()
    result = post(client, f"/api/chats/{chat.pk}/skip", {"mode": "elision"}).json()
    assert result["to_time"] > result["from_time"]


def test_a_failed_skip_starts_no_clock(client, scripted):
    chat = clockless()
    scripted.structured_replies.append({"to_time": "nonsense"})
    vague = post(client, f"/api/chats/{chat.pk}/skip", {"mode": "jump", "to": "whenever"})
    assert vague.status_code == 400 and "could not tell" in vague.json()["detail"]
    assert WorldState.objects.get(chat=chat).story_time == ""
    assert not Event.objects.filter(stream=chat, kind="time_skip").exists()


def test_a_skip_the_model_could_not_narrate_lands_on_defaults_and_records_the_failure(
    client, scripted
):
    chat = clockless()
    scripted.structured_replies.append(InferenceError("the endpoint is down", model="m"))
    response = post(client, f"/api/chats/{chat.pk}/skip", {"mode": "jump", "minutes": 60})
    assert response.status_code == 200, response.content
    failed = Event.objects.get(stream=chat, kind="classifier_failed").payload
    assert failed["prompt_kind"] == "time_skip" and "down" in failed["error"]
    assert Event.objects.filter(stream=chat, kind="narration").exists()  # it still landed
    assert verify(chat) == []
    # said on the skip's own line, as a failed analysis is on its reply
    narrator = client.get(f"/api/chats/{chat.pk}/transcript").json()["turns"][-1]
    assert narrator["speaker"] == "narrator"
    assert "time skip failed (the endpoint is down)" in narrator["analysis_dropped"]
    page = client.get(f"/chats/{chat.pk}/").content.decode()
    assert "time skip failed (the endpoint is down)" in page
