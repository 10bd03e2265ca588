"""Out-of-character segments: what the page shows dimmed and the bots never see."""

from __future__ import annotations

import re


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
