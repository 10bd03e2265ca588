import pytest
from django.db import DatabaseError, connection

from eventstore.models import Event
from eventstore.services import append, stream_purge
from play.models import Chat, Turn
from tests.factories import make_chat

pytestmark = pytest.mark.django_db


def test_it_refuses_update_of_an_event_row_at_the_database_level():
    chat = make_chat()
    with pytest.raises(DatabaseError, match="append-only"), connection.cursor() as cur:
        cur.execute("UPDATE eventstore_event SET kind = 'forged' WHERE stream_id = %s", [chat.pk])
    assert not Event.objects.filter(kind="forged").exists()


def test_it_refuses_update_through_the_orm():
    chat = make_chat()
    event = Event.objects.filter(stream=chat).first()
    event.payload = {"forged": True}
    with pytest.raises(DatabaseError, match="append-only"):
        event.save()


def test_it_refuses_delete_of_an_event_row_at_the_database_level():
    chat = make_chat()
    count = Event.objects.filter(stream=chat).count()
    with pytest.raises(DatabaseError, match="append-only"), connection.cursor() as cur:
        cur.execute("DELETE FROM eventstore_event WHERE stream_id = %s", [chat.pk])
    assert Event.objects.filter(stream=chat).count() == count


def test_purging_a_chat_removes_its_log_and_state_and_leaves_others_alone():
    doomed, kept = make_chat(), make_chat()
    kept_events = Event.objects.filter(stream=kept).count()
    stream_purge(stream=doomed)
    assert not Chat.objects.filter(pk=doomed.pk).exists()
    assert not Event.objects.filter(stream_id=doomed.pk).exists()
    assert not Turn.objects.filter(chat_id=doomed.pk).exists()
    assert Event.objects.filter(stream=kept).count() == kept_events
    # the door closes again: the kept chat's events are still protected
    with pytest.raises(DatabaseError), connection.cursor() as cur:
        cur.execute("DELETE FROM eventstore_event WHERE stream_id = %s", [kept.pk])


def test_append_writes_and_projects_in_one_transaction():
    chat = make_chat()
    before = Event.objects.count()
    with pytest.raises(KeyError):
        # the memory projector needs "memory_id": the event must roll back with it
        append(stream=chat, kind="memory_pinned", payload={})
    assert Event.objects.count() == before


def test_events_carry_what_caused_them():
    chat = make_chat()
    turn = Event.objects.filter(stream=chat, kind="assistant_turn").first()
    child = append(
        stream=chat,
        kind="edge_update",
        payload={"edges": [{"source": "host", "target": "you", "affinity_delta": 2}]},
        caused_by=turn.pk,
    )
    assert Event.objects.get(pk=child.id).caused_by_id == turn.pk
    assert [e.pk for e in turn.consequences.all()] == [child.id]


@pytest.mark.django_db(transaction=True)
def test_flushing_the_test_database_goes_through_the_purge_door():
    # transaction=True tests are torn down by a flush: it must not be refused by the trigger
    make_chat()
    assert Event.objects.exists()
