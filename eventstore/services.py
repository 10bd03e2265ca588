"""Writes to the log. ``append`` is the only way an event is created."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from django.db import connections, transaction
from django.utils import timezone

from eventstore import branches, snapshots
from eventstore.models import Branch, Event, Purge, Stream, StreamRef
from eventstore.models import stream_id_of as stream_id
from eventstore.projection import PROJECTION_VERSION, DBStore, project, projection_models
from eventstore.records import EventRecord, normalise_payload
from eventstore.replay import build_state
from eventstore.signals import branch_switched, event_committed

log = logging.getLogger("rp.eventstore")


class BranchError(ValueError):
    """An invalid branch operation (e.g. forking before the start of a stream)."""


def stream_open(*, stream: Stream, using: str = "default") -> Branch:
    """Give a new stream (or a row of a model extending it) its root branch, active."""
    if Branch.objects.using(using).filter(stream_id=stream.pk).exists():
        raise BranchError("a stream has exactly one root branch")
    with transaction.atomic(using=using):
        root = Branch.objects.using(using).create(stream_id=stream.pk, kind=Branch.Kind.MAIN)
        Stream.objects.using(using).filter(pk=stream.pk).update(
            active_branch=root, projected_version=PROJECTION_VERSION
        )
    stream.active_branch = root
    return root


def active_branch_id(stream: StreamRef, *, using: str = "default") -> int | None:
    """Read fresh: a caller's row may predate a branch switch."""
    return (
        Stream.objects.using(using)
        .filter(pk=stream_id(stream))
        .values_list("active_branch_id", flat=True)
        .first()
    )


def active_branch(stream: StreamRef, *, using: str = "default") -> Branch:
    return Branch.objects.using(using).get(pk=active_branch_id(stream, using=using))


def _read_record(event_id: int, using: str) -> EventRecord:
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"SELECT {branches.COLUMNS} FROM {Event._meta.db_table} WHERE id = %s", [event_id]
        )
        return EventRecord.from_row(cursor.fetchone())


def _target(stream: int, branch: Branch | None, using: str) -> tuple[int, int, bool]:
    """(branch id, next seq, whether it is the active branch) in one read: every append
    asks, so plain SQL rather than three ORM queries."""
    events = Event._meta.db_table
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"SELECT s.active_branch_id, b.id, b.fork_event_id, "
            f"(SELECT max(seq) FROM {events} WHERE branch_id = b.id), "
            f"(SELECT seq FROM {events} WHERE id = b.fork_event_id) "
            f"FROM {Stream._meta.db_table} s JOIN {Branch._meta.db_table} b "
            "ON b.id = coalesce(%s, s.active_branch_id) "
            "WHERE s.id = %s",
            [branch.pk if branch else None, stream],
        )
        row = cursor.fetchone()
    if row is None:
        raise Branch.DoesNotExist(f"stream {stream} has no branch to append to")
    active, target, fork, own, fork_seq = row
    if own is None:  # the branch's first own event follows its fork point
        own = 0 if fork is None else fork_seq
    return target, own + 1, target == active


def append(
    *,
    stream: StreamRef,
    kind: str,
    payload: dict[str, Any] | None = None,
    caused_by: int | EventRecord | None = None,
    branch: Branch | None = None,
    copied_from: int | None = None,
    using: str = "default",
    live: bool = True,
) -> EventRecord:
    """Write one event and project it, in one transaction.

    Events go on the stream's active branch unless ``branch`` says otherwise; only events on
    the active branch are projected into the live tables (another branch is projected when it
    is switched to). ``live=False``: not projected now even on the active branch — the caller
    rebuilds the tables after a batch (``branch_activate``), as a branch switch does.
    """
    payload = normalise_payload(payload or {})
    caused_by_id = caused_by.id if isinstance(caused_by, EventRecord) else caused_by
    sid = stream_id(stream)
    with transaction.atomic(using=using):
        target, seq, active = _target(sid, branch, using)
        event = Event.objects.using(using).create(
            stream_id=sid,
            branch_id=target,
            seq=seq,
            kind=kind,
            payload=payload,
            caused_by_id=caused_by_id,
            copied_from_id=copied_from,
        )
        record = _read_record(event.pk, using)
        if active and live:
            project(DBStore(using), record)
            # tabs follow the live line; a branch is shown when it is switched to
            transaction.on_commit(
                lambda: event_committed.send(sender=EventRecord, event=record), using=using
            )
    return record


