"""The Author's Note: a text placed in every Nth prompt, SillyTavern's way. Pure.

Positions: ``before_scenario`` / ``after_scenario`` (in the character's definition, around its
scenario) or ``at_depth`` (a message ``depth`` messages from the end, with a ``role``).
Frequency N: the note goes into a prompt when the number of your messages in the chat is a
multiple of N (N = 1: every prompt, even before you wrote anything; N = 0: never). When the
note goes in, World Info entries at ``an_top``/``an_bottom`` go with it (above and below its
text, even when the text is empty); when it does not, they go nowhere (SillyTavern's rule).
"""

from __future__ import annotations

from dataclasses import dataclass

NOTE_POSITIONS = ("before_scenario", "after_scenario", "at_depth")
NOTE_ROLES = ("system", "user", "assistant")
NOTE_POSITION_CHOICES = [(p, p.replace("_", " ")) for p in NOTE_POSITIONS]
NOTE_ROLE_CHOICES = [(r, r) for r in NOTE_ROLES]
# SillyTavern's defaults: in the chat at depth 4, as a system message, every message.
NOTE_DEFAULTS = {"text": "", "position": "at_depth", "depth": 4, "role": "system", "frequency": 1}
MAX_DEPTH = 1000
MAX_FREQUENCY = 1000


@dataclass(frozen=True)
class AppliedNote:
    """The note for one prompt. ``source``: "chat", "character" or "default"."""

    text: str
    position: str
    depth: int | None  # at_depth only
    role: str | None  # at_depth only
    frequency: int
    source: str


def note_due(*, frequency: int, user_messages: int) -> bool:
    """Does the note go into a prompt made after ``user_messages`` of your messages?"""
    if frequency <= 0:
        return False
    if frequency == 1:
        return True
    return user_messages > 0 and user_messages % frequency == 0


def note_check(
    *, text: str, position: str, depth: int, role: str, frequency: int
) -> dict[str, str | int]:
    """The note's settings, validated; raises ValueError saying what is wrong."""
    if not isinstance(text, str):
        raise ValueError("text must be a string")
    if position not in NOTE_POSITIONS:
        raise ValueError(f"position must be one of {', '.join(NOTE_POSITIONS)}")
    if role not in NOTE_ROLES:
        raise ValueError(f"role must be one of {', '.join(NOTE_ROLES)}")
    if not 0 <= depth <= MAX_DEPTH:
        raise ValueError(f"depth must be between 0 and {MAX_DEPTH}")
    if not 0 <= frequency <= MAX_FREQUENCY:
        raise ValueError(f"frequency must be between 0 (never) and {MAX_FREQUENCY}")
    return {
        "text": text,
        "position": position,
        "depth": depth,
        "role": role,
        "frequency": frequency,
    }


def note_for(settings: dict, *, source: str, user_messages: int) -> AppliedNote | None:
    """The note to place, or None when this prompt is not one of every N."""
    if not note_due(frequency=int(settings["frequency"]), user_messages=user_messages):
        return None
    at_depth = settings["position"] == "at_depth"
    return AppliedNote(
        text=settings["text"],
        position=settings["position"],
        depth=int(settings["depth"]) if at_depth else None,
        role=settings["role"] if at_depth else None,
        frequency=int(settings["frequency"]),
        source=source,
    )
