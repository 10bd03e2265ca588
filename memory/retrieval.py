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
from dataclasses import dataclass

import numpy as np
from django.db import connection

from memory import fts
from memory.models import IDS_PER_EVENT, Memory
from memory.selectors import speaker_character, visible_to

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


def fts_query(text: str) -> str:
    words = [w for w in re.findall(r"[^\W_]{3,}", text.lower()) if w not in _STOP]
    unique = list(dict.fromkeys(words))[:24]
    return " OR ".join(f'"{w}"' for w in unique)


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
    match = fts_query(query)
    if not match:
        return []
    # Facing you, dialogue you did not witness reaches a prompt only through its digest.
    unwitnessed = "AND NOT (m.kind = 'turn' AND m.w_you = 0) " if facing_you else ""
    scope = fts.scope(chat_id, speaker, speaker_character(chat_id, speaker))
    # The scope token keeps FTS to this bot's store; CROSS JOIN keeps FTS the outer loop.
    sql = (
        "SELECT m.id, round(bm25(memory_fts, 1.0, 0.0), 6) FROM memory_fts "
        "CROSS JOIN memory_memory m ON m.id = memory_fts.rowid "
        f"WHERE memory_fts MATCH %s AND m.chat_id = %s AND m.owner = %s AND m.w_{speaker} = 1 "
        f"AND m.sealed = 0 {unwitnessed}"
        "ORDER BY bm25(memory_fts, 1.0, 0.0) LIMIT %s"
    )
    with connection.cursor() as cur:
        cur.execute(sql, [f"scope:{scope} AND ({match})", chat_id, speaker, limit])
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
    from memory.vectors import knn

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


def _recency(newest: int, mem: Memory) -> float:
    age = max(0, (newest - mem.id) // IDS_PER_EVENT)
    return 1 / (1 + age / 200)


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
    if speaker not in ("host", "guest"):
        raise ValueError("only bots retrieve memories")
    if mode not in MODES:
        raise ValueError(f"mode is one of {', '.join(MODES)}")
    visible = visible_to(chat_id, speaker)
    if facing_you:
        visible = visible.exclude(kind=Memory.Kind.TURN, w_you=False)

    def keep(mem: Memory) -> bool:
        return mem.id not in exclude_ids and mem.turn_id not in exclude_turns

    if mode == "recent":
        rows = (m for m in visible.order_by("-id")[: k + len(exclude_ids) + len(exclude_turns)])
        return [Retrieved(m, 0.0, "recent") for m in rows if keep(m)][:k]

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
        return []
    mems = {m.id: m for m in visible.filter(id__in=list(score))}
    if mode != "hybrid":
        ordered = [i for i, _ in (lexical or vector) if i in mems and keep(mems[i])]
        return [Retrieved(mems[i], score[i], ", ".join(ranks[i])) for i in ordered[:k]]

    newest = visible.order_by("-id").values_list("id", flat=True).first() or 0
    months = query_months(query)
    results: dict[int, Retrieved] = {}
    for mem_id, base in score.items():
        mem = mems.get(mem_id)
        if mem is None or not keep(mem):
            continue
        value = (
            base
            * (1 + RECENCY_WEIGHT * _recency(newest, mem))
            * (1 + SIGNIFICANCE_WEIGHT * mem.significance)
        )
        why = ", ".join(ranks[mem_id])
        if months and mem.story_time[5:7].isdigit() and int(mem.story_time[5:7]) in months:
            value *= TEMPORAL_BOOST
            why += ", date named in the question"
        results[mem_id] = Retrieved(mem, value, why)
    best = sorted(results.values(), key=lambda r: r.score, reverse=True)
    _add_neighbours(best[:NEIGHBOUR_TOP], results, visible, keep)
    return sorted(results.values(), key=lambda r: r.score, reverse=True)[:k]


def _add_neighbours(top: list[Retrieved], results: dict[int, Retrieved], visible, keep) -> None:
    """The turn before and after each top turn memory, at a share of its score (one query for
    the neighbours' ids, one for the rows)."""
    turns = [hit for hit in top if hit.memory.kind == Memory.Kind.TURN]
    if not turns:
        return
    mem = turns[0].memory
    scope = (
        f"chat_id = %s AND owner = %s AND character_id IS %s AND w_{mem.owner} = 1 "
        "AND sealed = 0 AND kind = 'turn'"
    )
    params: list = []
    parts = []
    for hit in turns:
        base = [mem.chat_id, mem.owner, mem.character_id]
        parts.append(f"(SELECT max(id) FROM memory_memory WHERE {scope} AND id < %s)")
        parts.append(f"(SELECT min(id) FROM memory_memory WHERE {scope} AND id > %s)")
        params += [*base, hit.memory.id, *base, hit.memory.id]
    with connection.cursor() as cur:
        cur.execute("SELECT " + ", ".join(parts), params)
        ids = cur.fetchone()
    near_rows = {m.id: m for m in visible.filter(id__in=[i for i in ids if i])}
    for n, hit in enumerate(turns):
        for near_id in ids[2 * n : 2 * n + 2]:
            near = near_rows.get(near_id)
            if near is None or not keep(near):
                continue
            share = hit.score * NEIGHBOUR_SHARE
            found = results.get(near.id)
            if found is None or found.score < share:
                why = (found.why + ", " if found else "") + f"next to memory {hit.memory.id}"
                results[near.id] = Retrieved(near, share, why)
