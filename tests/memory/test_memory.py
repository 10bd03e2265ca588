"""Memories per witness, pins (auto at 3, soft cap 8, manual never evicted), lexical retrieval."""

import pytest

from eventstore.services import append
from memory.models import Memory
from memory.retrieval import retrieve
from memory.selectors import visible_to
from tests.factories import make_chat

pytestmark = pytest.mark.django_db


def turn(chat, text, witnesses=None, speaker="you"):
    return append(
        stream=chat,
        kind="user_turn" if speaker == "you" else "assistant_turn",
        payload={
            "speaker": speaker,
            "name": speaker,
            "text": text,
            "witnesses": witnesses or {"you": True, "host": True},
        },
    )


def test_a_turn_becomes_a_memory_for_every_bot_witness_with_its_mask():
    chat = make_chat()
    event = turn(chat, "hello both", {"you": True, "host": True, "guest": True})
    mems = Memory.objects.filter(turn_id=event.id).order_by("owner")
    assert [m.owner for m in mems] == ["guest", "host"]
    assert all(m.witnesses == {"you": True, "host": True, "guest": True} for m in mems)
    absent = turn(chat, "only the host hears", {"you": True, "host": True, "guest": False})
    assert list(Memory.objects.filter(turn_id=absent.id).values_list("owner", flat=True)) == [
        "host"
    ]


def test_significance_three_auto_pins_for_each_witness():
    chat = make_chat()
    event = turn(chat, "I'm your sister.", {"you": True, "host": True, "guest": True})
    append(
        stream=chat,
        kind="memory_significance_set",
        payload={"turn_id": event.id, "significance": 3},
    )
    mems = Memory.objects.filter(turn_id=event.id)
    assert mems.count() == 2 and all(m.pinned and m.pin_kind == "auto" for m in mems)


def test_auto_pins_beyond_eight_are_evicted_oldest_first_and_manual_pins_stay():
    chat = make_chat()
    manual = turn(chat, "manual pin")
    manual_mem = Memory.objects.get(turn_id=manual.id, owner="host")
    append(stream=chat, kind="memory_pinned", payload={"memory_id": manual_mem.id, "pinned": True})
    autos = []
    for i in range(10):
        e = turn(chat, f"pivotal {i}")
        append(
            stream=chat,
            kind="memory_significance_set",
            payload={"turn_id": e.id, "significance": 3},
        )
        autos.append(e.id)
    pinned = Memory.objects.filter(chat=chat, owner="host", pinned=True)
    assert pinned.count() == 8
    assert pinned.filter(pk=manual_mem.pk, pin_kind="manual").exists()
    kept = set(pinned.filter(pin_kind="auto").values_list("turn_id", flat=True))
    assert kept == set(autos[-7:])  # the oldest auto pins went first


def test_lowering_significance_removes_an_auto_pin_but_not_a_manual_one():
    chat = make_chat()
    e = turn(chat, "big moment")
    append(
        stream=chat, kind="memory_significance_set", payload={"turn_id": e.id, "significance": 3}
    )
    append(
        stream=chat, kind="memory_significance_set", payload={"turn_id": e.id, "significance": 1}
    )
    assert not Memory.objects.get(turn_id=e.id, owner="host").pinned


def test_retrieval_is_witness_filtered_inside_the_query():
    chat = make_chat()
    turn(chat, "the blue lighthouse key", {"you": True, "host": True})
    hidden = turn(chat, "the blue lighthouse map", {"you": True, "host": True})
    mem = Memory.objects.get(turn_id=hidden.id, owner="host")
    append(
        stream=chat,
        kind="manual_edit",
        payload={"target": "memory", "key": {"id": mem.id}, "changes": {"w_host": False}},
    )
    found = [r.memory.text for r in retrieve(chat.pk, "host", "blue lighthouse", k=5)]
    assert any("key" in t for t in found) and not any("map" in t for t in found)
    assert not visible_to(chat.pk, "host").filter(pk=mem.pk).exists()


def test_retrieval_prefers_significant_and_recent_memories_among_equal_matches():
    chat = make_chat()
    old = turn(chat, "we talked about the storm")
    for i in range(5):
        turn(chat, f"filler {i}")
    new = turn(chat, "we talked about the storm")
    found = retrieve(chat.pk, "host", "storm", k=2)
    assert found[0].memory.turn_id == new.id
    append(
        stream=chat, kind="memory_significance_set", payload={"turn_id": old.id, "significance": 3}
    )
    found = retrieve(chat.pk, "host", "storm", k=2)
    assert found[0].memory.turn_id == old.id


def test_retrieval_does_not_lose_results_to_other_chats_rows():
    mine, other = make_chat(), make_chat()
    turn(mine, "the harbour bell rang")
    for i in range(80):
        turn(other, f"the harbour bell rang again {i}")
    found = retrieve(mine.pk, "host", "harbour bell", k=3)
    assert "harbour bell" in found[0].memory.text
    assert all(r.memory.chat_id == mine.pk for r in found)


def test_only_bots_have_memory_stores():
    chat = make_chat()
    with pytest.raises(ValueError):
        visible_to(chat.pk, "you")
