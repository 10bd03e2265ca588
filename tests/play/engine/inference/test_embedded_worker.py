"""The embedded model's worker process: a native crash (SIGKILL) fails only the call in flight
and the server goes on; a call past its timeout is cancelled, so the next one never waits
behind it; a worker never outlives its server."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from play.engine.inference import EndpointTimeout, GenParams
from play.engine.inference.local import CANCEL_GRACE_S, LocalLlama, WorkerCrashed, worker
from play.models import ClassifierFailure, Turn
from rpsite.config import load_config, save_config
from tests.factories import make_chat

ROOT = Path(__file__).resolve().parents[4]
# a base model continues a count for as long as it may: a generation that outlasts any timeout
COUNTING = [
    {"role": "system", "content": "The numbers from one to ten thousand, in order:"},
    {"role": "user", "content": "1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,"},
]
HELLO = [
    {"role": "system", "content": "Mara drives a station wagon along the coast road."},
    {"role": "user", "content": "Sam: Is the causeway open?"},
]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead too: its parent has not reaped it yet
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


@contextmanager
def kill_worker_when(ready):
    """SIGKILL the worker the moment ``ready(worker)`` holds (polled from another thread)."""
    w = worker()
    deadline = time.monotonic() + 5
    while w.current and time.monotonic() < deadline:
        time.sleep(0.01)  # a call given up on before is still being cancelled: not that one
    killed: dict[str, int] = {}
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            pid = w.pid
            if pid and ready(w):
                os.kill(pid, signal.SIGKILL)
                killed["pid"] = pid
                return
            time.sleep(0.002)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        yield killed
    finally:
        stop.set()
        thread.join()


def test_the_worker_exits_when_its_server_is_killed(tmp_path):
    """No leaked workers: a server killed with -9 cannot clean up, its worker goes anyway."""
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from play.engine.inference.local import worker\n"
            "w = worker(); w._ensure(); print(w.pid, flush=True); time.sleep(600)\n",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "rpsite.settings"},
    )
    worker_pid = int(server.stdout.readline())
    assert alive(worker_pid)
    server.kill()
    server.wait()
    deadline = time.monotonic() + 10
    while alive(worker_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(worker_pid)


def test_a_killed_worker_fails_the_call_in_flight_with_a_message():
    w = worker()
    w.stop()
    with (
        kill_worker_when(lambda w: w.current == "generate") as killed,
        pytest.raises(WorkerCrashed) as failure,
    ):
        asyncio.run(LocalLlama().generate(HELLO, GenParams(max_tokens=8, timeout=120)))
    assert "crashed (killed by SIGKILL)" in failure.value.message
    assert "restarts on the next call" in failure.value.message
    assert not alive(killed["pid"]) and w.pid is None
    w._ensure()  # the next call gets a fresh worker
    assert w.pid and w.pid != killed["pid"]
    w.stop()


@pytest.mark.model
@pytest.mark.django_db(transaction=True, databases=["default", "scratch"])
def test_sigkill_mid_stream_and_mid_analysis_the_server_goes_on(client):
    config = load_config()
    config["inference"]["classifier_timeout_s"] = 30.0
    config["play"]["reply_tokens"] = 40
    save_config(config)
    chat = make_chat()

    def send(text):
        response = client.post(
            f"/api/chats/{chat.pk}/turns",
            json.dumps({"text": text}),
            content_type="application/json",
        )
        assert response.status_code == 200, response.content
        return response.json()["turns"][1]

    # 1. mid-stream: the reply keeps what arrived, marked truncated
    with kill_worker_when(lambda w: w.current == "stream" and w.tokens >= 2) as killed:
        bot = send("Do you ever get lost on the coast road?")
    assert killed and bot["truncated"] is True and bot["text"].strip()

    # 2. mid-analysis: the analysis fails with the reason, shown on the turn
    with kill_worker_when(lambda w: w.current == "structured") as killed:
        bot = send("What is at Harrow Point?")
    assert killed and bot["truncated"] is False
    failure = ClassifierFailure.objects.filter(chat=chat, turn_id=bot["id"]).last()
    assert "crashed (killed by SIGKILL)" in failure.error
    transcript = client.get(f"/api/chats/{chat.pk}/transcript").json()["turns"]
    shown = next(t for t in transcript if t["id"] == bot["id"])
    assert "crashed (killed by SIGKILL)" in shown["analysis_error"]

    # 3. the next turn works on a fresh worker
    bot = send("Shall we stop at the diner?")
    assert bot["text"].strip() and not bot["truncated"]
    assert Turn.objects.get(pk=bot["id"]).model == "gemma-3-270m (embedded)"

    out = StringIO()
    call_command("replay", "--verify", "--chat", str(chat.pk), stdout=out, stderr=StringIO())
    assert "replay matches live state" in out.getvalue()
    worker().stop()


@pytest.mark.model
def test_a_call_past_its_timeout_is_cancelled_and_the_next_first_token_does_not_wait():
    backend = LocalLlama()
    w = worker()

    async def first_token(messages) -> float:
        started = time.monotonic()
        async for _ in backend.stream(messages, GenParams(max_tokens=4, timeout=120)):
            return time.monotonic() - started
        raise AssertionError("no token")

    asyncio.run(first_token(HELLO))  # the worker is up and the model loaded
    pid = w.pid
    timeout = 8.0
    started = time.monotonic()
    with pytest.raises(EndpointTimeout) as late:
        asyncio.run(backend.generate(COUNTING, GenParams(max_tokens=3000, timeout=timeout)))
    gave_up = time.monotonic() - started
    assert "cancelled" in late.value.message
    ttft = asyncio.run(first_token(HELLO))
    print(
        f"\ncall past a {timeout:g} s timeout: given up after {gave_up:.2f} s; the next call's "
        f"first token after {ttft:.2f} s; worker {'kept' if w.pid == pid else 'restarted'}"
    )
    assert gave_up < timeout + CANCEL_GRACE_S + 1  # the deadline held
    assert ttft < timeout  # it did not wait behind the cancelled generation
    w.stop()


@pytest.mark.model
def test_a_caller_that_stops_listening_cancels_the_generation():
    """Stop, or a classifier's wait_for timing out, cancels the generation in the worker."""
    backend = LocalLlama()
    w = worker()

    async def read_a_little():
        stream = backend.stream(COUNTING, GenParams(max_tokens=3000, timeout=120))
        async for _ in stream:
            if w.tokens >= 3:
                break
        await stream.aclose()

    asyncio.run(read_a_little())
    deadline = time.monotonic() + 3.0
    while w.current and time.monotonic() < deadline:
        time.sleep(0.02)
    assert w.current == ""  # the worker is free again, not generating 3000 tokens
    w.stop()


@pytest.mark.model
def test_a_call_given_up_while_the_model_loads_costs_no_second_load():
    w = worker()
    w.stop()
    starts = w.starts
    with pytest.raises(EndpointTimeout):
        asyncio.run(LocalLlama().generate(HELLO, GenParams(max_tokens=4, timeout=0.5)))
    text = asyncio.run(LocalLlama().generate(HELLO, GenParams(max_tokens=8, timeout=120)))
    assert text.strip()
    assert w.starts == starts + 1  # the same worker: one start, one model load
    w.stop()


@pytest.mark.model
def test_warming_up_loads_the_model_in_the_background():
    w = worker()
    w.stop()
    LocalLlama().warm_up()
    deadline = time.monotonic() + 120
    while not w.loaded and time.monotonic() < deadline:
        time.sleep(0.1)
    assert w.loaded and w.pid
    pid = w.pid
    LocalLlama().warm_up()  # warm already: nothing new starts
    asyncio.run(LocalLlama().generate(HELLO, GenParams(max_tokens=4, timeout=120)))
    assert w.pid == pid
    w.stop()
