"""The one gate at the prompt boundary: what a reader may be told.

Every line that reaches a model — in a bot's narrative prompt, the turn analysis, a scene
summary, a digest, an interjection decision — passes ``Gate.admit``. For its readers (one
speaker; for the analysis, everyone present) it drops what they did not witness, and removes
from the rest every sentence naming a prop of a closed story event, unless a line said after
the close named it again. What a deleted turn produced never gets this far: replaying the
line without the turn leaves nothing whose sources include it (``worlds.provenance``).

It reads the words too: a derived text (anything a model or a rule wrote, not a line as it
was said) loses every sentence carrying a distinctive word that a reader never heard
(``worlds.lexicon``): a model can bring words from anywhere, whatever lines it was shown.
What it withheld is counted in ``withheld`` (for the inspector), never kept as text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from eventstore.projection import DBStore, read_rows
from memory.models import Memory
from play.engine.lore import lorebooks_for
from play.models import Chat
from worlds import lexicon
from worlds import provenance as pv
from worlds.models import CastMember, Character, EntityState, LoreEntry, StoryEvent, Witness
from worlds.roles import YOU

CARD_FIELDS = (
    "name",
    "description",
    "personality",
    "scenario",
    "first_mes",
    "mes_example",
    "system_prompt",
    "post_history_instructions",
)


@dataclass(frozen=True)
class Line:
    """One line of prompt text and where it came from (``entry``: its provenance; ``sources``:
    the lines it quotes, for a turn or a memory). Neither: authored text, known to all.
    ``verbatim``: the words of its sources as they were said (a dialogue line, a remembered
    turn) or authored text placed for a reason (lore that fired): nothing of its words is
    derived, so the word check does not read it."""

    text: str
    entry: dict | None = None
    sources: tuple[int, ...] = ()
    verbatim: bool = False

    @property
    def derived(self) -> bool:
        return not self.verbatim and (self.entry is not None or bool(self.sources))

    @property
    def origin(self) -> list[int]:
        return sorted({*self.sources, *(self.entry or {}).get("src", ())})


@dataclass
class Gate:
    chat_id: int
    readers: tuple[str, ...]
    _sealed: list[list[str]] = field(default_factory=list)
    _renames: dict[int, set[str]] = field(default_factory=dict)
    # the sources of everything admitted: what a model writes from this request came from
    # them all (an analysis that copies a thread's notes carries the thread's provenance)
    seen: set[int] = field(default_factory=set)
    # what the word check took out: {"reader", "sentences", "sources"} per admitted line
    withheld: list[dict[str, Any]] = field(default_factory=list)
    _words: Any = None
    _cards: dict[str, frozenset[str]] | None = None
    _said_ever: set[str] | None = None
    _allowed: dict[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def for_readers(
        cls, chat_id: int, readers: Iterable[str], *, also_sealed: list[list[str]] = ()
    ) -> Gate:
        """``also_sealed``: props of events closing in the same pass, not closed yet."""
        gate = cls(chat_id, tuple(sorted(readers)))
        statuses = ", ".join(["%s"] * len(StoryEvent.CLOSED))
        closed = read_rows(
            StoryEvent, f"chat_id = %s AND status IN ({statuses})", [chat_id, *StoryEvent.CLOSED]
        )
        gate._sealed = [list(e.props) for e in closed if e.props] + [p for p in also_sealed if p]
        return gate

    def knows(self, entry: dict | None) -> bool:
        return all(pv.known_to(entry, reader) for reader in self.readers)

    def admit(self, line: Line) -> str | None:
        """The line as its readers may see it, or ``None``."""
        if not self.knows(line.entry):
            return None
        text = self.seal(line.text, line.origin)
        if line.derived and text.strip():
            text = self.heard(text, line.origin)
        if not text.strip():
            return None
        self.seen.update(line.origin)
        return text

    def heard(self, text: str, origin: list[int] = ()) -> str:
        """``text`` without the sentences carrying a word one of the readers never heard."""
        words = self._chat_words()
        candidates = words.distinctive_in(text)
        drop: dict[str, set[str]] = {}
        for reader in self.readers:
            missing = {w for w in candidates if not words.heard_by(w, reader)}
            # said where the reader was not, or in a card not theirs, and not theirs otherwise
            secret = {w for w in missing if w in self._said() or w in self._cards_but(reader)}
            if secret and (secret := secret - self._allowed_for(reader)):
                drop[reader] = secret
        if not drop:
            return text
        parts = pv.sentences(text)
        kept = [p for p in parts if not (lexicon.words_in(p) & set().union(*drop.values()))]
        for reader in drop:  # counted, never kept: the words are what must not travel
            self.withheld.append(
                {"reader": reader, "sentences": len(parts) - len(kept), "sources": list(origin)}
            )
        return " ".join(kept)

    def _said(self) -> set[str]:
        if self._said_ever is None:
            self._said_ever = lexicon.said_ever(self.chat_id)
        return self._said_ever

    def _cards_but(self, reader: str) -> set[str]:
        """The words of the cards of the chat's cast other than the reader's own."""
        if self._cards is None:
            self._cards = {}
            cards = cast_cards(self.chat_id)
            for key in {*self.readers, *cards}:
                self._cards[key] = frozenset().union(
                    *(words for other, words in cards.items() if other != key)
                )
        return self._cards[reader]

    def _chat_words(self):
        if self._words is None:
            self._words = lexicon.chat_words(self.chat_id)
        return self._words

    def _allowed_for(self, reader: str) -> frozenset[str]:
        """What ``reader`` has from elsewhere than lines: its card, lore it was given, hand
        edits to its memories, the names of those present (asked only when a word of a
        derived text is otherwise unheard)."""
        if reader not in self._allowed:
            heard = {w for w, keys in self._chat_words().heard.items() if reader in keys}
            self._allowed[reader] = frozenset(known_elsewhere(self.chat_id, reader, heard))
        return self._allowed[reader]

    def lines(self, lines: Iterable[Line]) -> list[Line]:
        """The admitted lines, each with the text the readers may see."""
        out = []
        for line in lines:
            text = self.admit(line)
            if text is not None:
                out.append(Line(text, line.entry, line.sources, line.verbatim))
        return out

    def turns(self, turns: Iterable[Any]) -> list[tuple[Any, str, list[str]]]:
        """The turns every reader witnessed: (turn, its text as they may see it, who
        witnessed it, by character key)."""
        turns = list(turns)
        if not turns:
            return []
        marks = ", ".join(["%s"] * len(turns))
        seen = {
            w.event: w.seen_by
            for w in read_rows(
                Witness,
                f"chat_id = %s AND event IN ({marks})",
                [self.chat_id, *(t.id for t in turns)],
            )
        }
        out = []
        for turn in turns:
            by = seen.get(turn.id, [])
            text = self.admit(
                Line(turn.bot_text or "", {"src": [turn.id], "by": by}, verbatim=True)
            )
            if text is not None:
                out.append((turn, text, by))
        return out

    def seal(self, text: str, origin: list[int]) -> str:
        if not self._sealed:
            return text
        renamed = self._renamed(origin)
        for props in self._sealed:
            text = pv.seal_text(text, [p for p in props if p not in renamed])
        return text

    def _renamed(self, origin: list[int]) -> set[str]:
        missing = [s for s in origin if s not in self._renames]
        if missing:
            marks = ", ".join(["%s"] * len(missing))
            for row in read_rows(
                Witness, f"chat_id = %s AND event IN ({marks})", [self.chat_id, *missing]
            ):
                self._renames[row.event] = set(row.renames)
            for s in missing:
                self._renames.setdefault(s, set())
        return set().union(*(self._renames[s] for s in origin)) if origin else set()


def card_words(character_id: int | None) -> frozenset[str]:
    """The words of a card as its author wrote them (kept per card and edit)."""
    row = (
        Character.objects.filter(pk=character_id).values("updated_at", *CARD_FIELDS).first()
        if character_id
        else None
    )
    if row is None:
        return frozenset()
    key = (character_id, row.pop("updated_at"))
    if key not in _CARD_WORDS:
        _CARD_WORDS[key] = frozenset().union(*(lexicon.words_in(str(v)) for v in row.values()))
    return _CARD_WORDS[key]


_CARD_WORDS: dict[tuple, frozenset[str]] = {}


def persona_words(chat_id: int) -> frozenset[str]:
    chat = Chat.objects.filter(pk=chat_id).select_related("persona").first()
    if chat is None or chat.persona is None:
        return frozenset()
    return frozenset(lexicon.words_in(f"{chat.persona.name}\n{chat.persona.description}"))


def cast_cards(chat_id: int) -> dict[str, frozenset[str]]:
    """Each of the chat's characters' card words, by key (the persona's is every bot's: the
    bots are given it, so it is kept apart, under ``you``, and allowed to all)."""
    members = CastMember.objects.filter(chat_id=chat_id).values_list("key", "character_id")
    return {key: card_words(character_id) for key, character_id in members if key != YOU}


def known_elsewhere(chat_id: int, reader: str, heard: set[str]) -> set[str]:
    """The words ``reader`` has from elsewhere than the lines it witnessed: its own card, the
    persona's (the bots are given it), the names of those present, what was written by hand
    into its memories, and the World Info it was given (constant entries, and those a key of
    which it heard)."""
    out = set(persona_words(chat_id))
    if reader == YOU:
        memories = Memory.objects.filter(chat_id=chat_id, owner=YOU)
    else:
        character_id = int(reader[1:]) if reader[1:].isdigit() else None
        out |= card_words(character_id)
        memories = Memory.objects.filter(chat_id=chat_id, character_id=character_id)
    texts = list(
        EntityState.objects.filter(chat_id=chat_id, present=True).values_list("name", flat=True)
    )
    texts += list(memories.filter(kind=Memory.Kind.MANUAL).values_list("text", flat=True))
    out |= set().union(*(lexicon.words_in(t) for t in texts if t))
    books = [b.lorebook.pk for b in lorebooks_for(chat_id)]
    for entry in LoreEntry.objects.filter(lorebook_id__in=books).only(
        "keys", "content", "constant"
    ):
        keys = [lexicon.words_in(k) for k in entry.keys if isinstance(k, str) and k.strip()]
        if entry.constant or any(k and k <= (heard | out) for k in keys):
            out |= lexicon.words_in(entry.content)
    return out


class OwnView:
    """A character's own fields as that character may hold them (its mood, what it carries
    and does, its edges' words): what the drawer and the API show as theirs passes the same
    gate as their prompt, with the owner as the one reader."""

    def __init__(self, chat_id: int) -> None:
        self.chat_id = chat_id
        self._gates: dict[str, Gate] = {}
        self.cut: dict[str, set[str]] = {}  # owner key -> fields something was withheld from

    def gate(self, key: str) -> Gate:
        if key not in self._gates:
            self._gates[key] = Gate.for_readers(self.chat_id, [key])
        return self._gates[key]

    def text(self, key: str, obj: Any, name: str, value: str | None = None) -> str:
        value = getattr(obj, name) if value is None else value
        if not value:
            return value
        gate = self.gate(key)
        before = len(gate.withheld)
        seen = gate.admit(Line(str(value), pv.prov_of(obj, name)))
        if len(gate.withheld) > before:
            self.cut.setdefault(key, set()).add(name.split(":")[0])
        return seen or ""

    def items(self, key: str, obj: Any, name: str, values: list | None = None) -> list[str]:
        values = list(getattr(obj, name) if values is None else values)
        return [seen for v in values if (seen := self.text(key, obj, f"{name}:{v}", v))]


# -- what models wrote, cleaned of words before it is kept -------------------------------------

# The fields of a payload (or a structured answer) that hold free text a model wrote.
FREE_TEXT = {
    "key",  # a story event's or thread's, made from its title
    "summary",
    "knowledge",
    "knowledge_facts",
    "last_interaction",
    "mood",
    "goals",
    "status",
    "verb",
    "posture",
    "holding",
    "attention",
    "title",
    "notes",
    "description",
    "gist",
    "resolution",
    "dynamic",
    "fact",
    "text",
    "bot_text",
    "group_summary",
    "content",  # a copied turn's stored prompt: its messages
    "first_draft",  # the repetition guard's first draft
    "inventory_add",
    "inventory_remove",
    "slot",
    "expected_duration",
    "props",
    "preconditions",
    "item",  # what a story event's close gives someone
    "keys",  # index words a turn analysis added to memories
    "memory_keys",  # the same, as the analysis gives them
    "narration",  # a skip's
}


def says_any(payload: dict[str, Any], words: set[str]) -> bool:
    """Whether any of ``words`` is in the payload at all (most copies have none: the scrub,
    which walks every field, is spared)."""
    text = json.dumps(payload, ensure_ascii=False).lower()
    return any(w in text for w in words)


def scrub(value: Any, words: set[str], *, free: bool = False) -> Any:
    """``value`` without the sentences and items that say one of ``words``."""
    if isinstance(value, dict):
        return {k: scrub(v, words, free=k in FREE_TEXT) for k, v in value.items()}
    if isinstance(value, list):
        items = [scrub(v, words, free=free) for v in value]
        return [v for v in items if not (free and isinstance(v, str) and not v.strip())]
    if free and isinstance(value, str) and words:
        return " ".join(s for s in pv.sentences(value) if not lexicon.words_in(s) & words)
    return value


def scrub_payload(payload: dict[str, Any], words: set[str]) -> dict[str, Any]:
    """A payload without the sentences and items of its free text that say one of ``words``
    (unchanged, and not walked, when it says none of them)."""
    if not words or not says_any(payload, words):
        return payload
    return scrub(payload, words)


def scrub_model(answer: Any, words: set[str]) -> Any:
    """A model's structured answer, its free-text fields without what says one of ``words``
    (cleaned in place: what it decides elsewhere stands)."""
    if not words or not isinstance(answer, BaseModel):
        return answer
    for name in type(answer).model_fields:
        value = getattr(answer, name)
        if isinstance(value, BaseModel):
            scrub_model(value, words)
        elif isinstance(value, list) and value and isinstance(value[0], BaseModel):
            for item in value:
                scrub_model(item, words)
        elif name in FREE_TEXT and isinstance(value, str | list):
            object.__setattr__(answer, name, scrub(value, words, free=True))
    return answer


def gone_words(chat_id: int) -> set[str]:
    """Distinctive words the log holds that nobody on the active line has: said only in lines
    that are not on it (deleted, edited away, a swipe not taken), in no card, no lore. What a
    model writes now may not bring them back (it saw them in an earlier request)."""
    words = lexicon.chat_words(chat_id)
    gone = {
        w
        for w in lexicon.said_ever(chat_id)
        if w not in words.heard and lexicon.distinctive(w, words.names)
    }
    if not gone:
        return gone
    gone -= persona_words(chat_id)
    for card in cast_cards(chat_id).values():
        gone -= card
    books = [b.lorebook.pk for b in lorebooks_for(chat_id)]
    for content in LoreEntry.objects.filter(lorebook_id__in=books).values_list(
        "content", flat=True
    ):
        gone -= lexicon.words_in(content)
    return gone


def heard_by(chat_id: int, roles: Iterable[str], text: str) -> str:
    """``text`` as the characters in these seats may all keep it (a summary its owner writes,
    a narration everyone present hears): the word check at the moment it is written."""
    keys = pv.keys_for_roles(DBStore(), chat_id, roles)
    return Gate.for_readers(chat_id, keys).heard(text) if text and keys else text
