"""Restoring a snapshot as a chat action: under the turn lock, so the chat's line never moves
under a turn half-way through (docs/design.md, Time travel; the door and the lock)."""

from __future__ import annotations

from eventstore import restore
from eventstore.snapshots import SnapshotInfo, list_snapshots
from play.engine import turnlock
from play.engine.errors import NotFound
from play.engine.selectors import chat_get


def snapshot_named(chat_id: int, name: str) -> SnapshotInfo:
    found = next((i for i in list_snapshots(chat_id) if i.name == name), None)
    if found is None:
        raise NotFound(f"no snapshot {name} of chat {chat_id}")
    return found


def snapshot_restore(
    *, chat_id: int, name: str, confirmed: bool, origin: str
) -> restore.RestoreResult:
    """The snapshot's state on a new active branch, after a pre-restore snapshot of the
    current one. RestoreRefused without ``confirmed`` when the chat has moved on since."""
    with turnlock.held(chat_id, origin):
        chat = chat_get(chat_id)
        return restore.snapshot_restore(chat, snapshot_named(chat_id, name), confirmed=confirmed)
