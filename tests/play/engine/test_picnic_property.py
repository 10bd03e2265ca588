"""The picnic-basket test, as a property: once a story event is completed, cancelled or
expired, none of its props reaches a later prompt or memory; the four promoted kinds do."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventstore.services import append
from memory.models import Memory
from memory.selectors import visible_to
from play.engine.prompt import build_prompt
from play.engine.schemas import StoryEventChange
from play.engine.story import story_event_apply, story_event_close
from tests.factories import make_chat
from worlds.models import StoryEvent, WorldState

pytestmark = pytest.mark.django_db

N_EVENTS = 3


def props_of(i: int) -> list[str]:
    return [f"basket{i}zq", f"blanket{i}zq"]


ops = st.one_of(
    st.tuples(st.just("plan"), st.integers(0, N_EVENTS - 1)),
    st.tuples(st.just("start"), st.integers(0, N_EVENTS - 1)),
    st.tuples(st.just("talk"), st.integers(0, N_EVENTS - 1), st.sampled_from(["you", "host"])),
    st.tuples(st.just("talk"), st.integers(0, N_EVENTS - 1), st.sampled_from(["you", "host"])),
    st.tuples(
        st.just("close"),
        st.integers(0, N_EVENTS - 1),
        st.sampled_from(["complete", "cancel", "expire"]),
        st.booleans(),
    ),
    st.tuples(st.just("scene")),
)


def say(chat, speaker: str, text: str) -> None:
    world = WorldState.objects.get(chat=chat)
    append(
        stream=chat,
        kind="user_turn" if speaker == "you" else "assistant_turn",
        payload={
            "speaker": speaker,
            "name": speaker,
            "text": text,
            "witnesses": {"you": True, "host": True},
            "scene": world.scene,
        },
    )


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(ops, min_size=1, max_size=25))
def test_closed_events_props_never_reach_a_later_prompt_or_memory(sequence):
    chat = make_chat()
    closed: set[int] = set()
    promoted: dict[str, str] = {}
    for step, op in enumerate(sequence):
        kind, i = op[0], (op[1] if len(op) > 1 else 0)
        event = StoryEvent.objects.filter(chat=chat, key=f"ev{i}").first()
        if kind == "plan" and event is None:
            story_event_apply(
                chat=chat,
                change=StoryEventChange(
                    action="plan", key=f"ev{i}", title=f"Outing {i}", props=props_of(i)
                ),
            )
        elif kind == "start" and event is not None:
            story_event_apply(chat=chat, change=StoryEventChange(action="start", key=f"ev{i}"))
        elif kind == "talk" and i not in closed:
            # everyone talks about the props of events that are not over yet
            say(chat, op[2], f"look at the {props_of(i)[0]} and the {props_of(i)[1]}")
        elif kind == "close" and event is not None and event.status in ("planned", "active"):
            action, leaky_gist = op[2], op[3]
            marker = f"m{step}"
            promote = {
                "inventory": [{"role": "host", "item": f"item{marker}"}],
                "knowledge": [{"source": "host", "target": "you", "fact": f"fact{marker}"}],
                "relationship": [{"source": "host", "target": "you", "summary": f"bond{marker}"}],
            }
            gist = f"gist{marker} happened."
            if leaky_gist:  # a model that names the props in its gist
                gist += f" The {props_of(i)[0]} was heavy."
            story_event_close(chat=chat, event=event, action=action, gist=gist, promote=promote)
            closed.add(i)
            promoted = {
                "item": f"item{marker}",
                "fact": f"fact{marker}",
                "bond": f"bond{marker}",
                "gist": f"gist{marker}",
            }
        elif kind == "scene":
            append(stream=chat, kind="scene_closed", payload={"reason": "time"})

        every_prop = " ".join(p for j in range(N_EVENTS) for p in props_of(j))
        text = json.dumps(build_prompt(chat, "host", query=every_prop).messages)
        for j in closed:
            for prop in props_of(j):
                assert prop not in text, f"{prop} of closed event {j} reached a prompt"
                assert not visible_to(chat.pk, "host").filter(text__contains=prop).exists()
        if promoted:
            assert promoted["item"] in text  # acquired object → inventory
            assert promoted["fact"] in text  # knowledge → the edge's facts
            assert promoted["bond"] in text  # relationship change → the edge summary
            gist = visible_to(chat.pk, "host").filter(
                kind=Memory.Kind.GIST, text__contains=promoted["gist"]
            )
            assert gist.exists()  # narrative gist → a memory for each witness
            assert promoted["gist"] in json.dumps(
                build_prompt(chat, "host", query=promoted["gist"]).messages
            )
