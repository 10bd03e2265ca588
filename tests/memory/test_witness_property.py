"""Witness filtering as a property: over random scene configurations, turns, guest arrivals and
departures, witness edits and fact keys, no bot's prompt ever holds what that bot did not
witness, no retrieval path (lexical, the date list, the second pass over names in the best
hits, fact keys) ever returns a memory its bot did not witness, and an absent bot never gains
a memory of what happened without it."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventstore.services import append
from memory.models import Memory
from memory.retrieval import candidates, retrieve
from memory.selectors import visible_to
from play.engine.prompt import build_prompt
from tests.factories import make_character, make_chat
from worlds.models import EntityState, WorldState

pytestmark = pytest.mark.django_db

ROLES = ("you", "host", "guest")
# Names the turns mention in turn: a question naming Horace finds turns whose other names the
# second pass then follows into turns the question never matched.
OTHERS = ("Quill", "Wren", "Ashby")
# "yesterday" said on 4 May resolves to 3 May, the day the question names: the date list
QUESTION = "What happened with Horace at the lighthouse on 3 May 2024?"


class Story:
    def __init__(self):
        self.chat = make_chat()
        self.guest = make_character("Theo")
        self.n = 0
        self.markers: dict[str, int] = {}  # unique marker -> turn id
        # the oracle, kept by the test itself: which markers each bot witnessed
        self.seen: dict[str, set[str]] = {"host": set(), "guest": set()}

    def present(self) -> set[str]:
        return set(
            EntityState.objects.filter(chat=self.chat, present=True).values_list("role", flat=True)
        )

    def say(self, speaker: str) -> None:
        present = self.present()
        if speaker not in present:
            return
        self.n += 1
        marker = f"mk{self.n}q"
        world = WorldState.objects.get(chat=self.chat)
        kind = "user_turn" if speaker == "you" else "assistant_turn"
        event = append(
            stream=self.chat,
            kind=kind,
            payload={
                "speaker": speaker,
                "name": speaker,
                "text": f"yesterday Horace and {OTHERS[self.n % 3]} {marker}",
                "witnesses": {r: r in present for r in ROLES},
                "scene": world.scene,
                "story_time": "2024-05-04T10:00",
            },
        )
        self.markers[marker] = event.id
        for bot in ("host", "guest"):
            if bot in present:
                self.seen[bot].add(marker)

    def apply(self, op: tuple) -> None:
        present = self.present()
        kind = op[0]
        if kind == "say":
            self.say(op[1])
        elif kind == "guest_in" and "guest" not in present:
            append(
                stream=self.chat,
                kind="guest_added",
                payload={"role": "guest", "name": "Theo", "character_id": self.guest.pk},
            )
        elif kind == "guest_out" and "guest" in present:
            append(stream=self.chat, kind="guest_removed", payload={})
        elif kind == "meanwhile" and {"host", "guest", "you"} <= present:
            append(stream=self.chat, kind="presence_changed", payload={"present": {"you": False}})
            append(stream=self.chat, kind="scene_closed", payload={"reason": "meanwhile"})
        elif kind == "return" and "you" not in present:
            append(stream=self.chat, kind="presence_changed", payload={"present": {"you": True}})
            append(stream=self.chat, kind="scene_closed", payload={"reason": "back"})
        elif kind == "close":
            append(stream=self.chat, kind="scene_closed", payload={"reason": "time"})
        elif kind == "keys" and self.markers:  # what the turn analysis adds to a turn
            turn_id = list(self.markers.values())[op[1] % len(self.markers)]
            append(
                stream=self.chat,
                kind="memory_keys_added",
                payload={"turn_ids": [turn_id], "keys": [f"Horace met {OTHERS[op[1] % 3]}"]},
            )
        elif kind == "unset_bit":
            mems = list(Memory.objects.filter(chat=self.chat).values_list("id", "owner", "turn_id"))
            if mems:
                mem_id, owner, turn_id = mems[op[1] % len(mems)]
                for marker, tid in self.markers.items():
                    if tid == turn_id:
                        self.seen[owner].discard(marker)
                append(
                    stream=self.chat,
                    kind="manual_edit",
                    payload={
                        "target": "memory",
                        "key": {"id": mem_id},
                        "changes": {f"w_{owner}": False},
                    },
                )

    def check(self) -> None:
        present = self.present()
        for bot in ("host", "guest"):
            if bot not in present:
                continue
            prompt = build_prompt(self.chat, bot, query="the lighthouse")
            text = json.dumps(prompt.messages)
            for marker in self.markers:
                if marker not in self.seen[bot]:
                    assert marker not in text, f"{bot} saw {marker} without witnessing it"
            for mem in prompt.memories:
                row = Memory.objects.get(pk=mem["id"])
                assert row.owner == bot and row.witnessed_by(bot)
            turns = {tid: marker for marker, tid in self.markers.items()}
            visible = set(visible_to(self.chat.pk, bot).values_list("id", flat=True))
            for facing_you in (False, True):
                # every pass filters on its own, not only the final re-read of the winners
                found = candidates(self.chat.pk, bot, QUESTION, facing_you=facing_you)
                assert set(found) <= visible, [found[i] for i in set(found) - visible]
                for found in retrieve(self.chat.pk, bot, QUESTION, k=50, facing_you=facing_you):
                    row = Memory.objects.get(pk=found.memory.id)
                    assert row.owner == bot and row.witnessed_by(bot) and not row.sealed
                    marker = turns.get(row.turn_id)  # None: the greeting, a summary
                    assert marker is None or marker in self.seen[bot], f"{found.why}"


ops = st.one_of(
    st.tuples(st.just("say"), st.sampled_from(ROLES)),
    st.tuples(st.just("say"), st.sampled_from(ROLES)),
    st.tuples(st.just("guest_in")),
    st.tuples(st.just("guest_out")),
    st.tuples(st.just("meanwhile")),
    st.tuples(st.just("return")),
    st.tuples(st.just("close")),
    st.tuples(st.just("unset_bit"), st.integers(0, 1000)),
    st.tuples(st.just("keys"), st.integers(0, 1000)),
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(ops, min_size=1, max_size=30))
def test_no_prompt_ever_holds_what_its_speaker_did_not_witness(sequence):
    story = Story()
    for op in sequence:
        story.apply(op)
        story.check()


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(ops, min_size=1, max_size=30))
def test_an_absent_bot_never_gains_a_memory_of_what_it_missed(sequence):
    story = Story()
    for op in sequence:
        before = story.present()
        count = len(story.markers)
        story.apply(op)
        if len(story.markers) > count:  # a turn was spoken
            turn_id = story.markers[f"mk{story.n}q"]
            for bot in ("host", "guest"):
                if bot not in before:
                    assert not Memory.objects.filter(turn_id=turn_id, owner=bot).exists()
                    assert not visible_to(story.chat.pk, bot).filter(turn_id=turn_id).exists()
                    if bot in story.present():
                        assert f"mk{story.n}q" not in json.dumps(
                            build_prompt(story.chat, bot, query="lighthouse").messages
                        )
