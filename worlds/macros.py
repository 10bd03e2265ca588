"""Card macros: what ``{{char}}`` and friends mean inside cards, lore and the Author's Note.

SillyTavern's macros (its docs, "Macros"), case-insensitive, no nesting:

  ``{{char}}`` ``<BOT>`` ``{{user}}`` ``<USER>``            always (the two required names)
  ``{{persona}}`` ``{{description}}`` ``{{personality}}`` ``{{scenario}}`` ``{{mesExamples}}``
  ``{{lastMessage}}`` ``{{lastUserMessage}}`` ``{{lastCharMessage}}`` ``{{input}}``
  ``{{model}}``                                             when the context has them
  ``{{time}}`` ``{{date}}`` ``{{weekday}}`` ``{{isotime}}`` ``{{isodate}}``
                                                            when the context has a ``now``
  ``{{idle_duration}}``                                     when the context has an ``idle``
  ``{{random:a,b}}`` ``{{random::a::b}}`` ``{{pick::a::b}}`` ``{{roll:2d6+1}}``
  ``{{newline}}`` ``{{trim}}`` ``{{noop}}`` ``{{// a comment}}``

Anything else (and a macro whose value the context lacks) is left as written.

Reproducible: nothing here reads the clock or a random source. ``random`` and ``roll`` draw
from ``context.seed`` (the caller passes stable ids, e.g. chat and turn, so a prompt rebuilt for
the same turn is the same prompt); ``pick`` draws from ``context.stable_seed`` and the text
itself, so it stays the same in a chat for as long as the text does (SillyTavern's rule).
The time macros format ``context.now``: the caller decides whose time that is (the engine
passes the story clock when the story has one, else the wall-clock time the answered turn was
written, read from the log; see play.engine.lore.macro_context).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from worlds import clock

MAX_DICE = 100
MAX_SIDES = 1_000_000

_COMMENT = re.compile(r"\{\{//[\s\S]*?\}\}")
_TRIM = re.compile(r"(?:\r?\n)*\{\{trim\}\}(?:\r?\n)*", re.IGNORECASE)
_MACRO = re.compile(r"\{\{([^{}]*)\}\}|<(BOT|USER)>", re.IGNORECASE)
_RANDOM = re.compile(r"^(random|pick)\s?::?(.+)$", re.IGNORECASE | re.DOTALL)
_ROLL = re.compile(r"^roll[ :](.+)$", re.IGNORECASE | re.DOTALL)
_DICE = re.compile(r"^(\d*)d(\d+)(?:([+-])(\d+))?$", re.IGNORECASE)
_ESCAPED_COMMA = "\x00comma\x00"
_WEEKDAYS = tuple(d.capitalize() for d in clock.WEEKDAYS)
_MONTHS = tuple(m.capitalize() for m in clock.MONTHS)


@dataclass(frozen=True)
class MacroContext:
    """What the optional macros expand to; ``None`` means "not known here": left as written."""

    persona: str | None = None
    description: str | None = None
    personality: str | None = None
    scenario: str | None = None
    mes_examples: str | None = None
    last_message: str | None = None
    last_user_message: str | None = None
    last_char_message: str | None = None
    input: str | None = None
    model: str | None = None
    now: datetime | None = None
    idle: timedelta | None = None
    seed: str = ""
    stable_seed: str = ""


_FIELDS = {
    "persona": "persona",
    "description": "description",
    "personality": "personality",
    "scenario": "scenario",
    "mesexamples": "mes_examples",
    "lastmessage": "last_message",
    "lastusermessage": "last_user_message",
    "lastcharmessage": "last_char_message",
    "input": "input",
    "model": "model",
}


def draw(*parts: object) -> float:
    """A number in [0, 1) fixed by ``parts``: the engine's only source of chance."""
    digest = hashlib.sha256("\x1f".join(str(part) for part in parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _choices(args: str) -> list[str]:
    if "::" in args:
        return args.split("::")
    args = args.replace("\\,", _ESCAPED_COMMA)
    return [item.strip().replace(_ESCAPED_COMMA, ",") for item in args.split(",")]


def _roll(formula: str, seed: tuple[object, ...]) -> str:
    formula = "".join(formula.split())
    if formula.isdigit():
        formula = f"1d{formula}"
    dice = _DICE.match(formula)
    if dice is None:
        return ""  # SillyTavern writes nothing for a formula it cannot roll
    count = int(dice.group(1) or 1)
    sides = int(dice.group(2))
    if not 1 <= count <= MAX_DICE or not 1 <= sides <= MAX_SIDES:
        return ""
    total = sum(1 + int(draw(*seed, n) * sides) for n in range(count))
    if dice.group(3):
        bonus = int(dice.group(4))
        total += bonus if dice.group(3) == "+" else -bonus
    return str(total)


def _clock(moment: datetime) -> str:
    hour = moment.hour % 12 or 12
    return f"{hour}:{moment.minute:02d} {'AM' if moment.hour < 12 else 'PM'}"


def _humanize(span: timedelta) -> str:
    """A duration the way SillyTavern says it (moment's humanize thresholds)."""
    seconds = abs(span.total_seconds())
    minutes, hours, days = seconds / 60, seconds / 3600, seconds / 86400
    if seconds < 45:
        return "a few seconds"
    if seconds < 90:
        return "a minute"
    if minutes < 45:
        return f"{round(minutes)} minutes"
    if minutes < 90:
        return "an hour"
    if hours < 22:
        return f"{round(hours)} hours"
    if hours < 36:
        return "a day"
    if days < 26:
        return f"{round(days)} days"
    if days < 45:
        return "a month"
    if days < 320:
        return f"{round(days / 30.4)} months"
    if days < 548:
        return "a year"
    return f"{round(days / 365)} years"


def _time_macro(name: str, now: datetime) -> str | None:
    if name == "time":
        return _clock(now)
    if name == "date":
        return f"{_MONTHS[now.month - 1]} {now.day}, {now.year}"
    if name == "weekday":
        return _WEEKDAYS[now.weekday()]
    if name == "isotime":
        return f"{now.hour:02d}:{now.minute:02d}"
    if name == "isodate":
        return f"{now.year:04d}-{now.month:02d}-{now.day:02d}"
    return None


def expand_macros(text: str, *, char: str, user: str, context: MacroContext | None = None) -> str:
    """``text`` with its macros expanded (see the module docstring for which and how)."""
    if not text or ("{{" not in text and "<" not in text):
        return text
    ctx = context or MacroContext()
    original = text
    text = _COMMENT.sub("", text)
    text = _TRIM.sub("", text)
    occurrence = 0

    def repl(match: re.Match) -> str:
        nonlocal occurrence
        if match.group(2):
            return char if match.group(2).lower() == "bot" else user
        body = match.group(1)
        name = body.strip().lower()
        if name == "char":
            return char
        if name == "user":
            return user
        if name == "newline":
            return "\n"
        if name == "noop":
            return ""
        if name in _FIELDS:
            value = getattr(ctx, _FIELDS[name])
            return match.group(0) if value is None else value
        if ctx.now is not None and (found := _time_macro(name, ctx.now)) is not None:
            return found
        if name == "idle_duration" and ctx.idle is not None:
            return _humanize(ctx.idle)
        if chosen := _RANDOM.match(body.strip()):
            occurrence += 1
            options = _choices(chosen.group(2))
            if chosen.group(1).lower() == "pick":
                roll = draw("pick", ctx.stable_seed, original, match.start())
            else:
                roll = draw("random", ctx.seed, occurrence, body)
            return options[int(roll * len(options))]
        if rolled := _ROLL.match(body.strip()):
            occurrence += 1
            return _roll(rolled.group(1), ("roll", ctx.seed, occurrence, rolled.group(1).strip()))
        return match.group(0)

    return _MACRO.sub(repl, text)


__all__ = ["MacroContext", "draw", "expand_macros"]
