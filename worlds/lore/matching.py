"""Key matching: plain and regex keys, secondary logic, group scores, decorators."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from worlds.lore.rules import BookSettings, Rule

_REGEX_KEY = re.compile(r"^/(.+)/([imsguy]*)$", re.DOTALL)
_REGEX_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL}
_DECORATORS = ("@@activate", "@@dont_activate")


@functools.lru_cache(maxsize=4096)
def key_pattern(key: str, case_sensitive: bool, whole_words: bool) -> re.Pattern[str] | None:
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


@dataclass(frozen=True)
class Source:
    """Text a key may be found in: a message (its own id) or fired lore (its triggers)."""

    text: str
    triggers: tuple[int, ...]
    label: str  # "" for a message, the entry's label for lore


@dataclass
class Hit:
    rule: Rule
    reason: str
    why: str
    triggers: tuple[int, ...] = ()


def where(depth: int) -> str:
    return "in the last message" if depth == 1 else f"in the last {depth} messages"


def label(rule: Rule) -> str:
    return rule.comment or f"entry {rule.uid}"


def quoted(keys: Iterable[str]) -> str:
    return ", ".join(f'"{key}"' for key in keys)


class Matcher:
    def __init__(self, rule: Rule, settings: BookSettings, render: Callable[[str], str]) -> None:
        case = settings.case_sensitive if rule.case_sensitive is None else rule.case_sensitive
        whole = settings.match_whole_words if rule.whole_words is None else rule.whole_words
        self.case, self.whole = case, whole
        self.keys = self._usable(rule.keys, render)
        self.secondary = self._usable(rule.secondary, render)

    @staticmethod
    def _usable(keys: Sequence[str], render: Callable[[str], str]) -> list[str]:
        rendered = (render(key).strip() for key in keys if key.strip())
        return [key for key in rendered if key]

    def found_in(self, key: str, sources: Sequence[Source]) -> list[Source]:
        pattern = key_pattern(key, self.case, self.whole)
        if pattern is None:
            return []
        return [source for source in sources if pattern.search(source.text)]


def triggers_of(found: Iterable[Source]) -> tuple[int, ...]:
    return tuple(sorted({message for source in found for message in source.triggers}))


def match(
    rule: Rule, matcher: Matcher, window: list[Source], lore: list[Source], depth: int
) -> Hit | None:
    """Whether the keys fire ``rule`` on the window (plus recursed ``lore``), and why.

    The triggers of a hit on the window are the messages holding its primary keys (and its
    AND secondary keys); a hit that needed recursed lore also carries that lore's triggers.
    """
    everything = window + lore
    primary = [key for key in matcher.keys if matcher.found_in(key, everything)]
    if not primary:
        return None
    in_window = [key for key in primary if matcher.found_in(key, window)]
    hit = f'key "{(in_window or primary)[0]}"'
    used = {"window": list(in_window), "all": list(primary)}
    secondary = matcher.secondary if rule.selective else []
    needs_lore = not in_window
    reason = "key"
    why: str | None = hit
    if secondary:
        reason = "secondary"
        present = [key for key in secondary if matcher.found_in(key, everything)]
        missing = [key for key in secondary if key not in present]
        alone = [key for key in secondary if matcher.found_in(key, window)]
        if rule.logic == "and_any":
            why = f'{hit} + secondary "{present[0]}"' if present else None
            needs_lore = needs_lore or not alone
        elif rule.logic == "and_all":
            why = f"{hit} + all secondary keys ({quoted(secondary)})" if not missing else None
            needs_lore = needs_lore or len(alone) < len(secondary)
        elif rule.logic == "not_any":
            why = (
                f"{hit} + none of the secondary keys ({quoted(secondary)})" if not present else None
            )
        else:  # not_all
            why = f'{hit} + secondary "{missing[0]}" absent' if missing else None
            needs_lore = needs_lore or len(alone) == len(secondary)
        if why is None:
            return None
        if rule.logic in ("and_any", "and_all"):
            used["window"] += alone
            used["all"] += present
    if needs_lore:
        found = [src for key in used["all"] for src in matcher.found_in(key, everything)]
        source = next((src for src in found if src.label), None)
        origin = f'the content of "{source.label}"' if source else "activated lore"
        return Hit(rule, "recursion", f"{why} in {origin}", triggers_of(found))
    found = [src for key in used["window"] for src in matcher.found_in(key, window)]
    return Hit(rule, reason, f"{why} {where(depth)}", triggers_of(found))


def score(rule: Rule, matcher: Matcher, sources: list[Source]) -> int:
    """SillyTavern's group score: matching primary keys, plus positive secondary ones."""
    if not matcher.keys:
        return 0
    primary = sum(1 for key in matcher.keys if matcher.found_in(key, sources))
    secondary = sum(1 for key in matcher.secondary if matcher.found_in(key, sources))
    if matcher.secondary and rule.logic == "and_any":
        return primary + secondary
    if matcher.secondary and rule.logic == "and_all" and secondary == len(matcher.secondary):
        return primary + secondary
    return primary


def decorators(content: str) -> tuple[set[str], str]:
    """Leading ``@@activate``/``@@dont_activate`` lines, and the content without them."""
    if not content.startswith("@@"):
        return set(), content
    found: set[str] = set()
    lines = content.split("\n")
    for index, line in enumerate(lines):
        if not line.startswith("@@"):
            return found, "\n".join(lines[index:])
        name = line[1:] if line.startswith("@@@") else line
        if name.strip() in _DECORATORS:
            found.add(name.strip())
    return found, ""