def events_copy(
    *,
    stream: StreamRef,
    branch: Branch,
    records: list[EventRecord],
    payload_of: Callable[[EventRecord, dict[int, int]], dict[str, Any]],
    ids: dict[int, int],
    using: str = "default",
) -> dict[int, int]:
    """Copy ``records`` onto ``branch`` after its last event, in one statement: what a delete
    or an edit does with what followed. ``payload_of(record, ids)`` gives each copy's payload
    (``ids``: old event → its copy so far, filled as they go). Nothing is projected: the caller
    makes the branch active (or rebuilds it) when done. Returns ``ids``."""
    if not records:
        return ids
    sid = stream_id(stream)
    conn = connections[using]
    table = Event._meta.db_table
    with transaction.atomic(using=using):
        target, seq, _active = _target(sid, branch, using)
        with conn.cursor() as cursor:
            cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
            next_id = cursor.fetchone()[0] + 1
        now = conn.ops.adapt_datetimefield_value(timezone.now())
        rows = []
        for offset, record in enumerate(records):
            payload = normalise_payload(payload_of(record, ids))
            caused = ids.get(record.caused_by_id, record.caused_by_id)
            ids[record.id] = next_id + offset
            rows.append(
                (
                    next_id + offset,
                    sid,
                    target,
                    seq + offset,
                    record.kind,
                    json.dumps(payload),  # as the JSONField writes it
                    caused,
                    record.id,
                    now,
                )
            )
        with conn.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {table} (id, stream_id, branch_id, seq, kind, payload, "
                "caused_by_id, copied_from_id, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, "
                "%s, %s)",
                rows,
            )
    return ids


def branch_create(
    *,
    stream: StreamRef,
    fork_event: Event,
    kind: str,
    label: str = "",
    using: str = "default",
) -> Branch:
    """A new branch whose log is everything up to and including ``fork_event``."""
    if fork_event is None:
        raise BranchError("a branch forks at an event; the root branch comes with the stream")
    return Branch.objects.using(using).create(
        stream_id=stream_id(stream),
        parent_id=fork_event.branch_id,
        fork_event=fork_event,
        kind=kind,
        label=label,
    )


def branch_activate(
    *, stream: StreamRef, branch: Branch, using: str = "default", announce: bool = True
) -> None:
    """Make ``branch`` the stream's active line and rebuild the live tables from it.

    Loading uses the newest snapshot on the branch plus the later events. ``announce=False``:
    the tabs are not told (a branch still being built: its maker announces it when done).
    """
    sid = stream_id(stream)
    if branch.stream_id != sid:
        raise BranchError(f"branch {branch.pk} does not belong to stream {sid}")
    built = build_state(branch, use_snapshot=True, using=using)
    with transaction.atomic(using=using):
        Stream.objects.using(using).filter(pk=sid).update(active_branch=branch)
        built.store.write(sid, using=using)
        if isinstance(stream, Stream):
            stream.active_branch = branch
        if not announce:
            return
        transaction.on_commit(
            lambda: branch_switched.send(sender=Branch, stream_id=sid, branch_id=branch.pk),
            using=using,
        )


def branch_fork(
    *,
    stream: StreamRef,
    fork_event: Event,
    kind: str,
    label: str = "",
    snapshot_kind: str | None = "pre_rewind",
    fill: Callable[[Branch], None] | None = None,
    announce: bool = True,
) -> Branch:
    """Snapshot the current line, fork a branch at ``fork_event`` and make it active: what
    every rewind, regenerate, delete and restore does. ``fill`` appends the branch's own
    first events before it goes live (a delete copies the surviving tail)."""
    if snapshot_kind is not None:
        snapshots.snapshot_create(stream, kind=snapshot_kind)
    with transaction.atomic():
        branch = branch_create(stream=stream, fork_event=fork_event, kind=kind, label=label)
        if fill is not None:
            fill(branch)
    branch_activate(stream=stream, branch=branch, announce=announce)
    return branch


def stream_purge(*, stream: StreamRef, using: str = "default") -> None:
    """Remove a stream, its whole log and its projections: the user's right to delete their
    data. A row of a model extending the stream goes with it.

    The append-only trigger lets event rows go only while the stream is listed in the purge
    table; the listing is removed again in the same transaction.
    """
    sid = stream_id(stream)
    with transaction.atomic(using=using):
        Purge.objects.using(using).get_or_create(stream_id=sid)
        for model in projection_models():
            model.objects.using(using).filter(**{model.stream_key: sid}).delete()
        Stream.objects.using(using).filter(pk=sid).update(active_branch=None)
        with connections[using].cursor() as cursor:
            cursor.execute(f"DELETE FROM {Event._meta.db_table} WHERE stream_id = %s", [sid])
            cursor.execute(f"DELETE FROM {Branch._meta.db_table} WHERE stream_id = %s", [sid])
        Stream.objects.using(using).filter(pk=sid).delete()
        Purge.objects.using(using).filter(stream_id=sid).delete()
    log.info("purged stream %s", sid)
