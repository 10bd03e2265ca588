"""A scripted backend for tests: replies come from a queue or a function; calls are recorded."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

from pydantic import BaseModel

from play.engine.inference.base import GenParams, InferenceError, Message, T, validate_data

Reply = str | BaseModel | dict | InferenceError | Callable[[list[Message], GenParams], Any]


class ScriptedBackend:
    name = "scripted"

    def __init__(
        self,
        *,
        narrative: list[Reply] | None = None,
        structured: list[Reply] | None = None,
        token_delay: float = 0.0,
    ) -> None:
        self.narrative: list[Reply] = list(narrative or [])
        self.structured_replies: list[Reply] = list(structured or [])
        self.calls: list[dict[str, Any]] = []
        self.token_delay = token_delay
        self.default_text = "*nods* I hear you."

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name}

    def _next(self, queue: list[Reply], messages: list[Message], params: GenParams) -> Any:
        reply = queue.pop(0) if queue else None
        if callable(reply) and not isinstance(reply, BaseModel | InferenceError):
            reply = reply(messages, params)
        if isinstance(reply, InferenceError):
            raise reply
        return reply

    async def generate(self, messages: list[Message], params: GenParams) -> str:
        self.calls.append({"kind": "generate", "messages": messages, "params": params})
        reply = self._next(self.narrative, messages, params)
        return self.default_text if reply is None else str(reply)

    async def stream(self, messages: list[Message], params: GenParams) -> AsyncIterator[str]:
        self.calls.append({"kind": "stream", "messages": messages, "params": params})
        reply = self._next(self.narrative, messages, params)
        text = self.default_text if reply is None else str(reply)
        for word in text.split(" "):
            if self.token_delay:
                await asyncio.sleep(self.token_delay)
            yield word + " "

    async def structured(self, messages: list[Message], schema: type[T], params: GenParams) -> T:
        self.calls.append(
            {
                "kind": "structured",
                "schema": schema.__name__,
                "messages": messages,
                "params": params,
            }
        )
        reply = self._next(self.structured_replies, messages, params)
        if reply is None:
            return schema()
        if isinstance(reply, BaseModel):
            reply = reply.model_dump()
        # the same validation as a model's answer: what makes no sense is dropped, not applied
        return validate_data(reply, schema, model="scripted")
