"""Writes to the log. ``append`` is the only way an event is created."""

from __future__ import annotations

import logging
from typing import Any

from django.db import connections, transaction

from eventstore import branches as branch_log
from eventstore.models import Branch, Event, Purge
from eventstore.projection import DBStore, projection_models
from eventstore.records import EventRecord, normalise_payload
from eventstore.signals import event_appended, event_committed

log = logging.getLogger("rp.eventstore")


class BranchError(ValueError):
    """An invalid branch operation (e.g. forking before the start of a chat)."""


def project(store: Any, record: EventRecord) -> None:
    event_appended.send(sender=EventRecord, event=record, store=store)


def _read_record(event_id: int, using: str) -> EventRecord:
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"SELECT {branch_log._COLUMNS} FROM {Event._meta.db_table} WHERE id = %s", [event_id]
        )
        return EventRecord.from_row(cursor.fetchone())


def _target(chat_id: int, branch: Branch | None, using: str) -> tuple[int, int, bool]:
    """(branch id, next seq, whether it is the active branch) in one read: every append
    asks, so plain SQL rather than three ORM queries."""
    from play.models import Chat

    events, branches, chats = Event._meta.db_table, Branch._meta.db_table, Chat._meta.db_table
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"SELECT c.active_branch_id, b.id, b.fork_event_id, "
            f"(SELECT max(seq) FROM {events} WHERE branch_id = b.id), "
            f"(SELECT seq FROM {events} WHERE id = b.fork_event_id) "
            f"FROM {chats} c JOIN {branches} b ON b.id = coalesce(%s, c.active_branch_id) "
            "WHERE c.id = %s",
            [branch.pk if branch else None, chat_id],
        )
        row = cursor.fetchone()
    if row is None:
        raise Branch.DoesNotExist(f"chat {chat_id} has no branch to append to")
    active, target, fork, own, fork_seq = row
    if own is None:  # the branch's first own event follows its fork point
        own = 0 if fork is None else fork_seq
    return target, own + 1, target == active


def append(
    *,
    chat,
    kind: str,
    payload: dict[str, Any] | None = None,
    caused_by: int | EventRecord | None = None,
    branch: Branch | None = None,
    copied_from: int | None = None,
    using: str = "default",
) -> EventRecord:
    """Write one event and project it, in one transaction.

    Events go on the chat's active branch unless ``branch`` says otherwise; only events on the
    active branch are projected into the live tables (another branch is projected when it is
    switched to).
    """
    payload = normalise_payload(payload or {})
    caused_by_id = caused_by.id if isinstance(caused_by, EventRecord) else caused_by
    with transaction.atomic(using=using):
        target, seq, active = _target(chat.pk, branch, using)
        event = Event.objects.using(using).create(
            chat_id=chat.pk,
            branch_id=target,
            seq=seq,
            kind=kind,
            payload=payload,
            caused_by_id=caused_by_id,
            copied_from_id=copied_from,
        )
        record = _read_record(event.pk, using)
        if active:
            project(DBStore(using), record)
        transaction.on_commit(
            lambda: event_committed.send(sender=EventRecord, event=record), using=using
        )
    return record


def branch_create(
    *, chat, fork_event: Event | None, kind: str, label: str = "", using: str = "default"
) -> Branch:
    """A new branch whose log is everything up to and including ``fork_event``."""
    if fork_event is None:
        if Branch.objects.using(using).filter(chat=chat).exists():
            raise BranchError("a chat has exactly one root branch")
        return Branch.objects.using(using).create(chat=chat, kind=Branch.Kind.MAIN)
    return Branch.objects.using(using).create(
        chat=chat,
        parent_id=fork_event.branch_id,
        fork_event=fork_event,
        kind=kind,
        label=label,
    )


def chat_purge(*, chat, using: str = "default") -> None:
    """Remove a chat and its whole log: the user's right to delete their data.

    The append-only trigger lets event rows go only while the chat is listed in the purge
    table; the listing is removed again in the same transaction.
    """
    from play.models import Chat

    with transaction.atomic(using=using):
        Purge.objects.using(using).get_or_create(chat_id=chat.pk)
        for model in projection_models():
            model.objects.using(using).filter(chat_id=chat.pk).delete()
        Chat.objects.using(using).filter(pk=chat.pk).update(active_branch=None)
        with connections[using].cursor() as cursor:
            cursor.execute(f"DELETE FROM {Event._meta.db_table} WHERE chat_id = %s", [chat.pk])
            cursor.execute(f"DELETE FROM {Branch._meta.db_table} WHERE chat_id = %s", [chat.pk])
        Chat.objects.using(using).filter(pk=chat.pk).delete()
        Purge.objects.using(using).filter(chat_id=chat.pk).delete()
    log.info("purged chat %s", chat.pk)


def branch_activate(*, chat, branch: Branch, using: str = "default") -> None:
    """Make ``branch`` the chat's active line and rebuild the live tables from it.

    Loading uses the newest snapshot on the branch plus the later events.
    """
    from eventstore.replay import build_state
    from eventstore.signals import branch_switched
    from play.models import Chat

    if branch.chat_id != chat.pk:
        raise BranchError(f"branch {branch.pk} does not belong to chat {chat.pk}")
    built = build_state(branch, use_snapshot=True, using=using)
    with transaction.atomic(using=using):
        Chat.objects.using(using).filter(pk=chat.pk).update(active_branch=branch)
        built.store.write(chat.pk, using=using)
        transaction.on_commit(
            lambda: branch_switched.send(sender=Branch, chat_id=chat.pk, branch_id=branch.pk),
            using=using,
        )
    chat.active_branch = branch
    chat.active_branch_id = branch.pk
