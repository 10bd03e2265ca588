"""Replay equals live state: random valid event sequences, applied live, then rebuilt."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventstore import snapshots
from eventstore.models import Branch
from eventstore.projection import dump_db, dump_rows, projection_models, row_of
from eventstore.replay import build_state, verify
from eventstore.services import append
from memory.models import Memory
from play.models import Turn
from tests.factories import edge_of, make_chat
from worlds.models import Edge
from worlds.roles import PAIRS, ROLES

pytestmark = pytest.mark.django_db(databases=["default", "scratch"])

words = st.text(alphabet="abcdefghij klmnop", min_size=1, max_size=30)
roles = st.sampled_from(ROLES)
bots = st.sampled_from(("host", "guest"))
masks = st.fixed_dictionaries({r: st.booleans() for r in ROLES})


def _turn(kind, speaker):
    return st.builds(
        lambda text, mask, truncated: (
            kind,
            {
                "speaker": speaker,
                "name": speaker.title(),
                "text": text,
                "truncated": truncated,
                "witnesses": mask,
            },
        ),
        words,
        masks,
        st.booleans(),
    )


edge_deltas = st.lists(
    st.builds(
        lambda pair, a, t, facts: {
            "source": pair[0],
            "target": pair[1],
            "affinity_delta": a,
            "trust_delta": t,
            "knowledge_facts": facts,
            "last_interaction": "talked",
        },
        st.sampled_from(PAIRS),
        st.integers(-15, 15),
        st.integers(-15, 15),
        st.lists(words, max_size=2),
    ),
    min_size=1,
    max_size=6,
)

simple_ops = st.one_of(
    _turn("user_turn", "you"),
    _turn("assistant_turn", "host"),
    edge_deltas.map(lambda e: ("edge_update", {"edges": e})),
    st.builds(
        lambda role, mood, add: (
            "entity_state_change",
            {"changes": [{"role": role, "mood": mood, "inventory_add": add}]},
        ),
        roles,
        words,
        st.lists(words, max_size=2),
    ),
    st.builds(
        lambda role, verb, slot: (
            "activity_change",
            {"changes": [{"role": role, "verb": verb, "slot": slot, "holding": [verb]}]},
        ),
        roles,
        words,
        words,
    ),
    st.builds(lambda w: ("world_changed", {"weather": w, "story_time": "2024-10-13T08:00"}), words),
    st.builds(
        lambda key, name: (
            "scene_transition",
            {
                "container": {"key": key, "name": name, "slots": ["a", "b"]},
                "moves": [{"role": "host", "slot": "a"}, {"role": "you", "slot": "b"}],
            },
        ),
        st.sampled_from(["car", "booth", "bedroom"]),
        words,
    ),
    st.builds(
        lambda s1, s2: (
            "scene_closed",
            {
                "reason": "moved",
                "summaries": [
                    {"owner": "host", "text": s1, "witnesses": {"you": True, "host": True}}
                ],
                "group_summary": s2,
            },
        ),
        words,
        words,
    ),
    st.just(
        (
            "guest_added",
            {
                "role": "guest",
                "name": "Theo",
                "edges": [
                    {"source": "guest", "target": "host", "affinity": 5},
                    {"source": "host", "target": "guest", "affinity": -5},
                ],
            },
        )
    ),
    st.just(("guest_removed", {})),
    st.builds(
        lambda owner, text, sig: (
            "memory_written",
            {"memories": [{"owner": owner, "text": text, "significance": sig, "kind": "manual"}]},
        ),
        bots,
        words,
        st.integers(0, 3),
    ),
    st.builds(lambda s: ("group_node_updated", {"summary": s, "dynamic": "tense"}), words),
    st.builds(
        lambda e: ("classifier_failed", {"model": "m", "prompt_kind": "analysis", "error": e}),
        words,
    ),
)


def _referring_op(data, chat):
    """Events that refer to existing rows: significance, pins, manual edits, bookkeeping."""
    turns = list(Turn.objects.filter(chat=chat).values_list("id", flat=True))
    mems = list(Memory.objects.filter(chat=chat).values_list("id", flat=True))
    choice = data.draw(st.sampled_from(["sig", "pin", "edit_mem", "edit_edge", "bookkept"]))
    if choice in ("sig", "bookkept") and turns:
        turn_id = data.draw(st.sampled_from(turns))
        if choice == "bookkept":
            return "turn_bookkept", {"turn_id": turn_id}
        return "memory_significance_set", {
            "turn_id": turn_id,
            "significance": data.draw(st.integers(0, 3)),
        }
    if choice in ("pin", "edit_mem") and mems:
        mem = data.draw(st.sampled_from(mems))
        if choice == "pin":
            return "memory_pinned", {"memory_id": mem, "pinned": data.draw(st.booleans())}
        return "manual_edit", {
            "target": "memory",
            "key": {"id": mem},
            "changes": {
                "w_guest": data.draw(st.booleans()),
                "significance": data.draw(st.integers(0, 3)),
            },
        }
    source, target = data.draw(st.sampled_from(PAIRS))
    return "manual_edit", {
        "target": "edge",
        "key": {"source": source, "target": target},
        "changes": {"affinity": data.draw(st.integers(-100, 100)), "summary": data.draw(words)},
    }


def _play(data, chat, steps: int) -> None:
    for _ in range(steps):
        if data.draw(st.integers(0, 3)) == 0:
            kind, payload = _referring_op(data, chat)
        else:
            kind, payload = data.draw(simple_ops)
        append(stream=chat, kind=kind, payload=payload)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_replay_rebuilds_exactly_the_live_projections(data):
    chat = make_chat()
    _play(data, chat, data.draw(st.integers(1, 40)))
    assert verify(chat) == []


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_snapshot_plus_tail_equals_full_replay(data):
    chat = make_chat()
    _play(data, chat, data.draw(st.integers(0, 20)))
    snap = snapshots.snapshot_create(chat, kind="manual")
    _play(data, chat, data.draw(st.integers(0, 20)))
    branch = Branch.objects.get(pk=chat.active_branch_id)
    from_snapshot = build_state(branch, use_snapshot=True)
    assert from_snapshot.snapshot == snap.name
    assert verify(chat, use_snapshot=True) == []
    assert verify(chat, use_snapshot=False) == []
    # and the snapshot really was used: only the tail was applied
    full = build_state(branch, use_snapshot=False)
    assert from_snapshot.events_applied <= full.events_applied
    assert dump_db(chat.pk)  # the live tables are not empty


def test_verify_reports_a_live_row_that_drifted_from_the_log():

    chat = make_chat()
    # simulate corruption: a projection row changed behind the log's back
    Edge.objects.filter(pk=edge_of(chat, "host", "you").pk).update(affinity=77)
    lines = verify(chat)
    assert any("affinity" in line and "live=77" in line for line in lines)


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_the_plain_sql_dump_equals_the_orm_rows(data):
    """Snapshots and verify read rows with plain SQL: exactly what the ORM would give."""

    chat = make_chat()
    _play(data, chat, data.draw(st.integers(5, 30)))
    for model in projection_models():
        orm = [row_of(o) for o in model.objects.filter(chat_id=chat.pk)]
        key = "id" if model.stable_pk else None

        def order(rows, key=key, model=model):
            fields = (key,) if key else model.natural_key_fields
            return sorted(rows, key=lambda r: tuple(str(r[f]) for f in fields))

        # repr: True and 1 would compare equal, a snapshot would not
        assert repr(order(dump_rows(model, chat.pk))) == repr(order(orm)), model.__name__
