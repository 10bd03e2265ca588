"""The event log on its own: a bare stream, kinds no app projects, nothing of the domain.
Append-only at the database, branches as forks of one log, a purge that takes a stream whole."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from eventstore import branches
from eventstore.models import Branch, Event, Stream
from eventstore.services import (
    BranchError,
    active_branch_id,
    append,
    branch_activate,
    branch_create,
    stream_open,
    stream_purge,
)

pytestmark = pytest.mark.django_db

KIND = "noted"  # no app projects it: the log alone


def opened() -> Stream:
    stream = Stream.objects.create()
    stream_open(stream=stream)
    return stream


def noted(stream, *texts, branch=None):
    return [append(stream=stream, kind=KIND, payload={"text": t}, branch=branch) for t in texts]


def texts(branch: Branch) -> list[str]:
    return [e.payload["text"] for e in branches.events(branch) if e.kind == KIND]


def test_rows_can_be_neither_changed_nor_removed_by_sql_or_the_orm():
    stream = opened()
    (first,) = noted(stream, "one")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cur,
    ):
        cur.execute("UPDATE eventstore_event SET kind = 'forged' WHERE id = %s", [first.id])
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cur,
    ):
        cur.execute("DELETE FROM eventstore_event WHERE id = %s", [first.id])
    row = Event.objects.get(pk=first.id)
    row.payload = {"text": "forged"}
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        row.save()
    assert Event.objects.get(pk=first.id).payload == {"text": "one"}


def test_events_are_numbered_in_order_on_the_active_branch_and_keep_their_cause():
    stream = opened()
    a, b, c = noted(stream, "a", "b", "c")
    assert [a.seq, b.seq, c.seq] == sorted([a.seq, b.seq, c.seq]) and len(
        {a.seq, b.seq, c.seq}
    ) == 3
    caused = append(stream=stream, kind=KIND, payload={"text": "d"}, caused_by=b)
    assert Event.objects.get(pk=caused.id).caused_by_id == b.id
    assert texts(Branch.objects.get(pk=active_branch_id(stream))) == ["a", "b", "c", "d"]


def test_a_branch_is_the_log_up_to_its_fork_then_its_own_and_the_root_is_untouched():
    stream = opened()
    root = Branch.objects.get(pk=active_branch_id(stream))
    a, b, _c = noted(stream, "a", "b", "c")
    fork = branch_create(stream=stream, fork_event=Event.objects.get(pk=b.id), kind="swipe")
    noted(stream, "x", "y", branch=fork)
    assert texts(fork) == ["a", "b", "x", "y"]
    assert texts(root) == ["a", "b", "c"]
    assert [s.branch_id for s in branches.chain(fork)] == [root.pk, fork.pk]
    branch_activate(stream=stream, branch=fork)
    assert active_branch_id(stream) == fork.pk
    noted(stream, "z")  # goes where the stream now stands
    assert texts(fork)[-1] == "z" and texts(root) == ["a", "b", "c"]
    with pytest.raises(BranchError):
        branch_create(stream=stream, fork_event=None, kind="swipe")


def test_a_branch_of_another_stream_cannot_be_made_active():
    one, other = opened(), opened()
    (event,) = noted(other, "theirs")
    theirs = branch_create(stream=other, fork_event=Event.objects.get(pk=event.id), kind="swipe")
    with pytest.raises(BranchError):
        branch_activate(stream=one, branch=theirs)


def test_a_purge_takes_the_stream_whole_and_leaves_the_others():
    doomed, kept = opened(), opened()
    noted(doomed, "gone", "too")
    noted(kept, "stays")
    stream_purge(stream=doomed)
    assert not Stream.objects.filter(pk=doomed.pk).exists()
    assert not Event.objects.filter(stream_id=doomed.pk).exists()
    assert not Branch.objects.filter(stream_id=doomed.pk).exists()
    assert texts(Branch.objects.get(pk=active_branch_id(kept))) == ["stays"]
    # and the log is append-only again afterwards
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cur,
    ):
        cur.execute("DELETE FROM eventstore_event WHERE stream_id = %s", [kept.pk])
