"""Retrieval over a speaker's witnessed memories: lexical (FTS5), vector (in-process binary
KNN, exact rerank), the memories that speak of a day the question names, and their fusion.
Every candidate query carries the owner and witness constraint inside it (never a LIMIT
before the filter); the winners are read back through the same rule once more.

Hybrid score of a memory:

    rrf    = LEXICAL_WEIGHT / (RRF_K + lexical_rank)     # a list it is missing from adds
             + VECTOR_WEIGHT / (RRF_K + vector_rank)     # nothing
             + DATE_WEIGHT / RRF_K                       # it speaks of a day the question names
    score  = rrf
             * (1 + RECENCY_WEIGHT * recency)            # recency = 1 / (1 + age / 200)
             * (1 + SIGNIFICANCE_WEIGHT * significance)  # significance 0..3
             * TEMPORAL_BOOST   if the question names the month it was said in or speaks of
             * DAY_BOOST        if it speaks of the very day the question names
             * PERIOD_BOOST     if that day is in the period named ("in mid August")
             * SPEAKER_BOOST    if it was said by the participant the question names
             * a short-line factor, down to SHORT_FLOOR for a line of no content words

``age`` is how many events ago the memory was written; "speaks of" is its relative dates
resolved at ingest (``Memory.dates``). Lexical words leave out the participants' names (every
line starts with its speaker's, so they tie every short line at the top), and query vectors are
of the question with those names as pronouns (``embedding_query``), as memory vectors are of
the words without the speaker's name.

Then a second pass: the names in the best SECOND_PASS_TOP hits that the question did not say
(the link a two-step question leaves out) are searched lexically and fused in at
SECOND_WEIGHT. Each of the best few turn memories brings its neighbouring turns (the line
before and after, scored NEIGHBOUR_SHARE of it): answers often sit in the reply to the line
that matched. Last, one memory per wording.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from django.db import connection

from memory import dates, fts
from memory.models import IDS_PER_EVENT, Memory
from memory.selectors import known_characters, speaker_character, visible_sql, visible_to
from memory.vectors import knn
from worlds.clock import MONTH_NUMBERS
from worlds.models import EntityState
from worlds.roles import GUEST, HOST

# Tuned on the development set's family A (memory/devset, manage.py eval_memory; family B and
# memory/fixtures/memory_eval_example.json checked, never tuned on): a smooth rank fusion
# (k = 60; with vectors of the words alone a sharp one let a lexical #1 of a common word beat
# the right line: R@10 0.59 -> 0.69), lexical matches only while they are at least half as
# strong as the best one, the vector list weighted above the lexical.
RRF_K = 60
LEXICAL_FLOOR = 0.5
LEXICAL_WEIGHT = 0.7
VECTOR_WEIGHT = 1.0
RECENCY_WEIGHT = 0.1
SIGNIFICANCE_WEIGHT = 0.25
TEMPORAL_BOOST = 1.5
NEIGHBOUR_SHARE = 0.3
NEIGHBOUR_TOP = 3
CANDIDATES = 50
KEYS_WEIGHT = 1.0
DATE_WEIGHT = 1.0
DAY_BOOST = 2.0
PERIOD_BOOST = 1.3
SPEAKER_BOOST = 1.3
SHORT_WORDS = 4
SHORT_FLOOR = 0.6
SECOND_PASS = True
SECOND_PASS_TOP = 5
SECOND_WEIGHT = 0.25
EXPANSION_MAX = 3
DISTINCT = True
MODES = ("hybrid", "lexical", "vector", "recent")

_STOP = frozenset(
    [
        "the",
        "a",
        "an",
        "and",
        "or",
        "but",
        "if",
        "of",
        "to",
        "in",
        "on",
        "at",
        "for",
        "with",
        "from",
        "by",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "am",
        "i",
        "you",
        "he",
        "she",
        "it",
        "we",
        "they",
        "me",
        "my",
        "your",
        "his",
        "her",
        "its",
        "our",
        "their",
        "this",
        "that",
        "these",
        "those",
        "what",
        "which",
        "who",
        "whom",
        "do",
        "does",
        "did",
        "have",
        "has",
        "had",
        "not",
        "no",
        "so",
        "as",
        "just",
        "about",
        "into",
        "over",
        "than",
        "then",
        "there",
        "here",
        "can",
        "could",
        "would",
        "should",
        "will",
        "shall",
        "may",
        "might",
        "must",
        "let",
        "lets",
        "very",
        "really",
        "when",
        "where",
        "how",
        "why",
        "ever",
        # the frame of a question, not its topic
        "called",
        "named",
        "kind",
        "sort",
        "type",
        "thing",
        "things",
        "something",
        "anything",
        "currently",
        "usually",
        "else",
        "also",
        "like",
    ]
)
# Capitalised at the start of a chat line, but no name.
_INTERJECTIONS = frozenset(
    [
        "haha",
        "hah",
        "lol",
        "ugh",
        "okay",
        "yes",
        "yeah",
        "yep",
        "nope",
        "oh",
        "ooh",
        "wow",
        "hey",
        "hiya",
        "hello",
        "sorry",
        "thanks",
        "please",
        "honestly",
        "seriously",
        "anyway",
        "well",
        "right",
        "hmm",
        "god",
        "congrats",
        "amazing",
        "nice",
        "cool",
        "great",
        "love",
        "morning",
        "evening",
        "night",
    ]
)


@dataclass
class Retrieved:
    memory: Memory
    score: float
    why: str


def query_words(text: str) -> list[str]:
    words = [w for w in re.findall(r"[^\W_]{3,}", text.lower()) if w not in _STOP]
    return list(dict.fromkeys(words))[:24]


def fts_query(words: list[str]) -> str:
    return " OR ".join(f'"{w}"' for w in words)


# A word in more memories than this is dropped from the lexical query: its bm25 weight is
# close to nothing (the floor would discard its matches), while scoring its long posting list
# is most of a query's cost in a big chat.
COMMON_MIN = 2000
COMMON_SHARE = 0.02
COUNT_TTL = 600
_row_counts: dict[str, tuple[int, float]] = {}
_counts: dict[tuple[str, str], tuple[int, float]] = {}


def _memory_rows(db: str) -> int:
    """How many memories the database holds, read at most once a minute (a threshold only)."""
    now = time.monotonic()
    found = _row_counts.get(db)
    if found is None or now - found[1] > 60:
        with connection.cursor() as cur:
            cur.execute(f"SELECT count(*) FROM {Memory._meta.db_table}")
            found = _row_counts[db] = (cur.fetchone()[0], now)
    return found[0]


def common_words(words: list[str]) -> set[str]:
    """The query words found in too many memories to be worth scoring. Counting stops one past
    the limit (a bounded read), and counts are kept a while: common words come back often."""
    db = str(connection.settings_dict["NAME"])
    rows = _memory_rows(db) if len(words) > 1 else 0
    if rows <= COMMON_MIN:
        return set()
    limit = int(max(COMMON_MIN, COMMON_SHARE * rows))
    now, common = time.monotonic(), set()
    with connection.cursor() as cur:
        for word in words:
            found = _counts.get((db, word))
            if found is None or now - found[1] > COUNT_TTL:
                cur.execute(
                    "SELECT count(*) FROM (SELECT rowid FROM memory_fts WHERE memory_fts MATCH %s "
                    "LIMIT %s)",
                    [f'"{word}"', limit + 1],
                )
                found = _counts[(db, word)] = (cur.fetchone()[0], now)
                if len(_counts) > 4096:
                    _counts.pop(next(iter(_counts)))
            if found[0] > limit:
                common.add(word)
    return common


def lexical_candidates(
    chat_id: int,
    speaker: str,
    query: str,
    limit: int = CANDIDATES,
    *,
    facing_you: bool = False,
    floor: float = 0.0,
    words: list[str] | None = None,
) -> list[tuple[int, int]]:
    """(memory id, rank) best bm25 first, witness-filtered inside the query; equal scores
    share a rank, so recency and significance decide between identical matches. ``words``
    replaces the query's own words (a second pass's expansion)."""
    words = query_words(query) if words is None else words
    common = common_words(words)
    match = fts_query([w for w in words if w not in common])
    if not match:
        return []
    # The token names the speaker's own store, its witness bit set and nothing sealed (and,
    # facing you, no dialogue you did not witness: that reaches you only through a digest).
    token = fts.visible_scope(
        chat_id, speaker, speaker_character(chat_id, speaker), facing_you=facing_you
    )
    weights = f"1.0, {KEYS_WEIGHT}, 0.0"  # text, keys, scope
    sql = (
        f"SELECT rowid, round(bm25(memory_fts, {weights}), 6) FROM memory_fts "
        f"WHERE memory_fts MATCH %s ORDER BY bm25(memory_fts, {weights}) LIMIT %s"
    )
    with connection.cursor() as cur:
        cur.execute(sql, [f"scope:{token} AND ({match})", limit])
        rows = cur.fetchall()
    if not rows:
        return []
    cutoff = rows[0][1] * floor  # bm25 is negative: the best is the most negative
    ranked, rank, previous = [], -1, None
    for mem_id, value in rows:
        if value > cutoff:
            break  # a weak match of a common word: noise next to a strong one
        if value != previous:
            rank, previous = rank + 1, value
        ranked.append((mem_id, rank))
    return ranked


def vector_candidates(
    chat_id: int,
    speaker: str,
    vector: np.ndarray | None,
    limit: int = CANDIDATES,
    *,
    facing_you: bool = False,
) -> list[tuple[int, int]]:
    """(memory id, rank), nearest first, witness-filtered inside the KNN query."""
    if vector is None:
        return []

    hits = knn(
        chat_id,
        speaker,
        speaker_character(chat_id, speaker),
        vector,
        k=limit,
        facing_you=facing_you,
    )
    return [(memory_id, rank) for rank, (memory_id, _) in enumerate(hits)]


def query_months(text: str) -> set[int]:
    lowered = text.lower()
    months = {n for word, n in MONTH_NUMBERS.items() if re.search(rf"\b{word}\b", lowered)}
    months |= {int(m) for m in re.findall(r"\b\d{4}-(\d{2})(?:-\d{2})?\b", lowered)}
    return months


class _Row(NamedTuple):
    """What scoring needs of a candidate (the full rows are read for the winners only)."""

    id: int
    significance: int
    story_time: str
    kind: str
    turn_id: int | None
    speaker: str
    dates: str
    text: str


def _rows(ids) -> dict[int, _Row]:
    ids = [i for i in ids if i]
    if not ids:
        return {}
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cur:
        cur.execute(
            "SELECT id, significance, story_time, kind, turn_id, speaker, dates, text "
            f"FROM {Memory._meta.db_table} WHERE id IN ({marks})",
            ids,
        )
        return {row[0]: _Row(*row) for row in cur.fetchall()}


def _newest(chat_id: int, speaker: str) -> int:
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT max(id) FROM {Memory._meta.db_table} WHERE chat_id = %s AND owner = %s",
            [chat_id, speaker],
        )
        return cur.fetchone()[0] or 0


def _recency(newest: int, mem_id: int) -> float:
    age = max(0, (newest - mem_id) // IDS_PER_EVENT)
    return 1 / (1 + age / 200)


def participants(chat_id: int) -> dict[str, str]:
    """The words of each present or past participant's name -> their role."""
    with connection.cursor() as cur:  # read on every retrieval: plain SQL, not the ORM
        cur.execute(
            f"SELECT role, name FROM {EntityState._meta.db_table} WHERE chat_id = %s", [chat_id]
        )
        rows = cur.fetchall()
    return {
        word: role
        for role, name in rows
        for word in re.findall(r"[^\W_]{3,}", (name or "").lower())
        if word not in _STOP
    }


