"""Prompt caching: an endpoint's report of the prompt tokens it did not read again (its prefix
cache) is recorded with the turn and its analysis and shown in the prompt inspector; the
embedded model keeps each call's prompt state, so the narrative prompt and the analysis in
between no longer evict each other."""

from __future__ import annotations

import asyncio
import json

import pytest

from eventstore.models import Event
from play.engine.inference import GenParams
from play.engine.inference.base import usage_of
from play.engine.inference.local import LocalLlama, worker
from tests.factories import make_chat
from tests.fakeopenai import FakeOpenAI, common_prefix, point_config_at, rendered


@pytest.fixture
def fake():
    with FakeOpenAI() as server:
        point_config_at(server, timeout_s=5.0, classifier_timeout_s=5.0)
        server.report_cached = True
        server.responder = lambda body: (
            None if body.get("response_format") else ("text", f"Reply {len(server.requests)}.")
        )
        yield server


def send(client, chat, text):
    response = client.post(
        f"/api/chats/{chat.pk}/turns", json.dumps({"text": text}), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    return response.json()["turns"][1]["id"]


def test_usage_is_read_from_openai_and_deepseek_shapes():
    assert usage_of({"prompt_tokens": 900, "prompt_tokens_details": {"cached_tokens": 768}}) == {
        "prompt_tokens": 900,
        "cached_tokens": 768,
    }
    assert usage_of({"prompt_tokens": 900, "prompt_cache_hit_tokens": 512}) == {
        "prompt_tokens": 900,
        "cached_tokens": 512,
    }
    assert usage_of({"prompt_tokens": 12}) == {"prompt_tokens": 12}
    assert usage_of(None) == {}


@pytest.mark.django_db(transaction=True)
def test_cached_tokens_reported_by_the_endpoint_are_kept_with_the_turn_and_shown(client, fake):
    chat = make_chat()
    send(client, chat, "Is the causeway open tonight?")
    second = send(client, chat, "And the lighthouse, is it lit?")

    narrative = [r for r in fake.completions() if r["body"].get("stream")]
    assert all(r["body"]["stream_options"] == {"include_usage": True} for r in narrative)
    reported = narrative[-1]["usage"]
    assert reported["prompt_tokens_details"]["cached_tokens"] > 0  # the same beginning as before
    payload = Event.objects.get(pk=second).payload
    assert payload["usage"] == {
        "prompt_tokens": reported["prompt_tokens"],
        "cached_tokens": reported["prompt_tokens_details"]["cached_tokens"],
    }
    analysis = [r for r in fake.completions() if r["body"].get("response_format")][-1]["usage"]
    bookkept = Event.objects.get(kind="turn_bookkept", caused_by_id=second).payload
    assert bookkept["usage"]["cached_tokens"] == analysis["prompt_tokens_details"]["cached_tokens"]

    page = client.get(f"/chats/{chat.pk}/turns/{second}/prompt/").content.decode()
    shown = (
        f"<b>{payload['usage']['cached_tokens']}</b> of {payload['usage']['prompt_tokens']} "
        "prompt tokens cached"
    )
    assert shown in page
    assert f"its analysis: {bookkept['usage']['cached_tokens']} of" in page
    api = client.get(f"/api/chats/{chat.pk}/turns/{second}/prompt").json()
    assert api["usage"] == payload["usage"]


@pytest.mark.django_db(transaction=True)
def test_an_endpoint_that_refuses_stream_options_streams_without_them(client, fake):
    fake.reject_stream_options = True
    chat = make_chat()
    turn = send(client, chat, "Hello?")
    assert "usage" not in Event.objects.get(pk=turn).payload  # nothing reported: nothing shown
    streamed = [r for r in fake.completions() if r["body"].get("stream")]
    assert "stream_options" in streamed[0]["body"] and "stream_options" not in streamed[-1]["body"]
    page = client.get(f"/chats/{chat.pk}/turns/{turn}/prompt/").content.decode()
    assert "prompt tokens cached" not in page.split("its analysis")[0]


def test_the_fake_server_reports_the_shared_beginning():
    a = [{"role": "system", "content": "x" * 400}, {"role": "user", "content": "one"}]
    b = [{"role": "system", "content": "x" * 400}, {"role": "user", "content": "two"}]
    shared = common_prefix(rendered(a), rendered(b))
    assert rendered(a)[:shared] == rendered(b)[:shared] and shared > 400


@pytest.mark.model
def test_the_embedded_model_keeps_the_narrative_state_across_an_analysis():
    """A narrative prompt, an unrelated analysis-like prompt, then the narrative prompt grown by
    a few lines: the third reads only its new tail."""
    story = [
        {"role": "system", "content": "Mara keeps the lighthouse at Harrow Point."},
        *(
            {"role": "user", "content": f"Sam: The gulls on the rocks number {i} tonight."}
            for i in range(20)
        ),
    ]
    other = [
        {"role": "system", "content": "Answer with one JSON object about the lines below."},
        *({"role": "user", "content": f"Line {i}: the fisherman mends a net."} for i in range(12)),
    ]
    grown = [*story, {"role": "user", "content": "Sam: And the tide?"}]
    backend = LocalLlama()

    def usage(messages) -> dict:
        params = GenParams(max_tokens=4, timeout=300, temperature=0.0)
        asyncio.run(backend.generate(messages, params))
        return params.usage

    try:
        first = usage(story)
        usage(other)
        third = usage(grown)
    finally:
        worker().stop()
    assert first["prompt_tokens"] > 200
    # all of the first prompt but its newest line ("Mara:" was its end, "Sam:" follows now)
    assert third["cached_tokens"] >= first["prompt_tokens"] - 8
    assert third["prompt_tokens"] - third["cached_tokens"] < 30
