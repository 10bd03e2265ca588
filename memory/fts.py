"""The FTS5 index over memory text: a derived cache kept in step by triggers.

Contentless: the memory's text, its index-only ``keys`` (resolved dates, fact keys) and
``scope`` tokens per row (its store: chat, owner role, character; and whether
the owner may recall it), so a bot's lexical search only ever scores what it may recall:
``scope:<token> AND (words…)``.
"""

from __future__ import annotations

_STORE = "'k' || {row}.chat_id || {row}.owner || coalesce({row}.character_id, 0)"
# The row's tokens in the scope column: its store, and — while the owner's witness bit is set
# and no closed story event sealed it — 'v' + store; 'f' + store when it may also face you
# (not dialogue you did not witness). A lexical query names one token, so the witness filter
# is inside the FTS query.
SCOPE_SQL = (
    f"{_STORE} || CASE WHEN {{row}}.sealed = 0 AND CASE {{row}}.owner "
    "WHEN 'host' THEN {row}.w_host WHEN 'guest' THEN {row}.w_guest ELSE {row}.w_you END "
    f"THEN ' v' || {_STORE} || CASE WHEN {{row}}.kind = 'turn' AND {{row}}.w_you = 0 THEN '' "
    f"ELSE ' f' || {_STORE} END ELSE '' END"
)
_CHANGED = " OR ".join(
    f"old.{c} IS NOT new.{c}"
    for c in (
        "text",
        "keys",
        "owner",
        "character_id",
        "w_you",
        "w_host",
        "w_guest",
        "sealed",
        "kind",
    )
)

CREATE = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS memory_fts USING fts5("
    "text, keys, scope, content='', contentless_delete=1, tokenize='porter unicode61')",
    "CREATE TRIGGER IF NOT EXISTS memory_fts_ai AFTER INSERT ON memory_memory BEGIN "
    f"INSERT INTO memory_fts(rowid, text, keys, scope) VALUES (new.id, new.text, new.keys, "
    f"{SCOPE_SQL.format(row='new')}); END",
    "CREATE TRIGGER IF NOT EXISTS memory_fts_ad AFTER DELETE ON memory_memory BEGIN "
    "DELETE FROM memory_fts WHERE rowid = old.id; END",
    "CREATE TRIGGER IF NOT EXISTS memory_fts_au AFTER UPDATE OF text, keys, owner, "
    f"character_id, w_you, w_host, w_guest, sealed, kind ON memory_memory WHEN {_CHANGED} BEGIN "
    "DELETE FROM memory_fts WHERE rowid = old.id; "
    f"INSERT INTO memory_fts(rowid, text, keys, scope) VALUES (new.id, new.text, new.keys, "
    f"{SCOPE_SQL.format(row='new')}); END",
]
DROP = [
    "DROP TRIGGER IF EXISTS memory_fts_ai",
    "DROP TRIGGER IF EXISTS memory_fts_ad",
    "DROP TRIGGER IF EXISTS memory_fts_au",
    "DROP TABLE IF EXISTS memory_fts",
]
FILL = (
    "INSERT INTO memory_fts(rowid, text, keys, scope) SELECT m.id, m.text, m.keys, "
    f"{SCOPE_SQL.format(row='m')} FROM memory_memory m"
)


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
