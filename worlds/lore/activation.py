"""The activation: the scan passes over one book, then every book together."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from worlds.lore.matching import Hit, Matcher, Source, decorators, label, match, score
from worlds.lore.rules import (
    MAX_SCAN_DEPTH,
    Activation,
    Book,
    Fired,
    Rule,
    ScanMessage,
    Speaker,
    book_of,
    integer,
)
from worlds.lore.timed import Timed, check_timed, remember_triggers, set_timed
from worlds.macros import draw, expand_macros
from worlds.tokens import estimate as default_estimate

if TYPE_CHECKING:
    from worlds.models import Lorebook

_INITIAL, _RECURSION, _MIN_ACTIVATIONS = 1, 2, 3


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


class BookScan:
    def __init__(
        self,
        book: Book,
        messages: list[ScanMessage],
        *,
        timed: Timed,
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
        self.matchers = {rule.key: Matcher(rule, self.settings, render) for rule in self.rules}
        self.decorators = {rule.key: decorators(rule.content) for rule in self.rules}
        self.fired: dict[str, tuple[Hit, str, int]] = {}  # key -> (hit, content, tokens)
        self.failed: set[str] = set()
        self.lore: list[Source] = []
        self.skew = 0
        self.used = 0

    def _window(self, rule: Rule) -> tuple[list[Source], int]:
        depth = rule.scan_depth if rule.scan_depth is not None else self.settings.scan_depth
        if rule.scan_depth is None:
            depth += self.skew
        depth = min(max(depth, 0), MAX_SCAN_DEPTH)
        newest = self.messages[-depth:] if depth else []
        return [Source(m.scanned, (m.id,), "") for m in newest], depth

    def _candidate(self, rule: Rule, state: int, level: int) -> Hit | None:
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
            return Hit(rule, "constant", "@@activate")
        if "@@dont_activate" in decorators:
            return None
        if rule.constant:
            return Hit(rule, "constant", "constant")
        if sticky:
            effect = self.timed.sticky[key]
            ends = integer(effect.get("end"))
            triggers = tuple(integer(t) for t in effect.get("triggers") or ())
            return Hit(rule, "sticky", f"sticky until the chat has {ends} messages", triggers)
        matcher = self.matchers[key]
        if not matcher.keys:
            return None
        window, depth = self._window(rule)
        lore = self.lore if state != _MIN_ACTIVATIONS else []
        return match(rule, matcher, window, lore, depth)

    def _groups(self, hits: list[Hit], state: int) -> list[Hit]:
        grouped: dict[str, list[Hit]] = {}
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
                scores[h.rule.key] = score(h.rule, self.matchers[h.rule.key], window + lore)
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

    def _rolls(self, hit: Hit) -> bool:
        rule = hit.rule
        if not rule.use_probability or rule.probability >= 100:
            return True
        if rule.key in self.timed.sticky:
            return True  # a sticky entry does not roll again
        return draw("probability", self.seed, self.book.id, rule.uid) * 100 < rule.probability

    def run(self) -> dict[str, tuple[Hit, str, int]]:
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
            added: list[Hit] = []
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
                self.lore.append(Source(self.fired[hit.rule.key][1], hit.triggers, label(hit.rule)))
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
    state = check_timed(timed, rules, length)
    fired: list[Fired] = []
    hits: dict[str, Hit] = {}
    for book in unique.values():
        scan = BookScan(
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
    set_timed(state, (hit.rule for hit in hits.values()), length)
    remember_triggers(state, hits)
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
