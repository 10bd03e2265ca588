"""The classifier policy (docs/design.md, Classifier calls): validated output → one stricter retry → schema default.

10 s timeout; a refusal swaps to the next fallback model for that one call; every failure is
returned so the caller records it as a ``classifier_failed`` event. Never raises.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel

from eventstore.services import append
from play.engine.inference import GenParams, InferenceError, Refusal, get_backend
from play.engine.inference.base import (
    EmptyCompletion,
    InvalidOutput,
    Message,
    rejected,
    wire_schema,
)
from rpsite.config import load_config
from worlds.tokens import estimate

T = TypeVar("T", bound=BaseModel)

STRICT_REMINDER = (
    "Your previous answer could not be used: {error}. Answer again with ONLY one JSON object "
    "that matches this schema exactly, no prose, no code fences:\n{schema}"
)


@dataclass
class Classified:
    value: Any
    failures: list[dict[str, Any]] = field(default_factory=list)
    model: str = ""
    fell_back: bool = False
    usage: dict[str, int] = field(default_factory=dict)  # the answering call's, if reported


def fit_budget(messages: list[Message], hard: int) -> list[Message]:
    """Shorten the longest message from its start until the prompt fits the classifier budget."""
    messages = [dict(m) for m in messages]
    while sum(estimate(m["content"]) for m in messages) > hard:
        longest = max(messages, key=lambda m: len(m["content"]))
        if len(longest["content"]) < 400:
            break
        longest["content"] = "…" + longest["content"][len(longest["content"]) // 4 :]
    return messages


async def classify(
    *,
    kind: str,
    messages: list[Message],
    schema: type[T],
    max_tokens: int = 600,
    after: dict[str, Any] | None = None,
    timeout: float | None = None,
) -> Classified:
    # Longer than 60 lines: the policy is one loop whose every branch says what follows a
    # failure (the next model, the stricter retry, the default); split, it reads nowhere whole.
    config = load_config()
    inference = config["inference"]
    timeout = timeout or float(inference["classifier_timeout_s"])
    messages = fit_budget(messages, int(config["budgets"]["classifier_hard"]))
    backend = get_backend()
    models: list[str | None] = [None, *inference["classifier_fallbacks"]]
    failures: list[dict[str, Any]] = []
    schema_text = json.dumps(wire_schema(schema))
    model_index = 0
    retried = False
    attempt_messages = messages
    while model_index < len(models):
        model = models[model_index]
        params = GenParams(
            purpose="classifier",
            max_tokens=max_tokens,
            temperature=0.2,
            model=model,
            timeout=timeout,
            after=after if model is None else None,  # not on a fallback: another model
        )
        label = (
            model
            or backend.describe().get("classifier_model")
            or backend.describe().get("model", backend.name)
        )
        try:
            value = await asyncio.wait_for(
                backend.structured(attempt_messages, schema, params), timeout
            )
            dropped = rejected(value)
            if dropped:
                failures.append(
                    _failure(
                        kind,
                        label,
                        "",
                        "rejected by validation: " + "; ".join(dropped)[:1000],
                        fallback="dropped; the rest applied",
                    )
                )
            return Classified(value, failures, label, fell_back=False, usage=params.usage)
        except TimeoutError:
            failures.append(_failure(kind, label, "", f"timed out after {timeout:g} s"))
            break
        except Refusal as exc:
            failures.append(
                _failure(
                    kind,
                    label,
                    exc.raw,
                    exc.message,
                    fallback=str(models[model_index + 1])
                    if model_index + 1 < len(models)
                    else "schema default",
                )
            )
            model_index += 1
            continue
        except (InvalidOutput, EmptyCompletion) as exc:
            failures.append(
                _failure(
                    kind,
                    label,
                    exc.raw,
                    exc.message,
                    fallback="stricter retry" if not retried else "schema default",
                )
            )
            if retried:
                break
            retried = True
            attempt_messages = [
                *messages,
                {
                    "role": "user",
                    "content": STRICT_REMINDER.format(error=exc.message, schema=schema_text),
                },
            ]
            continue
        except InferenceError as exc:
            failures.append(_failure(kind, label, exc.raw, exc.message))
            break
    return Classified(schema(), failures, "", fell_back=True)


async def ask(
    *,
    kind: str,
    schema: type[T],
    system: str,
    user: str,
    max_tokens: int = 600,
    after: dict[str, Any] | None = None,
    timeout: float | None = None,
) -> Classified:
    """``classify`` with the prompt every classifier call here has: the instruction as the
    system message, what to read as one user message (``after``: the exchange it rides on,
    GenParams.after)."""
    messages: list[Message] = [
        {"role": "system", "content": system},
        {"role": "user", "content": user},
    ]
    return await classify(
        kind=kind,
        messages=messages,
        schema=schema,
        max_tokens=max_tokens,
        after=after,
        timeout=timeout,
    )


def _failure(kind: str, model: str, raw: str, error: str, fallback: str = "schema default"):
    return {
        "model": model,
        "prompt_kind": kind,
        "raw_output": (raw or "")[:4000],
        "error": error,
        "fallback": fallback,
    }


def failures_record(*, chat, failures: list[dict], turn_id: int | None) -> None:
    """Each failed classifier call becomes a ``classifier_failed`` event (visible in the UI)."""
    for failure in failures:
        append(
            stream=chat,
            kind="classifier_failed",
            caused_by=turn_id,
            payload={**failure, "turn_id": turn_id},
        )
