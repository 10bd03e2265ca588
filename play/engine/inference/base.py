"""The inference interface the orchestrator sees, and the errors it can raise."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

Message = dict[str, str]  # {"role": "system"|"user"|"assistant", "content": str}
T = TypeVar("T", bound=BaseModel)


@dataclass
class GenParams:
    purpose: str = "narrative"  # narrative | classifier
    max_tokens: int = 300
    temperature: float = 0.8
    stop: list[str] = field(default_factory=list)
    model: str | None = None  # overrides the configured model (classifier fallbacks)
    timeout: float | None = None
    speaker: str = ""  # the name the reply is written as (base models continue after it)


class InferenceError(Exception):
    """A model call that did not give a usable answer; ``message`` is shown to the user."""

    kind = "error"

    def __init__(self, message: str, *, raw: str = "", model: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.raw = raw
        self.model = model


class EndpointDown(InferenceError):
    kind = "down"


class EndpointTimeout(InferenceError):
    kind = "timeout"


class RateLimited(InferenceError):
    kind = "rate_limited"

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ServerError(InferenceError):
    kind = "server_error"


class Refusal(InferenceError):
    kind = "refusal"


class InvalidOutput(InferenceError):
    kind = "invalid_output"


class EmptyCompletion(InferenceError):
    kind = "empty"


class Backend(Protocol):
    name: str

    def describe(self) -> dict[str, Any]: ...

    async def generate(self, messages: list[Message], params: GenParams) -> str: ...

    def stream(self, messages: list[Message], params: GenParams) -> AsyncIterator[str]: ...

    async def structured(
        self, messages: list[Message], schema: type[T], params: GenParams
    ) -> T: ...


_REFUSAL = re.compile(
    r"^\s*(I'?m sorry|I am sorry|I cannot|I can'?t|I won'?t|As an AI|I'm not able to|"
    r"I am not able to|Sorry, but)",
    re.IGNORECASE,
)


@lru_cache(maxsize=64)
def json_schema(schema: type[BaseModel]) -> dict[str, Any]:
    """A schema's JSON Schema, generated once per class: pydantic takes ~50 ms per call here,
    on the event loop, and every bookkeeping call asks. Shared: do not mutate."""
    return schema.model_json_schema()


def looks_like_refusal(text: str) -> bool:
    return bool(_REFUSAL.match(text or ""))


def parse_json_object(text: str) -> Any:
    """The first JSON object in ``text`` (models wrap JSON in prose or code fences)."""
    text = text.strip()
    if text.startswith("```"):
        text = re.sub(r"^```[a-zA-Z]*\n?|```\s*$", "", text).strip()
    try:
        return json.loads(text)
    except ValueError:
        pass
    start = text.find("{")
    while start >= 0:
        depth = 0
        in_str = esc = False
        for i in range(start, len(text)):
            ch = text[i]
            if in_str:
                esc = ch == "\\" and not esc
                if ch == '"' and not esc:
                    in_str = False
                continue
            if ch == '"':
                in_str = True
            elif ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    try:
                        return json.loads(text[start : i + 1])
                    except ValueError:
                        break
        start = text.find("{", start + 1)
    raise ValueError("no JSON object in the output")


def validate_output(text: str, schema: type[T], *, model: str = "") -> T:
    """Parse and validate structured output, or raise InvalidOutput/Refusal with the raw text."""
    if not (text or "").strip():
        raise EmptyCompletion("the model returned an empty answer", raw=text, model=model)
    try:
        data = parse_json_object(text)
    except ValueError as exc:
        if looks_like_refusal(text):
            raise Refusal("the model refused", raw=text, model=model) from exc
        raise InvalidOutput(f"the model did not return JSON: {exc}", raw=text, model=model) from exc
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        raise InvalidOutput(
            f"the model's JSON did not match the schema: {exc.error_count()} error(s): "
            f"{exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}",
            raw=text,
            model=model,
        ) from exc
