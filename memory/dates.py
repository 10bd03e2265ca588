"""Dates in what people say and in what they ask.

At ingest, a relative date ("yesterday", "two days ago", "last Sunday") is resolved against
the story date the line was said on, so both indexes see the absolute day ("Sunday 14 May
2023") and a question asked by date can find it. In a question, absolute dates ("14 May
2023", "May 14th", "2023-05-14") and periods ("in mid August") are read back out.
Pure functions of the text and the date: projectors call them, so replay gives the same rows.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from worlds.clock import MONTH_NUMBERS, MONTHS, NUMBER_WORDS, WEEKDAYS

_COUNT = r"(\d{1,2}|a couple of|a few|a|one|two|three|four|five|six|seven|eight|nine|ten)"
_WEEKDAY = r"(monday|tuesday|wednesday|thursday|friday|saturday|sunday)"

# (pattern, how far back) — the most specific patterns first; each span is resolved once.
_RELATIVE: list[tuple[re.Pattern, object]] = [
    (re.compile(r"\bthe day before yesterday\b"), 2),
    (re.compile(r"\byesterday\b"), 1),
    (re.compile(r"\blast night\b"), 1),
    (re.compile(r"\b(this morning|this afternoon|this evening|today|tonight|earlier today)\b"), 0),
    (re.compile(rf"\b{_COUNT} days? ago\b"), "days"),
    (re.compile(rf"\b{_COUNT} weeks? ago\b"), "weeks"),
    (re.compile(r"\blast week\b"), 7),
    (re.compile(r"\blast weekend\b|\bat the weekend\b|\bover the weekend\b"), "weekend"),
    (re.compile(rf"\b(?:last|on|this past) {_WEEKDAY}\b"), "weekday"),
    (re.compile(r"\btomorrow\b"), -1),
    (re.compile(r"\bnext week\b"), -7),
    (re.compile(r"\blast month\b"), "month"),
]


def parse_day(value: str) -> date | None:
    """The date part of a story time ("2023-05-15T12:00" or "2023-05-15"), if it has one."""
    match = re.match(r"(\d{4})-(\d{2})-(\d{2})", value or "")
    if not match:
        return None
    try:
        return date(*(int(g) for g in match.groups()))
    except ValueError:
        return None


def _count(word: str) -> int:
    return int(word) if word.isdigit() else NUMBER_WORDS.get(word, 1)


def _before(said: date, weekday: int) -> date:
    """The latest given weekday strictly before the day it was said."""
    return said - timedelta(days=(said.weekday() - weekday) % 7 or 7)


def resolve(text: str, said: date) -> list[tuple[str, date]]:
    """(phrase, the day it means) for each relative date in ``text`` said on ``said``."""
    lowered = text.lower()
    taken: list[tuple[int, int]] = []
    found: list[tuple[int, str, date]] = []
    for pattern, rule in _RELATIVE:
        for match in pattern.finditer(lowered):
            span = match.span()
            if any(a < span[1] and span[0] < b for a, b in taken):
                continue
            taken.append(span)
            if isinstance(rule, int):
                day = said - timedelta(days=rule)
            elif rule == "days":
                day = said - timedelta(days=_count(match.group(1)))
            elif rule == "weeks":
                day = said - timedelta(days=7 * _count(match.group(1)))
            elif rule == "weekend":
                day = _before(said, 5)
            elif rule == "weekday":
                day = _before(said, WEEKDAYS.index(match.group(1)))
            else:  # last month: its middle, a month back
                day = (said.replace(day=1) - timedelta(days=1)).replace(day=15)
            found.append((span[0], text[span[0] : span[1]], day))
    return [(phrase, day) for _, phrase, day in sorted(found, key=lambda f: f[0])]


def spelled(day: date) -> str:
    """How the indexes see a day: every way a question may name it."""
    return f"{WEEKDAYS[day.weekday()].title()} {day.day} {MONTHS[day.month - 1].title()} {day.year} ({day.isoformat()})"


_DAY_MONTH = re.compile(
    r"\b(\d{1,2})(?:st|nd|rd|th)?(?: of)? ("
    + "|".join(MONTH_NUMBERS)
    + r")[a-z]*\.?(?:,? (\d{4}))?\b"
)
_MONTH_DAY = re.compile(
    r"\b(" + "|".join(MONTH_NUMBERS) + r")[a-z]*\.? (\d{1,2})(?:st|nd|rd|th)?\b(?:,? (\d{4}))?"
)
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_PERIOD = re.compile(r"\b(early|mid|middle of|late|end of|start of|beginning of)[ -](\w+)")


def query_days(text: str) -> list[tuple[int | None, int, int]]:
    """(year or None, month, day) for each absolute day a question names."""
    lowered = text.lower()
    days: list[tuple[int | None, int, int]] = []
    for d, m, y in _DAY_MONTH.findall(lowered):
        days.append((int(y) if y else None, MONTH_NUMBERS[m], int(d)))
    for m, d, y in _MONTH_DAY.findall(lowered):
        days.append((int(y) if y else None, MONTH_NUMBERS[m], int(d)))
    for y, m, d in _ISO.findall(lowered):
        days.append((int(y), int(m), int(d)))
    return [(y, m, d) for y, m, d in days if 1 <= m <= 12 and 1 <= d <= 31]


def query_periods(text: str) -> list[tuple[int, range]]:
    """(month, days) for "early/mid/late <month>" in a question."""
    periods = []
    for which, month in _PERIOD.findall(text.lower()):
        number = MONTH_NUMBERS.get(month[:3])
        if number is None:
            continue
        if which in ("early", "start of", "beginning of"):
            days = range(1, 11)
        elif which in ("mid", "middle of"):
            days = range(11, 21)
        else:
            days = range(21, 32)
        periods.append((number, days))
    return periods
