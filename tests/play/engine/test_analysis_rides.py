"""The turn analysis rides on the narrative request when both run on one model (issue 28): its
request begins with the narrative request and the reply, so a prompt cache serves all but the
end. With a separate classifier model it stays the compact prompt."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync

from play.engine import pipeline
from play.engine.inference import local
from play.engine.inference.registry import override_backend
from tests.factories import make_chat
from tests.fakeopenai import FakeOpenAI, point_config_at

pytestmark = pytest.mark.django_db


class FakeWorker:
    """The embedded model's worker, answering at once: a reply for a stream, ``{}`` for a
    structured call; every request's prompt kept."""

    def __init__(self) -> None:
        self.prompts: list[tuple[str, str]] = []

    def call(self, request, *, kind, on_token, cancel, timeout):
        self.prompts.append((kind, request["prompt"]))
        if kind == "stream":
            for piece in ("The tide ", "is turning."):
                on_token(piece)
        elif kind == "structured":
            on_token("{}")
        else:
            on_token("A summary.")
        return {"type": "done", "finish": "stop"}


def test_on_the_embedded_model_the_analysis_begins_with_the_narrative_request(monkeypatch):
    worker = FakeWorker()
    monkeypatch.setattr(local, "_worker", worker)
    chat = make_chat()
    with override_backend(local.LocalLlama()):
        async_to_sync(pipeline.run_turn)(chat.pk, "Is the tide turning?")
    narrative = [p for k, p in worker.prompts if k == "stream"][-1]
    analysis = [p for k, p in worker.prompts if k == "structured"][-1]
    assert analysis.startswith(narrative + " The tide is turning.")
    new = analysis[len(narrative) :]
    assert "Characters present (use these role ids)" in new and new.endswith("JSON:\n")
    assert "Activities:" not in new  # what the narrative request says is not said again
    assert len(new) < 2000  # the reply and the instructions: all the model reads anew


def test_on_one_remote_model_it_rides_and_with_a_classifier_model_it_does_not(settings):
    with FakeOpenAI() as fake:
        point_config_at(fake, classifier_model="")  # the narrative model judges too
        chat = make_chat()
        fake.push(("text", "The tide is turning."), ("json", {}))
        async_to_sync(pipeline.run_turn)(chat.pk, "Is the tide turning?")
        narrative, analysis = (r["body"] for r in fake.completions()[-2:])
        assert analysis["messages"][: len(narrative["messages"])] == narrative["messages"]
        assert analysis["messages"][len(narrative["messages"])] == {
            "role": "assistant",
            "content": "The tide is turning.",
        }

        point_config_at(fake, classifier_model="small-judge")
        fake.push(("text", "Waves."), ("json", {}))
        async_to_sync(pipeline.run_turn)(chat.pk, "And now?")
        narrative, analysis = (r["body"] for r in fake.completions()[-2:])
        assert analysis["model"] == "small-judge"
        assert len(analysis["messages"]) == 2  # the compact analysis prompt
        assert json.dumps(narrative["messages"][0]) not in json.dumps(analysis["messages"])
