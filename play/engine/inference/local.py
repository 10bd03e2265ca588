"""The embedded default: Gemma 3 270M (GGUF) through llama-cpp-python. No key, no network.

It is a small *base* model: it is prompted as a story to continue, not with a chat template
(a chat template gave gibberish; a narrative prompt gives plausible prose). Good enough to try
the app offline; real play wants a real model.

The model runs in a worker process (``llama_worker.py``) that the server starts on the first
call and owns: a native crash in llama.cpp (a refused grammar once segfaulted the server) kills
the worker only, fails the call in flight with a message, and the next call starts a new one.
A call past its timeout, or one whose caller went away (Stop, a classifier timeout), is
cancelled in the worker between two tokens, or the worker is killed when it does not stop at
once: the next call never waits behind a generation nobody reads.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import itertools
import json
import logging
import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from play.engine.inference.base import (
    EmptyCompletion,
    EndpointTimeout,
    GenParams,
    InferenceError,
    Message,
    T,
    validate_output,
    wire_schema,
)

log = logging.getLogger("rp.embedded")

MODEL_LABEL = "gemma-3-270m (embedded)"
WORKER_SCRIPT = Path(__file__).with_name("llama_worker.py")
# How long a cancelled generation may take to stop before the worker is killed: it stops at
# its next token, or between two chunks of a prompt being read (~1 s each), and a token took
# over a second on a busy 2-core machine; a restart costs a model load (1–10 s on the same
# machine) and every prompt state the worker kept.
CANCEL_GRACE_S = 3.0
# A worker still loading its model cannot stop either; it skips a call cancelled meanwhile as
# soon as it is loaded, which is cheaper than killing it and loading again.
LOAD_GRACE_S = 60.0


# the worker's request field: the GenParams field it comes from
WORKER_SAMPLERS = {
    "top_p": "top_p",
    "min_p": "min_p",
    "repeat_penalty": "repetition_penalty",
    "frequency_penalty": "frequency_penalty",
    "presence_penalty": "presence_penalty",
}


class WorkerCrashed(InferenceError):
    kind = "crashed"


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "it stopped answering"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


class Worker:
    """The worker process and one call at a time through its pipes. Blocking: called from
    threads (``LocalLlama`` runs each call in its own)."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen | None = None
        self._lock = threading.Lock()  # one call at a time
        self._ids = itertools.count(1)
        self._buffer = b""
        self.current: str = ""  # the kind of call in flight ("stream", "structured"), for tests
        self.tokens = 0  # tokens of the call in flight so far
        self.starts = 0
        self.loaded = False  # the worker has answered once: its model is loaded

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def _ensure(self) -> subprocess.Popen:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        self._proc = subprocess.Popen(
            [sys.executable, str(WORKER_SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            close_fds=True,
        )
        self._buffer = b""
        self.starts += 1
        self.loaded = False
        return self._proc

    def stop(self) -> None:
        """End the worker (the server is stopping, or a generation would not stop)."""
        proc, self._proc = self._proc, None
        self.loaded = False
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for pipe in (proc.stdin, proc.stdout):
            with contextlib.suppress(OSError):
                pipe.close()

    def _send(self, proc: subprocess.Popen, message: dict[str, Any]) -> None:
        proc.stdin.write((json.dumps(message) + "\n").encode())
        proc.stdin.flush()

    def _read(self, proc: subprocess.Popen, timeout: float) -> dict[str, Any] | None:
        """The next message, None if none came within ``timeout``; raises WorkerCrashed."""
        while b"\n" not in self._buffer:
            ready, _, _ = select.select([proc.stdout], [], [], timeout)
            if not ready:
                return None
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                code = proc.wait()
                self.stop()
                raise WorkerCrashed(
                    f"the embedded model crashed ({_describe_exit(code)}); it restarts on the "
                    "next call",
                    model=MODEL_LABEL,
                )
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)

    def call(
        self,
        request: dict[str, Any],
        *,
        kind: str,
        on_token: Callable[[str], None],
        cancel: threading.Event,
        timeout: float | None,
    ) -> dict[str, Any]:
        """Run one completion; ``on_token`` gets each piece. Returns the ``done`` message
        (``finish`` is "cancelled" when ``cancel`` was set). Raises WorkerCrashed,
        EndpointTimeout (the call was cancelled) or InferenceError."""
        # Longer than 60 lines: the wait for the worker, the send and the read loop share one
        # deadline and one cancel flag, and the lock is held across all three.
        deadline = time.monotonic() + timeout if timeout else None
        while not self._lock.acquire(timeout=0.05):
            if cancel.is_set():
                return {"type": "done", "finish": "cancelled"}
            if deadline and time.monotonic() > deadline:
                raise EndpointTimeout(
                    f"the embedded model was busy for {timeout:g} s", model=MODEL_LABEL
                )
        try:
            proc = self._ensure()
            request_id = next(self._ids)
            self.current, self.tokens = kind, 0
            try:
                self._send(proc, {"op": "complete", **request, "id": request_id})
            except OSError:
                code = proc.wait()
                self.stop()
                raise WorkerCrashed(
                    f"the embedded model crashed ({_describe_exit(code)}); it restarts on the "
                    "next call",
                    model=MODEL_LABEL,
                ) from None
            while True:
                if cancel.is_set():
                    return self._cancel(proc, request_id)
                if deadline and time.monotonic() > deadline:
                    self._cancel(proc, request_id)
                    raise EndpointTimeout(
                        f"the embedded model did not finish in {timeout:g} s; the call was "
                        "cancelled",
                        model=MODEL_LABEL,
                    )
                message = self._read(proc, 0.05)
                if message is None or message.get("id") != request_id:
                    continue
                self.loaded = True
                if message["type"] == "token":
                    self.tokens += 1
                    on_token(message["text"])
                elif message["type"] == "done":
                    return message
                else:
                    raise InferenceError(
                        f"the embedded model failed: {message.get('message', '?')}",
                        model=MODEL_LABEL,
                    )
        finally:
            self.current = ""
            self._lock.release()

    def warm(self) -> None:
        """Start the worker and load its model now, in the background (a page that will need
        the model soon was opened): the first call then does not spend its timeout loading."""
        if self.loaded and self.pid:
            return

        def load() -> None:
            try:
                self.call(
                    {"op": "load"},
                    kind="load",
                    on_token=lambda _piece: None,
                    cancel=threading.Event(),
                    timeout=None,
                )
            except InferenceError as exc:
                log.warning("warming the embedded model failed: %s", exc.message)

        threading.Thread(target=load, name="llama-warm", daemon=True).start()

    def _cancel(self, proc: subprocess.Popen, request_id: int) -> dict[str, Any]:
        """Stop the generation in flight: ask, then kill when it does not stop in time."""
        try:
            self._send(proc, {"op": "cancel", "id": request_id})
            until = time.monotonic() + (CANCEL_GRACE_S if self.loaded else LOAD_GRACE_S)
            while (left := until - time.monotonic()) > 0:
                message = self._read(proc, left)
                if message and message.get("id") == request_id and message["type"] != "token":
                    self.loaded = True
                    return {"type": "done", "finish": "cancelled"}
        except (OSError, WorkerCrashed):
            pass
        self.stop()  # it did not stop: the next call starts a fresh worker
        return {"type": "done", "finish": "cancelled"}


_worker = Worker()
# Calls wait for the worker in these threads, never on the event loop.
_threads = ThreadPoolExecutor(max_workers=4, thread_name_prefix="llama-call")
atexit.register(_worker.stop)


def worker() -> Worker:
    return _worker


_TAIL = re.compile(r"(?:^|\n\n)\[([^\[\]]*)\]\s*$")  # a block on its own, at the end


def split_tail(content: str) -> tuple[str, list[str]]:
    """A message without the bracketed blocks at its end (the changing note, the closing
    instructions), and those blocks' texts in order."""
    blocks: list[str] = []
    while (m := _TAIL.search(content)) is not None:
        blocks.insert(0, m.group(1).strip())
        content = content[: m.start()]
    return content.strip(), blocks


def render_story(messages: list[Message], speaker: str = "") -> str:
    """Turn chat messages into a story for a base model to continue.

    The context (system) comes first, then the dialogue lines ("Name: text"), then what changes
    every turn (the note's sections, as the prompt's order puts them: after the story, so the
    context and the story stay a reused prefix), then the speaker's name for the model to
    continue after. Bracketed instructions meant for chat models are left out: a base model
    would only copy them.
    """
    context = [m["content"].strip() for m in messages if m["role"] == "system"]
    lines: list[str] = []
    notes: list[str] = []
    for m in messages:
        if m["role"] == "system":
            continue
        content, blocks = split_tail(m["content"])
        notes = [b for b in blocks if b.startswith("## ")] or notes
        if content:
            lines.append(content)
    prompt = "\n\n".join(c for c in context if c)
    if lines:
        prompt += "\n\nThe story so far:\n" + "\n".join(lines)
    if notes:
        prompt += "\n\n" + "\n\n".join(notes) + "\n\nThe story continues:"
    if speaker:
        prompt += f"\n{speaker}:"
    return prompt


def structured_prompt(messages: list[Message], params: GenParams) -> str:
    """A structured call's prompt. Riding on an exchange (``params.after``, the turn analysis):
    the narrative prompt exactly as it was sent, the reply the model wrote after it, then the
    call's own instructions — the worker's kept state of the narrative call holds all but the
    reply and the instructions, so that is all the model reads anew."""
    after = params.after
    if not after:
        return render_story(messages) + "\n\nJSON:\n"
    ask = after.get("ask") or "\n\n".join(m["content"].strip() for m in messages)
    story = render_story(after["messages"], after.get("speaker", ""))
    return f"{story} {after['reply'].strip()}\n\n{ask}\n\nJSON:\n"


class LocalLlama:
    name = "embedded"

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "model": MODEL_LABEL}

    def warm_up(self) -> None:
        _worker.warm()

    def _request(self, prompt: str, params: GenParams, schema: dict | None = None) -> dict:
        if params.prefill and schema is None:  # the reply so far: the model goes on from it
            prompt += " " + params.prefill.strip()
        request = {
            "prompt": prompt,
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "stop": [*params.stop, "\n\n\n"] if schema is None else [],
            "schema": schema,
        }
        # the story's samplers (llama.cpp calls the repetition penalty repeat_penalty); one
        # left unset is the worker's default
        for name, field in WORKER_SAMPLERS.items():
            if getattr(params, field) is not None:
                request[name] = getattr(params, field)
        return request

    async def _pieces(self, request: dict, params: GenParams, kind: str) -> AsyncIterator[Any]:
        """The worker's pieces as they come, then its ``done`` message. Leaving early (Stop,
        a timeout around the caller) cancels the generation in the worker."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        cancel = threading.Event()

        def put(item: Any) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the caller's loop is gone; the cancel below stops us
                cancel.set()

        def run() -> None:
            try:
                put(
                    _worker.call(
                        request, kind=kind, on_token=put, cancel=cancel, timeout=params.timeout
                    )
                )
            except Exception as exc:  # delivered to the consumer
                put(exc)

        loop.run_in_executor(_threads, run)
        try:
            while True:
                item = await queue.get()
                if isinstance(item, Exception):
                    raise item
                yield item
                if isinstance(item, dict):
                    return
        finally:
            cancel.set()

    @staticmethod
    def _usage(done: Any, params: GenParams) -> None:
        """The worker's count of the prompt's tokens, and of those its kept states spared."""
        if isinstance(done, dict):
            params.usage.update(
                {
                    k: done[k]
                    for k in ("prompt_tokens", "cached_tokens")
                    if isinstance(done.get(k), int)
                }
            )

    async def generate(self, messages: list[Message], params: GenParams) -> str:
        request = self._request(render_story(messages, params.speaker), params)
        pieces = [p async for p in self._pieces(request, params, "generate")]
        self._usage(pieces[-1] if pieces else None, params)
        text = "".join(p for p in pieces if isinstance(p, str)).strip()
        if not text:
            raise EmptyCompletion("the embedded model returned nothing", model=MODEL_LABEL)
        return text

    async def stream(self, messages: list[Message], params: GenParams) -> AsyncIterator[str]:
        request = self._request(render_story(messages, params.speaker), params)
        got_any = False
        async for piece in self._pieces(request, params, "stream"):
            if not isinstance(piece, str):
                self._usage(piece, params)
                break
            if not got_any:
                piece = piece.lstrip()
                if not piece:
                    continue
            got_any = True
            yield piece
        if not got_any:
            raise EmptyCompletion("the embedded model returned nothing", model=MODEL_LABEL)

    async def structured(self, messages: list[Message], schema: type[T], params: GenParams) -> T:
        """Grammar-constrained JSON where llama.cpp accepts the grammar, else unconstrained;
        either way repaired if cut off, and validated (ranges, names) by pydantic."""
        request = self._request(structured_prompt(messages, params), params, wire_schema(schema))
        pieces = [p async for p in self._pieces(request, params, "structured")]
        self._usage(pieces[-1] if pieces else None, params)
        text = "".join(p for p in pieces if isinstance(p, str))
        return validate_output(text, schema, model=MODEL_LABEL)