def embedding_query(chat_id: int, text: str) -> str:
    """A query as its vector should be computed: the participants' names as pronouns. Memory
    vectors leave the speaker's name out (embeddings.embedding_text), so a name in the query
    only pulls towards every short line that happens to mention it (measured on the dev set:
    hybrid R@10 0.695 -> 0.780)."""
    names = participants(chat_id)
    if not names:
        return text
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    pattern = re.compile(rf"\b({alternatives})('s|’s)?\b", re.IGNORECASE)
    return pattern.sub(lambda m: "their" if m.group(2) else "they", text)


@dataclass
class _Query:
    """A question as scoring reads it."""

    text: str
    words: list[str]  # for the lexical pass: without the participants' names
    named: set[str]  # roles whose participant the question names
    names: set[str]  # the participants' name words
    months: set[int]
    days: list[tuple[int | None, int, int]]
    periods: list[tuple[int, range]]


def read_query(chat_id: int, query: str) -> _Query:
    names = participants(chat_id)
    words = query_words(query)
    return _Query(
        text=query,
        # every dialogue line starts with its speaker's name: a participant's name matches
        # half the store and ties every short line at the top
        words=[w for w in words if w not in names],
        named={names[w] for w in words if w in names},
        names=set(names),
        months=query_months(query),
        days=dates.query_days(query),
        periods=dates.query_periods(query),
    )


