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


FLOATS = "memory_vecfloat"


def create_sql(dims: int) -> list[str]:
    """The vec0 table holds a binary-quantised vector per memory for the KNN pass, the bot's
    store as partition key (chat:owner:character) and the witness bits, seal and kind as
    metadata, filtered inside the KNN query. The full-precision vectors that rerank the
    candidates sit beside it in a plain table (point lookups in vec0 are slow)."""
    forget = (
        f"DELETE FROM {TABLE} WHERE memory_id = old.id; "
        f"DELETE FROM {FLOATS} WHERE memory_id = old.id;"
    )
    return [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING vec0("
        f"memory_id integer primary key, qbits bit[{dims}], scope text partition key, "
        "w_you integer, w_host integer, w_guest integer, sealed integer, facing_ok integer, "
        "kind text)",
        f"CREATE TABLE IF NOT EXISTS {FLOATS} (memory_id INTEGER PRIMARY KEY, "
        "embedding BLOB NOT NULL)",
        # the mirror of the witness constraint, kept in step with the memory rows
        f"CREATE TRIGGER IF NOT EXISTS memory_vec_mirror AFTER UPDATE OF w_you, w_host, "
        f"w_guest, sealed, kind ON memory_memory BEGIN "
        f"UPDATE {TABLE} SET w_you = new.w_you, w_host = new.w_host, w_guest = new.w_guest, "
        "sealed = new.sealed, facing_ok = NOT (new.kind = 'turn' AND new.w_you = 0), "
        "kind = new.kind WHERE memory_id = new.id; END",
        # a memory that changes store or text gets a new vector (index_pending)
        f"CREATE TRIGGER IF NOT EXISTS memory_vec_move AFTER UPDATE OF owner, character_id "
        f"ON memory_memory WHEN old.owner IS NOT new.owner "
        f"OR old.character_id IS NOT new.character_id BEGIN {forget} END",
        f"CREATE TRIGGER IF NOT EXISTS memory_vec_forget AFTER DELETE ON memory_memory "
        f"BEGIN {forget} END",
        f"CREATE TRIGGER IF NOT EXISTS memory_vec_retext AFTER UPDATE OF text ON memory_memory "
        f"WHEN old.text IS NOT new.text BEGIN {forget} END",
    ]


def scope(chat_id: int, owner: str, character_id: int | None) -> str:
    return f"{chat_id}:{owner}:{character_id or 0}"


DROP = [
    f"DROP TABLE IF EXISTS {FLOATS}",
    "DROP TRIGGER IF EXISTS memory_vec_mirror",
    "DROP TRIGGER IF EXISTS memory_vec_move",
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
                blob = vec.astype(np.float32).tobytes()
                cur.execute(
                    f"INSERT OR REPLACE INTO {TABLE}(memory_id, qbits, scope, w_you, w_host, "
                    "w_guest, sealed, facing_ok, kind) "
                    "VALUES (%s, vec_quantize_binary(%s), %s, %s, %s, %s, %s, %s, %s)",
                    [
                        mem.id,
                        blob,
                        scope(mem.chat_id, mem.owner, mem.character_id),
                        int(mem.w_you),
                        int(mem.w_host),
                        int(mem.w_guest),
                        int(mem.sealed),
                        int(not (mem.kind == "turn" and not mem.w_you)),
                        mem.kind,
                    ],
                )
                cur.execute(
                    f"INSERT OR REPLACE INTO {FLOATS}(memory_id, embedding) VALUES (%s, %s)",
                    [mem.id, blob],
                )
        done += len(rows)
        if progress is not None:
            progress(len(rows))
    return done


RERANK = 4  # the binary pass keeps this many times k for the exact rerank (at least 64)


def knn(
    chat_id: int,
    speaker: str,
    character_id: int | None,
    vector: np.ndarray,
    *,
    k: int,
    facing_you: bool = False,
) -> list[tuple[int, float]]:
    """(memory id, cosine distance), nearest first.

    The bot's store is the partition and its witness bit a metadata filter, both inside the
    KNN query, so k results come back however many neighbours belong to others. A
    binary-quantised pass finds candidates; their full-precision vectors rerank them.
    """
    facing = "AND facing_ok = 1 " if facing_you else ""
    query = vector.astype(np.float32)
    sql = (
        f"SELECT memory_id FROM {TABLE} WHERE qbits MATCH vec_quantize_binary(%s) AND k = %s "
        f"AND scope = %s AND w_{speaker} = 1 AND sealed = 0 {facing}"
    )
    with connection.cursor() as cur:
        cur.execute(
            sql, [query.tobytes(), max(64, RERANK * k), scope(chat_id, speaker, character_id)]
        )
        ids = [row[0] for row in cur.fetchall()]
        if not ids:
            return []
        marks = ", ".join(["%s"] * len(ids))
        cur.execute(f"SELECT memory_id, embedding FROM {FLOATS} WHERE memory_id IN ({marks})", ids)
        rows = cur.fetchall()
    found = np.array([r[0] for r in rows])
    matrix = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), -1)
    norms = np.linalg.norm(matrix, axis=1) * (np.linalg.norm(query) or 1.0)
    distance = 1.0 - (matrix @ query) / np.where(norms == 0, 1, norms)
    order = np.argsort(distance, kind="stable")[:k]
    return [(int(found[i]), float(distance[i])) for i in order]
