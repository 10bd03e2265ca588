"""Make ``import sqlite3`` give a build that can load extensions.

Imported first by ``manage.py``, ``asgi.py``, the settings and the test conftest, before
Django imports its sqlite backend: the backend binds the module's exception classes at import
time, so swapping only the connection class later is not enough.
"""

from __future__ import annotations

import sqlite3
import sys


def _stdlib_loads_extensions() -> bool:

    conn = sqlite3.connect(":memory:")
    try:
        return hasattr(conn, "enable_load_extension")
    finally:
        conn.close()


SWAPPED = False

if "pysqlite3" not in repr(sys.modules.get("sqlite3")) and not _stdlib_loads_extensions():
    try:
        import pysqlite3
        import pysqlite3.dbapi2
    except ImportError:  # reported by rpsite.checks with what to install
        pass
    else:
        sys.modules["sqlite3"] = pysqlite3
        sys.modules["sqlite3.dbapi2"] = pysqlite3.dbapi2
        SWAPPED = True
