"""Story time: ISO ``YYYY-MM-DDTHH:MM`` strings, advanced by minutes."""

from __future__ import annotations

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
