"""The FTS5 index over memory text: a derived cache kept in step by triggers.

Contentless, with a ``scope`` token per row (chat, owner role, character), so a bot's lexical
search only ever scores its own store: ``scope:<token> AND (words…)``.
"""

from __future__ import annotations

SCOPE_SQL = "'k' || {row}.chat_id || {row}.owner || coalesce({row}.character_id, 0)"

CREATE = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS memory_fts USING fts5("
    "text, scope, content='', contentless_delete=1, tokenize='porter unicode61')",
    "CREATE TRIGGER IF NOT EXISTS memory_fts_ai AFTER INSERT ON memory_memory BEGIN "
    f"INSERT INTO memory_fts(rowid, text, scope) VALUES (new.id, new.text, "
    f"{SCOPE_SQL.format(row='new')}); END",
    "CREATE TRIGGER IF NOT EXISTS memory_fts_ad AFTER DELETE ON memory_memory BEGIN "
    "DELETE FROM memory_fts WHERE rowid = old.id; END",
    "CREATE TRIGGER IF NOT EXISTS memory_fts_au AFTER UPDATE OF text, owner, character_id "
    "ON memory_memory WHEN old.text IS NOT new.text OR old.owner IS NOT new.owner "
    "OR old.character_id IS NOT new.character_id BEGIN "
    "DELETE FROM memory_fts WHERE rowid = old.id; "
    f"INSERT INTO memory_fts(rowid, text, scope) VALUES (new.id, new.text, "
    f"{SCOPE_SQL.format(row='new')}); END",
]
DROP = [
    "DROP TRIGGER IF EXISTS memory_fts_ai",
    "DROP TRIGGER IF EXISTS memory_fts_ad",
    "DROP TRIGGER IF EXISTS memory_fts_au",
    "DROP TABLE IF EXISTS memory_fts",
]
FILL = (
    "INSERT INTO memory_fts(rowid, text, scope) SELECT m.id, m.text, "
    f"{SCOPE_SQL.format(row='m')} FROM memory_memory m"
)


def scope(chat_id: int, owner: str, character_id: int | None) -> str:
    return f"k{chat_id}{owner}{character_id or 0}"


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
