"""World Info activation: which lorebook entries enter a prompt, with SillyTavern's semantics.

Pure: reads the entries it is given (``lore_for_prompt`` also reads each lorebook's entries) and
never writes. ``activate`` works on one set of entries with one book's settings;
``lore_for_prompt`` runs it over several lorebooks and expands card macros in what fired.

Matching rules, per key:
  * ``/pattern/flags`` is a regular expression (flags ``i``, ``m``, ``s``; ``g``, ``u`` and ``y``
    are accepted and mean nothing here). Its case sensitivity comes from its flags alone, and
    whole-word matching does not apply. A pattern that does not compile is skipped.
  * anything else is plain text, case-insensitive unless the entry is ``case_sensitive``; with
    ``match_whole_words`` it must not touch a word character on either side (Unicode-aware), and
    a key of several words matches as a phrase (any run of whitespace between the words).
  * empty or blank keys, and keys that are not strings, are ignored.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from worlds.macros import expand_macros
from worlds.tokens import estimate as estimate_tokens

if TYPE_CHECKING:
    from worlds.models import Lorebook, LoreEntry

# Scan passes in all, counting the first one over the messages (recursion adds at most 2 more).
MAX_PASSES = 3

# Messages are joined with a separator no key can match across: "\x01" is neither a word nor a
# whitespace character, and the newlines keep ``^``/``$`` (flag m) working per message.
_JOIN = "\n\x01\n"
_REGEX_KEY = re.compile(r"^/(.+)/([imsguy]*)$", re.DOTALL)
_REGEX_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL}
_LOGICS = ("and_any", "and_all", "not_any", "not_all")


@dataclass(frozen=True)
class Fired:
    """An entry that fired, with why and what it costs."""

    entry_id: int
    uid: int
    comment: str
    content: str
    insertion_order: int
    reason: str
    tokens: int


@functools.lru_cache(maxsize=4096)
def _pattern(key: str, case_sensitive: bool, whole_words: bool) -> re.Pattern[str] | None:
    """The compiled matcher for one key, or None for a key that cannot match anything."""
    regex = _REGEX_KEY.match(key)
    if regex:
        flags = 0
        for letter in regex.group(2):
            flags |= _REGEX_FLAGS.get(letter, 0)
        try:
            return re.compile(regex.group(1), flags)
        except (re.error, RecursionError, OverflowError, ValueError):
            return None
    words = key.split()
    if not words:
        return None
    body = r"\s+".join(re.escape(word) for word in words)
    if whole_words:
        body = rf"(?<!\w){body}(?!\w)"
    return re.compile(body, 0 if case_sensitive else re.IGNORECASE)


def _usable(keys: object) -> list[str]:
    if not isinstance(keys, list | tuple):
        return []
    return [key.strip() for key in keys if isinstance(key, str) and key.strip()]


def _matches(entry: LoreEntry, key: str, text: str) -> bool:
    pattern = _pattern(key, bool(entry.case_sensitive), bool(entry.match_whole_words))
    return pattern is not None and pattern.search(text) is not None


def _quoted(keys: list[str]) -> str:
    return ", ".join(f'"{key}"' for key in keys)


def _why(entry: LoreEntry, text: str, window: str) -> tuple[str, str] | None:
    """The primary key that fires ``entry`` on ``text`` and the reason (without where), or None.

    ``text`` is ``window`` plus any recursed lore; a key found in the window itself is preferred.
    """
    keys = _usable(entry.keys)
    primary = next((key for key in keys if _matches(entry, key, window)), None)
    if primary is None and text != window:
        primary = next((key for key in keys if _matches(entry, key, text)), None)
    if primary is None:
        return None
    hit = f'key "{primary}"'
    secondary = _usable(entry.secondary_keys)
    if not entry.selective or not secondary:
        return primary, hit
    found = [key for key in secondary if _matches(entry, key, text)]
    missing = [key for key in secondary if key not in found]
    logic = entry.selective_logic if entry.selective_logic in _LOGICS else "and_any"
    if logic == "and_any":
        why = f'{hit} + secondary "{found[0]}"' if found else None
    elif logic == "and_all":
        why = f"{hit} + all secondary keys ({_quoted(secondary)})" if not missing else None
    elif logic == "not_any":
        why = f"{hit} + none of the secondary keys ({_quoted(secondary)})" if not found else None
    else:  # not_all
        why = f'{hit} + secondary "{missing[0]}" absent' if missing else None
    return (primary, why) if why else None


def _window(messages: list[str], depth: int) -> str:
    if depth <= 0:
        return ""
    return _JOIN.join(messages[-depth:])


def _where(depth: int) -> str:
    return "in the last message" if depth == 1 else f"in the last {depth} messages"


def _label(entry: LoreEntry) -> str:
    return entry.comment or f"entry {entry.uid}"


def _activate(
    entries: list[LoreEntry],
    messages: list[str],
    *,
    scan_depth: int,
    token_budget: int,
    recursive: bool,
    estimate: Callable[[str], int] | None,
    render: Callable[[str], str] | None = None,
) -> list[Fired]:
    if estimate is None:
        estimate = estimate_tokens
    messages = list(messages)
    candidates = [entry for entry in entries if entry.enabled]
    reasons: dict[int, str] = {}  # index into candidates -> reason
    for index, entry in enumerate(candidates):
        if entry.constant:
            reasons[index] = "constant"

    passes = MAX_PASSES if recursive else 1
    for number in range(passes):
        # Lore that fired on earlier passes, in firing order (dicts keep insertion order).
        sources = [candidates[index] for index in reasons] if number else []
        buffer = _JOIN.join(entry.content for entry in sources)
        fired_now: dict[int, str] = {}
        for index, entry in enumerate(candidates):
            if index in reasons:
                continue
            depth = scan_depth if entry.scan_depth is None else entry.scan_depth
            window = _window(messages, depth)
            text = f"{window}{_JOIN}{buffer}" if buffer else window
            hit = _why(entry, text, window)
            if hit is None:
                continue
            key, why = hit
            if _matches(entry, key, window):
                fired_now[index] = f"{why} {_where(depth)}"
            else:
                source = next((s for s in sources if _matches(entry, key, s.content)), None)
                origin = f'the content of "{_label(source)}"' if source else "activated lore"
                fired_now[index] = f"{why} in {origin}"
        reasons.update(fired_now)
        if not fired_now and (number or not reasons):
            break  # nothing new to scan: the first pass still recurses into constants

    fired: list[Fired] = []
    for index, reason in reasons.items():
        entry = candidates[index]
        content = render(entry.content) if render else entry.content
        fired.append(
            Fired(
                entry_id=entry.pk,
                uid=entry.uid,
                comment=entry.comment,
                content=content,
                insertion_order=entry.insertion_order,
                reason=reason,
                tokens=estimate(content),
            )
        )
    fired.sort(key=_order)

    # Constants claim the budget first; then the rest in order, skipping what does not fit.
    kept: list[Fired] = []
    used = 0
    for constant in (True, False):
        for item in fired:
            if (item.reason == "constant") is constant and used + item.tokens <= token_budget:
                kept.append(item)
                used += item.tokens
    kept.sort(key=_order)
    return kept


def _order(item: Fired) -> tuple[int, int, int]:
    return (item.insertion_order, item.uid, item.entry_id or 0)


def activate(
    entries: list[LoreEntry],
    messages: list[str],
    *,
    scan_depth: int,
    token_budget: int,
    recursive: bool = False,
    estimate: Callable[[str], int] | None = None,
) -> list[Fired]:
    """The entries that fire on ``messages`` (newest last), ordered by insertion order then uid.

    Each entry scans the newest ``entry.scan_depth`` messages, or ``scan_depth`` when the entry
    has none (0 scans no messages: such an entry fires only as a constant or through recursion).
    Disabled entries never fire; constant ones always do. Otherwise a primary key must match and,
    for a ``selective`` entry with secondary keys, its secondary logic must hold as well.

    With ``recursive``, the content of fired entries is scanned too, for up to ``MAX_PASSES``
    passes in all; no entry fires twice. Then the budget: constants first, then the others in
    order, each kept only while the running total of ``estimate(content)`` stays within
    ``token_budget`` (an entry that does not fit is skipped and smaller ones after it still get
    in). Constants are subject to the budget too.
    """
    return _activate(
        entries,
        messages,
        scan_depth=scan_depth,
        token_budget=token_budget,
        recursive=recursive,
        estimate=estimate,
    )


def lore_for_prompt(
    lorebooks: Iterable[Lorebook | None], messages: list[str], *, char: str, user: str
) -> list[Fired]:
    """Fired entries of every lorebook (each with its own settings), macros expanded, in order.

    Keys match the raw message text; only the content is expanded, before its tokens are counted.
    A lorebook listed twice is used once.
    """

    def render(text: str) -> str:
        return expand_macros(text, char=char, user=user)

    seen: set[int] = set()
    fired: list[Fired] = []
    for book in lorebooks:
        if book is None:
            continue
        identity = book.pk if book.pk is not None else id(book)
        if identity in seen:
            continue
        seen.add(identity)
        fired.extend(
            _activate(
                list(book.entries.all()),
                messages,
                scan_depth=book.scan_depth,
                token_budget=book.token_budget,
                recursive=book.recursive_scanning,
                estimate=None,
                render=render,
            )
        )
    fired.sort(key=_order)
    return fired


__all__ = ["MAX_PASSES", "Fired", "activate", "lore_for_prompt"]
