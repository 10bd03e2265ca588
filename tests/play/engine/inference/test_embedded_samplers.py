"""The embedded model's samplers, without loading it: the request local.py sends the worker
carries the chat's samplers (as the pipeline builds its parameters from the prompt), a
bookkeeping request none of them, and the worker hands them to llama-cpp's
``create_completion`` under names it takes."""

from __future__ import annotations

import inspect
import json

import pytest

from play.engine.inference import GenParams
from play.engine.inference import llama_worker as worker_script
from play.engine.inference.base import wire_schema
from play.engine.inference.local import LocalLlama, render_story
from play.engine.prompt import build_prompt
from play.engine.schemas import InterjectionDecision
from play.engine.services.samplers import samplers_edit
from play.engine.turnlock import API
from rpsite.config import load_config, save_config
from tests.factories import make_chat
from worlds.roles import HOST

pytestmark = pytest.mark.django_db

SAMPLERS = (
    "temperature",
    "top_p",
    "min_p",
    "repeat_penalty",
    "frequency_penalty",
    "presence_penalty",
)


def narrative_request(chat) -> dict:
    """The worker request of the chat's next reply, built as the pipeline builds it."""
    prompt = build_prompt(chat, HOST)
    params = GenParams(purpose="narrative", max_tokens=prompt.max_tokens, **prompt.drawing())
    request = LocalLlama()._request(render_story(prompt.messages, prompt.speaker_name), params)
    return json.loads(json.dumps(request))  # what goes down the pipe


def test_the_worker_request_carries_the_global_samplers_then_the_chats_own():
    config = load_config()
    config["samplers"].update(
        temperature=0.7,
        top_p=0.85,
        min_p=0.08,
        repetition_penalty=1.25,
        frequency_penalty=0.1,
        presence_penalty=0.4,
        max_tokens=150,
    )
    save_config(config)
    chat = make_chat()
    request = narrative_request(chat)
    assert {k: request[k] for k in (*SAMPLERS, "max_tokens")} == {
        "temperature": 0.7,
        "top_p": 0.85,
        "min_p": 0.08,
        "repeat_penalty": 1.25,
        "frequency_penalty": 0.1,
        "presence_penalty": 0.4,
        "max_tokens": 150,
    }
    samplers_edit(
        chat_id=chat.pk, origin=API, values={"repetition_penalty": 1.05, "temperature": None}
    )
    request = narrative_request(chat)
    assert request["repeat_penalty"] == 1.05 and request["temperature"] == 0.7


def test_max_tokens_zero_leaves_the_reply_length_to_decide():
    chat = make_chat()
    reply_tokens = load_config()["play"]["reply_tokens"]
    assert narrative_request(chat)["max_tokens"] == int(reply_tokens * 1.6)


def test_a_bookkeeping_request_draws_with_the_workers_own_samplers():
    params = GenParams(purpose="classifier", max_tokens=60, temperature=0.1)
    request = LocalLlama()._request("JSON:\n", params, wire_schema(InterjectionDecision))
    assert request["temperature"] == 0.1
    assert not set(SAMPLERS[1:]) & set(request)
    assert worker_script.sampling(request) == {**worker_script.SAMPLING, "temperature": 0.1}


def test_the_worker_passes_each_sampler_to_create_completion():
    llama_cpp = pytest.importorskip("llama_cpp")
    takes = inspect.signature(llama_cpp.Llama.create_completion).parameters
    request = {name: 0.5 for name in SAMPLERS}
    kwargs = worker_script.sampling(request)
    assert set(kwargs) == set(SAMPLERS) and set(kwargs) <= set(takes)
    assert all(value == 0.5 for value in kwargs.values())
