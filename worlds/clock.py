"""Story time: ISO ``YYYY-MM-DDTHH:MM`` strings, advanced by minutes."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

FORMAT = "%Y-%m-%dT%H:%M"


def parse(value: str) -> datetime | None:
    try:
        return datetime.strptime(value[:16], FORMAT)
    except (TypeError, ValueError):
        return None


def advance(value: str, minutes: int) -> str:
    moment = parse(value)
    if moment is None:
        return value
    return (moment + timedelta(minutes=minutes)).strftime(FORMAT)


def describe(value: str) -> str:
    moment = parse(value)
    if moment is None:
        return value
    hour = moment.hour
    part = (
        "night"
        if hour < 5
        else "morning"
        if hour < 12
        else "afternoon"
        if hour < 17
        else "evening"
        if hour < 21
        else "night"
    )
    return f"{moment:%A %d %B %Y}, {moment:%H:%M} ({part})"


# English words for dates and spans of time, shared by the clock and memory's date reading.
MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
MONTH_NUMBERS = {
    **{m: n + 1 for n, m in enumerate(MONTHS)},
    **{m[:3]: n + 1 for n, m in enumerate(MONTHS)},
}
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "a few": 3,
    "a couple of": 2,
    "a couple": 2,
    "several": 4,
}
_UNITS = {"minute": 1, "hour": 60, "day": 60 * 24, "week": 60 * 24 * 7, "month": 60 * 24 * 30}
_SPAN = re.compile(
    r"(?P<n>\d+|a couple of|a couple|a few|several|an|a|one|two|three|four|five|six|seven|"
    r"eight|nine|ten|eleven|twelve)\s+(?P<unit>minute|hour|day|week|month)s?\b"
)
_AT = {
    "morning": 8,
    "dawn": 6,
    "sunrise": 6,
    "noon": 12,
    "midday": 12,
    "lunch": 12,
    "afternoon": 15,
    "evening": 19,
    "dusk": 19,
    "sunset": 19,
    "tonight": 20,
    "night": 21,
    "midnight": 0,
}


def _next_at(moment: datetime, hour: int, *, next_day: bool = False) -> datetime:
    target = moment.replace(hour=hour, minute=0)
    if next_day or target <= moment:
        target += timedelta(days=1)
    return target


def resolve_phrase(phrase: str, now: str) -> str | None:
    """A skip target in words ("the next morning", "a week later", "in 3 hours") → ISO time."""
    moment = parse(now)
    if moment is None:
        return None
    text = phrase.lower().strip()
    if m := _SPAN.search(text):
        n = int(m["n"]) if m["n"].isdigit() else NUMBER_WORDS[m["n"]]
        return (moment + timedelta(minutes=n * _UNITS[m["unit"]])).strftime(FORMAT)
    if "next week" in text:
        return (moment + timedelta(days=7)).strftime(FORMAT)
    tomorrow = any(w in text for w in ("tomorrow", "next day", "day after", "next "))
    for word, hour in _AT.items():
        if re.search(rf"\b{word}\b", text):
            return _next_at(moment, hour, next_day=tomorrow and word != "midnight").strftime(FORMAT)
    if tomorrow:
        return _next_at(moment, 9, next_day=True).strftime(FORMAT)
    return None


def minutes_in(text: str) -> int | None:
    """A duration in words ("twenty minutes", "an hour") → minutes."""
    words = {"twenty": 20, "thirty": 30, "forty": 40, "fifteen": 15, "ten": 10}
    lowered = (text or "").lower()
    if "half an hour" in lowered or "half hour" in lowered:
        return 30
    if m := _SPAN.search(lowered):
        n = int(m["n"]) if m["n"].isdigit() else NUMBER_WORDS[m["n"]]
        return n * _UNITS[m["unit"]]
    for word, n in words.items():
        if re.search(rf"\b{word}\b", lowered) and "minute" in lowered:
            return n
    return None
