"""The vector index of memory embeddings, in the same file as everything else.

``memory_vecfloat`` holds each memory's full-precision vector (a cache derived from its text:
replay refills it from the embedding cache). KNN runs over a binary-quantised copy of one
bot's store kept in this process — the sign bit of each dimension, packed, with flags beside
it saying which roles may recall the memory (``memory.witness``) and whether it may face you —
so the witness constraint is applied *inside*
the nearest-neighbour pass, k results come back however many neighbours belong to others, and
the best candidates are reranked by exact cosine (sqlite-vec's ``vec_distance_cosine``) from the
table.

The sign bits are taken of each vector less the store's mean (the query's too): e5's
vectors all lean one way (any two have a cosine near 0.8), so their plain sign bits are
mostly the same for every memory and the binary pass kept the wrong candidates (devset C,
vectors alone, R@10 0.592 against 0.684 exact; centred 0.684; MiniLM's are unaffected).
The mean is taken when a store is loaded, and again once it has doubled since.

The in-process copy follows the database through ``memory_vec_log``: triggers note every
vector added or removed and every change of a memory's witness bits, seal or kind. A query
first reads the log's newest entry; an unchanged log costs one indexed read, a few new entries
update only those rows, and anything it cannot follow (a rolled-back write, a rebuilt index, a
restored file, a pruned log) reloads the store from the tables.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from functools import cache

import numpy as np
from django.db import connection, transaction

from memory import witness
from memory.embeddings import embed_cached, embedding_text, get_embedder
from memory.models import Memory

log = logging.getLogger("rp.vectors")

FLOATS = "memory_vecfloat"
LOG = "memory_vec_log"
DEFAULT_DIMS = 384
LOG_KEEP = 200_000  # log entries kept; a store further behind than that reloads
MEAN_MIN = 64  # a store of fewer rows keeps the mean it has (or none) until it reaches this
RELOAD_AFTER = 20_000  # more changed memories than this since a store's last read: reload

MEMORY = Memory._meta.db_table

# flag bits of each vector's row in the in-process store, beside the bit of each role that
# may recall it (memory.witness.bits)
FACING_OK, GONE = 16, 32


def create_sql(dims: int = DEFAULT_DIMS, *, keys: bool = True) -> list[str]:
    """The vector table, the change log and the triggers that keep both in step with the
    memory rows. ``dims`` is recorded in ``VectorIndexState``; the table takes any width.
    ``keys=False``: the triggers before memories had keys (the migrations before 0015)."""
    note = f"INSERT INTO {LOG}(memory_id, nonce) VALUES"
    forget = f"DELETE FROM {FLOATS} WHERE memory_id = old.id;"
    return [
        f"CREATE TABLE IF NOT EXISTS {FLOATS} (memory_id INTEGER PRIMARY KEY, "
        "embedding BLOB NOT NULL)",
        # every change a copy of the index must follow; the nonce tells a reused seq (after a
        # rollback) from the entry a copy last read
        f"CREATE TABLE IF NOT EXISTS {LOG} (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
        "memory_id INTEGER NOT NULL, nonce INTEGER NOT NULL)",
        f"CREATE TRIGGER IF NOT EXISTS memory_vec_added AFTER INSERT ON {FLOATS} BEGIN "
        f"{note} (new.memory_id, random()); END",
        f"CREATE TRIGGER IF NOT EXISTS memory_vec_removed AFTER DELETE ON {FLOATS} BEGIN "
        f"{note} (old.memory_id, random()); END",
        # the witness constraint's inputs changed: copies re-read this row
        f"CREATE TRIGGER IF NOT EXISTS memory_vec_mirror AFTER UPDATE OF "
        f"{', '.join(witness.COLUMNS)} ON {MEMORY} BEGIN {note} (new.id, random()); END",
        # a memory that changes store or text gets a new vector (index_pending)
        "CREATE TRIGGER IF NOT EXISTS memory_vec_move AFTER UPDATE OF owner, character_id "
        f"ON {MEMORY} WHEN old.owner IS NOT new.owner "
        f"OR old.character_id IS NOT new.character_id BEGIN {forget} END",
        f"CREATE TRIGGER IF NOT EXISTS memory_vec_forget AFTER DELETE ON {MEMORY} "
        f"BEGIN {forget} END",
        # the vector is of the text and its keys (embedding_text): either changing re-embeds
        (
            "CREATE TRIGGER IF NOT EXISTS memory_vec_retext AFTER UPDATE OF text, keys ON "
            f"{MEMORY} WHEN old.text IS NOT new.text OR old.keys IS NOT new.keys "
            f"BEGIN {forget} END"
            if keys
            else "CREATE TRIGGER IF NOT EXISTS memory_vec_retext AFTER UPDATE OF text ON "
            f"{MEMORY} WHEN old.text IS NOT new.text BEGIN {forget} END"
        ),
    ]


DROP = [
    "DROP TRIGGER IF EXISTS memory_vec_added",
    "DROP TRIGGER IF EXISTS memory_vec_removed",
    "DROP TRIGGER IF EXISTS memory_vec_mirror",
    "DROP TRIGGER IF EXISTS memory_vec_move",
    "DROP TRIGGER IF EXISTS memory_vec_forget",
    "DROP TRIGGER IF EXISTS memory_vec_retext",
    f"DROP TABLE IF EXISTS {FLOATS}",
    f"DROP TABLE IF EXISTS {LOG}",
]


def scope(chat_id: int, owner: str, character_id: int | None) -> str:
    """A bot's store: the memories one character holds in one role of one chat."""
    return f"{chat_id}:{owner}:{character_id or 0}"


