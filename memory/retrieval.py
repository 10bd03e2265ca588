"""Retrieval over a speaker's witnessed memories: lexical (FTS5), vector (sqlite-vec) and
their fusion. Every candidate query carries the owner and witness constraint inside it (never
a LIMIT before the filter); ``visible_to`` re-checks the rows it returns.

Hybrid score of a memory:

    rrf       = 1 / (60 + lexical_rank) + 1 / (60 + vector_rank)   # a list it is missing from
                                                                     # adds nothing
    score     = rrf
                * (1 + RECENCY_WEIGHT * recency)          # recency = 1 / (1 + age / 200)
                * (1 + SIGNIFICANCE_WEIGHT * significance) # significance 0..3
                * (TEMPORAL_BOOST if the query names the memory's month or date, else 1)

``age`` is how many events ago the memory was written. Then each of the best few turn
memories brings its neighbouring turns (the line before and after, scored NEIGHBOUR_SHARE of
it): answers often sit in the reply to the line that matched.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from django.db import connection

from memory import fts
from memory.models import IDS_PER_EVENT, Memory
from memory.selectors import known_characters, speaker_character, visible_to
from memory.vectors import knn
from worlds.roles import GUEST, HOST

# Tuned on memory/fixtures/memory_eval_example.json (manage.py eval_memory): a sharp rank
# fusion, lexical matches only while they are at least half as strong as the best one (a
# rare name counts, a common word does not), and the vector list weighted above the lexical.
RRF_K = 2
LEXICAL_FLOOR = 0.5
LEXICAL_WEIGHT = 0.7
VECTOR_WEIGHT = 1.0
RECENCY_WEIGHT = 0.1
SIGNIFICANCE_WEIGHT = 0.25
TEMPORAL_BOOST = 1.5
NEIGHBOUR_SHARE = 0.3
NEIGHBOUR_TOP = 3
CANDIDATES = 50
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
    ]
)
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        [
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ]
    )
}
_MONTHS.update({m[:3]: n for m, n in list(_MONTHS.items())})


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
            cur.execute("SELECT count(*) FROM memory_memory")
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
) -> list[tuple[int, int]]:
    """(memory id, rank) best bm25 first, witness-filtered inside the query; equal scores
    share a rank, so recency and significance decide between identical matches."""
    words = query_words(query)
    common = common_words(words)
    match = fts_query([w for w in words if w not in common])
    if not match:
        return []
    # The token names the speaker's own store, its witness bit set and nothing sealed (and,
    # facing you, no dialogue you did not witness: that reaches you only through a digest).
    token = fts.visible_scope(
        chat_id, speaker, speaker_character(chat_id, speaker), facing_you=facing_you
    )
    sql = (
        "SELECT rowid, round(bm25(memory_fts, 1.0, 0.0), 6) FROM memory_fts "
        "WHERE memory_fts MATCH %s ORDER BY bm25(memory_fts, 1.0, 0.0) LIMIT %s"
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
    months = {n for word, n in _MONTHS.items() if re.search(rf"\b{word}\b", lowered)}
    months |= {int(m) for m in re.findall(r"\b\d{4}-(\d{2})(?:-\d{2})?\b", lowered)}
    return months


class _Row(NamedTuple):
    """What scoring needs of a candidate (the full rows are read for the winners only)."""

    id: int
    significance: int
    story_time: str
    kind: str
    turn_id: int | None


def _rows(ids) -> dict[int, _Row]:
    ids = [i for i in ids if i]
    if not ids:
        return {}
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cur:
        cur.execute(
            "SELECT id, significance, story_time, kind, turn_id FROM memory_memory "
            f"WHERE id IN ({marks})",
            ids,
        )
        return {row[0]: _Row(*row) for row in cur.fetchall()}


def _newest(chat_id: int, speaker: str) -> int:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT max(id) FROM memory_memory WHERE chat_id = %s AND owner = %s",
            [chat_id, speaker],
        )
        return cur.fetchone()[0] or 0


def _recency(newest: int, mem_id: int) -> float:
    age = max(0, (newest - mem_id) // IDS_PER_EVENT)
    return 1 / (1 + age / 200)


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
    with known_characters(chat_id, {speaker: character}):
        visible = visible_to(chat_id, speaker)
        if facing_you:
            visible = visible.exclude(kind=Memory.Kind.TURN, w_you=False)

        def keep(mem: Memory | _Row) -> bool:
            return mem.id not in exclude_ids and mem.turn_id not in exclude_turns

        if mode == "recent":
            rows = visible.order_by("-id")[: k + len(exclude_ids) + len(exclude_turns)]
            return [Retrieved(m, 0.0, "recent") for m in rows if keep(m)][:k]
        scored = _score(chat_id, speaker, character, query, mode, query_vector, facing_you, keep)
        # the winners' rows, through the witness-filtered selector once more
        ordered = sorted(scored, key=lambda i: scored[i][0], reverse=True)[: k + SPARE]
        mems = visible.in_bulk(ordered)
        return [Retrieved(mems[i], *scored[i]) for i in ordered if i in mems][:k]


def _score(chat_id, speaker, character, query, mode, query_vector, facing_you, keep):
    """Memory id -> (score, why) for the candidates of the mode."""
    lexical = (
        lexical_candidates(
            chat_id,
            speaker,
            query,
            facing_you=facing_you,
            floor=LEXICAL_FLOOR if mode == "hybrid" else 0.0,
        )
        if mode in ("hybrid", "lexical")
        else []
    )
    vector = (
        vector_candidates(chat_id, speaker, query_vector, facing_you=facing_you)
        if mode in ("hybrid", "vector")
        else []
    )
    ranks: dict[int, list[str]] = {}
    score: dict[int, float] = {}
    for name, ranked, weight in (
        ("lexical", lexical, LEXICAL_WEIGHT),
        ("vector", vector, VECTOR_WEIGHT),
    ):
        for mem_id, rank in ranked:
            score[mem_id] = score.get(mem_id, 0.0) + weight / (RRF_K + rank)
            ranks.setdefault(mem_id, []).append(f"{name} #{rank + 1}")
    if not score:
        return {}
    rows = _rows(list(score))
    if mode != "hybrid":  # one list: its own order
        ordered = [i for i, _ in (lexical or vector) if i in rows and keep(rows[i])]
        return {i: (1.0 / (1 + n), ", ".join(ranks[i])) for n, i in enumerate(ordered)}

    newest = _newest(chat_id, speaker)
    months = query_months(query)
    results: dict[int, tuple[float, str]] = {}
    for mem_id, base in score.items():
        row = rows.get(mem_id)
        if row is None or not keep(row):
            continue
        value = (
            base
            * (1 + RECENCY_WEIGHT * _recency(newest, mem_id))
            * (1 + SIGNIFICANCE_WEIGHT * row.significance)
        )
        why = ", ".join(ranks[mem_id])
        if months and row.story_time[5:7].isdigit() and int(row.story_time[5:7]) in months:
            value *= TEMPORAL_BOOST
            why += ", date named in the question"
        results[mem_id] = (value, why)
    best = sorted(results, key=lambda i: results[i][0], reverse=True)[:NEIGHBOUR_TOP]
    turns = [i for i in best if rows[i].kind == Memory.Kind.TURN]
    _add_neighbours(chat_id, speaker, character, turns, results, keep, facing_you)
    return results


def _add_neighbours(chat_id, speaker, character, turns, results, keep, facing_you) -> None:
    """The turn before and after each top turn memory, at a share of its score (one query for
    the neighbours' ids, one for their rows)."""
    if not turns:
        return
    scope = (
        f"chat_id = %s AND owner = %s AND character_id IS %s AND w_{speaker} = 1 "
        "AND sealed = 0 AND kind = 'turn'" + (" AND w_you = 1" if facing_you else "")
    )
    base = [chat_id, speaker, character]
    params: list = []
    parts = []
    for mem_id in turns:
        parts.append(f"(SELECT max(id) FROM memory_memory WHERE {scope} AND id < %s)")
        parts.append(f"(SELECT min(id) FROM memory_memory WHERE {scope} AND id > %s)")
        params += [*base, mem_id, *base, mem_id]
    with connection.cursor() as cur:
        cur.execute("SELECT " + ", ".join(parts), params)
        ids = cur.fetchone()
    near_rows = _rows(ids)
    for n, mem_id in enumerate(turns):
        for near_id in ids[2 * n : 2 * n + 2]:
            near = near_rows.get(near_id)
            if near is None or not keep(near):
                continue
            share = results[mem_id][0] * NEIGHBOUR_SHARE
            found = results.get(near_id)
            if found is None or found[0] < share:
                why = (found[1] + ", " if found else "") + f"next to memory {mem_id}"
                results[near_id] = (share, why)
