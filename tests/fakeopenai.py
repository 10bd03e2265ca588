"""A small OpenAI-compatible server for tests and benchmarks, on 127.0.0.1.

Each request to /v1/chat/completions takes the next scripted behaviour (FIFO) or the default:
a narrative reply, or ``{}`` when a JSON response format was asked for. ``rejects`` names the
structured-output formats this server refuses, as real servers do ("json_schema": HTTP 500
like llama-cpp-python's server, "json_object" and "tools": HTTP 400); a refused request does
not use up its behaviour. A request with ``tools`` is answered with a tool call. Behaviours:

    ("text", "reply")            ("json", {...})             ("status", 500)
    ("rate_limit", 2)            ("delay", seconds, inner)   ("invalid_json",)
    ("refusal",)                 ("empty",)                  ("drop", n_chunks, "reply")

``responder(body)`` (optional) gives the behaviour of a request the script has none for (a
varied reply per turn, an analysis that changes something). With ``report_cached`` the answers
carry ``usage`` as a server with automatic prefix caching reports it: the prompt's tokens
(characters / 4) and ``prompt_tokens_details.cached_tokens``, the longest beginning it shares
with an earlier request; a stream reports it in a last chunk when asked with
``stream_options: {"include_usage": true}`` (``reject_stream_options`` answers that HTTP 400,
as a strict server would). ``reject_fields`` names request fields answered HTTP 400 the same way
(OpenAI's own API refuses ``min_p`` and ``repetition_penalty``).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from rpsite.config import load_config, save_config


def rendered(messages: list[dict[str, Any]]) -> str:
    """A request's messages as one text, in order (what a server's prefix cache compares)."""
    return "".join(f"<{m.get('role')}>\n{m.get('content') or ''}\n" for m in messages)


def common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    lo, hi = 0, n  # binary search on equal prefixes: fast on long texts
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        """A client that went away (a killed app server) is expected here, not an error."""


class FakeOpenAI:
    def __init__(
        self,
        *,
        default_text: str = "*She smiles.* The road is quiet tonight.",
        token_delay: float = 0.0,
        ttft: float = 0.0,
    ) -> None:
        self.script: deque = deque()
        self.requests: list[dict[str, Any]] = []
        self.default_text = default_text
        self.token_delay = token_delay
        self.ttft = ttft
        self.lock = threading.Lock()
        self.json_schema_supported = True
        self.rejects: set[str] = set()
        self.responder: Callable[[dict], tuple | None] | None = None
        self.report_cached = False
        self.reject_stream_options = False
        self.reject_fields: set[str] = set()
        self._seen_prompts: list[str] = []
        self.server = _QuietServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def start(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def push(self, *behaviours: tuple) -> None:
        self.script.extend(behaviours)

    def completions(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"].endswith("/chat/completions")]

    def _next(self) -> tuple | None:
        with self.lock:
            return self.script.popleft() if self.script else None

    def _usage(self, body: dict, text: str) -> dict:
        """The usage an answer reports (with the cached part when ``report_cached``)."""
        completion = len(text.split())
        if not self.report_cached:
            return {
                "prompt_tokens": 10,
                "completion_tokens": completion,
                "total_tokens": 10 + completion,
            }
        prompt = rendered(body.get("messages") or [])
        with self.lock:
            shared = max((common_prefix(prompt, p) for p in self._seen_prompts), default=0)
            self._seen_prompts.append(prompt)
        tokens = len(prompt) // 4
        return {
            "prompt_tokens": tokens,
            "completion_tokens": completion,
            "total_tokens": tokens + completion,
            "prompt_tokens_details": {"cached_tokens": shared // 4},
        }

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _json(self, status: int, body: Any, headers: dict | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                fake.requests.append({"path": self.path, "body": None})
                if self.path.endswith("/models"):
                    self._json(
                        200,
                        {
                            "object": "list",
                            "data": [
                                {"id": "fake-narrative", "object": "model"},
                                {"id": "fake-classifier", "object": "model"},
                            ],
                        },
                    )
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                record = {"path": self.path, "body": body}
                fake.requests.append(record)
                if self.path.endswith("/embeddings"):
                    texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
                    data = [
                        {"object": "embedding", "index": i, "embedding": _fake_vector(t)}
                        for i, t in enumerate(texts)
                    ]
                    self._json(200, {"object": "list", "data": data, "model": body.get("model")})
                    return
                if not self.path.endswith("/chat/completions"):
                    self._json(404, {"error": {"message": "not found"}})
                    return
                refused = {"stream_options"} if fake.reject_stream_options else set()
                refused = sorted((refused | fake.reject_fields) & set(body))
                if refused:
                    self._json(
                        400,
                        {
                            "error": {
                                "message": f"Unrecognized request argument supplied: {refused[0]}"
                            }
                        },
                    )
                    return
                self._complete(body, fake._next(), record)

            def _complete(self, body: dict, behaviour: tuple | None, record: dict) -> None:
                fmt = (body.get("response_format") or {}).get("type")
                if body.get("tools"):
                    fmt = "tools"
                refusal = _REFUSALS.get(fmt) if fmt in fake.rejects else None
                if fmt == "json_schema" and not fake.json_schema_supported:
                    refusal = (400, "response_format json_schema unsupported")
                if refusal:
                    self._json(refusal[0], {"error": {"message": refusal[1]}})
                    fake.script.appendleft(behaviour) if behaviour else None
                    return
                if behaviour is None and fake.responder is not None:
                    behaviour = fake.responder(body)
                if behaviour is None:
                    behaviour = ("json", {}) if fmt else ("text", fake.default_text)
                kind = behaviour[0]
                if kind == "delay":
                    time.sleep(behaviour[1])
                    behaviour = (
                        behaviour[2]
                        if len(behaviour) > 2
                        else (("json", {}) if fmt else ("text", fake.default_text))
                    )
                    kind = behaviour[0]
                if kind == "status":
                    self._json(behaviour[1], {"error": {"message": f"fake error {behaviour[1]}"}})
                    return
                if kind == "rate_limit":
                    self._json(
                        429, {"error": {"message": "slow down"}}, {"Retry-After": str(behaviour[1])}
                    )
                    return
                if kind == "json":
                    text = json.dumps(behaviour[1])
                elif kind == "invalid_json":
                    text = "Sure! Here you go: {not json at all"
                elif kind == "refusal":
                    text = "I'm sorry, but I can't help with that."
                elif kind == "empty":
                    text = ""
                else:
                    text = behaviour[-1]
                usage = record["usage"] = fake._usage(body, text)
                if body.get("stream"):
                    wants = (body.get("stream_options") or {}).get("include_usage")
                    self._stream(
                        text,
                        drop_after=behaviour[1] if kind == "drop" else None,
                        usage=usage if wants else None,
                    )
                elif fmt == "tools":
                    self._json(200, _tool_call(text, body.get("model", ""), usage))
                else:
                    self._json(200, _completion(text, body.get("model", ""), usage))

            def _stream(self, text: str, drop_after: int | None, usage: dict | None) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                if fake.ttft:
                    time.sleep(fake.ttft)
                words = text.split(" ") if text else []
                for i, word in enumerate(words):
                    if drop_after is not None and i >= drop_after:
                        self.wfile.flush()
                        self.connection.shutdown(2)  # the connection breaks mid-stream
                        return
                    piece = word if i == 0 else " " + word
                    self.wfile.write(f"data: {json.dumps(_chunk(piece))}\n\n".encode())
                    self.wfile.flush()
                    if fake.token_delay:
                        time.sleep(fake.token_delay)
                self.wfile.write(f"data: {json.dumps(_chunk('', 'stop'))}\n\n".encode())
                if usage is not None:  # include_usage: a last chunk with no choices
                    last = {**_chunk(""), "choices": [], "usage": usage}
                    self.wfile.write(f"data: {json.dumps(last)}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

        return Handler


def point_config_at(server: FakeOpenAI, **inference: Any) -> None:
    """Point the app's config at ``server`` (the two fake models), with ``inference`` over it."""
    config = load_config()
    config["inference"].update(
        {
            "base_url": server.url,
            "narrative_model": "fake-narrative",
            "classifier_model": "fake-classifier",
            **inference,
        }
    )
    save_config(config)