def ensure(conn=None, dims: int | None = None) -> None:
    conn = conn or connection
    with conn.cursor() as cur:
        for sql in create_sql(dims or DEFAULT_DIMS):
            cur.execute(sql)


def pending_ids(chat_id: int | None = None, limit: int = 100_000) -> list[int]:
    """Memories that have no vector yet."""
    sql = (
        f"SELECT m.id FROM {MEMORY} m WHERE NOT EXISTS "
        f"(SELECT 1 FROM {FLOATS} v WHERE v.memory_id = m.id)"
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


def store_vectors(rows: list[tuple[int, np.ndarray]]) -> None:
    """Write (memory id, vector) pairs, then keep the change log bounded."""
    with connection.cursor() as cur:
        cur.executemany(
            f"INSERT OR REPLACE INTO {FLOATS}(memory_id, embedding) VALUES (%s, %s)",
            [(mem_id, vec.astype(np.float32).tobytes()) for mem_id, vec in rows],
        )
        cur.execute(f"DELETE FROM {LOG} WHERE seq < (SELECT max(seq) FROM {LOG}) - %s", [LOG_KEEP])


def index_pending(
    chat_id: int | None = None, *, batch: int = 256, progress: Callable[[int], None] | None = None
) -> int:
    """Embed (cache first) and index every memory without a vector. Returns how many."""

    embedder = get_embedder()
    ids = pending_ids(chat_id)
    done = 0
    for start in range(0, len(ids), batch):
        rows = list(Memory.objects.filter(pk__in=ids[start : start + batch]).order_by("id"))
        vectors = embed_cached([embedding_text(m.text, m.keys, m.kind) for m in rows], embedder)
        with transaction.atomic():
            store_vectors([(mem.id, vec) for mem, vec in zip(rows, vectors, strict=True)])
        done += len(rows)
        if progress is not None:
            progress(len(rows))
    return done


@cache  # a handful of combinations, one call per row of a loading store
def flags_of(*values) -> int:
    """A row's flags from its values of ``witness.COLUMNS``."""
    recall, facing = witness.bits(dict(zip(witness.COLUMNS, values, strict=True)))
    return recall | (FACING_OK if facing else 0)


def need(speaker: str, *, facing_you: bool = False) -> int:
    """The flags a row holds for ``speaker`` to recall it (and, facing you, to say it)."""
    return witness.role_bit(speaker) | (FACING_OK if facing_you else 0)


def pack(vectors: np.ndarray) -> np.ndarray:
    """Sign bits of each row, packed into 64-bit words (zero-padded to a whole word)."""
    bits = np.packbits(np.atleast_2d(vectors) > 0, axis=1)
    pad = -bits.shape[1] % 8
    if pad:
        bits = np.pad(bits, ((0, 0), (0, pad)))
    return np.ascontiguousarray(bits).view(np.uint64)


class Store:
    """One bot's binary-quantised vectors with their flags, in slots that grow by doubling;
    a removed memory's slot is marked GONE until the next reload."""

    def __init__(self, key: tuple[int, str, int | None], dims: int):
        self.key = key
        self.dims = dims
        self.words = (dims + 63) // 64
        self.size = 0
        self.ids = np.zeros(0, dtype=np.int64)
        self.codes = np.zeros((self.words, 0), dtype=np.uint64)  # one row per word: contiguous
        self.flags = np.zeros(0, dtype=np.uint8)
        self.slot: dict[int, int] = {}
        self.mean = np.zeros(dims, dtype=np.float32)  # what the sign bits are taken around
        self.mean_of = 0  # how many rows that mean was taken over
        # (seq, nonce) of the newest log entry this copy has read; (0, None) for an empty log
        self.anchor: tuple[int, int | None] = (0, None)

    def put(self, mem_id: int, code: np.ndarray, flags: int) -> None:
        at = self.slot.get(mem_id)
        if at is None:
            if self.size == len(self.ids):
                grow = max(1024, len(self.ids))
                self.ids = np.concatenate([self.ids, np.zeros(grow, dtype=np.int64)])
                self.codes = np.concatenate(
                    [self.codes, np.zeros((self.words, grow), dtype=np.uint64)], axis=1
                )
                self.flags = np.concatenate([self.flags, np.full(grow, GONE, dtype=np.uint8)])
            at = self.size
            self.size += 1
            self.slot[mem_id] = at
            self.ids[at] = mem_id
        self.codes[:, at] = code
        self.flags[at] = flags

    def fill(self, ids: list[int], codes: np.ndarray, flags: list[int]) -> None:
        """An empty store's rows, all at once (a load of a big store, without a row loop)."""
        self.ids = np.asarray(ids, dtype=np.int64)
        self.codes = np.ascontiguousarray(codes.T)
        self.flags = np.asarray(flags, dtype=np.uint8)
        self.size = len(ids)
        self.slot = dict(zip(ids, range(len(ids)), strict=True))

    def drop(self, mem_id: int) -> None:
        at = self.slot.pop(mem_id, None)
        if at is not None:
            self.flags[at] = GONE

    def nearest(self, query: np.ndarray, need: int, refuse: int, n: int) -> np.ndarray:
        """Ids of the n rows nearest by Hamming distance among those whose flags hold every
        bit of ``need`` and none of ``refuse``."""
        flags = self.flags[: self.size]
        allowed = np.flatnonzero(((flags & need) == need) & ((flags & refuse) == 0))
        if not len(allowed):
            return np.zeros(0, dtype=np.int64)
        codes = self.codes[:, : self.size]
        distance = np.bitwise_count(codes[0] ^ query[0]).astype(np.uint16)
        for w in range(1, self.words):
            distance += np.bitwise_count(codes[w] ^ query[w])
        distance = distance[allowed]
        if len(allowed) > n:
            best = np.argpartition(distance, n - 1)[:n]
            return self.ids[allowed[best]]
        return self.ids[allowed]


# a row: its id, what its flags are made of, its vector
ROW_SQL = (
    f"SELECT m.id, {', '.join(f'm.{c}' for c in witness.COLUMNS)}, f.embedding "
    f"FROM {MEMORY} m JOIN {FLOATS} f ON f.memory_id = m.id "
)
WHERE_STORE = witness.store_sql("m")


class Index:
    """The process's copies of bot stores, by database file and store: the most recently used
    ``KEEP`` of them (a chat not played for a while reloads on its next turn)."""

    KEEP = 16

    def __init__(self):
        self._stores: OrderedDict[tuple[str, str], Store] = OrderedDict()
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._stores.clear()

    def nearest(
        self, key: tuple[int, str, int | None], query: np.ndarray, need: int, n: int
    ) -> np.ndarray:
        """Ids of the n nearest rows of a bot's store (brought up to date first) whose flags
        hold every bit of ``need`` and are not gone."""
        where = (str(connection.settings_dict["NAME"]), scope(*key))
        with self._lock:
            store = self._stores.get(where)
            if store is None or store.dims != len(query) or not self._follow(store):
                store = self._stores[where] = self._load(key, len(query))
            self._stores.move_to_end(where)
            while len(self._stores) > self.KEEP:
                self._stores.popitem(last=False)
            return store.nearest(pack(query - store.mean)[0], need, GONE, n)

    def _load(self, key: tuple[int, str, int | None], dims: int) -> Store:
        store = Store(key, dims)
        with connection.cursor() as cur:
            cur.execute(f"SELECT seq, nonce FROM {LOG} ORDER BY seq DESC LIMIT 1")
            store.anchor = cur.fetchone() or (0, None)
            cur.execute(ROW_SQL + "WHERE " + WHERE_STORE, list(key))
            self._put_rows(store, cur.fetchall())
        return store

    def _put_rows(self, store: Store, rows: list) -> None:
        rows = [r for r in rows if len(r[-1]) == 4 * store.dims]  # another model's: not ours
        if not rows:
            return
        matrix = np.frombuffer(b"".join(r[-1] for r in rows), dtype=np.float32)
        matrix = matrix.reshape(len(rows), -1)
        if store.size == 0:
            store.mean, store.mean_of = matrix.mean(axis=0), len(rows)
        codes = pack(matrix - store.mean)
        if store.size == 0:
            store.fill([r[0] for r in rows], codes, [flags_of(*r[1:-1]) for r in rows])
            return
        for row, code in zip(rows, codes, strict=True):
            store.put(row[0], code, flags_of(*row[1:-1]))

    def _follow(self, store: Store) -> bool:
        """Bring a copy up to the log; False when it cannot follow and must reload."""
        if store.anchor is None:
            return False
        seq, nonce = store.anchor
        with connection.cursor() as cur:
            cur.execute(
                f"SELECT (SELECT max(seq) FROM {LOG}), (SELECT nonce FROM {LOG} WHERE seq = %s)",
                [seq],
            )
            newest, still = cur.fetchone()
            if still != nonce:
                return False  # rolled back, rebuilt, restored or pruned past us
            if newest is None or newest == seq:
                return True
            cur.execute(
                f"SELECT seq, nonce, memory_id FROM {LOG} WHERE seq > %s ORDER BY seq", [seq]
            )
            entries = cur.fetchall()
            changed = list({e[2] for e in entries})
            if len(changed) > RELOAD_AFTER:
                return False
            found: set[int] = set()
            for start in range(0, len(changed), 500):
                part = changed[start : start + 500]
                marks = ", ".join(["%s"] * len(part))
                cur.execute(
                    ROW_SQL + f"WHERE m.id IN ({marks}) AND " + WHERE_STORE,
                    [*part, *store.key],
                )
                rows = cur.fetchall()
                self._put_rows(store, rows)
                found.update(r[0] for r in rows)
        for mem_id in changed:
            if mem_id not in found:
                store.drop(mem_id)
        store.anchor = (entries[-1][0], entries[-1][1])
        # mostly removed slots (many memories rewritten): a reload packs the store again;
        # twice the rows its mean was taken over: a reload centres it again
        if len(store.slot) > max(MEAN_MIN, 2 * store.mean_of):
            return False
        return store.size < 1024 or len(store.slot) * 2 >= store.size


INDEX = Index()


def index_is_current() -> bool:
    """Whether the vectors on disk are the configured model's (a query vector of one model is
    meaningless against another's, even at the same width). One read of a one-row table."""
    with connection.cursor() as cur:
        cur.execute("SELECT model FROM memory_vectorindexstate ORDER BY id DESC LIMIT 1")
        row = cur.fetchone()
    return row is None or row[0] == get_embedder().name


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
    """(memory id, cosine distance), nearest first, from the speaker's own store: its witness
    bit set, not sealed (and, facing you, no dialogue you did not witness)."""
    if not index_is_current():
        return []  # another model's vectors: no neighbours until `reembed` has rebuilt them
    query = np.asarray(vector, dtype=np.float32)
    wanted = need(speaker, facing_you=facing_you)
    ids = INDEX.nearest((chat_id, speaker, character_id), query, wanted, max(64, RERANK * k))
    if not len(ids):
        return []
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cur:  # exact cosine by sqlite-vec (a zero vector: 1.0)
        cur.execute(
            f"SELECT memory_id, coalesce(vec_distance_cosine(embedding, %s), 1.0) AS d "
            f"FROM {FLOATS} WHERE memory_id IN ({marks}) ORDER BY d, memory_id LIMIT %s",
            [query.tobytes(), *(int(i) for i in ids), k],
        )
        return [(int(mem_id), float(d)) for mem_id, d in cur.fetchall()]
