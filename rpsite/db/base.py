"""SQLite engine that loads sqlite-vec on every connection.

Modelled on Django's SpatiaLite backend: subclass the sqlite3 wrapper and load the extension
in ``get_new_connection``. WAL, synchronous and busy_timeout are set per connection.
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured
from django.db.backends.sqlite3 import base as sqlite_base

import rpsite.sqlite_swap  # noqa: F401  (must precede the sqlite3 backend import)
from rpsite.db.operations import DatabaseOperations

INSTALL_HINT = (
    "The Roleplay Engine needs SQLite with extension loading and the sqlite-vec extension. "
    "Install them into the project's environment: `pip install sqlite-vec pysqlite3-binary` "
    "(or run `make run`, which does)."
)


def load_sqlite_vec(conn) -> None:
    try:
        # imported here so a missing package becomes the install hint, not an ImportError
        import sqlite_vec  # noqa: PLC0415
    except ImportError as exc:
        raise ImproperlyConfigured(f"sqlite-vec is not installed. {INSTALL_HINT}") from exc
    if not hasattr(conn, "enable_load_extension"):
        raise ImproperlyConfigured(
            f"This Python's sqlite3 cannot load extensions ({type(conn).__module__}). {INSTALL_HINT}"
        )
    try:
        conn.enable_load_extension(True)
        sqlite_vec.load(conn)
        conn.enable_load_extension(False)
    except Exception as exc:  # a broken or mismatched extension binary
        raise ImproperlyConfigured(f"sqlite-vec failed to load: {exc}. {INSTALL_HINT}") from exc


class DatabaseWrapper(sqlite_base.DatabaseWrapper):
    ops_class = DatabaseOperations

    @property
    def queries_logged(self) -> bool:
        """Statements are recorded only when asked (``CaptureQueriesContext``, RP_LOG_QUERIES=1),
        not whenever DEBUG is on: to record one, the SQLite backend runs a second statement
        (``SELECT QUOTE(?)…``) to render its parameters, which doubled a turn's statements."""
        return self.force_debug_cursor or os.environ.get("RP_LOG_QUERIES") == "1"

    def get_new_connection(self, conn_params):
        conn = super().get_new_connection(conn_params)
        load_sqlite_vec(conn)
        pragmas = self.settings_dict.get("PRAGMAS", {})
        if self.is_in_memory_db():
            pragmas = {k: v for k, v in pragmas.items() if k != "journal_mode"}
        for name, value in pragmas.items():
            conn.execute(f"PRAGMA {name}={value}")
        return conn
