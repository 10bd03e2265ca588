"""Restoring a snapshot: a new branch forked at the snapshot's event (nothing leaves the log)."""

from __future__ import annotations

from dataclasses import dataclass

from eventstore import branches as branch_log
from eventstore import snapshots
from eventstore.models import Branch, Event
from eventstore.services import branch_activate, branch_create


class RestoreRefused(Exception):
    pass


@dataclass
class RestoreResult:
    branch: Branch
    pre_restore: str
    later_events: int


def later_event_count(chat, info: snapshots.SnapshotInfo) -> int:
    branch = Branch.objects.get(pk=chat.active_branch_id)
    last = branch_log.last_event(branch)
    if last is None or last.pk <= info.event_id:
        return 0
    return sum(1 for e in branch_log.events(branch, after_id=info.event_id))


def snapshot_restore(chat, info: snapshots.SnapshotInfo, *, confirmed: bool) -> RestoreResult:
    """Make the chat's state what the snapshot holds, on a new branch.

    Refused without ``confirmed`` when the chat has events after the snapshot; always
    preceded by a pre-restore snapshot of the current state.
    """
    if info.chat_id != chat.pk:
        raise RestoreRefused("that snapshot belongs to another chat.")
    later = later_event_count(chat, info)
    if later and not confirmed:
        raise RestoreRefused(f"the chat has {later} event(s) after this snapshot.")
    pre = snapshots.snapshot_create(chat, kind="pre_restore")
    fork = Event.objects.get(pk=info.event_id)
    branch = branch_create(
        chat=chat, fork_event=fork, kind=Branch.Kind.RESTORE, label=f"restored {info.name}"
    )
    branch_activate(chat=chat, branch=branch)
    return RestoreResult(branch, pre.name if pre else "", later)
