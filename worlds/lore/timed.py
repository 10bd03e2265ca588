"""Timed effects (sticky, cooldown, delay), counted in messages: which are in force for a
prompt, and the state a prompt leaves. The state is plain JSON, keyed ``"<book id>.<uid>"``:
``{"sticky": {key: {"hash", "start", "end", "protected", "triggers"}}, "cooldown": {...}}``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from worlds.lore.matching import Hit
from worlds.lore.rules import Rule, integer


@dataclass
class Timed:
    state: dict[str, dict[str, dict[str, Any]]]
    sticky: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> effect
    cooldown: set[str] = field(default_factory=set)
    delayed: set[str] = field(default_factory=set)


def new_effect(rule: Rule, kind: str, chat_length: int, protected: bool = False) -> dict[str, Any]:
    return {
        "hash": rule.hash,
        "start": chat_length,
        "end": chat_length + getattr(rule, kind),
        "protected": protected,
    }


def check_timed(state: dict[str, Any] | None, rules: dict[str, Rule], chat_length: int) -> Timed:
    """The effects in force for this prompt, and the state with ended ones removed."""
    old = state or {}
    timed = Timed(state={kind: dict(old.get(kind) or {}) for kind in ("sticky", "cooldown")})
    for kind in ("sticky", "cooldown"):
        effects = timed.state[kind]
        for key, effect in list(effects.items()):
            if not isinstance(effect, dict):
                del effects[key]
                continue
            start, end = integer(effect.get("start")), integer(effect.get("end"))
            rule = rules.get(key)
            if chat_length <= start and not effect.get("protected"):
                del effects[key]  # set at this length or later: the chat did not advance
                continue
            if rule is None:
                if chat_length >= end:
                    del effects[key]
                continue
            if effect.get("hash") != rule.hash or not getattr(rule, kind):
                del effects[key]
                continue
            if chat_length >= end:
                del effects[key]
                if kind == "sticky" and rule.cooldown:
                    timed.state["cooldown"][key] = new_effect(rule, "cooldown", chat_length, True)
                    timed.cooldown.add(key)
                continue
            if kind == "sticky":
                timed.sticky[key] = effect
            else:
                timed.cooldown.add(key)
    timed.delayed = {key for key, rule in rules.items() if rule.delay and chat_length < rule.delay}
    return timed


def set_timed(timed: Timed, fired: Iterable[Rule], chat_length: int) -> None:
    for rule in fired:
        for kind in ("sticky", "cooldown"):
            if getattr(rule, kind) and rule.key not in timed.state[kind]:
                timed.state[kind][rule.key] = new_effect(rule, kind, chat_length)


def remember_triggers(timed: Timed, fired: dict[str, Hit]) -> None:
    """A new sticky effect remembers the messages that set it: the gate still needs them."""
    for key, hit in fired.items():
        effect = timed.state["sticky"].get(key)
        if effect is not None and "triggers" not in effect:
            effect["triggers"] = list(hit.triggers)
