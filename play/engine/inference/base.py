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
    # the story's samplers (play.engine.samplers); None: the backend's own default. A remote
    # server gets min_p and repetition_penalty as extra fields (vLLM, llama.cpp's server,
    # OpenRouter take them), the embedded model all of them
    top_p: float | None = None
    min_p: float | None = None
    repetition_penalty: float | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    stop: list[str] = field(default_factory=list)
    model: str | None = None  # overrides the configured model (classifier fallbacks)
    timeout: float | None = None
    speaker: str = ""  # the name the reply is written as (base models continue after it)
    # the reply so far, to be continued (Continue): a model that continues text is given it
    # as the start of its answer; a chat model is told it in the prompt's closing words
    prefill: str = ""
    # the exchange a structured call rides on (the turn analysis on one model): {"messages":
    # the narrative request, "speaker", "reply"}; a backend that can, sends the narrative
    # request, the reply and then the call's own messages, so a prompt cache serves the most
    after: dict[str, Any] | None = None
    # Filled by the backend with what the model reported about the call: "prompt_tokens" and
    # "cached_tokens" (the prompt's beginning the server did not read again), when it says.
    usage: dict[str, int] = field(default_factory=dict)


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


# Bounds that grammar compilers expand into one rule per repetition: a 1200-character string
# became 1200 nested rules and llama.cpp refused the grammar ("number of rules … exceeds sane
# defaults"), then crashed. The wire schema leaves them out; pydantic checks them afterwards.
_UNBOUNDED = ("maxLength", "minLength", "maxItems", "minItems", "pattern", "format", "title")


@lru_cache(maxsize=64)
def wire_schema(schema: type[BaseModel]) -> dict[str, Any]:
    """The JSON Schema sent to a model (as a grammar, a response format or a tool): the shape
    and the enums, without the length bounds. Shared: do not mutate."""

    def simplify(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: simplify(v) for k, v in node.items() if k not in _UNBOUNDED}
        if isinstance(node, list):
            return [simplify(v) for v in node]
        return node

    return simplify(json_schema(schema))


def usage_of(usage: Any) -> dict[str, int]:
    """Prompt and cached token counts from an OpenAI-style ``usage`` (an object or a dict):
    ``prompt_tokens_details.cached_tokens`` (OpenAI, vLLM, llama.cpp's server, OpenRouter), or
    DeepSeek's ``prompt_cache_hit_tokens``."""

    def get(obj: Any, name: str) -> Any:
        if obj is None:
            return None
        if isinstance(obj, dict):
            return obj.get(name)
        value = getattr(obj, name, None)
        if value is None:
            value = (getattr(obj, "model_extra", None) or {}).get(name)
        return value

    out: dict[str, int] = {}
    prompt = get(usage, "prompt_tokens")
    cached = get(get(usage, "prompt_tokens_details"), "cached_tokens")
    if cached is None:
        cached = get(usage, "prompt_cache_hit_tokens")
    if isinstance(prompt, int):
        out["prompt_tokens"] = prompt
    if isinstance(cached, int):
        out["cached_tokens"] = cached
    return out


def looks_like_refusal(text: str) -> bool:
    return bool(_REFUSAL.match(text or ""))


def _strip_fences(text: str) -> str:
    text = text.strip()
    if text.startswith("```"):
        text = re.sub(r"^```[a-zA-Z]*\n?|```\s*$", "", text).strip()
    return text


def parse_json_object(text: str) -> Any:
    """The first JSON object in ``text`` (models wrap JSON in prose or code fences)."""
    text = _strip_fences(text)
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


