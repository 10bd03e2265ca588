"""Card macros: what ``{{char}}`` and friends mean inside character cards and lore."""

from __future__ import annotations

import re

_MACROS = re.compile(r"\{\{\s*(char|user)\s*\}\}|<(BOT|USER)>", re.IGNORECASE)


def expand_macros(text: str, *, char: str, user: str) -> str:
    """Expand ``{{char}}``, ``{{user}}``, ``<BOT>`` and ``<USER>`` (any case)."""

    def repl(m: re.Match) -> str:
        name = (m.group(1) or m.group(2)).lower()
        return char if name in ("char", "bot") else user

    return _MACROS.sub(repl, text)