SPARE = 8  # winners read beyond k, in case the final witness re-check drops any


def retrieve(
    chat_id: int,
    speaker: str,
    query: str,
    *,
    k: int,
    mode: str = "hybrid",
    query_vector: np.ndarray | None = None,
    exclude_turns: set[int] = frozenset(),
    exclude_ids: set[int] = frozenset(),
    facing_you: bool = False,
) -> list[Retrieved]:
    if speaker not in (HOST, GUEST):
        raise ValueError("only bots retrieve memories")
    if mode not in MODES:
        raise ValueError(f"mode is one of {', '.join(MODES)}")
    character = speaker_character(chat_id, speaker)

    def keep(mem: Memory | _Row) -> bool:
        return mem.id not in exclude_ids and mem.turn_id not in exclude_turns

    if mode == "recent":
        with known_characters(chat_id, {speaker: character}):
            visible = visible_to(chat_id, speaker, facing_you=facing_you)
            rows = visible.order_by("-id")[: k + len(exclude_ids) + len(exclude_turns)]
            return [Retrieved(m, 0.0, "recent") for m in rows if keep(m)][:k]
    scored = candidates(
        chat_id,
        speaker,
        query,
        mode=mode,
        query_vector=query_vector,
        facing_you=facing_you,
        keep=keep,
        character=character,
        limit=k + SPARE,
    )
    # the winners' rows, through the witness filter once more
    ordered = sorted(scored, key=lambda i: scored[i][0], reverse=True)[: k + SPARE]
    mems = _visible_rows(chat_id, speaker, character, facing_you, ordered)
    return [Retrieved(mems[i], *scored[i]) for i in ordered if i in mems][:k]


