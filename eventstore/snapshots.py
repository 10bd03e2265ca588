"""Snapshots: JSON dumps of a stream's projections at an event, in ``data/snapshots/``.

A snapshot only speeds up loading; the log stays the truth. Loading a branch uses the newest
snapshot whose event lies on that branch's log, plus the events after it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from eventstore import branches
from eventstore.models import Branch, Event, Stream, StreamRef, stream_id_of
from eventstore.projection import PROJECTION_VERSION, dump_db

KINDS = ("periodic", "pre_rewind", "pre_restore", "pre_delete", "manual")
KEEP_PERIODIC = 5
KEEP_PRE_REWIND = timedelta(days=14)
PERIODIC_EVERY_EVENTS = 100
PERIODIC_EVERY = timedelta(minutes=30)

# Files made before streams had their own name start with "chat"; they read the same.
_NAME = re.compile(
    r"^(?:stream|chat)(?P<stream>\d+)-b(?P<branch>\d+)-e(?P<event>\d+)-(?P<kind>[a-z_]+)-(?P<stamp>\d{8}T\d{12})\.json$"
)


@dataclass
class SnapshotInfo:
    path: Path
    stream_id: int
    branch_id: int
    event_id: int
    kind: str
    created_at: datetime

    @property
    def name(self) -> str:
        return self.path.name


@dataclass
class Snapshot(SnapshotInfo):
    tables: dict[str, list[dict[str, Any]]]


def snapshot_dir() -> Path:
    path = Path(settings.DATA_DIR) / "snapshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _parse(path: Path) -> SnapshotInfo | None:
    m = _NAME.match(path.name)
    if not m:
        return None
    created = datetime.strptime(m["stamp"], "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC)
    return SnapshotInfo(
        path, int(m["stream"]), int(m["branch"]), int(m["event"]), m["kind"], created
    )


def list_snapshots(stream_id: int | None = None) -> list[SnapshotInfo]:
    infos = [i for p in snapshot_dir().glob("*.json") if (i := _parse(p))]
    if stream_id is not None:
        infos = [i for i in infos if i.stream_id == stream_id]
    return sorted(infos, key=lambda i: (i.stream_id, i.event_id, i.created_at))


def read(info: SnapshotInfo) -> Snapshot | None:
    try:
        data = json.loads(info.path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if data.get("projection_version") != PROJECTION_VERSION:
        return None
    return Snapshot(**vars(info), tables=data["tables"])


def snapshot_create(stream: StreamRef, *, kind: str = "manual") -> SnapshotInfo | None:
    """Dump the stream's live projections (its active branch) at its newest event."""
    if kind not in KINDS:
        raise ValueError(f"unknown snapshot kind {kind!r}; one of {', '.join(KINDS)}")
    sid = stream_id_of(stream)
    with transaction.atomic():
        branch = Branch.objects.get(pk=Stream.objects.get(pk=sid).active_branch_id)
        last = branches.last_event(branch)
        if last is None:
            return None
        tables = dump_db(sid)
    now = datetime.now(UTC)
    name = f"stream{sid}-b{branch.pk}-e{last.pk}-{kind}-{now.strftime('%Y%m%dT%H%M%S%f')}.json"
    body = {
        "projection_version": PROJECTION_VERSION,
        "stream_id": sid,
        "branch_id": branch.pk,
        "event_id": last.pk,
        "kind": kind,
        "created_at": now.isoformat(),
        "tables": tables,
    }
    path = snapshot_dir() / name
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(body, ensure_ascii=False, default=str), encoding="utf-8")
    tmp.replace(path)
    return _parse(path)


def newest_for(branch: Branch, *, using: str = "default") -> Snapshot | None:
    """The newest readable snapshot whose event is on ``branch``'s log."""
    segments = branches.chain(branch, using=using)
    candidates = sorted(list_snapshots(branch.stream_id), key=lambda i: -i.event_id)
    for info in candidates:
        event = Event.objects.using(using).filter(pk=info.event_id).only("branch", "seq").first()
        if event is None or not branches.contains(
            segments, branch_id=event.branch_id, seq=event.seq
        ):
            continue
        snap = read(info)
        if snap is not None:
            return snap
    return None


def prune(stream_id: int | None = None, *, now: datetime | None = None) -> list[SnapshotInfo]:
    """Apply retention: the last 5 periodic per stream; pre-rewind kinds for 14 days."""
    now = now or datetime.now(UTC)
    removed = []
    by_stream: dict[int, list[SnapshotInfo]] = {}
    for info in list_snapshots(stream_id):
        by_stream.setdefault(info.stream_id, []).append(info)
    for infos in by_stream.values():
        periodic = sorted(
            (i for i in infos if i.kind == "periodic"), key=lambda i: i.created_at, reverse=True
        )
        doomed = periodic[KEEP_PERIODIC:]
        doomed += [
            i for i in infos if i.kind.startswith("pre_") and now - i.created_at > KEEP_PRE_REWIND
        ]
        for info in doomed:
            info.path.unlink(missing_ok=True)
            removed.append(info)
    return removed


def periodic_due(stream: StreamRef) -> bool:
    """Every 100 events or 30 minutes since the stream's newest snapshot."""
    sid = stream_id_of(stream)
    infos = list_snapshots(sid)
    last_event = Event.objects.filter(stream_id=sid).order_by("-id").values_list("id", flat=True)
    newest_event_id = last_event.first() or 0
    if not infos:
        return Event.objects.filter(stream_id=sid).count() >= PERIODIC_EVERY_EVENTS
    newest = max(infos, key=lambda i: i.created_at)
    since = Event.objects.filter(stream_id=sid, id__gt=newest.event_id).count()
    if since >= PERIODIC_EVERY_EVENTS:
        return True
    return (
        since > 0
        and newest_event_id > newest.event_id
        and (datetime.now(UTC) - newest.created_at >= PERIODIC_EVERY)
    )


def maybe_periodic(stream: StreamRef) -> SnapshotInfo | None:
    if not periodic_due(stream):
        return None
    info = snapshot_create(stream, kind="periodic")
    prune(stream_id_of(stream))
    return info
