from __future__ import annotations

import sqlite3

from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured

from rpsite.db.base import INSTALL_HINT, load_sqlite_vec


@register()
def sqlite_extension_check(app_configs, **kwargs):
    """Fail at start, with what to install, when sqlite-vec cannot be loaded."""

    conn = sqlite3.connect(":memory:")
    try:
        load_sqlite_vec(conn)
        (version,) = conn.execute("select vec_version()").fetchone()
    except ImproperlyConfigured as exc:
        return [Error(str(exc), hint=INSTALL_HINT, id="rpsite.E001")]
    finally:
        conn.close()
    if not version:
        return [Error("sqlite-vec loaded but reports no version.", id="rpsite.E002")]
    return []