_COLUMNS = [f.column for f in Memory._meta.concrete_fields]
_FIELDS = [f.attname for f in Memory._meta.concrete_fields]


def _visible_rows(chat_id, speaker, character, facing_you, ids) -> dict[int, Memory]:
    """The rows of ``ids`` the speaker may recall, read in one plain query (building the ORM
    query took a quarter of a retrieval)."""
    if not ids:
        return {}
    clause, params = visible_sql(chat_id, speaker, character, facing_you=facing_you)
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM {Memory._meta.db_table} "
            f"WHERE id IN ({marks}) AND {clause}",
            [*ids, *params],
        )
        found = [Memory.from_db(connection.alias, _FIELDS, row) for row in cur.fetchall()]
    return {mem.id: mem for mem in found}


def candidates(
    chat_id: int,
    speaker: str,
    query: str,
    *,
    mode: str = "hybrid",
    query_vector: np.ndarray | None = None,
    facing_you: bool = False,
    keep=None,
    character: int | None = None,
    limit: int = CANDIDATES,
) -> dict[int, tuple[float, str]]:
    """Memory id -> (score, why) for the best ``limit`` candidates of every pass, before
    ``retrieve`` re-reads the winners through the witness rule: each pass filters on its own."""
    if character is None:
        character = speaker_character(chat_id, speaker)
    scope = _Scope(chat_id, speaker, character, facing_you, keep or (lambda row: True))
    return _score(scope, read_query(chat_id, query), mode, query_vector, limit)


@dataclass
class _Scope:
    """Whose memories a retrieval may read: every candidate query below is built from it."""

    chat_id: int
    speaker: str
    character: int | None
    facing_you: bool
    keep: object  # (row) -> bool: the caller's exclusions

    def sql(self) -> tuple[str, list]:
        """The witness filter as a WHERE clause over the memory table."""
        return visible_sql(self.chat_id, self.speaker, self.character, facing_you=self.facing_you)


