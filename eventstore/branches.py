"""Reading a branch's log: its ancestors' events up to each fork point, then its own."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.db import connections

from eventstore.models import Branch, Event
from eventstore.records import EventRecord


@dataclass(frozen=True)
class Segment:
    branch_id: int
    max_seq: int | None  # None: the branch's own events, unbounded


def chain(branch: Branch, *, using: str = "default") -> list[Segment]:
    """Segments from the root branch down to ``branch``, in log order."""
    segments = [Segment(branch.pk, None)]
    current = branch
    while current.parent_id is not None:
        fork = Event.objects.using(using).only("seq").get(pk=current.fork_event_id)
        segments.append(Segment(current.parent_id, fork.seq))
        current = Branch.objects.using(using).get(pk=current.parent_id)
    segments.reverse()
    return segments


def contains(segments: list[Segment], *, branch_id: int, seq: int) -> bool:
    """Is the event at (branch_id, seq) part of the log these segments describe?"""
    for seg in segments:
        if seg.branch_id == branch_id:
            return seg.max_seq is None or seq <= seg.max_seq
    return False


COLUMNS = "id, stream_id, branch_id, seq, kind, payload, caused_by_id, created_at"


def events(
    branch: Branch, *, after_id: int = 0, using: str = "default", batch: int = 2000
) -> Iterator[EventRecord]:
    """The branch's whole log in order (events with id > after_id), as EventRecords."""
    table = Event._meta.db_table
    with connections[using].cursor() as cursor:
        for seg in chain(branch, using=using):
            sql = f"SELECT {COLUMNS} FROM {table} WHERE branch_id = %s AND id > %s"
            params: list = [seg.branch_id, after_id]
            if seg.max_seq is not None:
                sql += " AND seq <= %s"
                params.append(seg.max_seq)
            cursor.execute(sql + " ORDER BY seq", params)
            while rows := cursor.fetchmany(batch):
                for row in rows:
                    yield EventRecord.from_row(row)


def last_event(branch: Branch, *, using: str = "default") -> Event | None:
    """The newest event of the branch's log (its own, else the fork point)."""
    own = Event.objects.using(using).filter(branch=branch).order_by("-seq").first()
    if own is not None:
        return own
    if branch.fork_event_id is None:
        return None
    return Event.objects.using(using).get(pk=branch.fork_event_id)


def previous_event(event: Event, branch: Branch, *, using: str = "default") -> Event | None:
    """The event just before ``event`` in ``branch``'s log."""
    for seg in reversed(chain(branch, using=using)):
        qs = Event.objects.using(using).filter(branch_id=seg.branch_id, id__lt=event.pk)
        if seg.max_seq is not None:
            qs = qs.filter(seq__lte=seg.max_seq)
        found = qs.order_by("-seq").first()
        if found is not None:
            return found
    return None
