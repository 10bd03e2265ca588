"""Structured output over OpenAI-compatible servers, negotiated per endpoint.

Servers differ: OpenAI, vLLM and LM Studio take ``response_format: json_schema``;
llama-cpp-python's server takes only ``json_object`` (with a ``schema`` it turns into a
grammar) and answers HTTP 500 to ``json_schema``; some take only tools (function calling);
some take nothing and need the schema in words. The modes are tried in that order, a refusal
that names the request format steps down to the next, and what worked is remembered per
(base URL, model): in this process and in ``data/structured_output.json``, so a restart does
not probe again.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any

from django.conf import settings

MODES = ("json_schema", "json_object", "tools", "instructions")
LABELS = {
    "json_schema": "response_format json_schema",
    "json_object": "response_format json_object with the schema",
    "tools": "a forced tool call (function calling)",
    "instructions": "the schema in the instructions, JSON repaired",
}
TOOL_NAME = "record_answer"

INSTRUCTION = (
    "Answer with ONLY one JSON object, no prose and no code fences, that matches this JSON "
    "Schema:\n{schema}"
)

# An error about the request's format (not about the model, the key or the load).
_FORMAT_WORDS = re.compile(
    r"response_format|json_schema|json_object|schema|grammar|tool_choice|tools|function|"
    r"Input should be 'text'|unsupported|not supported|unrecognized|extra_forbidden|"
    r"extra inputs|unknown field",
    re.IGNORECASE,
)

_lock = threading.Lock()
_known: dict[Path, dict[str, str]] = {}


def _path() -> Path:
    return Path(settings.DATA_DIR) / "structured_output.json"


def _key(base_url: str, model: str) -> str:
    return f"{base_url.rstrip('/')} {model}"


def _table() -> dict[str, str]:
    path = _path()
    if path not in _known:
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            loaded = {}
        _known[path] = {k: v for k, v in loaded.items() if v in MODES}
    return _known[path]


def remembered(base_url: str, model: str) -> str | None:
    with _lock:
        return _table().get(_key(base_url, model))


def remember(base_url: str, model: str, mode: str) -> None:
    with _lock:
        table = _table()
        key = _key(base_url, model)
        if table.get(key) == mode:
            return
        table[key] = mode
        path = _path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".json.tmp")
            tmp.write_text(json.dumps(table, indent=1, sort_keys=True), encoding="utf-8")
            tmp.replace(path)
        except OSError:
            pass  # remembered in this process; the next start probes again


def forget(base_url: str, model: str) -> None:
    with _lock:
        _table().pop(_key(base_url, model), None)


def order(base_url: str, model: str) -> list[str]:
    """The modes to try: from the one that worked last time down."""
    known = remembered(base_url, model)
    return list(MODES[MODES.index(known) :]) if known else list(MODES)


def names_the_format(status: int | None, text: str) -> bool:
    """Whether a refused request is a cue to step down: a 400/422 (the request as written was
    not accepted) or any 4xx/5xx whose body names the format."""
    if status in (400, 415, 422):
        return True
    return bool(status and status >= 400 and status != 429 and _FORMAT_WORDS.search(text or ""))


def request_for(
    mode: str, messages: list[dict[str, str]], name: str, schema: dict[str, Any]
) -> dict[str, Any]:
    """The extra request arguments (and messages) of one mode."""
    if mode == "json_schema":
        return {
            "messages": messages,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": name, "schema": schema},
            },
        }
    instructed = [
        *messages,
        {"role": "user", "content": INSTRUCTION.format(schema=json.dumps(schema))},
    ]
    if mode == "json_object":
        return {
            "messages": instructed,
            "response_format": {"type": "json_object", "schema": schema},
        }
    if mode == "tools":
        return {
            "messages": messages,
            "tools": [
                {
                    "type": "function",
                    "function": {
                        "name": TOOL_NAME,
                        "description": f"Record the answer ({name}).",
                        "parameters": schema,
                    },
                }
            ],
            "tool_choice": {"type": "function", "function": {"name": TOOL_NAME}},
        }
    return {"messages": instructed}


def answer_text(mode: str, message: Any) -> str:
    """The JSON text of an answer: a tool call's arguments, or the message's content."""
    if mode == "tools":
        for call in getattr(message, "tool_calls", None) or []:
            arguments = getattr(getattr(call, "function", None), "arguments", None)
            if arguments:
                return arguments if isinstance(arguments, str) else json.dumps(arguments)
    return getattr(message, "content", None) or ""
