"""What retrieval finds beyond plain matches: days resolved at ingest, a second pass over the
names in the best hits, fact keys on verbatim turns, participants' names that say nothing.
Lexical and hybrid retrieval without a query vector, on real SQLite."""

from __future__ import annotations

import pytest

from eventstore.replay import replay
from eventstore.services import append
from memory import retrieval
from memory.models import Memory
from memory.retrieval import retrieve
from tests.factories import make_chat

pytestmark = pytest.mark.django_db(databases=["default", "scratch"])

FILLER = [
    "How was your week?",
    "Long, but fine. Work is busy.",
    "Did you see the match last night?",
    "No, I fell asleep on the sofa.",
    "The rain has not stopped all day.",
    "Same here, the garden is a swamp.",
]


def say(chat, text, *, speaker="you", when="2023-05-15T12:00"):
    return append(
        stream=chat,
        kind="user_turn" if speaker == "you" else "assistant_turn",
        payload={
            "speaker": speaker,
            "name": "Sam" if speaker == "you" else "Mara",
            "text": text,
            "witnesses": {"you": True, "host": True, "guest": False},
            "scene": 1,
            "story_time": when,
        },
    )


def chatter(chat, rounds=3):
    for _ in range(rounds):
        for n, line in enumerate(FILLER):
            say(chat, line, speaker="you" if n % 2 else "host")


def texts(found):
    return [r.memory.text for r in found]


def test_a_relative_date_is_resolved_at_ingest_and_found_by_its_day():
    chat = make_chat()
    chatter(chat)
    turn = say(chat, "Yesterday I ran my first half marathon.")
    chatter(chat)
    mem = Memory.objects.get(turn_id=turn.id, owner="host")
    assert mem.dates == "2023-05-14"
    assert (
        "Sunday 14 May 2023" in mem.keys
        and mem.text == "Sam: Yesterday I ran my first half marathon."
    )
    found = retrieve(chat.pk, "host", "What did Sam do on 14 May 2023?", k=3)
    assert found[0].memory.turn_id == turn.id
    assert "the day named in the question" in found[0].why


def test_the_second_pass_follows_the_name_a_question_leaves_out():
    chat = make_chat()
    gave = say(chat, "My uncle Horace gave me this fountain pen when I graduated.")
    chatter(chat)
    moved = say(chat, "Horace has moved to Tromso for good, I will miss him.")
    chatter(chat)
    question = "Where does the relative who gave Sam the fountain pen live now?"
    found = retrieve(chat.pk, "host", question, k=5)
    ids = [r.memory.turn_id for r in found]
    assert gave.id in ids and moved.id in ids
    assert "second pass" in next(r.why for r in found if r.memory.turn_id == moved.id)


def test_without_the_second_pass_the_linked_fact_is_missed(monkeypatch):
    chat = make_chat()
    say(chat, "My uncle Horace gave me this fountain pen when I graduated.")
    chatter(chat)
    moved = say(chat, "Horace has moved to Tromso for good, I will miss him.")
    chatter(chat)
    monkeypatch.setattr(retrieval, "SECOND_PASS", False)
    question = "Where does the relative who gave Sam the fountain pen live now?"
    assert moved.id not in [r.memory.turn_id for r in retrieve(chat.pk, "host", question, k=5)]


def test_fact_keys_find_the_verbatim_turn_and_survive_replay():
    chat = make_chat()
    turn = say(chat, "Meet Turnip, total chaos already.")
    chatter(chat)
    question = "What breed is Sam's dog?"
    assert turn.id not in [r.memory.turn_id for r in retrieve(chat.pk, "host", question, k=5)]
    append(
        stream=chat,
        kind="memory_keys_added",
        payload={"turn_ids": [turn.id], "keys": ["Sam's dog Turnip is a beagle"]},
    )
    mem = Memory.objects.get(turn_id=turn.id, owner="host")
    assert mem.text == "Sam: Meet Turnip, total chaos already."  # the words stay verbatim
    assert mem.keys == "Sam's dog Turnip is a beagle"
    assert retrieve(chat.pk, "host", question, k=5)[0].memory.turn_id == turn.id
    replay(chat)
    assert Memory.objects.get(turn_id=turn.id, owner="host").keys == mem.keys


def test_a_participants_name_alone_matches_nothing():
    chat = make_chat()
    for line in ("Ooh.", "Ha, nice.", "Fair enough!", "Morning!"):
        say(chat, line)
    scared = say(chat, "I can't even look at spiders, I just freeze.")
    assert retrieve(chat.pk, "host", "What is Sam terrified of?", k=5, mode="lexical") == []
    found = retrieve(chat.pk, "host", "Which spiders scare Sam?", k=5, mode="lexical")
    assert [r.memory.turn_id for r in found] == [scared.id]


def test_the_person_a_question_names_ranks_their_own_lines_first():
    chat = make_chat()
    mine = say(chat, "My sister is a vet in Leeds.", speaker="you")
    theirs = say(chat, "My sister is a vet in Leeds too!", speaker="host")
    found = retrieve(chat.pk, "host", "What does Sam's sister do, the vet?", k=2)
    assert [r.memory.turn_id for r in found] == [mine.id, theirs.id]
    assert "said by the person named" in found[0].why


def test_a_fact_key_naming_a_closed_events_prop_goes_with_the_prop():
    chat = make_chat()
    turn = say(chat, "Look what I brought along!")
    append(
        stream=chat,
        kind="memory_keys_added",
        payload={
            "turn_ids": [turn.id],
            "keys": ["Sam brought a picnic basket", "Sam likes surprises"],
        },
    )
    assert retrieve(chat.pk, "host", "the picnic basket", k=5)[0].memory.turn_id == turn.id
    append(
        stream=chat,
        kind="story_event_started",
        payload={"key": "picnic", "title": "Picnic", "props": ["picnic basket"]},
    )
    append(stream=chat, kind="story_event_completed", payload={"key": "picnic"})
    mem = Memory.objects.get(turn_id=turn.id, owner="host")
    assert mem.keys == "Sam likes surprises" and not mem.sealed  # the line itself named nothing
    assert retrieve(chat.pk, "host", "the picnic basket", k=5) == []


def test_fact_keys_reach_only_memories_whose_owner_saw_every_line_behind_them():
    chat = make_chat()
    secret = say(chat, "The code to the shed is 4471.")
    append(stream=chat, kind="guest_added", payload={"role": "guest", "name": "Theo"})
    later = append(
        stream=chat,
        kind="user_turn",
        payload={
            "speaker": "you",
            "name": "Sam",
            "text": "Anyway, welcome Theo!",
            "witnesses": {"you": True, "host": True, "guest": True},
            "scene": 1,
        },
    )
    # an analysis shown both lines writes a key onto the later one, which Theo witnessed
    append(
        stream=chat,
        kind="memory_keys_added",
        payload={
            "turn_ids": [later.id],
            "keys": ["the shed code is 4471"],
            "sources": [secret.id, later.id],
        },
    )
    assert Memory.objects.get(turn_id=later.id, owner="host").keys == "the shed code is 4471"
    assert Memory.objects.get(turn_id=later.id, owner="guest").keys == ""