def _score(
    scope: _Scope, q: _Query, mode: str, query_vector, limit: int = CANDIDATES
) -> dict[int, tuple[float, str]]:
    """Memory id -> (score, why) for the candidates of the mode."""
    lists = []
    if mode in ("hybrid", "lexical"):
        floor = LEXICAL_FLOOR if mode == "hybrid" else 0.0
        lists.append(("lexical", _lexical(scope, q.words, floor), LEXICAL_WEIGHT))
    if mode in ("hybrid", "vector"):
        lists.append(("vector", _vector(scope, query_vector), VECTOR_WEIGHT))
    if mode == "hybrid" and q.days:
        lists.append(("date", _dated(scope, q.days), DATE_WEIGHT))
    ranks: dict[int, list[str]] = {}
    score: dict[int, float] = {}
    for name, ranked, weight in lists:
        for mem_id, rank in ranked:
            score[mem_id] = score.get(mem_id, 0.0) + weight / (RRF_K + rank)
            ranks.setdefault(mem_id, []).append(f"{name} #{rank + 1}")
    if not score:
        return {}
    rows = _rows(list(score))
    if mode != "hybrid":  # one list: its own order
        ordered = [i for i, _ in lists[0][1] if i in rows and scope.keep(rows[i])]
        return {i: (1.0 / (1 + n), ", ".join(ranks[i])) for n, i in enumerate(ordered)}

    newest = _newest(scope.chat_id, scope.speaker)
    results = _boosted(score, ranks, rows, q, newest, scope.keep)
    if SECOND_PASS:
        _second_pass(scope, q, results, rows, newest)
    best = sorted(results, key=lambda i: results[i][0], reverse=True)[:NEIGHBOUR_TOP]
    turns = [i for i in best if rows[i].kind == Memory.Kind.TURN]
    _add_neighbours(scope, turns, results, rows)
    return _distinct(results, rows, limit) if DISTINCT else results


def _distinct(results, rows, limit: int) -> dict[int, tuple[float, str]]:
    """The best ``limit`` memories, one per wording: the same line said again ("Ha, nice.")
    only takes the place of something else the bot could have recalled."""
    kept: dict[int, tuple[float, str]] = {}
    seen: set[str] = set()
    for mem_id in sorted(results, key=lambda i: results[i][0], reverse=True):
        row = rows.get(mem_id)
        wording = " ".join(re.findall(r"[^\W_]+", row.text.lower())) if row else str(mem_id)
        if wording not in seen:
            seen.add(wording)
            kept[mem_id] = results[mem_id]
            if len(kept) >= limit:
                break
    return kept


def _lexical(scope: _Scope, words: list[str], floor: float) -> list[tuple[int, int]]:
    return lexical_candidates(
        scope.chat_id,
        scope.speaker,
        "",
        facing_you=scope.facing_you,
        floor=floor,
        words=words,
    )


def _vector(scope: _Scope, query_vector) -> list[tuple[int, int]]:
    return vector_candidates(
        scope.chat_id, scope.speaker, query_vector, facing_you=scope.facing_you
    )


def _dated(scope: _Scope, days: list[tuple[int | None, int, int]]) -> list[tuple[int, int]]:
    """Memories that speak of a day the question names (their resolved relative dates), the
    newest first; all share rank 0 (a date names them equally)."""
    clause, params = scope.sql()
    likes = []
    for year, month, day in days[:4]:
        likes.append("dates LIKE %s")
        params.append(
            f"%{year or ''}-{month:02d}-{day:02d}%" if year else f"%-{month:02d}-{day:02d}%"
        )
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT id FROM {Memory._meta.db_table} WHERE {clause} AND ({' OR '.join(likes)}) "
            "ORDER BY id DESC LIMIT %s",
            [*params, CANDIDATES],
        )
        return [(row[0], 0) for row in cur.fetchall()]


_PUNCT = ".,!?;:'\"()…-"


def _content_words(row: _Row) -> int:
    text = (
        row.text.split(": ", 1)[1]
        if row.kind == Memory.Kind.TURN and ": " in row.text
        else row.text
    )
    # str.split, not a regex: this runs for every candidate
    words = (w.strip(_PUNCT) for w in text.lower().split())
    return sum(1 for w in words if len(w) >= 3 and w not in _STOP)


def _boost(row: _Row, q: _Query, newest: int) -> tuple[float, list[str]]:
    """The multiplier of a candidate's fused score, and the reasons for the prompt inspector."""
    value = (1 + RECENCY_WEIGHT * _recency(newest, row.id)) * (
        1 + SIGNIFICANCE_WEIGHT * row.significance
    )
    why = []
    said = row.story_time[:10]
    spoken = [said, *row.dates.split()]
    if q.months and any(d[5:7].isdigit() and int(d[5:7]) in q.months for d in spoken if d):
        value *= TEMPORAL_BOOST
        why.append("date named in the question")
    if q.days and any(_same_day(d, q.days) for d in row.dates.split()):
        value *= DAY_BOOST
        why.append("the day named in the question")
    if q.periods and any(_in_period(d, q.periods) for d in spoken if d):
        value *= PERIOD_BOOST
        why.append("in the period named")
    if q.named and row.speaker in q.named:
        value *= SPEAKER_BOOST
        why.append("said by the person named")
    words = _content_words(row)
    if words < SHORT_WORDS:
        value *= SHORT_FLOOR + (1 - SHORT_FLOOR) * words / SHORT_WORDS
    return value, why


