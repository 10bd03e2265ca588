"""World Info activation: which lorebook entries enter a prompt, with SillyTavern's semantics.

The core (``activate``) is pure: books of ``Rule`` values and ``ScanMessage`` values in, an
``Activation`` out; no database, no clock, no random source. ``rule_of`` and ``book_of`` turn
``LoreEntry``/``Lorebook`` rows into those values.

Followed from SillyTavern's World Info docs, and from its ``world-info.js`` where the docs are
silent:

* Keys. ``/pattern/flags`` is a regular expression (flags ``i``, ``m``, ``s``; ``g``, ``u``,
  ``y`` mean nothing here); its case comes from its flags, whole-word matching does not apply,
  a pattern that does not compile is skipped. Anything else is plain text, case-insensitive
  unless the entry (else its book) is case-sensitive; with whole-word matching it must not
  touch a word character on either side, and a key of several words matches as a phrase (any
  whitespace between the words). Keys never match across two messages. Macros in keys are
  expanded (``render``) before matching; messages are matched as written, each prefixed with
  its speaker's name ("Mara: ...") when it has one.
* Secondary keys (``selective`` entries with secondary keys): AND ANY, AND ALL, NOT ANY,
  NOT ALL, over the same text as the primary keys.
* Scan depth: the newest N messages (the entry's own depth, else its book's); 0 scans none.
* Order of checks per entry: disabled, character filter, delay, cooldown (unless sticky),
  delay-until-recursion, non-recursable, decorators (``@@activate``/``@@dont_activate`` on the
  first lines of the content), constant, sticky, primary keys, secondary keys.
* Then, per scan pass: inclusion groups (sticky members win; group scoring keeps the members
  with the most matching keys; a group that already fired in an earlier pass fires no more;
  else the prioritised member with the highest order, else a pick weighted by group weight),
  probability (sticky entries do not roll; a failed roll is final for this activation), and
  the token budget: sticky first, then constants, then by order (higher first); the first
  entry that does not fit ends the whole activation.
* Recursion (the book's ``recursive``): the content of what fired is scanned in further
  passes, except content of ``prevent_recursion`` entries; ``exclude_recursion`` entries cannot
  fire in those passes; ``delay_until_recursion`` entries fire only in them, level by level.
  ``max_recursion_steps`` bounds the passes (0: no bound; each entry fires at most once, so
  the passes end anyway).
* Min activations: while fewer entries fired, the book's depth grows by one message per pass
  (not past ``min_activations_depth_max`` nor past the messages there are); those passes do
  not scan recursed lore.
* Timed effects, counted in messages (``chat_length``, the messages in the chat when the
  prompt is built): an entry that fires sets sticky (active while the chat is shorter than
  start + sticky) and cooldown (blocked likewise) unless already set; when sticky ends a
  cooldown starts; delay N blocks an entry until the chat holds N messages; an effect set at
  the current length or later is dropped (the chat did not advance), except the cooldown that
  starts when a sticky ends; an effect whose entry changed is dropped; an effect whose entry is
  not in any book now is kept until it would have ended.
* Chance: probability rolls and group picks are ``draw(seed, book, uid, ...)``: the same seed
  gives the same result (the engine seeds with the chat and the turn).

Unlike SillyTavern, each book is activated on its own with its own settings (depth, budget,
recursion, case and whole-word defaults, min activations): groups and recursion stay inside a
book. Timed state is shared, keyed ``"<book id>.<uid>"``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from worlds.macros import draw, expand_macros
from worlds.tokens import estimate as default_estimate

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

_REGEX_KEY = re.compile(r"^/(.+)/([imsguy]*)$", re.DOTALL)
_REGEX_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL}
_DECORATORS = ("@@activate", "@@dont_activate")

_INITIAL, _RECURSION, _MIN_ACTIVATIONS = 1, 2, 3


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


EMPTY_TIMED: dict[str, dict[str, dict[str, Any]]] = {"sticky": {}, "cooldown": {}}


# -- from the models ------------------------------------------------------------------------------


def _section(extra: Any, name: str) -> dict[str, Any]:
    value = extra.get(name) if isinstance(extra, dict) else None
    return value if isinstance(value, dict) else {}


def _integer(value: Any, default: int = 0) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return default


def _number(value: Any, default: float) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return default
    return default


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple):
        return ()
    return tuple(item for item in value if isinstance(item, str))


class _Settings:
    """An entry's SillyTavern settings: as World Info wrote them (kept in ``extra``), else as a
    character book or the admin keeps them (``extensions``, snake_case)."""

    def __init__(self, entry: LoreEntry) -> None:
        self.world_info = _section(entry.extra, "world_info")
        self.character_book = _section(entry.extra, "character_book")
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
            return ST_POSITIONS.get(_integer(value, -1))  # None: an outlet, or unknown
        # A character_book entry says before_char/after_char; SillyTavern's new entries go first.
        return (
            "after_char" if self.character_book.get("position") == "after_char" else ("before_char")
        )


def rule_of(entry: LoreEntry, *, book: int | None = None) -> Rule | None:
    """The ``Rule`` of a lore entry; None for an entry placed where the engine puts nothing
    (a SillyTavern outlet, or a position it does not know)."""
    s = _Settings(entry)
    position = s.position()
    if position is None:
        return None
    role = _integer(s.get("role", "role", 0))
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
        keys=_strings(entry.keys),
        secondary=_strings(entry.secondary_keys),
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
        probability=_number(s.get("probability", "probability", 100), 100),
        use_probability=bool(s.get("useProbability", "useProbability", True)),
        groups=tuple(g.strip() for g in str(group).split(",") if g.strip()),
        group_override=bool(s.get("groupOverride", "group_override", False)),
        group_weight=_number(s.get("groupWeight", "group_weight", DEFAULT_WEIGHT), DEFAULT_WEIGHT),
        group_scoring=scoring if isinstance(scoring, bool) else None,
        sticky=max(0, _integer(s.get("sticky", "sticky", 0))),
        cooldown=max(0, _integer(s.get("cooldown", "cooldown", 0))),
        delay=max(0, _integer(s.get("delay", "delay", 0))),
        exclude_recursion=bool(s.get("excludeRecursion", "exclude_recursion", False)),
        prevent_recursion=bool(s.get("preventRecursion", "prevent_recursion", False)),
        delay_until_recursion=(1 if delay_until is True else max(0, _integer(delay_until))),
        position=position,
        depth=max(0, _integer(s.get("depth", "depth", DEFAULT_DEPTH), DEFAULT_DEPTH)),
        role=ROLES[role] if 0 <= role < len(ROLES) else "system",
        filter_names=_strings(filt.get("names")),
        filter_tags=_strings(filt.get("tags")),
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


# -- matching -------------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class _Source:
    """Text a key may be found in: a message (its own id) or fired lore (its triggers)."""

    text: str
    triggers: tuple[int, ...]
    label: str  # "" for a message, the entry's label for lore


@dataclass
class _Hit:
    rule: Rule
    reason: str
    why: str
    triggers: tuple[int, ...] = ()


def _where(depth: int) -> str:
    return "in the last message" if depth == 1 else f"in the last {depth} messages"


def _label(rule: Rule) -> str:
    return rule.comment or f"entry {rule.uid}"


def _quoted(keys: Iterable[str]) -> str:
    return ", ".join(f'"{key}"' for key in keys)


class _Matcher:
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

    def found_in(self, key: str, sources: Sequence[_Source]) -> list[_Source]:
        pattern = _pattern(key, self.case, self.whole)
        if pattern is None:
            return []
        return [source for source in sources if pattern.search(source.text)]


def _triggers(found: Iterable[_Source]) -> tuple[int, ...]:
    return tuple(sorted({message for source in found for message in source.triggers}))


def _match(
    rule: Rule, matcher: _Matcher, window: list[_Source], lore: list[_Source], depth: int
) -> _Hit | None:
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
            why = f"{hit} + all secondary keys ({_quoted(secondary)})" if not missing else None
            needs_lore = needs_lore or len(alone) < len(secondary)
        elif rule.logic == "not_any":
            why = (
                f"{hit} + none of the secondary keys ({_quoted(secondary)})"
                if not present
                else None
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
        return _Hit(rule, "recursion", f"{why} in {origin}", _triggers(found))
    found = [src for key in used["window"] for src in matcher.found_in(key, window)]
    return _Hit(rule, reason, f"{why} {_where(depth)}", _triggers(found))


def _score(rule: Rule, matcher: _Matcher, sources: list[_Source]) -> int:
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


def _decorators(content: str) -> tuple[set[str], str]:
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


# -- timed effects --------------------------------------------------------------------------------


@dataclass
class _Timed:
    state: dict[str, dict[str, dict[str, Any]]]
    sticky: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> effect
    cooldown: set[str] = field(default_factory=set)
    delayed: set[str] = field(default_factory=set)


def _effect(rule: Rule, kind: str, chat_length: int, protected: bool = False) -> dict[str, Any]:
    return {
        "hash": rule.hash,
        "start": chat_length,
        "end": chat_length + getattr(rule, kind),
        "protected": protected,
    }


def _check_timed(state: dict[str, Any] | None, rules: dict[str, Rule], chat_length: int) -> _Timed:
    """The effects in force for this prompt, and the state with ended ones removed."""
    old = state or {}
    timed = _Timed(state={kind: dict(old.get(kind) or {}) for kind in ("sticky", "cooldown")})
    for kind in ("sticky", "cooldown"):
        effects = timed.state[kind]
        for key, effect in list(effects.items()):
            if not isinstance(effect, dict):
                del effects[key]
                continue
            start, end = _integer(effect.get("start")), _integer(effect.get("end"))
            rule = rules.get(key)
            if chat_length <= start and not effect.get("protected"):
                del effects[key]  # set at this length or later: the chat did not advance
                continue
            if rule is None:
                if chat_length >= end:
                    del effects[key]
                continue
            if effect.get("hash") != rule.hash or not getattr(rule, kind):
                del effects[key]
                continue
            if chat_length >= end:
                del effects[key]
                if kind == "sticky" and rule.cooldown:
                    timed.state["cooldown"][key] = _effect(rule, "cooldown", chat_length, True)
                    timed.cooldown.add(key)
                continue
            if kind == "sticky":
                timed.sticky[key] = effect
            else:
                timed.cooldown.add(key)
    timed.delayed = {key for key, rule in rules.items() if rule.delay and chat_length < rule.delay}
    return timed


def _set_timed(timed: _Timed, fired: Iterable[Rule], chat_length: int) -> None:
    for rule in fired:
        for kind in ("sticky", "cooldown"):
            if getattr(rule, kind) and rule.key not in timed.state[kind]:
                timed.state[kind][rule.key] = _effect(rule, kind, chat_length)


def _sticky_triggers(timed: _Timed, fired: dict[str, _Hit]) -> None:
    """A new sticky effect remembers the messages that set it: the gate still needs them."""
    for key, hit in fired.items():
        effect = timed.state["sticky"].get(key)
        if effect is not None and "triggers" not in effect:
            effect["triggers"] = list(hit.triggers)


# -- one book -------------------------------------------------------------------------------------


def _allowed(rule: Rule, speaker: Speaker | None) -> bool:
    if speaker is None:
        return True
    if rule.filter_names:
        named = speaker.name.casefold() in {n.casefold() for n in rule.filter_names}
        if named == rule.filter_exclude:
            return False
    if rule.filter_tags:
        tagged = bool(
            {t.casefold() for t in speaker.tags} & {t.casefold() for t in rule.filter_tags}
        )
        if tagged == rule.filter_exclude:
            return False
    return True


class _BookScan:
    def __init__(
        self,
        book: Book,
        messages: list[ScanMessage],
        *,
        timed: _Timed,
        seed: str,
        speaker: Speaker | None,
        budget: int,
        render: Callable[[str], str],
        estimate: Callable[[str], int],
    ) -> None:
        self.book, self.settings = book, book.settings
        self.messages = messages
        self.timed, self.seed, self.speaker = timed, seed, speaker
        self.budget, self.render, self.estimate = budget, render, estimate
        self.rules = sorted(book.rules, key=lambda rule: (-rule.order, rule.uid))
        self.rank = {rule.key: n for n, rule in enumerate(self.rules)}
        self.matchers = {rule.key: _Matcher(rule, self.settings, render) for rule in self.rules}
        self.decorators = {rule.key: _decorators(rule.content) for rule in self.rules}
        self.fired: dict[str, tuple[_Hit, str, int]] = {}  # key -> (hit, content, tokens)
        self.failed: set[str] = set()
        self.lore: list[_Source] = []
        self.skew = 0
        self.used = 0

    def _window(self, rule: Rule) -> tuple[list[_Source], int]:
        depth = rule.scan_depth if rule.scan_depth is not None else self.settings.scan_depth
        if rule.scan_depth is None:
            depth += self.skew
        depth = min(max(depth, 0), MAX_SCAN_DEPTH)
        newest = self.messages[-depth:] if depth else []
        return [_Source(m.scanned, (m.id,), "") for m in newest], depth

    def _candidate(self, rule: Rule, state: int, level: int) -> _Hit | None:
        key = rule.key
        sticky = key in self.timed.sticky
        if key in self.failed or key in self.fired or not rule.enabled:
            return None
        if not _allowed(rule, self.speaker) or key in self.timed.delayed:
            return None
        if key in self.timed.cooldown and not sticky:
            return None
        waits = state != _RECURSION or rule.delay_until_recursion > level
        if rule.delay_until_recursion and waits and not sticky:
            return None
        recursing = state == _RECURSION and self.settings.recursive
        if recursing and rule.exclude_recursion and not sticky:
            return None
        decorators, _ = self.decorators[key]
        if "@@activate" in decorators:
            return _Hit(rule, "constant", "@@activate")
        if "@@dont_activate" in decorators:
            return None
        if rule.constant:
            return _Hit(rule, "constant", "constant")
        if sticky:
            effect = self.timed.sticky[key]
            ends = _integer(effect.get("end"))
            triggers = tuple(_integer(t) for t in effect.get("triggers") or ())
            return _Hit(rule, "sticky", f"sticky until the chat has {ends} messages", triggers)
        matcher = self.matchers[key]
        if not matcher.keys:
            return None
        window, depth = self._window(rule)
        lore = self.lore if state != _MIN_ACTIVATIONS else []
        return _match(rule, matcher, window, lore, depth)

    def _groups(self, hits: list[_Hit], state: int) -> list[_Hit]:
        grouped: dict[str, list[_Hit]] = {}
        for hit in hits:
            for name in hit.rule.groups:
                grouped.setdefault(name, []).append(hit)
        if not grouped:
            return hits
        removed: set[str] = set()
        with_sticky: set[str] = set()
        for name, group in grouped.items():
            sticky = [h for h in group if h.rule.key in self.timed.sticky]
            if sticky:
                removed.update(h.rule.key for h in group if h not in sticky)
                with_sticky.add(name)
            removed.update(h.rule.key for h in group if h.rule.key in self.timed.cooldown)
            removed.update(h.rule.key for h in group if h.rule.key in self.timed.delayed)
        for name, group in grouped.items():
            scoring = self.settings.use_group_scoring or any(h.rule.group_scoring for h in group)
            if not scoring or name in with_sticky:
                continue
            lore = self.lore if state != _MIN_ACTIVATIONS else []
            scores = {}
            for h in group:
                window, _ = self._window(h.rule)
                scores[h.rule.key] = _score(h.rule, self.matchers[h.rule.key], window + lore)
            best = max(scores.values())
            for h in list(group):
                scored = h.rule.group_scoring
                scored = self.settings.use_group_scoring if scored is None else scored
                if scored and scores[h.rule.key] < best:
                    removed.add(h.rule.key)
                    group.remove(h)
        for name, group in grouped.items():
            if name in with_sticky:
                continue
            if any(name in hit.rule.groups for hit, _, _ in self.fired.values()):
                removed.update(h.rule.key for h in group)  # the group fired in an earlier pass
                continue
            if len(group) <= 1:
                continue
            prioritised = sorted(
                (h for h in group if h.rule.group_override),
                key=lambda h: (-h.rule.order, self.rank[h.rule.key]),
            )
            if prioritised:
                winner = prioritised[0]
            else:
                total = sum(h.rule.group_weight for h in group)
                roll = draw("group", self.seed, self.book.id, name) * total
                winner, running = None, 0.0
                for h in group:
                    running += h.rule.group_weight
                    if roll < running:
                        winner = h
                        break
                if winner is None:
                    continue  # every weight is 0: no member wins
            removed.update(h.rule.key for h in group if h is not winner)
        return [hit for hit in hits if hit.rule.key not in removed]

    def _rolls(self, hit: _Hit) -> bool:
        rule = hit.rule
        if not rule.use_probability or rule.probability >= 100:
            return True
        if rule.key in self.timed.sticky:
            return True  # a sticky entry does not roll again
        return draw("probability", self.seed, self.book.id, rule.uid) * 100 < rule.probability

    def run(self) -> dict[str, tuple[_Hit, str, int]]:
        settings = self.settings
        levels = sorted({r.delay_until_recursion for r in self.rules if r.delay_until_recursion})
        level = levels.pop(0) if levels else 0
        state, passes, overflow = _INITIAL, 0, False
        while state:
            if settings.max_recursion_steps and passes >= settings.max_recursion_steps:
                break
            passes += 1
            hits = [h for r in self.rules if (h := self._candidate(r, state, level)) is not None]
            hits.sort(
                key=lambda h: (
                    h.reason != "sticky",
                    h.reason != "constant",
                    self.rank[h.rule.key],
                )
            )
            hits = self._groups(hits, state)
            added: list[_Hit] = []
            for hit in hits:
                if not self._rolls(hit):
                    self.failed.add(hit.rule.key)
                    continue
                content = self.render(self.decorators[hit.rule.key][1])
                tokens = self.estimate(content)
                if self.used + tokens > self.budget:
                    overflow = True
                    break
                self.used += tokens
                self.fired[hit.rule.key] = (hit, content, tokens)
                added.append(hit)
            if overflow:
                break
            recursing = [h for h in added if not h.rule.prevent_recursion]
            following = 0
            if settings.recursive and recursing:
                following = _RECURSION
            if settings.recursive and state == _MIN_ACTIVATIONS and self.lore:
                following = _RECURSION
            if (
                not following
                and settings.min_activations
                and not settings.max_recursion_steps
                and len(self.fired) < settings.min_activations
            ):
                depth = settings.scan_depth + self.skew
                deepest = settings.min_activations_depth_max
                if not (deepest and depth >= deepest) and depth < len(self.messages):
                    self.skew += 1
                    following = _MIN_ACTIVATIONS
            if not following and levels:
                level = levels.pop(0)
                following = _RECURSION
            state = following
            for hit in recursing:
                self.lore.append(
                    _Source(self.fired[hit.rule.key][1], hit.triggers, _label(hit.rule))
                )
        return self.fired


# -- the activation -------------------------------------------------------------------------------


def _identity(text: str) -> str:
    return text


def activate(
    books: Iterable[Book],
    messages: Sequence[ScanMessage],
    *,
    chat_length: int | None = None,
    timed: dict[str, Any] | None = None,
    seed: str = "",
    speaker: Speaker | None = None,
    context_tokens: int | None = None,
    render: Callable[[str], str] | None = None,
    estimate: Callable[[str], int] | None = None,
) -> Activation:
    """The entries of ``books`` that fire on ``messages`` (oldest first), and the timed-effect
    state to keep for the next prompt.

    ``chat_length``: the messages in the chat now (default: ``len(messages)``). ``timed``: the
    state the previous activation returned. ``seed``: what chance is drawn from. ``speaker``:
    for character filters (None: no filter applies). ``context_tokens``: the context size a
    book's ``budget_percent`` is a share of. ``render``: macro expansion for content and keys.
    ``estimate``: tokens of a text (default: the engine's estimate).

    Fired entries come ordered by insertion order, then book, then uid. A book listed twice is
    used once.
    """
    render = render or _identity
    estimate = estimate or default_estimate
    messages = list(messages)
    length = len(messages) if chat_length is None else chat_length
    unique: dict[int, Book] = {}
    for book in books:
        unique.setdefault(book.id, book)
    rules = {rule.key: rule for book in unique.values() for rule in book.rules}
    state = _check_timed(timed, rules, length)
    fired: list[Fired] = []
    hits: dict[str, _Hit] = {}
    for book in unique.values():
        scan = _BookScan(
            book,
            messages,
            timed=state,
            seed=seed,
            speaker=speaker,
            budget=book.settings.budget(context_tokens),
            render=render,
            estimate=estimate,
        )
        for key, (hit, content, tokens) in scan.run().items():
            hits[key] = hit
            rule = hit.rule
            depth_rule = rule.position == "at_depth"
            fired.append(
                Fired(
                    uid=rule.uid,
                    lorebook=rule.book,
                    entry_id=rule.entry_id,
                    comment=rule.comment,
                    reason=hit.reason,
                    why=hit.why,
                    position=rule.position,
                    depth=rule.depth if depth_rule else None,
                    role=rule.role if depth_rule else None,
                    insertion_order=rule.order,
                    content=content,
                    tokens=tokens,
                    triggers=hit.triggers,
                )
            )
    _set_timed(state, (hit.rule for hit in hits.values()), length)
    _sticky_triggers(state, hits)
    fired.sort(key=lambda item: (item.insertion_order, item.lorebook, item.uid))
    return Activation(fired=fired, timed=_sorted_state(state.state), chat_length=length)


def _sorted_state(state: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {kind: dict(sorted(state.get(kind, {}).items())) for kind in ("sticky", "cooldown")}


def lore_for_prompt(
    lorebooks: Iterable[Lorebook | None], messages: list[str], *, char: str, user: str
) -> list[Fired]:
    """Stateless activation over plain message texts, macros expanded with the two names.

    Kept for the current prompt builder; the engine's own entry point is
    ``play.engine.lore.lore_scan`` (timed state, scanned-message ids, macro context).
    """
    books = [book_of(book) for book in lorebooks if book is not None]
    scanned = [ScanMessage(id=n, text=text) for n, text in enumerate(messages)]
    return activate(
        books, scanned, render=lambda text: expand_macros(text, char=char, user=user)
    ).fired


__all__ = [
    "POSITIONS",
    "REASONS",
    "ROLES",
    "Activation",
    "Book",
    "BookSettings",
    "Fired",
    "Rule",
    "ScanMessage",
    "Speaker",
    "activate",
    "book_of",
    "lore_for_prompt",
    "rule_of",
    "settings_of",
]
