"""Online SQLite backups: WAL-safe, page by page, while the app keeps running."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import connection, connections


def backup_dir() -> Path:
    path = Path(settings.DATA_DIR) / "backups"
    path.mkdir(parents=True, exist_ok=True)
    return path


def backup_create(*, progress: Callable[[int, int], None] | None = None) -> Path:
    """Copy the live database into data/backups/ with SQLite's online backup API."""
    # A connection of its own: the backup reads a consistent snapshot of committed data
    # (WAL lets writers go on) and never runs inside a caller's transaction.
    source = sqlite3.connect(str(connection.settings_dict["NAME"]), timeout=30)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    path = backup_dir() / f"chat-{stamp}.db"
    tmp = path.with_suffix(".partial")
    target = sqlite3.connect(str(tmp))
    try:

        def step(status, remaining, total):
            if progress is not None:
                progress(total - remaining, total)

        source.backup(target, pages=256, progress=step)
    finally:
        target.close()
        source.close()
    tmp.replace(path)
    return path


def list_backups() -> list[Path]:
    return sorted(backup_dir().glob("chat-*.db"))


NIGHTLY = 24 * 3600  # seconds between automatic backups
KEEP_BACKUPS = 7


def backup_due(now: float | None = None) -> bool:

    backups = list_backups()
    if not backups:
        return True
    return (now or time.time()) - backups[-1].stat().st_mtime >= NIGHTLY


def prune_backups(keep: int = KEEP_BACKUPS) -> list[Path]:
    """Automatic backups keep the newest ``keep``; a backup you made by hand is kept as well."""
    doomed = list_backups()[:-keep] if keep else []
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


def nightly_loop(stop) -> None:
    """While the server runs: a backup when the newest is a day old (checked hourly)."""

    log = logging.getLogger("rp.backup")
    while not stop.wait(5):
        try:
            if backup_due():
                path = backup_create()
                prune_backups()
                log.info("nightly backup written to %s", path)
        except Exception:
            log.exception("nightly backup failed")
        finally:
            connections.close_all()
        if stop.wait(3600):
            return
