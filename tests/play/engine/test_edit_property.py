"""Edits, continues, swipes and deletes over random play (issue 26): the world follows the
active words.

Every line says one new canary (sometimes it repeats an earlier one: a later line that
repeats a fact keeps it). A scripted model writes every canary it was ever shown — in any
request, on any branch — into every free-text field of every analysis it makes. After each
step: live state equals replay; a canary said only in versions that are not on the active line
(edited away, deleted, swiped away) is nowhere in the state, nor found by the search, nor in any
model request made during that step; a canary of the active line's words is in the state.
"""

from __future__ import annotations

import itertools
import json
import re

import pytest
from asgiref.sync import async_to_sync
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from eventstore.projection import dump_db
from eventstore.replay import verify
from play.engine import pipeline
from play.engine.inference.registry import override_backend
from play.engine.inference.scripted import ScriptedBackend
from play.engine.search import search
from play.engine.selectors import swipe_groups
from play.engine.services.branches import swipe_switch
from play.engine.services.compose import turn_continue
from play.engine.services.delete import turn_delete
from play.engine.services.edit import turn_edit
from play.engine.turnlock import API
from play.models import Chat, Turn
from play.web.presenters import chat_state
from tests.factories import make_chat

pytestmark = pytest.mark.django_db(databases=["default", "scratch"])

CANARY = re.compile(r"\bqv\d+k\b")
NUMBERS = itertools.count(1000)  # canaries unique across examples (their chats share a database)


class Copycat(ScriptedBackend):
    """Replies with a new canary; its analyses copy every canary it has ever seen."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []
        self.requests: list[str] = []

    def fresh(self) -> str:
        return f"qv{next(NUMBERS)}k"

    def _saw(self, messages) -> str:
        text = "\n".join(m["content"] for m in messages)
        self.requests.append(text)
        self.seen += [c for c in CANARY.findall(text) if c not in self.seen]
        return text

    async def stream(self, messages, params):
        self._saw(messages)
        for word in f"I hear you, {self.fresh()}.".split(" "):
            yield word + " "

    async def generate(self, messages, params):
        self._saw(messages)
        return " ".join(self.seen[-12:]) + ". A quiet scene."

    async def structured(self, messages, schema, params):
        self._saw(messages)
        if schema.__name__ != "TurnAnalysis":
            return schema()
        every = " ".join(self.seen[-16:]) or "nothing"
        return schema.model_validate(
            {
                "significance": 1,
                "entities": [{"role": "host", "mood": every[:200], "goals": every}],
                "edges": [
                    {
                        "source": "host",
                        "target": "you",
                        "knowledge_facts": [every[:300]],
                        "last_interaction": every[:300],
                    }
                ],
                "threads": [{"action": "open", "title": f"about {every[:120]}", "notes": every}],
                "memory_keys": [every[:300]],
            }
        )


OPS = st.one_of(
    st.tuples(st.just("say"), st.integers(0, 3)),
    st.tuples(st.just("say"), st.integers(0, 3)),
    st.tuples(st.just("edit"), st.integers(0, 40), st.booleans()),
    st.tuples(st.just("edit"), st.integers(0, 40), st.booleans()),
    st.tuples(st.just("continue")),
    st.tuples(st.just("swipe"), st.integers(0, 40), st.sampled_from([-1, 1])),
    st.tuples(st.just("delete"), st.integers(0, 40)),
)


def lines(chat) -> list[Turn]:
    return list(Turn.objects.filter(chat=chat).exclude(speaker="narrator").order_by("id"))


def apply(chat: Chat, model: Copycat, op: tuple, said: list[str]) -> None:
    kind = op[0]
    if kind == "say":
        canary = model.fresh()
        again = f" As I said, {said[-1 - op[1] % len(said)]}." if said and op[1] == 0 else ""
        async_to_sync(pipeline.run_turn)(chat.pk, f"Listen: {canary}.{again}")
        said.append(canary)
    elif kind == "edit":
        turns = [t for t in lines(chat) if t.seq > 1]
        if turns:
            turn = turns[op[1] % len(turns)]
            async_to_sync(turn_edit)(
                chat_id=chat.pk,
                turn_id=turn.pk,
                text=f"Instead: {model.fresh()}.",
                keep_after=op[2],
                origin=API,
            )
    elif kind == "continue":
        newest = Turn.objects.filter(chat=chat).order_by("-id").first()
        if newest is not None and newest.speaker == "host":
            async_to_sync(turn_continue)(chat_id=chat.pk, origin=API)
    elif kind == "swipe":
        chat = Chat.objects.get(pk=chat.pk)
        groups = swipe_groups(chat)
        if groups:
            turn_id = sorted(groups)[op[1] % len(groups)]
            group = groups[turn_id]
            if 0 <= group.index - 1 + op[2] < group.total:
                swipe_switch(chat_id=chat.pk, turn_id=turn_id, direction=op[2], origin=API)
    elif kind == "delete":
        turns = [t for t in lines(chat) if t.seq > 1]
        if turns:
            turn_delete(chat_id=chat.pk, turn_id=turns[op[1] % len(turns)].pk, origin=API)


def check(chat: Chat, model: Copycat, requests: list[str]) -> None:
    assert verify(chat) == [], "live state differs from replay"
    active = {c for t in Turn.objects.filter(chat=chat) for c in CANARY.findall(t.text)}
    gone = set(model.seen) - active
    chat = Chat.objects.get(pk=chat.pk)
    state = json.dumps(dump_db(chat.pk)) + json.dumps(chat_state(chat))
    for canary in gone:
        assert canary not in state, (
            f"{canary} (not on the active line) is in the state: "
            + "; ".join(
                f"{label}.{k}"
                for label, rows in dump_db(chat.pk).items()
                for r in rows
                for k, v in r.items()
                if canary in json.dumps(v)
            )
        )
        found = [r for r in search(canary) if r["chat_id"] == chat.pk]
        assert not found, f"the search finds {canary}"
        for text in requests:
            assert canary not in text, f"a request holds {canary}: {text[-1500:]}"
    for canary in active:
        assert canary in state


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(OPS, min_size=3, max_size=9))
def test_the_world_follows_the_active_words(sequence):
    note(f"ops {sequence}")
    run(sequence)


def run(sequence) -> None:
    model = Copycat()
    with override_backend(model):
        chat = make_chat()
        said: list[str] = []
        for op in sequence:
            done = len(model.requests)
            apply(chat, model, op, said)
            check(chat, model, model.requests[done:])


FIXED = [
    # an early line edited, what followed kept; then swiped back and forth
    [("say", 1), ("say", 1), ("say", 1), ("edit", 0, True), ("swipe", 0, -1), ("swipe", 0, 1)],
    # a later line repeats the fact of a line edited away: it keeps it
    [("say", 1), ("say", 0), ("edit", 0, True), ("continue",), ("delete", 1)],
    # an edit as a branch, then a continue on it
    [("say", 1), ("say", 1), ("edit", 2, False), ("say", 1), ("continue",)],
]


@pytest.mark.parametrize("sequence", FIXED)
def test_fixed_stories(sequence):
    run(sequence)
