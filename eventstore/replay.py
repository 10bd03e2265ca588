"""Rebuilding projections from the log, and comparing them.

``build_state`` folds a branch's log (optionally from a snapshot) into a MemoryStore;
``replay`` writes that into a database alias; ``verify`` replays into the in-memory scratch
database and lists every difference from the live tables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import connections, transaction

from eventstore import branches, snapshots
from eventstore.models import Branch, Stream, StreamRef, stream_id_of
from eventstore.projection import (
    PROJECTION_VERSION,
    MemoryStore,
    dump_db,
    project,
    projection_models,
)


@dataclass
class BuiltState:
    store: MemoryStore
    events_applied: int
    last_event_id: int
    snapshot: str | None


def build_state(
    branch: Branch,
    *,
    use_snapshot: bool = True,
    using: str = "default",
    progress: Callable[[int], None] | None = None,
) -> BuiltState:
    store = MemoryStore()
    after_id = 0
    snap_name = None
    if use_snapshot:
        snap = snapshots.newest_for(branch, using=using)
        if snap is not None:
            store.load(snap.tables)
            after_id = snap.event_id
            snap_name = snap.name
    count = 0
    last = after_id
    for record in branches.events(branch, after_id=after_id, using=using):
        project(store, record)
        count += 1
        last = record.id
        if progress is not None and count % 500 == 0:
            progress(500)
    if progress is not None:
        progress(count % 500)
    return BuiltState(store, count, last, snap_name)


def replay(
    stream: StreamRef,
    *,
    using: str = "default",
    use_snapshot: bool = False,
    branch: Branch | None = None,
    progress: Callable[[int], None] | None = None,
) -> BuiltState:
    """Wipe a stream's projections in ``using`` and rebuild them from its active branch."""
    stream_id = stream_id_of(stream)
    if branch is None:
        active = Stream.objects.values_list("active_branch_id", flat=True).get(pk=stream_id)
        branch = Branch.objects.get(pk=active)
    built = build_state(branch, use_snapshot=use_snapshot, progress=progress)
    if using != "default":
        ensure_scratch_schema(using)
    with transaction.atomic(using=using):
        built.store.write(stream_id, using=using)
        if using == "default":
            Stream.objects.filter(pk=stream_id).update(projected_version=PROJECTION_VERSION)
    return built


def replay_stale(*, progress: Callable[[int], None] | None = None) -> list[int]:
    """Rebuild every stream whose live rows an older projection version built: how a change
    in what projectors mean reaches existing chats."""
    stale = list(
        Stream.objects.exclude(active_branch=None)
        .exclude(projected_version=PROJECTION_VERSION)
        .values_list("pk", flat=True)
    )
    for stream_id in stale:
        replay(stream_id, progress=progress)
    return stale


def ensure_scratch_schema(alias: str = "scratch") -> None:
    """Give the scratch database the live file's schema (tables, virtual tables, triggers)."""
    dst = connections[alias]
    with dst.cursor() as cur:
        cur.execute("SELECT name FROM sqlite_master")
        existing = {name for (name,) in cur.fetchall()}
    with connections["default"].cursor() as cur:
        cur.execute("PRAGMA table_list")
        listed = cur.fetchall()
        virtual = [row[1] for row in listed if row[2] == "virtual"]
        # shadow tables of virtual tables come with them (sqlite-vec's are listed as tables)
        shadow = {
            row[1]
            for row in listed
            if row[2] == "shadow" or any(row[1].startswith(f"{vt}_") for vt in virtual)
        }
        cur.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL "
            "AND name NOT LIKE 'sqlite_%' ORDER BY CASE type WHEN 'table' THEN 0 "
            "WHEN 'index' THEN 1 ELSE 2 END, rowid"
        )
        statements = [
            sql for kind, name, sql in cur.fetchall() if name not in shadow and name not in existing
        ]
    with dst.cursor() as cur:
        for sql in statements:
            cur.execute(sql)


def diff_tables(
    live: dict[str, list[dict[str, Any]]], other: dict[str, list[dict[str, Any]]]
) -> list[str]:
    """Human-readable differences between two dumps (``live`` vs ``other``)."""
    lines: list[str] = []
    for label in sorted(set(live) | set(other)):
        model = apps.get_model(label)
        key_fields = ("id",) if model.stable_pk else model.natural_key_fields

        def keyed(rows, key_fields=key_fields):
            return {tuple(r[f] for f in key_fields): r for r in rows}

        a, b = keyed(live.get(label, [])), keyed(other.get(label, []))
        for key in sorted(set(a) | set(b), key=str):
            shown = ", ".join(f"{f}={v}" for f, v in zip(key_fields, key, strict=True))
            if key not in b:
                lines.append(f"{label} [{shown}]: only in live")
            elif key not in a:
                lines.append(f"{label} [{shown}]: only in replay")
            else:
                for field in a[key]:
                    if a[key][field] != b[key].get(field):
                        lines.append(
                            f"{label} [{shown}] {field}: live={a[key][field]!r} "
                            f"replay={b[key].get(field)!r}"
                        )
    return lines


def verify(
    stream: StreamRef, *, use_snapshot: bool = False, progress: Callable[[int], None] | None = None
) -> list[str]:
    """Replay a stream into the scratch database and diff it against the live tables."""
    stream_id = stream_id_of(stream)
    replay(stream_id, using="scratch", use_snapshot=use_snapshot, progress=progress)
    try:
        return diff_tables(dump_db(stream_id), dump_db(stream_id, using="scratch"))
    finally:
        with transaction.atomic(using="scratch"):
            for model in projection_models():
                model.objects.using("scratch").filter(**{model.stream_key: stream_id}).delete()
