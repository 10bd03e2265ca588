"""Restoring a snapshot: a new branch forked at the snapshot's event (nothing leaves the log)."""

from __future__ import annotations

from dataclasses import dataclass

from eventstore import branches, snapshots
from eventstore.models import Branch, Event, StreamRef, stream_id_of
from eventstore.services import active_branch, branch_fork


class RestoreRefused(Exception):
    pass


@dataclass
class RestoreResult:
    branch: Branch
    pre_restore: str
    later_events: int


def later_event_count(stream: StreamRef, info: snapshots.SnapshotInfo) -> int:
    branch = active_branch(stream)
    last = branches.last_event(branch)
    if last is None or last.pk <= info.event_id:
        return 0
    return sum(1 for e in branches.events(branch, after_id=info.event_id))


def snapshot_restore(
    stream: StreamRef, info: snapshots.SnapshotInfo, *, confirmed: bool
) -> RestoreResult:
    """Make the stream's state what the snapshot holds, on a new branch.

    Refused without ``confirmed`` when the stream has events after the snapshot; always
    preceded by a pre-restore snapshot of the current state.
    """
    if info.stream_id != stream_id_of(stream):
        raise RestoreRefused("that snapshot belongs to another chat.")
    later = later_event_count(stream, info)
    if later and not confirmed:
        raise RestoreRefused(f"the chat has {later} event(s) after this snapshot.")
    pre = snapshots.snapshot_create(stream, kind="pre_restore")
    branch = branch_fork(
        stream=stream,
        fork_event=Event.objects.get(pk=info.event_id),
        kind=Branch.Kind.RESTORE,
        label=f"restored {info.name}",
        snapshot_kind=None,
    )
    return RestoreResult(branch, pre.name if pre else "", later)
