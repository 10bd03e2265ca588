"""The OpenAI-compatible path over real HTTP, against a fake server the test starts."""

import json

import pytest

from eventstore.models import Event
from play.models import ClassifierFailure, Turn
from rpsite.config import load_config, save_config
from tests.factories import edge_of, make_chat
from tests.fakeopenai import FakeOpenAI, point_config_at

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def fake():
    with FakeOpenAI() as server:
        point_config_at(
            server, classifier_fallbacks=["fake-fallback"], timeout_s=2.0, classifier_timeout_s=2.0
        )
        yield server


def send(client, chat, text="Hello there"):
    return client.post(
        f"/api/chats/{chat.pk}/turns", json.dumps({"text": text}), content_type="application/json"
    )


def test_a_streamed_turn_and_its_json_analysis_over_http(client, fake):
    chat = make_chat()
    fake.push(
        ("text", "*Mara laughs.* Of course I get lost."),
        (
            "json",
            {
                "significance": 1,
                "edges": [{"source": "host", "target": "you", "affinity_delta": 2}],
            },
        ),
    )
    response = send(client, chat)
    assert response.status_code == 200, response.content
    assert response.json()["turns"][1]["text"] == "*Mara laughs.* Of course I get lost."
    assert edge_of(chat, "host", "you").affinity == 2
    calls = fake.completions()
    assert len(calls) == 2
    assert calls[0]["body"]["stream"] is True and calls[0]["body"]["model"] == "fake-narrative"
    assert calls[1]["body"]["response_format"]["type"] == "json_schema"
    assert calls[1]["body"]["model"] == "fake-classifier"


def test_a_server_error_fails_the_turn_clearly_and_keeps_the_user_turn(client, fake):
    chat = make_chat()
    fake.push(("status", 500))
    response = send(client, chat, "Are you there?")
    assert response.status_code == 502
    assert "HTTP 500" in response.json()["detail"]
    assert Turn.objects.filter(chat=chat, text="Are you there?").exists()
    # not stuck busy: the next turn goes through
    assert send(client, chat, "Hello?").status_code == 200


def test_a_response_slower_than_the_timeout_is_a_clear_failure(client, fake):
    chat = make_chat()
    fake.push(("delay", 4, ("text", "too late")))
    response = send(client, chat)
    assert response.status_code == 502
    assert "in time" in response.json()["detail"]


def test_the_endpoint_being_down_is_a_clear_failure(client, fake, settings):
    chat = make_chat()
    config = load_config()
    config["inference"]["base_url"] = "http://127.0.0.1:9/v1"
    save_config(config)
    response = send(client, chat)
    assert response.status_code == 502
    assert "cannot reach" in response.json()["detail"]


def test_invalid_json_from_the_classifier_retries_stricter_then_falls_back(client, fake):
    chat = make_chat()
    fake.push(("text", "A reply."), ("invalid_json",), ("invalid_json",))
    response = send(client, chat)
    assert response.status_code == 200
    bot = Turn.objects.get(pk=response.json()["turns"][1]["id"])
    assert bot.bookkept and bot.significance == 0  # the schema default
    failures = ClassifierFailure.objects.filter(chat=chat)
    assert [f.fallback for f in failures] == ["stricter retry", "schema default"]
    assert "not return JSON" in failures[0].error
    assert "ONLY one JSON object" in fake.completions()[2]["body"]["messages"][-1]["content"]


def test_a_refusal_swaps_to_the_fallback_model_for_that_call(client, fake):
    chat = make_chat()
    fake.push(("text", "A reply."), ("refusal",), ("json", {"significance": 3}))
    response = send(client, chat)
    assert response.status_code == 200
    assert fake.completions()[2]["body"]["model"] == "fake-fallback"
    assert Turn.objects.get(pk=response.json()["turns"][1]["id"]).significance == 3
    failure = ClassifierFailure.objects.get(chat=chat)
    assert failure.fallback == "fake-fallback" and "refused" in failure.error


def test_a_stream_that_drops_half_way_keeps_what_arrived_as_truncated(client, fake):
    chat = make_chat()
    fake.push(("drop", 3, "one two three four five six"))
    response = send(client, chat)
    assert response.status_code == 200, response.content
    bot = response.json()["turns"][1]
    assert bot["truncated"] is True and bot["text"] == "one two three"


def test_rate_limiting_with_retry_after_is_waited_out_once(client, fake):
    chat = make_chat()
    fake.push(("rate_limit", 1), ("text", "After the wait."))
    response = send(client, chat)
    assert response.status_code == 200
    assert response.json()["turns"][1]["text"] == "After the wait."


def test_an_empty_completion_is_a_clear_failure(client, fake):
    chat = make_chat()
    fake.push(("empty",))
    response = send(client, chat)
    assert response.status_code == 502 and "empty" in response.json()["detail"]


def test_a_reply_of_nothing_is_drawn_again_before_the_turn_fails(client, fake):
    # a small model sometimes samples its end at once: a blank reply is drawn again
    chat = make_chat()
    fake.push(("text", " "), ("text", "\n"), ("text", "There you are."))
    response = send(client, chat)
    assert response.status_code == 200, response.content
    assert response.json()["turns"][1]["text"] == "There you are."
    narrative = [c for c in fake.completions() if not c["body"].get("response_format")]
    assert len(narrative) == 3


def test_three_blank_replies_fail_the_turn_and_keep_the_user_turn(client, fake):
    chat = make_chat()
    fake.push(("text", " "), ("text", " "), ("text", " "))
    response = send(client, chat, "Still there?")
    assert response.status_code == 502
    assert "stopped before the bot wrote anything" in response.json()["detail"]
    assert list(Turn.objects.filter(chat=chat).values_list("speaker", "text"))[-1] == (
        "you",
        "Still there?",
    )


def test_a_server_without_json_schema_gets_json_mode(client, fake):
    chat = make_chat()
    fake.json_schema_supported = False
    fake.push(("text", "Fine."), ("json", {"significance": 2}))
    response = send(client, chat)
    bot = Turn.objects.get(pk=response.json()["turns"][1]["id"])
    assert bot.significance == 2
    formats = [c["body"].get("response_format", {}).get("type") for c in fake.completions()]
    assert formats[-1] == "json_object"


def test_nothing_committed_is_lost_across_failures(client, fake):
    chat = make_chat()
    fake.push(("text", "first"), ("json", {}), ("status", 500))
    send(client, chat, "one")
    before = Event.objects.filter(stream=chat).count()
    send(client, chat, "two")
    kinds = list(Event.objects.filter(stream=chat).values_list("kind", flat=True))
    assert Event.objects.filter(stream=chat).count() == before + 1 and kinds[-1] == "user_turn"
    assert list(Turn.objects.filter(chat=chat).values_list("text", flat=True))[-3:] == [
        "one",
        "first",
        "two",
    ]
