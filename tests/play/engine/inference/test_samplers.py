"""The story's samplers: the global ones from the settings reach the model's request over real
HTTP, a chat's own win over them (and a blank one leaves the global value), bookkeeping keeps
its own temperature, and an endpoint that refuses the extra fields still gets its turn."""

from __future__ import annotations

import json

import pytest

from eventstore.models import Event
from eventstore.replay import verify
from play.engine.samplers import budgets_for, samplers_for
from rpsite.config import load_config, save_config
from tests.factories import make_chat
from tests.fakeopenai import FakeOpenAI, point_config_at

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "scratch"])

GLOBAL = {
    "temperature": 1.1,
    "top_p": 0.9,
    "min_p": 0.1,
    "repetition_penalty": 1.2,
    "frequency_penalty": 0.3,
    "presence_penalty": 0.2,
    "max_tokens": 123,
}


@pytest.fixture
def fake():
    with FakeOpenAI() as server:
        point_config_at(server, timeout_s=5.0, classifier_timeout_s=5.0)
        config = load_config()
        config["samplers"].update(GLOBAL)
        save_config(config)
        yield server


def send(client, chat, text="Hello there"):
    response = client.post(
        f"/api/chats/{chat.pk}/turns", json.dumps({"text": text}), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    return response


def put_samplers(client, chat, values):
    return client.put(
        f"/api/chats/{chat.pk}/samplers", json.dumps(values), content_type="application/json"
    )


def narrative_calls(fake) -> list[dict]:
    return [c["body"] for c in fake.completions() if c["body"].get("stream")]


def drawn_with(body: dict) -> dict:
    return {k: body.get(k) for k in GLOBAL}


def test_the_global_samplers_reach_the_request_then_the_chats_own_win(client, fake):
    chat = make_chat()
    send(client, chat)
    first = narrative_calls(fake)[-1]
    assert drawn_with(first) == GLOBAL
    assert first["repeat_penalty"] == GLOBAL["repetition_penalty"]  # llama.cpp's name for it
    # bookkeeping keeps its own low temperature and draws with none of the story's samplers
    analysis = [c["body"] for c in fake.completions() if not c["body"].get("stream")]
    assert analysis and all(
        b["temperature"] != GLOBAL["temperature"]
        and not {"top_p", "min_p", "repetition_penalty"} & set(b)
        for b in analysis
    )

    response = put_samplers(client, chat, {"temperature": 0.4, "max_tokens": 77, "min_p": 0.2})
    assert response.status_code == 200, response.content
    assert response.json()["overrides"] == {"temperature": 0.4, "min_p": 0.2, "max_tokens": 77}
    send(client, chat, "And now?")
    second = narrative_calls(fake)[-1]
    assert drawn_with(second) == {**GLOBAL, "temperature": 0.4, "min_p": 0.2, "max_tokens": 77}
    # the reply records how it was drawn
    turn = Event.objects.filter(stream=chat, kind="assistant_turn").order_by("-id").first()
    assert turn.payload["prompt"]["samplers"]["temperature"] == 0.4


def test_a_blank_field_in_the_chats_form_takes_the_global_value(client, fake):
    chat = make_chat()
    form = {"temperature": "", "top_p": "0.5", "max_tokens": "", "context_size": ""}
    assert client.post(f"/chats/{chat.pk}/samplers/", form).status_code == 204
    state = client.get(f"/api/chats/{chat.pk}/samplers").json()
    assert state["overrides"] == {"top_p": 0.5}
    assert state["effective"]["temperature"] == GLOBAL["temperature"]
    send(client, chat)
    assert drawn_with(narrative_calls(fake)[-1]) == {**GLOBAL, "top_p": 0.5}
    # the drawer shows the chat's own value, and the global one where the chat has none
    drawer = client.get(f"/chats/{chat.pk}/").content.decode()
    assert 'name="top_p" value="0.5"' in drawer
    assert 'name="temperature" value="" placeholder="1.1"' in drawer
    assert verify(chat.pk) == []  # the chat's own samplers are projected from the log

    # all blank again: every sampler global, the chat's row gone, and replay agrees
    client.post(f"/chats/{chat.pk}/samplers/", {"top_p": ""})
    assert client.get(f"/api/chats/{chat.pk}/samplers").json()["overrides"] == {}
    assert samplers_for(chat.pk)["top_p"] == GLOBAL["top_p"]
    assert verify(chat.pk) == []
    # saving what is already set writes no event
    client.post(f"/chats/{chat.pk}/samplers/", {"top_p": ""})
    assert Event.objects.filter(stream=chat, kind="samplers_set").count() == 2


def test_neutral_extra_samplers_are_not_sent(client, fake):
    chat = make_chat()
    put_samplers(client, chat, {"min_p": 0, "repetition_penalty": 1.0})
    send(client, chat)
    body = narrative_calls(fake)[-1]
    assert not {"min_p", "repetition_penalty", "repeat_penalty"} & set(body)
    assert body["top_p"] == GLOBAL["top_p"]


def test_an_endpoint_that_refuses_the_extra_samplers_is_asked_without_them(client, fake):
    fake.reject_fields = {"min_p", "repetition_penalty"}
    chat = make_chat()
    reply = send(client, chat).json()["turns"][-1]
    assert reply["speaker"] == "host" and reply["text"]
    refused, *after = narrative_calls(fake)
    assert refused["min_p"] == GLOBAL["min_p"]
    assert after and all(
        not {"min_p", "repetition_penalty", "repeat_penalty"} & set(b) for b in after
    )
    assert after[0]["temperature"] == GLOBAL["temperature"]  # the rest still sent


@pytest.mark.parametrize(
    "values, message",
    [
        ({"temperature": 9}, "temperature must be between 0 and 5"),
        ({"top_p": 0}, "top_p must be between"),
        ({"context_size": 10}, "context_size must be between"),
    ],
)
def test_a_bad_value_is_a_clear_400_and_changes_nothing(client, values, message):
    chat = make_chat()
    response = put_samplers(client, chat, values)
    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert not Event.objects.filter(stream=chat, kind="samplers_set").exists()


def test_a_chats_context_size_is_its_prompt_budget(client):
    chat = make_chat()
    config = load_config()
    assert budgets_for(chat.pk)["narrative_hard"] == config["budgets"]["narrative_hard"]
    put_samplers(client, chat, {"context_size": 4096})
    budgets = budgets_for(chat.pk)
    # the soft budget keeps its share of the hard one (6144 of 8192 by default)
    assert budgets["narrative_hard"] == 4096 and budgets["narrative_soft"] == 3072
    state = client.get(f"/api/chats/{chat.pk}/samplers").json()
    assert state["global"]["context_size"] == config["budgets"]["narrative_hard"]
    assert state["effective"]["context_size"] == 4096
