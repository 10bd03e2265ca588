from __future__ import annotations

from django.db.backends.sqlite3.operations import DatabaseOperations as SQLiteOperations

EVENT_TABLE = "eventstore_event"
PURGE_TABLE = "eventstore_purge"


class DatabaseOperations(SQLiteOperations):
    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        """Flush through the event log's one door: list every stream in the purge table first.

        The append-only trigger refuses DELETE on events unless the stream is listed there
        (eventstore.services.stream_purge uses the same door); test teardown flushes this way.
        """
        statements = super().sql_flush(
            style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
        if EVENT_TABLE not in tables:
            return statements
        purge_last = [s for s in statements if f'"{PURGE_TABLE}"' in s]
        rest = [s for s in statements if s not in purge_last]
        opening = [
            f'INSERT OR IGNORE INTO "{PURGE_TABLE}" ("stream_id") '
            f'SELECT DISTINCT "stream_id" FROM "{EVENT_TABLE}";'
        ]
        return opening + rest + purge_last