def repair_json(text: str) -> Any:
    """A JSON object cut off part-way (the token limit) closed where it stopped: the last
    complete member is kept, open strings and brackets are closed. Raises ValueError."""
    text = _strip_fences(text)
    start = text.find("{")
    if start < 0:
        raise ValueError("no JSON object in the output")
    body = text[start:]
    closers: list[str] = []
    cuts: list[tuple[int, str]] = []  # (a prefix length that ends a member, its closers)
    in_str = esc = False
    for i, ch in enumerate(body):
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
            continue
        if ch == '"':
            in_str = True
        elif ch in "{[":
            closers.append("}" if ch == "{" else "]")
            cuts.append((i + 1, "".join(reversed(closers))))
        elif ch in "}]":
            if closers:
                closers.pop()
            if not closers:
                return json.loads(body[: i + 1])
            cuts.append((i + 1, "".join(reversed(closers))))
        elif ch == ",":
            cuts.append((i, "".join(reversed(closers))))
    tail = body + ('"' if in_str else "")
    candidates = [tail + "".join(reversed(closers))]
    candidates += [body[:n] + close for n, close in reversed(cuts)]
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict) and value:  # "{}" from garbage is no answer
            return value
    raise ValueError("no JSON object in the output")


def validate_data(data: Any, schema: type[T], *, model: str = "", raw: str = "") -> T:
    """Validate parsed output. What does not validate (a delta out of range, an event titled
    after a role, an empty key) is dropped, not applied: the list item or the field that holds
    it goes, and the rest stands. What was dropped is listed by ``rejected(value)``."""
    if not isinstance(data, dict):
        raise InvalidOutput("the model's JSON is not an object", raw=raw, model=model)
    data = json.loads(json.dumps(data))  # a private copy to prune
    dropped: list[str] = []
    for _ in range(50):
        try:
            value = schema.model_validate(data)
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(p) for p in error["loc"]) or "(the object)"
            if _trim(data, error):
                continue  # over a length the wire schema left out: cut, not rejected
            if not _prune(data, error["loc"]):
                raise InvalidOutput(
                    f"the model's JSON did not match the schema: {exc.error_count()} error(s): "
                    f"{where}: {error['msg']}",
                    raw=raw,
                    model=model,
                ) from exc
            dropped.append(f"{where}: {error['msg']}")
            continue
        if dropped and hasattr(value, "_rejected"):
            value._rejected = dropped
        return value
    raise InvalidOutput("the model's JSON did not match the schema", raw=raw, model=model)


def _trim(data: dict, error: dict) -> bool:
    """Cut a string or a list that is over its maximum length to that length."""
    if error["type"] not in ("too_long", "string_too_long"):
        return False
    limit = (error.get("ctx") or {}).get("max_length")
    *parents, last = error["loc"] or (None,)
    node: Any = data
    for part in parents:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return False
    try:
        value = node[last]
    except (KeyError, IndexError, TypeError):
        return False
    if not isinstance(limit, int) or not isinstance(value, str | list) or len(value) <= limit:
        return False
    node[last] = value[:limit]
    return True


def _prune(data: dict, loc: tuple) -> bool:
    """Remove the innermost list item (else the field) that ``loc`` points into."""
    path: list[tuple[Any, Any]] = []  # (container, key) pairs that exist
    node: Any = data
    for part in loc:
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if not (in_dict or in_list):
            break
        path.append((node, part))
        node = node[part]
    for container, key in reversed(path):
        if isinstance(container, list):
            del container[key]
            return True
    if path:
        container, key = path[-1]
        del container[key]
        return True
    return False


def rejected(value: BaseModel) -> list[str]:
    """What validation dropped from a structured answer (see ``validate_data``)."""
    return list(getattr(value, "_rejected", None) or [])


def validate_output(text: str, schema: type[T], *, model: str = "") -> T:
    """Parse, repair and validate structured output, or raise InvalidOutput/Refusal with the
    raw text."""
    if not (text or "").strip():
        raise EmptyCompletion("the model returned an empty answer", raw=text, model=model)
    try:
        data = parse_json_object(text)
    except ValueError as exc:
        try:
            data = repair_json(text)
        except ValueError:
            if looks_like_refusal(text):
                raise Refusal("the model refused", raw=text, model=model) from exc
            raise InvalidOutput(
                f"the model did not return JSON: {exc}", raw=text, model=model
            ) from exc
    return validate_data(data, schema, model=model, raw=text)
