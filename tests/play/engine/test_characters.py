"""Issue 15: a character is someone, not a slot.

The three roles are the scene's seats; edges, the group node, meeting history and what a
character carries belong to the characters (worlds.cast). A guest who leaves keeps every edge
and gets them back on returning; another character in the same seat has edges of their own.
Through the HTTP JSON API with a scripted model (replies queued per schema: test_gate_repros).
"""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventstore.replay import verify
from eventstore.services import append
from play.engine.services.cast import guest_add, guest_remove
from play.web import presenters
from tests.factories import edge_of, make_character, make_chat
from tests.play.engine.test_gate_repros import (
    Model,
    ok,
    post,
    prompt_of,
    reply_of,
    section,
    send,
    state,
)
from worlds.models import CastMember, Edge, EntityState
from worlds.services import manual_edit

pytestmark = pytest.mark.django_db(databases=["default", "scratch"])

LISBON = "Sam grew up in Lisbon"


@pytest.fixture
def model(scripted):
    return Model(scripted)


def guest(client, chat, character, met: str = "") -> dict:
    return ok(post(client, f"/api/chats/{chat.pk}/guest", {"character": character.pk, "met": met}))


def leave(client, chat) -> None:
    assert client.delete(f"/api/chats/{chat.pk}/guest").status_code == 200


def by_seat(body: dict) -> dict[tuple, dict]:
    return {(e["source_role"], e["target_role"]): e for e in body["edges"]}


def numbers(edge: dict) -> tuple[int, int]:
    return edge["affinity"], edge["trust"]


def delta(source, target, affinity, trust, **more) -> dict:
    return {
        "source": source,
        "target": target,
        "affinity_delta": affinity,
        "trust_delta": trust,
        **more,
    }


def test_a_guest_who_leaves_and_comes_back_is_no_stranger(client, model):
    """The repro of the issue: Tobias's four edges, his knowledge and what he carries are back,
    ``met_before`` is true, and Iris's edges wait while she is away."""
    chat = make_chat()  # Mara (host) and Sam (you)
    tobias, iris = make_character("Tobias"), make_character("Iris")
    model.replies["MeetingParse"].append(
        {
            "met": True,
            "host_to_guest": {"affinity": 30, "trust": 20},
            "guest_to_host": {"affinity": 25, "trust": 25},
        }
    )
    first = guest(client, chat, tobias, met="Tobias and Mara sailed together for years.")
    assert first["met_before"] is False  # met before the story, but not in this chat

    # two turns move all four of his edges (an analysis moves each by at most 10)
    model.replies["TurnAnalysis"] += [
        {
            "edges": [
                delta("host", "guest", 10, 9),
                delta("guest", "host", 10, 10),
                delta("guest", "you", 10, 10, knowledge_facts=[LISBON]),
                delta("you", "guest", 8, 8),
            ],
            "entities": [{"role": "guest", "inventory_add": ["a tram ticket"]}],
            "group": {"summary": "The three plan a trip to Lisbon."},
        },
        {
            "edges": [
                delta("host", "guest", 10, 9),
                delta("guest", "host", 10, 10),
                delta("guest", "you", 10, 10),
                delta("you", "guest", 8, 8),
            ]
        },
    ]
    model.narrative += ["Lisbon! The trams.", "Porto, mostly."]
    send(client, chat, "Tobias, I grew up in Lisbon, you know.")
    send(client, chat, "Tobias, and you?")
    before = by_seat(state(client, chat))
    moved = {
        ("host", "guest"): (50, 38),
        ("guest", "host"): (45, 45),
        ("guest", "you"): (20, 20),
        ("you", "guest"): (16, 16),
    }
    assert {pair: numbers(before[pair]) for pair in moved} == moved
    assert LISBON in before[("guest", "you")]["knowledge"]

    leave(client, chat)
    model.replies["MeetingParse"].append(
        {"met": True, "host_to_guest": {"affinity": 30}, "guest_to_host": {"affinity": 10}}
    )
    meeting = guest(client, chat, iris, met="Iris is Mara's cousin.")
    assert meeting["met_before"] is False  # the host meeting a new guest: a first meeting
    iris_seats = by_seat(state(client, chat))
    assert numbers(iris_seats[("host", "guest")]) == (30, 0)  # her own, from the meeting
    assert iris_seats[("guest", "you")]["knowledge"] == []
    assert EntityState.objects.get(chat=chat, role="guest").inventory == []  # not his ticket
    assert state(client, chat)["group"]["summary"] == ""  # another trio, its own node
    send(client, chat, "Iris, welcome.")
    leave(client, chat)

    # Iris's edges exist while she is away: hers, by character, in no seat now
    body = state(client, chat)
    hers = [e for e in body["edges"] if f"c{iris.pk}" in (e["source"], e["target"])]
    assert len(hers) == 4 and not any(e["present"] for e in hers)

    parses = len(model.prompts("MeetingParse"))
    back = guest(client, chat, tobias, met="They have never met.")
    assert back["met_before"] is True and back["met"] == {"host": True, "you": True}
    assert len(model.prompts("MeetingParse")) == parses  # the first-meeting gate: no new parse
    after = state(client, chat)
    seats = by_seat(after)
    assert {pair: numbers(seats[pair]) for pair in moved} == moved
    assert LISBON in seats[("guest", "you")]["knowledge"]
    assert EntityState.objects.get(chat=chat, role="guest").inventory == ["a tram ticket"]
    assert after["group"]["summary"] == "The three plan a trip to Lisbon."  # the trio resumes
    hers = [e for e in after["edges"] if f"c{iris.pk}" in (e["source"], e["target"])]
    assert len(hers) == 4 and {e["source_role"] for e in hers} == {None, "host", "you"}
    cast = {c["name"]: (c["role"], c["present"]) for c in after["cast"]}
    assert cast == {
        "Sam": ("you", True),
        "Mara": ("host", True),
        "Tobias": ("guest", True),
        "Iris": (None, False),
    }

    # what he knows of Sam reaches his own prompt again, through the gate
    model.narrative.append("Of course: Lisbon.")
    turn = reply_of(send(client, chat, "Tobias, remember where I grew up?"), "guest")
    assert LISBON in section(prompt_of(client, chat, turn["id"]), "edge to you")

    # the drawer: the whole cast, Iris faded with her edges
    graph = presenters.relationship_graph(chat.pk)
    nodes = {n["name"]: n for n in graph["nodes"]}
    assert set(nodes) == {"Sam", "Mara", "Tobias", "Iris"}
    assert nodes["Iris"]["role"] == "" and not nodes["Iris"]["present"]
    assert len(graph["edges"]) == 10  # two per pair of those who have met
    page = client.get(f"/chats/{chat.pk}/").content.decode()
    assert f'data-character="c{iris.pk}"' in page and "Mara → Iris" in page
    assert verify(chat) == []


