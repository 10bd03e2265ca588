"""Text helpers for what reaches a prompt or the page: card macros and OOC segments."""

from __future__ import annotations

import re

_MACROS = re.compile(r"\{\{\s*(char|user)\s*\}\}|<(BOT|USER)>", re.IGNORECASE)


def expand_macros(text: str, *, char: str, user: str) -> str:
    """Expand ``{{char}}``, ``{{user}}``, ``<BOT>`` and ``<USER>`` (any case)."""

    def repl(m: re.Match) -> str:
        name = (m.group(1) or m.group(2)).lower()
        return char if name in ("char", "bot") else user

    return _MACROS.sub(repl, text)


def split_ooc(text: str, opening: str = "((", closing: str = "))") -> list[tuple[bool, str]]:
    """Split text into (is_ooc, segment) parts. An unclosed marker runs to the end."""
    parts: list[tuple[bool, str]] = []
    pos = 0
    while True:
        start = text.find(opening, pos)
        if start < 0:
            if pos < len(text):
                parts.append((False, text[pos:]))
            return parts
        if start > pos:
            parts.append((False, text[pos:start]))
        end = text.find(closing, start + len(opening))
        if end < 0:
            parts.append((True, text[start:]))
            return parts
        parts.append((True, text[start : end + len(closing)]))
        pos = end + len(closing)


def strip_ooc(text: str, opening: str = "((", closing: str = "))") -> str:
    """What the bots see: the text without its out-of-character segments."""
    kept = "".join(seg for is_ooc, seg in split_ooc(text, opening, closing) if not is_ooc)
    return re.sub(r"[ \t]{2,}", " ", kept).strip()
