"""How the story model draws its words: the samplers of data/config.toml's ``[samplers]``, the
context size (``budgets.narrative_hard``), and a chat's own overrides of any of them.

A chat's overrides are chat state like its Author's Note: set by a ``samplers_set`` event
(play.projectors keeps them in ``ChatSamplers``), so they follow branches. A key the chat does
not set takes the global value. Only the narrative calls (replies, Continue, Impersonate) use
them: bookkeeping keeps its own low temperature.
"""

from __future__ import annotations

import math
from typing import Any

from play.models import ChatSamplers
from rpsite.config import load_config

# key: (kind, lowest, highest)
BOUNDS: dict[str, tuple[type, float, float]] = {
    "temperature": (float, 0.0, 5.0),
    "top_p": (float, 0.01, 1.0),
    "min_p": (float, 0.0, 1.0),
    "repetition_penalty": (float, 0.5, 3.0),
    "frequency_penalty": (float, -2.0, 2.0),
    "presence_penalty": (float, -2.0, 2.0),
    "max_tokens": (int, 0, 100_000),
    "context_size": (int, 512, 2_000_000),
}
KEYS = tuple(BOUNDS)
# what GenParams takes as it is (max_tokens reaches it through the prompt, context_size through
# the budgets)
DRAWING = (
    "temperature",
    "top_p",
    "min_p",
    "repetition_penalty",
    "frequency_penalty",
    "presence_penalty",
)


def value_check(key: str, raw: Any) -> float | int:
    """One sampler's value as its kind, within its bounds; ValueError otherwise."""
    if key not in BOUNDS:
        raise ValueError(f"unknown sampler {key!r}")
    kind, low, high = BOUNDS[key]
    try:
        number = float(raw)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{key} must be a number") from exc
    if not math.isfinite(number):
        raise ValueError(f"{key} must be a number")
    value = kind(number)
    if kind is int and number != value:
        raise ValueError(f"{key} must be a whole number")
    if not low <= value <= high:
        raise ValueError(f"{key} must be between {low:g} and {high:g}")
    return value


def overrides_check(values: dict[str, Any]) -> dict[str, float | int]:
    """A chat's overrides: None or "" leaves a key to the global value. ValueError on a bad one."""
    checked = {}
    for key, raw in values.items():
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        checked[key] = value_check(key, raw)
    return {k: checked[k] for k in KEYS if k in checked}


def global_samplers(config: dict | None = None) -> dict[str, float | int]:
    config = config or load_config()
    values = {k: config["samplers"][k] for k in KEYS if k in config["samplers"]}
    values["context_size"] = int(config["budgets"]["narrative_hard"])
    return values


def chat_overrides(chat_id: int) -> dict[str, float | int]:
    row = ChatSamplers.objects.filter(chat_id=chat_id).values_list("values", flat=True).first()
    return dict(row or {})


def samplers_for(chat_id: int, config: dict | None = None) -> dict[str, float | int]:
    """The samplers a chat's story calls use: its overrides over the global values."""
    return {**global_samplers(config), **chat_overrides(chat_id)}


def samplers_state(chat_id: int) -> dict[str, dict[str, float | int]]:
    """What the settings form and the API show: the chat's own, the global, what applies."""
    own = chat_overrides(chat_id)
    base = global_samplers()
    return {"overrides": own, "global": base, "effective": {**base, **own}}


def budgets_for(chat_id: int, config: dict | None = None) -> dict[str, Any]:
    """The prompt budgets of a chat: a context size of its own scales the soft budget with it
    (same share of the hard one as the global pair)."""
    config = config or load_config()
    budgets = dict(config["budgets"])
    size = chat_overrides(chat_id).get("context_size")
    if size:
        hard = int(budgets["narrative_hard"]) or 1
        budgets["narrative_soft"] = int(int(budgets["narrative_soft"]) * size / hard)
        budgets["narrative_hard"] = int(size)
    return budgets


def drawing(samplers: dict[str, Any]) -> dict[str, float]:
    """The GenParams fields of ``samplers`` (see ``DRAWING``)."""
    return {k: float(samplers[k]) for k in DRAWING if samplers.get(k) is not None}
