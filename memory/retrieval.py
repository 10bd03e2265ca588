"""Retrieval over a speaker's witnessed memories.

Lexical candidates come from FTS5 with the owner and witness constraint inside the same
query (never a LIMIT before the filter). Each candidate's score:

    score = relevance                                     # bm25 / best bm25 of the query, 0..1
            * (1 + RECENCY_WEIGHT * recency)              # recency = 1 / (1 + age / 200)
            * (1 + SIGNIFICANCE_WEIGHT * significance)    # significance 0..3

where ``age`` is how many events ago the memory was written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import connection

from memory.models import Memory
from memory.selectors import speaker_character, visible_to

RECENCY_WEIGHT = 0.5
SIGNIFICANCE_WEIGHT = 0.25
CANDIDATES = 50

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
    ]
)


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
    chat_id: int, speaker: str, query: str, limit: int = CANDIDATES, *, facing_you: bool = False
):
    """(memory id, relevance 0..1) pairs, best first, witness-filtered inside the query."""
    match = fts_query(query)
    if not match:
        return []
    # Facing you, dialogue you did not witness reaches a prompt only through its digest.
    unwitnessed = "AND NOT (m.kind = 'turn' AND m.w_you = 0) " if facing_you else ""
    sql = (
        "SELECT m.id, bm25(memory_fts) FROM memory_fts "
        "JOIN memory_memory m ON m.id = memory_fts.rowid "
        f"WHERE memory_fts MATCH %s AND m.chat_id = %s AND m.owner = %s AND m.w_{speaker} = 1 "
        f"AND m.character_id IS %s AND m.sealed = 0 {unwitnessed}"
        "ORDER BY bm25(memory_fts) LIMIT %s"
    )
    with connection.cursor() as cur:
        cur.execute(sql, [match, chat_id, speaker, speaker_character(chat_id, speaker), limit])
        rows = cur.fetchall()
    if not rows:
        return []
    best = min(r[1] for r in rows) or -1e-9  # bm25 is negative: lower is better
    return [(mem_id, (score / best) if best else 1.0) for mem_id, score in rows]


def retrieve(
    chat_id: int,
    speaker: str,
    query: str,
    *,
    k: int,
    exclude_turns: set[int] = frozenset(),
    exclude_ids: set[int] = frozenset(),
    facing_you: bool = False,
) -> list[Retrieved]:
    if speaker not in ("host", "guest"):
        raise ValueError("only bots retrieve memories")
    ranked = lexical_candidates(chat_id, speaker, query, facing_you=facing_you)
    if not ranked:
        return []
    ids = [i for i, _ in ranked]
    mems = {m.id: m for m in visible_to(chat_id, speaker).filter(id__in=ids)}
    newest = visible_to(chat_id, speaker).order_by("-id").values_list("id", flat=True).first() or 0
    results = []
    for mem_id, relevance in ranked:
        mem = mems.get(mem_id)
        if mem is None or mem.id in exclude_ids or (mem.turn_id in exclude_turns):
            continue
        age = max(0, (newest - mem.id) // 64)  # memory ids step by event: an event-count age
        recency = 1 / (1 + age / 200)
        score = (
            relevance
            * (1 + RECENCY_WEIGHT * recency)
            * (1 + SIGNIFICANCE_WEIGHT * mem.significance)
        )
        results.append(Retrieved(mem, score, f"lexical match {relevance:.2f}"))
    results.sort(key=lambda r: r.score, reverse=True)
    return results[:k]