def test_an_edit_names_an_edge_by_its_characters_and_reaches_one_who_is_away(client, model):
    chat = make_chat()
    tobias, iris = make_character("Tobias"), make_character("Iris")
    guest(client, chat, tobias)
    leave(client, chat)
    guest(client, chat, iris)
    mara = f"c{chat.character_id}"
    # the drawer's form names both ends by character: Tobias is away, his edge is his
    response = client.post(
        f"/chats/{chat.pk}/edges/", {"source": mara, "target": f"c{tobias.pk}", "affinity": "12"}
    )
    assert response.status_code < 400, response.content
    assert edge_of(chat, mara, f"c{tobias.pk}").affinity == 12
    assert edge_of(chat, "host", "guest").affinity == 0  # Iris's is her own
    # an edit that names seats is recorded as the characters holding them now
    event = manual_edit(
        chat=chat, target="edge", key={"source": "host", "target": "guest"}, changes={"trust": 5}
    )
    assert event.payload["key"] == {"source": mara, "target": f"c{iris.pk}"}
    assert edge_of(chat, mara, f"c{iris.pk}").trust == 5
    assert verify(chat) == []


# -- the property -----------------------------------------------------------------------------

CHARACTERS = ("Tobias", "Iris", "Theo")
PAIRS = [(a, b) for a in ("you", "host", "guest") for b in ("you", "host", "guest") if a != b]

step = st.one_of(
    st.tuples(st.just("join"), st.sampled_from(CHARACTERS)),
    st.tuples(st.just("leave"), st.none()),
    st.tuples(
        st.just("deltas"),
        st.lists(
            st.tuples(st.sampled_from(PAIRS), st.integers(-6, 6), st.integers(-6, 6)),
            min_size=1,
            max_size=6,
        ),
    ),
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(step, min_size=1, max_size=14))
def test_each_pairs_edge_is_the_sum_of_that_pairs_deltas_whoever_came_and_went(steps):
    """Any sequence of guest joins and leaves among three characters, with edge deltas (by
    seat, as an analysis writes them) in between, ends with each pair of characters' edge
    equal to the sum of that pair's deltas; and live equals replay."""
    chat = make_chat()
    cards = {name: make_character(name) for name in CHARACTERS}
    host = f"c{chat.character_id}"
    expected = {(host, "you"): [0, 0], ("you", host): [0, 0]}
    seat = {"you": "you", "host": host}  # the oracle's own idea of who sits where
    present = {"you", "host"}
    for kind, arg in steps:
        if kind == "join" and "guest" not in present:
            async_to_sync(guest_add)(chat_id=chat.pk, character_id=cards[arg].pk, origin="api")
            seat["guest"] = key = f"c{cards[arg].pk}"
            present.add("guest")
            for other in ("you", host):
                expected.setdefault((key, other), [0, 0])
                expected.setdefault((other, key), [0, 0])
        elif kind == "leave" and "guest" in present:
            guest_remove(chat_id=chat.pk, origin="api")
            present.discard("guest")
        elif kind == "deltas":
            moves = [(pair, a, t) for pair, a, t in arg if set(pair) <= present]
            if not moves:
                continue
            append(
                stream=chat,
                kind="edge_update",
                payload={"edges": [delta(s, t, a, tr) for (s, t), a, tr in moves]},
            )
            for (s, t), a, tr in moves:
                total = expected[(seat[s], seat[t])]
                total[0] += a
                total[1] += tr
    found = {(e.source, e.target): [e.affinity, e.trust] for e in Edge.objects.filter(chat=chat)}
    assert found == expected
    members = set(CastMember.objects.filter(chat=chat).values_list("key", flat=True))
    assert members == {"you", host} | {k for pair in expected for k in pair}
    assert verify(chat) == []