def _completion(text: str, model: str, usage: dict | None = None) -> dict:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [
            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}
        ],
        "usage": usage
        or {
            "prompt_tokens": 10,
            "completion_tokens": len(text.split()),
            "total_tokens": 10 + len(text.split()),
        },
    }


_REFUSALS = {
    # what llama-cpp-python's server answers to json_schema
    "json_schema": (
        500,
        "1 validation error for CreateChatCompletionRequest: response_format.type: "
        "Input should be 'text' or 'json_object'",
    ),
    "json_object": (400, "response_format json_object is not supported by this server"),
    "tools": (400, "tools are not supported by this model"),
}


def _tool_call(arguments: str, model: str, usage: dict | None = None) -> dict:
    reply = _completion("", model, usage)
    reply["choices"][0]["finish_reason"] = "tool_calls"
    reply["choices"][0]["message"] = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_fake",
                "type": "function",
                "function": {"name": "record_answer", "arguments": arguments},
            }
        ],
    }
    return reply


def _chunk(piece: str, finish: str | None = None) -> dict:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "fake",
        "choices": [
            {"index": 0, "delta": {"content": piece} if piece else {}, "finish_reason": finish}
        ],
    }


def _fake_vector(text: str, dims: int = 384) -> list[float]:

    digest = hashlib.sha256(text.encode()).digest()
    return [((digest[i % 32] / 255.0) - 0.5) for i in range(dims)]