def _same_day(iso: str, days: list[tuple[int | None, int, int]]) -> bool:
    parsed = dates.parse_day(iso)
    return parsed is not None and any(
        (y is None or y == parsed.year) and m == parsed.month and d == parsed.day
        for y, m, d in days
    )


def _in_period(iso: str, periods: list[tuple[int, range]]) -> bool:
    parsed = dates.parse_day(iso)
    return parsed is not None and any(
        m == parsed.month and parsed.day in days for m, days in periods
    )


def _boosted(score, ranks, rows, q: _Query, newest: int, keep) -> dict[int, tuple[float, str]]:
    results: dict[int, tuple[float, str]] = {}
    for mem_id, base in score.items():
        row = rows.get(mem_id)
        if row is None or not keep(row):
            continue
        factor, why = _boost(row, q, newest)
        results[mem_id] = (base * factor, ", ".join(ranks[mem_id] + why))
    return results


def expansion_words(texts: list[str], q: _Query) -> list[str]:
    """Names in the best first-pass hits that the question did not say: the link a two-step
    question leaves out ("the relative who gave Dan the camera" -> Rafael -> where Rafael
    lives). Capitalised words that are not the first of a sentence (unless the same word is
    capitalised mid-sentence too); the participants' own names say nothing new."""
    asked = set(q.words)
    starts: set[str] = set()
    inner: list[str] = []
    for text in texts:
        for match in re.finditer(r"\b[A-Z][^\W_]{2,}", text):
            before = text[: match.start()].rstrip()
            word = match.group().lower()
            if not before or before[-1] in ".!?:":
                starts.add(word)
            elif word not in inner:
                inner.append(word)
    found = [
        w
        for w in inner
        if w not in _STOP and w not in asked and w not in q.names and w not in _INTERJECTIONS
    ]
    return found[:EXPANSION_MAX]


def _second_pass(scope: _Scope, q: _Query, results, rows, newest: int) -> None:
    """A lexical pass over the expansion words of the best hits, fused in at a lower weight
    (witness-filtered like the first: the same candidate query)."""
    best = sorted(results, key=lambda i: results[i][0], reverse=True)[:SECOND_PASS_TOP]
    words = expansion_words([rows[i].text for i in best], q)
    if not words:
        return
    found = _lexical(scope, words, LEXICAL_FLOOR)
    more = _rows([i for i, _ in found if i not in rows])
    rows.update(more)
    for mem_id, rank in found:
        row = rows.get(mem_id)
        if row is None or not scope.keep(row):
            continue
        factor, why = _boost(row, q, newest)
        add = SECOND_WEIGHT / (RRF_K + rank) * factor
        old = results.get(mem_id)
        if old is None:
            results[mem_id] = (add, ", ".join([f"second pass #{rank + 1}", *why]))
        else:
            results[mem_id] = (old[0] + add, old[1] + f", second pass #{rank + 1}")


def _add_neighbours(scope: _Scope, turns: list[int], results, rows) -> None:
    """The turn before and after each top turn memory, at a share of its score (one query for
    the neighbours' ids, one for their rows)."""
    if not turns:
        return
    clause, base = scope.sql()
    clause += " AND kind = 'turn'"
    params: list = []
    parts = []
    for mem_id in turns:
        parts.append(f"(SELECT max(id) FROM {Memory._meta.db_table} WHERE {clause} AND id < %s)")
        parts.append(f"(SELECT min(id) FROM {Memory._meta.db_table} WHERE {clause} AND id > %s)")
        params += [*base, mem_id, *base, mem_id]
    with connection.cursor() as cur:
        cur.execute("SELECT " + ", ".join(parts), params)
        ids = cur.fetchone()
    near_rows = _rows(ids)
    rows.update(near_rows)
    for n, mem_id in enumerate(turns):
        for near_id in ids[2 * n : 2 * n + 2]:
            near = near_rows.get(near_id)
            if near is None or not scope.keep(near):
                continue
            share = results[mem_id][0] * NEIGHBOUR_SHARE
            found = results.get(near_id)
            if found is None or found[0] < share:
                why = (found[1] + ", " if found else "") + f"next to memory {mem_id}"
                results[near_id] = (share, why)
