"""The values World Info activation works on and returns, and how lorebook rows become them.

Pure data (``Rule``, ``Book``, ``ScanMessage`` …) plus ``rule_of``/``book_of``, which read a
``LoreEntry``'s SillyTavern settings from where import keeps them: ``extra["world_info"]`` for
World Info files, else ``extensions`` (snake_case, as character books and the admin write them).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from worlds.models import Lorebook, LoreEntry

POSITIONS = (
    "before_char",
    "after_char",
    "before_examples",
    "after_examples",
    "an_top",
    "an_bottom",
    "at_depth",
)
# SillyTavern's world_info_position numbers.
ST_POSITIONS = {
    0: "before_char",
    1: "after_char",
    2: "an_top",
    3: "an_bottom",
    4: "at_depth",
    5: "before_examples",
    6: "after_examples",
}
ROLES = ("system", "user", "assistant")  # SillyTavern's extension_prompt_roles, in order
REASONS = ("key", "secondary", "sticky", "constant", "recursion")
LOGICS = ("and_any", "and_all", "not_any", "not_all")
DEFAULT_DEPTH = 4
DEFAULT_WEIGHT = 100
MAX_SCAN_DEPTH = 1000


# -- values ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanMessage:
    """One message the scan may read, with the id the provenance gate knows it by."""

    id: int
    text: str
    name: str = ""

    @property
    def scanned(self) -> str:
        return f"{self.name}: {self.text}" if self.name else self.text


@dataclass(frozen=True)
class Speaker:
    """Who the prompt is for, as a character filter sees them."""

    name: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class BookSettings:
    scan_depth: int = 4
    token_budget: int = 512  # tokens; with budget_percent, the cap (0: no cap)
    budget_percent: int = 0  # share of the context in %; 0: token_budget is the budget
    recursive: bool = False
    case_sensitive: bool = False
    match_whole_words: bool = True
    use_group_scoring: bool = False
    min_activations: int = 0
    min_activations_depth_max: int = 0
    max_recursion_steps: int = 0

    def budget(self, context_tokens: int | None) -> int:
        if self.budget_percent <= 0 or not context_tokens:
            return self.token_budget
        budget = max(1, round(self.budget_percent * context_tokens / 100))
        return min(budget, self.token_budget) if self.token_budget > 0 else budget


@dataclass(frozen=True)
class Rule:
    """One World Info entry, every setting resolved (``None``: the book decides)."""

    book: int
    uid: int
    content: str
    keys: tuple[str, ...] = ()
    secondary: tuple[str, ...] = ()
    selective: bool = False
    logic: str = "and_any"
    constant: bool = False
    enabled: bool = True
    order: int = 100
    comment: str = ""
    entry_id: int | None = None
    case_sensitive: bool | None = None
    whole_words: bool | None = None
    scan_depth: int | None = None
    probability: float = 100
    use_probability: bool = True
    groups: tuple[str, ...] = ()
    group_override: bool = False
    group_weight: float = DEFAULT_WEIGHT
    group_scoring: bool | None = None
    sticky: int = 0
    cooldown: int = 0
    delay: int = 0
    exclude_recursion: bool = False
    prevent_recursion: bool = False
    delay_until_recursion: int = 0
    position: str = "before_char"
    depth: int = DEFAULT_DEPTH
    role: str = "system"
    filter_names: tuple[str, ...] = ()
    filter_tags: tuple[str, ...] = ()
    filter_exclude: bool = False

    @property
    def key(self) -> str:
        return f"{self.book}.{self.uid}"

    @functools.cached_property
    def hash(self) -> str:
        """Changes whenever the entry does: a timed effect of an edited entry is dropped."""
        data = json.dumps(asdict(self), sort_keys=True, default=str)
        return hashlib.sha256(data.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Book:
    id: int
    rules: tuple[Rule, ...]
    settings: BookSettings = BookSettings()
    name: str = ""


@dataclass(frozen=True)
class Fired:
    """An entry that fired: why, where it goes, what it costs, which messages triggered it."""

    uid: int
    lorebook: int
    entry_id: int | None
    comment: str
    reason: str  # one of REASONS
    why: str  # the reason in words, for the inspector
    position: str  # one of POSITIONS
    depth: int | None  # at_depth only: messages from the end
    role: str | None  # at_depth only: system, user or assistant
    insertion_order: int
    content: str
    tokens: int
    triggers: tuple[int, ...]  # ids of the scanned messages behind it (empty: constant)


@dataclass
class Activation:
    fired: list[Fired]
    timed: dict[str, dict[str, dict[str, Any]]]  # the timed-effect state after this prompt
    chat_length: int


# -- from the models ------------------------------------------------------------------------------


def section(extra: Any, name: str) -> dict[str, Any]:
    value = extra.get(name) if isinstance(extra, dict) else None
    return value if isinstance(value, dict) else {}


def integer(value: Any, default: int = 0) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return default


def number(value: Any, default: float) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return default
    return default


def strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple):
        return ()
    return tuple(item for item in value if isinstance(item, str))


class _Settings:
    """An entry's SillyTavern settings: as World Info wrote them (kept in ``extra``), else as a
    character book or the admin keeps them (``extensions``, snake_case)."""

    def __init__(self, entry: LoreEntry) -> None:
        self.world_info = section(entry.extra, "world_info")
        self.character_book = section(entry.extra, "character_book")
        self.extensions = entry.extensions if isinstance(entry.extensions, dict) else {}

    def stated(self, wi_key: str, ext_key: str) -> tuple[bool, Any]:
        if wi_key in self.world_info:
            return True, self.world_info[wi_key]
        if ext_key in self.extensions:
            return True, self.extensions[ext_key]
        return False, None

    def get(self, wi_key: str, ext_key: str, default: Any = None) -> Any:
        found, value = self.stated(wi_key, ext_key)
        return default if not found or value is None else value

    def flag(self, column: bool, default: bool, wi_key: str, ext_key: str) -> bool | None:
        """The column, unless it holds the default and the source never stated a value:
        then the book decides (SillyTavern's ``null``)."""
        if column != default:
            return column
        if self.world_info:
            # World Info keeps in extra only what the column could not write back as it came.
            value = self.world_info.get(wi_key, column)
            return value if isinstance(value, bool) else None
        value = self.extensions.get(ext_key)
        return value if isinstance(value, bool) else None

    def position(self) -> str | None:
        found, value = self.stated("position", "position")
        if found and value is not None:
            return ST_POSITIONS.get(integer(value, -1))  # None: an outlet, or unknown
        # A character_book entry says before_char/after_char; SillyTavern's new entries go first.
        if self.character_book.get("position") == "after_char":
            return "after_char"
        return "before_char"


def entry_setting(entry: LoreEntry, wi_key: str, ext_key: str) -> tuple[bool, Any]:
    """Whether the entry states a SillyTavern setting, and its value, from where import (or
    the admin, worlds.forms) keeps it: World Info's key first, then the extensions key."""
    return _Settings(entry).stated(wi_key, ext_key)


def rule_of(entry: LoreEntry, *, book: int | None = None) -> Rule | None:
    """The ``Rule`` of a lore entry; None for an entry placed where the engine puts nothing
    (a SillyTavern outlet, or a position it does not know)."""
    s = _Settings(entry)
    position = s.position()
    if position is None:
        return None
    role = integer(s.get("role", "role", 0))
    filt = s.get("characterFilter", "character_filter", {})
    filt = filt if isinstance(filt, dict) else {}
    delay_until = s.get("delayUntilRecursion", "delay_until_recursion", 0)
    group = s.get("group", "group", "")
    scoring = s.get("useGroupScoring", "use_group_scoring")
    return Rule(
        book=entry.lorebook_id if book is None else book,
        uid=entry.uid,
        entry_id=entry.pk,
        comment=entry.comment,
        content=entry.content or "",
        keys=strings(entry.keys),
        secondary=strings(entry.secondary_keys),
        selective=bool(entry.selective),
        logic=entry.selective_logic if entry.selective_logic in LOGICS else "and_any",
        constant=bool(entry.constant),
        enabled=bool(entry.enabled),
        order=entry.insertion_order,
        case_sensitive=s.flag(bool(entry.case_sensitive), False, "caseSensitive", "case_sensitive"),
        whole_words=s.flag(
            bool(entry.match_whole_words), True, "matchWholeWords", "match_whole_words"
        ),
        scan_depth=entry.scan_depth,
        probability=number(s.get("probability", "probability", 100), 100),
        use_probability=bool(s.get("useProbability", "useProbability", True)),
        groups=tuple(g.strip() for g in str(group).split(",") if g.strip()),
        group_override=bool(s.get("groupOverride", "group_override", False)),
        group_weight=number(s.get("groupWeight", "group_weight", DEFAULT_WEIGHT), DEFAULT_WEIGHT),
        group_scoring=scoring if isinstance(scoring, bool) else None,
        sticky=max(0, integer(s.get("sticky", "sticky", 0))),
        cooldown=max(0, integer(s.get("cooldown", "cooldown", 0))),
        delay=max(0, integer(s.get("delay", "delay", 0))),
        exclude_recursion=bool(s.get("excludeRecursion", "exclude_recursion", False)),
        prevent_recursion=bool(s.get("preventRecursion", "prevent_recursion", False)),
        delay_until_recursion=(1 if delay_until is True else max(0, integer(delay_until))),
        position=position,
        depth=max(0, integer(s.get("depth", "depth", DEFAULT_DEPTH), DEFAULT_DEPTH)),
        role=ROLES[role] if 0 <= role < len(ROLES) else "system",
        filter_names=strings(filt.get("names")),
        filter_tags=strings(filt.get("tags")),
        filter_exclude=bool(filt.get("isExclude", False)),
    )


def settings_of(lorebook: Lorebook) -> BookSettings:
    return BookSettings(
        scan_depth=lorebook.scan_depth,
        token_budget=lorebook.token_budget,
        budget_percent=lorebook.budget_percent,
        recursive=lorebook.recursive_scanning,
        case_sensitive=lorebook.case_sensitive,
        match_whole_words=lorebook.match_whole_words,
        use_group_scoring=lorebook.use_group_scoring,
        min_activations=lorebook.min_activations,
        min_activations_depth_max=lorebook.min_activations_depth_max,
        max_recursion_steps=lorebook.max_recursion_steps,
    )


def book_of(lorebook: Lorebook, entries: Iterable[LoreEntry] | None = None) -> Book:
    """A lorebook and its entries (read from the database unless given) as a ``Book``."""
    rows = lorebook.entries.all() if entries is None else entries
    rules = tuple(
        rule for rule in (rule_of(entry, book=lorebook.pk or 0) for entry in rows) if rule
    )
    return Book(
        id=lorebook.pk or 0, rules=rules, settings=settings_of(lorebook), name=lorebook.name
    )
