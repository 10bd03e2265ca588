"""The author's search across every chat: an FTS5 index over the active-branch transcripts.

A derived cache kept in step by triggers, like ``memory.fts``. It is deliberately not
witness-filtered and has nothing to do with the bots' retrieval (``memory.retrieval``).
"""

from __future__ import annotations

import re

from django.db import connection, connections
from django.utils.html import escape
from django.utils.safestring import mark_safe

from play.models import Chat, Turn

TURNS = Turn._meta.db_table

CREATE = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS turn_fts USING fts5("
    f"text, name, content='{TURNS}', content_rowid='id', tokenize='porter unicode61')",
    f"CREATE TRIGGER IF NOT EXISTS turn_fts_ai AFTER INSERT ON {TURNS} BEGIN "
    "INSERT INTO turn_fts(rowid, text, name) VALUES (new.id, new.text, new.name); END",
    f"CREATE TRIGGER IF NOT EXISTS turn_fts_ad AFTER DELETE ON {TURNS} BEGIN "
    "INSERT INTO turn_fts(turn_fts, rowid, text, name) "
    "VALUES ('delete', old.id, old.text, old.name); END",
    f"CREATE TRIGGER IF NOT EXISTS turn_fts_au AFTER UPDATE OF text, name ON {TURNS} "
    "WHEN old.text IS NOT new.text OR old.name IS NOT new.name BEGIN "
    "INSERT INTO turn_fts(turn_fts, rowid, text, name) "
    "VALUES ('delete', old.id, old.text, old.name); "
    "INSERT INTO turn_fts(rowid, text, name) VALUES (new.id, new.text, new.name); END",
]
# Indexes the rows that existed before the table did (a fresh table over populated turns).
REBUILD = "INSERT INTO turn_fts(turn_fts) VALUES ('rebuild')"
DROP = [
    "DROP TRIGGER IF EXISTS turn_fts_ai",
    "DROP TRIGGER IF EXISTS turn_fts_ad",
    "DROP TRIGGER IF EXISTS turn_fts_au",
    "DROP TABLE IF EXISTS turn_fts",
]

# SQLite writes these around each match; they survive HTML escaping and become <mark> tags.
_OPEN, _CLOSE = "\x02", "\x03"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_HAS_TOKEN = re.compile(r"[^\W_]")
MAX_TERMS = 16
MAX_QUERY = 200


def ensure(connection) -> None:
    """Re-create the index and triggers if missing (a table rebuild drops its triggers).

    A newly created index is rebuilt from the turns so rows written before it are findable.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'turn_fts'")
        existed = cursor.fetchone() is not None
        for sql in CREATE:
            cursor.execute(sql)
        if not existed:
            cursor.execute(REBUILD)


def match_expression(query: str) -> str:
    """An FTS5 expression that treats user text as words, never as syntax.

    Each whitespace-separated word becomes a quoted string (implicit AND between them);
    a trailing ``*`` keeps its prefix meaning. Words with no letters or digits are dropped,
    so punctuation-only input gives an empty expression (and no results).
    """
    terms = []
    for word in _CONTROL.sub(" ", query[:MAX_QUERY]).split():
        prefix = word.endswith("*")
        word = word.rstrip("*")
        if not _HAS_TOKEN.search(word):
            continue
        quoted = '"' + word.replace('"', '""') + '"'
        terms.append(quoted + ("*" if prefix else ""))
    return " ".join(list(dict.fromkeys(terms))[:MAX_TERMS])


def _snippet_html(raw: str) -> str:
    html = escape(raw).replace(_OPEN, "<mark>").replace(_CLOSE, "</mark>")
    return mark_safe(html)  # noqa: S308 - every byte of user text went through escape()


def search(query: str, *, limit: int = 50, include_archived: bool = True) -> list[dict]:
    """Turns on every chat's active branch matching the query, best bm25 first."""
    match = match_expression(query)
    if not match:
        return []
    sql = (
        "SELECT t.chat_id, c.title, t.id, t.speaker, t.name, t.scene, t.story_time, t.hidden, "
        "snippet(turn_fts, 0, %s, %s, %s, 12), bm25(turn_fts) AS rank "
        "FROM turn_fts "
        f"JOIN {TURNS} t ON t.id = turn_fts.rowid "
        f"JOIN {Chat._meta.db_table} c ON c.id = t.chat_id "
        "WHERE turn_fts MATCH %s AND (%s OR c.archived = 0) "
        "ORDER BY rank, t.id LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [_OPEN, _CLOSE, "…", match, bool(include_archived), limit])
        rows = cursor.fetchall()
    return [
        {
            "chat_id": chat_id,
            "chat_title": title,
            "turn_id": turn_id,
            "speaker": speaker,
            "name": name,
            "scene": scene,
            "story_time": story_time,
            "hidden": bool(hidden),
            "snippet": _snippet_html(snippet or ""),
            "rank": rank,
        }
        for chat_id, title, turn_id, speaker, name, scene, story_time, hidden, snippet, rank in rows
    ]


def on_post_migrate(sender, using: str = "default", **kwargs) -> None:
    """The transcript search index comes back after a table rebuild drops its triggers."""
    if TURNS in connections[using].introspection.table_names():
        ensure(connections[using])
