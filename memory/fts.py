"""The FTS5 index over memory text: a derived cache kept in step by triggers.

Contentless: the memory's text, its index-only ``keys`` (resolved dates, fact keys) and
``scope`` tokens per row (its store: chat, owner role, character; and whether
the owner may recall it), so a bot's lexical search only ever scores what it may recall:
``scope:<token> AND (words…)``.
"""

from __future__ import annotations

from memory import witness
from memory.models import Memory

# The scope column holds a row's tokens (``memory.witness.fts_scope_sql``): a lexical query
# names one token, so the witness filter is inside the FTS query.
# what the tokens are made from (a row never changes chat)
_WATCHED = (*(c for c in witness.STORE if c != "chat_id"), *witness.COLUMNS)
MEMORY = Memory._meta.db_table


def create_sql(*, keys: bool = True) -> list[str]:
    """The index and its triggers; ``keys=False`` is the schema before memories had keys
    (migrations 0008 and 0013 build that one, on a table without the column)."""
    indexed = ("text", "keys") if keys else ("text",)
    columns = ", ".join(indexed)
    values = ", ".join(f"new.{c}" for c in indexed)
    changed = " OR ".join(f"old.{c} IS NOT new.{c}" for c in (*indexed, *_WATCHED))
    return [
        "CREATE VIRTUAL TABLE IF NOT EXISTS memory_fts USING fts5("
        f"{columns}, scope, content='', contentless_delete=1, tokenize='porter unicode61')",
        f"CREATE TRIGGER IF NOT EXISTS memory_fts_ai AFTER INSERT ON {MEMORY} BEGIN "
        f"INSERT INTO memory_fts(rowid, {columns}, scope) VALUES (new.id, {values}, "
        f"{witness.fts_scope_sql('new')}); END",
        f"CREATE TRIGGER IF NOT EXISTS memory_fts_ad AFTER DELETE ON {MEMORY} BEGIN "
        "DELETE FROM memory_fts WHERE rowid = old.id; END",
        f"CREATE TRIGGER IF NOT EXISTS memory_fts_au AFTER UPDATE OF {columns}, "
        f"{', '.join(_WATCHED)} ON {MEMORY} WHEN {changed} BEGIN "
        "DELETE FROM memory_fts WHERE rowid = old.id; "
        f"INSERT INTO memory_fts(rowid, {columns}, scope) VALUES (new.id, {values}, "
        f"{witness.fts_scope_sql('new')}); END",
    ]


def fill_sql(*, keys: bool = True) -> str:
    """Index every memory row (a newly made index)."""
    columns = "text, keys" if keys else "text"
    values = "m.text, m.keys" if keys else "m.text"
    return (
        f"INSERT INTO memory_fts(rowid, {columns}, scope) SELECT m.id, {values}, "
        f"{witness.fts_scope_sql('m')} FROM {MEMORY} m"
    )


CREATE = create_sql()
FILL = fill_sql()
DROP = [
    "DROP TRIGGER IF EXISTS memory_fts_ai",
    "DROP TRIGGER IF EXISTS memory_fts_ad",
    "DROP TRIGGER IF EXISTS memory_fts_au",
    "DROP TABLE IF EXISTS memory_fts",
]


def scope(chat_id: int, owner: str, character_id: int | None) -> str:
    """A bot's store (every row it owns)."""
    return f"k{chat_id}{owner}{character_id or 0}"


def visible_scope(chat_id: int, owner: str, character_id: int | None, *, facing_you=False):
    """The rows of a bot's store it may recall: witnessed by it, not sealed (and, facing you,
    no dialogue you did not witness)."""
    return ("f" if facing_you else "v") + scope(chat_id, owner, character_id)


def ensure(connection) -> None:
    """Re-create the index and triggers if missing (a table rebuild drops its triggers);
    a newly made index is filled from the memory rows."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'memory_fts'")
        existed = cursor.fetchone() is not None
        for sql in CREATE:
            cursor.execute(sql)
        if not existed:
            cursor.execute(FILL)
