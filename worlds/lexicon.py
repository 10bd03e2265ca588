"""Which words each character has heard: the word half of the gate (docs/design.md, The gate).

A derived text (an analysis outcome, a summary, a thread's notes) admitted for a reader by its
sources may still carry words from elsewhere: a model can copy them from an earlier request, a
card or a guess. So the gate also reads the words. A word is **distinctive** when it is a
number or code (it holds a digit), a name (said capitalised inside a sentence), or a word of
four letters or more that is not among the 3,000 most common English ones
(``data/common_words.txt``). A distinctive word is **withheld** from reader R when this chat
has it only where R was not — in lines R did not witness, in another character's card — and R
has no source of its own: not R's own card (or the persona's, which every bot is given), not
what R was told by hand, not lore R was given, not the name of someone present. Words the chat
has nowhere (a model's own wording) and common words pass (``play.engine.gate``).

Each line's words are recorded on its ``Witness`` row by the projector (``words``, ``names``),
so the log decides them, live and on replay. ``ChatWords`` folds a chat's rows into word →
who heard it, kept per process and followed incrementally (a new line adds its row; anything
else rebuilds it).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from django.db import connection

from eventstore.models import Event
from worlds.lines import LINE_KINDS
from worlds.models import Witness

_TOKEN = re.compile(r"[^\W_]+(?:[-./:][^\W_]+)*")
_POSSESSIVE = re.compile(r"['’]s\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?…:;\"“”]\s*$|^\s*$")
_DIGIT = re.compile(r"\d")


@cache
def common_words() -> frozenset[str]:
    path = Path(__file__).with_name("data") / "common_words.txt"
    return frozenset(
        w.strip() for w in path.read_text().splitlines() if w.strip() and not w.startswith("#")
    )


_PART = re.compile(r"[^\W_]+")


def _tokens(text: str) -> list[tuple[str, int]]:
    """Every word of ``text``, lowercased, with where it starts: a code such as ``7-3-9`` or
    ``AZURE-FALCON-77`` is one word, and each of its parts is one too; a possessive's ``'s``
    is dropped."""
    out = []
    for m in _TOKEN.finditer(_POSSESSIVE.sub("", text)):
        word = m.group().lower()
        out.append((word, m.start()))
        if not word.isalnum():
            out += [(part, m.start()) for part in _PART.findall(word)]
    return out


def _candidate(word: str) -> bool:
    return bool(_DIGIT.search(word)) and len(word) >= 2 or len(word) >= 4


def words_of(text: str) -> list[str]:
    """The words of ``text`` that could be distinctive (numbers, codes, words of 4+ letters)."""
    return sorted({w for w, _ in _tokens(text) if _candidate(w)})


def names_of(text: str) -> list[str]:
    """Words said capitalised inside a sentence (not its first word): names, lowercased."""
    clean = _POSSESSIVE.sub("", text)
    out = set()
    for m in _TOKEN.finditer(clean):
        word = m.group()
        if len(word) < 3 or not word[0].isupper() or _DIGIT.search(word):
            continue
        if _SENTENCE_END.search(clean[: m.start()]):
            continue  # first word of a sentence or of the text
        out.add(word.lower())
    return sorted(out)


def distinctive(word: str, names: Iterable[str] | frozenset[str] = frozenset()) -> bool:
    if _DIGIT.search(word):
        return len(word) >= 2
    if word in names:
        return True
    return len(word) >= 4 and word not in common_words()


def words_in(text: str) -> set[str]:
    """What the text says, in the form words are compared: candidates and short names."""
    return {w for w, _ in _tokens(text) if len(w) >= 2}


# -- a chat's lines, folded -----------------------------------------------------------------


@dataclass
class ChatWords:
    """Word → the characters who witnessed a line saying it; the words said as names."""

    heard: dict[str, set[str]] = field(default_factory=dict)
    names: set[str] = field(default_factory=set)
    # which rows it folded: count, newest event, sum of events, sum of the words' lengths
    mark: tuple[int, int, int, int] = (0, 0, 0, 0)

    def add(self, event: int, seen_by: Iterable[str], words: Iterable[str], names: Iterable[str]):
        keys = set(seen_by)
        for word in words:
            self.heard.setdefault(word, set()).update(keys)
        self.names.update(names)
        count, newest, total, size = self.mark
        self.mark = (count + 1, max(newest, event), total + event, size + len(_text(words)))

    def distinctive_in(self, text: str) -> set[str]:
        """The words of ``text`` that could tell a secret (numbers, codes, names, rare
        words), as this chat uses them."""
        return {w for w in words_in(text) if distinctive(w, self.names)}

    def heard_by(self, word: str, reader: str) -> bool:
        return reader in self.heard.get(word, ())


_CACHE: dict[tuple[str, int], ChatWords] = {}
_LOCK = threading.Lock()


def chat_words(chat_id: int) -> ChatWords:
    """The chat's folded lines, from its ``Witness`` rows: one query when nothing changed,
    only the new rows after a line, a fresh fold after anything else (a replay, a branch)."""
    table = connection.ops.quote_name(Witness._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), coalesce(max(event), 0), coalesce(sum(event), 0), "
            f"coalesce(sum(length(words)), 0) FROM {table} WHERE chat_id = %s",
            [chat_id],
        )
        mark = tuple(cursor.fetchone())
    key = (str(connection.settings_dict["NAME"]), chat_id)
    with _LOCK:
        folded = _CACHE.get(key)
        if folded is not None and folded.mark == mark:
            return folded
        grown = folded is not None and folded.mark[0] < mark[0] and folded.mark[1] < mark[1]
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT event, seen_by, words, names FROM {table} WHERE chat_id = %s"
                " AND event > %s ORDER BY event",
                [chat_id, folded.mark[1] if grown else -1],
            )
            rows = cursor.fetchall()
        out = folded if grown else ChatWords()
        for event, seen_by, words, names in rows:
            out.add(event, _json(seen_by), _json(words), _json(names))
        if out.mark != mark:  # rows went as well as came: fold them all afresh
            out = ChatWords()
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT event, seen_by, words, names FROM {table} WHERE chat_id = %s "
                    "ORDER BY event",
                    [chat_id],
                )
                for event, seen_by, words, names in cursor.fetchall():
                    out.add(event, _json(seen_by), _json(words), _json(names))
        _CACHE[key] = out
        return out


# What the log holds as said: every line (LINE_KINDS), on any branch, and what a hand told
# those present.
HAND_KINDS = (
    "manual_edit",
    "thread_opened",
    "thread_updated",
    "story_event_planned",
    "story_event_started",
    "story_event_completed",
    "story_event_cancelled",
    "guest_added",
    "group_node_updated",
)
_SAID: dict[tuple[str, int], tuple[int, set[str]]] = {}


def said_ever(chat_id: int) -> set[str]:
    """Every word that could be distinctive said anywhere in the chat's log: in a line of any
    branch (a deleted line, a swipe not taken, an edited-away version) or a hand edit. A word
    the active line's witnesses never heard but the log holds is someone's secret, or gone."""
    key = (str(connection.settings_dict["NAME"]), chat_id)
    with _LOCK:
        last, words = _SAID.get(key, (0, set()))
        newest = (
            Event.objects.filter(stream_id=chat_id).order_by("-id").values_list("id", flat=True)
        ).first() or 0
        if newest == last:
            return words
        if newest < last:  # another database under the same name (tests)
            last, words = 0, set()
        words = set(words)
        rows = Event.objects.filter(
            stream_id=chat_id, id__gt=last, kind__in=LINE_KINDS + HAND_KINDS
        ).values_list("kind", "payload")
        for kind, payload in rows:
            if kind in LINE_KINDS:
                words.update(words_of(f"{payload.get('text', '')}\n{payload.get('bot_text', '')}"))
            elif "sources" not in payload:
                words.update(words_of(said_in(payload)))
        _SAID[key] = (newest, words)
        return words


def said_in(value) -> str:
    """Every string inside a payload (a hand edit's: what its author told those present)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "\n".join(said_in(v) for k, v in value.items() if k != "sources")
    if isinstance(value, list):
        return "\n".join(said_in(v) for v in value)
    return ""


def _json(value) -> list:
    return json.loads(value) if value else []


def _text(words) -> str:
    """A word list as the column holds it (its length is part of the fold's mark)."""
    return json.dumps(list(words))


def forget(chat_id: int | None = None) -> None:
    """Drop the folded copies (tests that rebuild a database under the same name)."""
    with _LOCK:
        for cache in (_CACHE, _SAID):
            for key in [k for k in cache if chat_id is None or k[1] == chat_id]:
                cache.pop(key)
