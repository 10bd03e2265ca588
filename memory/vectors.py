"""The sqlite-vec index of memory vectors, in the same file as everything else.

``memory_vec`` is a vec0 table whose metadata columns mirror each memory's owner, character,
witness bits and seal, so the witness constraint is applied *inside* the KNN query. Triggers
on ``memory_memory`` keep those columns in step and drop a vector when its memory goes or its
text changes; ``index_pending`` embeds (from the cache when it can) what has no vector yet.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
from django.db import connection, transaction

log = logging.getLogger("rp.vectors")

TABLE = "memory_vec"
DEFAULT_DIMS = 384


def create_sql(dims: int) -> list[str]:
    return [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING vec0("
        f"memory_id integer primary key, embedding float[{dims}] distance_metric=cosine, "
        "chat_id integer partition key, owner text, character_id integer, w_you integer, "
        "w_host integer, w_guest integer, sealed integer, facing_ok integer, kind text)",
        # the mirror of the witness constraint, kept in step with the memory rows
        f"CREATE TRIGGER IF NOT EXISTS memory_vec_mirror AFTER UPDATE OF owner, character_id, "
        f"w_you, w_host, w_guest, sealed, kind ON memory_memory BEGIN "
        f"UPDATE {TABLE} SET owner = new.owner, character_id = coalesce(new.character_id, 0), "
        "w_you = new.w_you, w_host = new.w_host, w_guest = new.w_guest, sealed = new.sealed, "
        "facing_ok = NOT (new.kind = 'turn' AND new.w_you = 0), kind = new.kind "
        "WHERE memory_id = new.id; END",
        f"CREATE TRIGGER IF NOT EXISTS memory_vec_forget AFTER DELETE ON memory_memory BEGIN "
        f"DELETE FROM {TABLE} WHERE memory_id = old.id; END",
        f"CREATE TRIGGER IF NOT EXISTS memory_vec_retext AFTER UPDATE OF text ON memory_memory "
        f"WHEN old.text IS NOT new.text BEGIN DELETE FROM {TABLE} WHERE memory_id = old.id; END",
    ]


DROP = [
    "DROP TRIGGER IF EXISTS memory_vec_mirror",
    "DROP TRIGGER IF EXISTS memory_vec_forget",
    "DROP TRIGGER IF EXISTS memory_vec_retext",
    f"DROP TABLE IF EXISTS {TABLE}",
]


def ensure(conn=None, dims: int | None = None) -> None:
    conn = conn or connection
    with conn.cursor() as cur:
        for sql in create_sql(dims or current_dims()):
            cur.execute(sql)


def current_dims() -> int:
    from memory.models import VectorIndexState

    state = VectorIndexState.objects.order_by("-pk").first()
    return state.dims if state else DEFAULT_DIMS


def pending_ids(chat_id: int | None = None, limit: int = 100_000) -> list[int]:
    """Memories that have no vector yet."""
    sql = (
        f"SELECT m.id FROM memory_memory m WHERE NOT EXISTS "
        f"(SELECT 1 FROM {TABLE} v WHERE v.memory_id = m.id)"
    )
    params: list = []
    if chat_id is not None:
        sql += " AND m.chat_id = %s"
        params.append(chat_id)
    sql += " ORDER BY m.id LIMIT %s"
    params.append(limit)
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return [row[0] for row in cur.fetchall()]


def index_pending(
    chat_id: int | None = None, *, batch: int = 256, progress: Callable[[int], None] | None = None
) -> int:
    """Embed (cache first) and index every memory without a vector. Returns how many."""
    from memory.embeddings import embed_cached, get_embedder
    from memory.models import Memory

    embedder = get_embedder()
    ids = pending_ids(chat_id)
    done = 0
    for start in range(0, len(ids), batch):
        rows = list(Memory.objects.filter(pk__in=ids[start : start + batch]).order_by("id"))
        vectors = embed_cached([m.text for m in rows], embedder)
        with transaction.atomic(), connection.cursor() as cur:
            for mem, vec in zip(rows, vectors, strict=True):
                cur.execute(
                    f"INSERT OR REPLACE INTO {TABLE}(memory_id, embedding, chat_id, owner, "
                    "character_id, w_you, w_host, w_guest, sealed, facing_ok, kind) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    [
                        mem.id,
                        vec.astype(np.float32).tobytes(),
                        mem.chat_id,
                        mem.owner,
                        mem.character_id or 0,
                        int(mem.w_you),
                        int(mem.w_host),
                        int(mem.w_guest),
                        int(mem.sealed),
                        int(not (mem.kind == "turn" and not mem.w_you)),
                        mem.kind,
                    ],
                )
        done += len(rows)
        if progress is not None:
            progress(len(rows))
    return done


def knn(
    chat_id: int,
    speaker: str,
    character_id: int | None,
    vector: np.ndarray,
    *,
    k: int,
    facing_you: bool = False,
) -> list[tuple[int, float]]:
    """(memory id, cosine distance), nearest first: the witness constraint is part of the
    KNN query itself, so k results come back however many neighbours belong to others."""
    facing = "AND facing_ok = 1 " if facing_you else ""
    sql = (
        f"SELECT memory_id, distance FROM {TABLE} WHERE embedding MATCH %s AND k = %s "
        f"AND chat_id = %s AND owner = %s AND character_id = %s AND w_{speaker} = 1 "
        f"AND sealed = 0 {facing}ORDER BY distance"
    )
    with connection.cursor() as cur:
        cur.execute(
            sql, [vector.astype(np.float32).tobytes(), k, chat_id, speaker, character_id or 0]
        )
        return [(row[0], row[1]) for row in cur.fetchall()]
