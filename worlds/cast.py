"""Seats and characters: the one place a scene's role becomes the character holding it.

The three roles (you, host, guest) are the scene's **seats**; relationships belong to the
**characters** in them. A chat's cast grows over time — the persona, the host, every guest who
came by — and each pair of them has its own two directed edges, kept while either is away.

Edges and group nodes are keyed by entity keys (``worlds.provenance``: "you" for the persona,
"c<id>" for a card), not by a foreign key to the card: the persona is no card, a card may be
deleted while the chat keeps its story, and the Witness rows and provenance entries that decide
who may know an edge's text already name characters by these keys.

Whatever addresses an edge by role — an analysis's deltas (role ids are what the model is
given), a guest's meeting seeds, a story event's promotions, an old hand edit, a prompt section,
the drawer — resolves it here, against the seats as they are at that moment (in a projector:
as the log has them at that event, the same live and in replay).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from eventstore.projection import DBStore
from worlds.models import CastMember, Edge, EntityState, GroupNode
from worlds.provenance import key_of
from worlds.roles import PAIRS, ROLES


@dataclass(frozen=True)
class Seats:
    """Who holds each seat of a chat's scene now (present or away)."""

    chat_id: int
    holders: dict[str, EntityState]  # role -> the entity in that seat

    @classmethod
    def of(cls, store, chat_id: int) -> Seats:
        return cls.of_entities(chat_id, store.filter(EntityState, chat_id=chat_id))

    @classmethod
    def live(cls, chat_id: int) -> Seats:
        return cls.of(DBStore(), chat_id)

    @classmethod
    def of_entities(cls, chat_id: int, entities: Iterable[EntityState]) -> Seats:
        return cls(chat_id, {e.role: e for e in entities})

    def key(self, who: str | None) -> str | None:
        """A role → the key of the character in that seat (``None`` if empty); a character
        key as it is."""
        if who in ROLES:
            holder = self.holders.get(who)
            return key_of(holder) if holder is not None else None
        return who or None

    def role(self, key: str) -> str | None:
        """The seat a character holds now, if any."""
        return next((r for r, e in self.holders.items() if key_of(e) == key), None)

    @property
    def present(self) -> set[str]:
        return {r for r, e in self.holders.items() if e.present}

    @property
    def names(self) -> dict[str, str]:
        """The seated characters' names, by key."""
        return {key_of(e): e.name for e in self.holders.values()}

    @property
    def role_names(self) -> dict[str, str]:
        """The seated characters' names, by seat."""
        return {role: e.name for role, e in self.holders.items()}

    def trio(self) -> list[str] | None:
        """The keys of the three seat holders, when every seat is filled."""
        keys = [self.key(r) for r in ROLES]
        return sorted(k for k in keys if k) if all(keys) else None


# -- edges --------------------------------------------------------------------------------


def edge(store, seats: Seats, source: str, target: str) -> Edge | None:
    """The edge ``source → target``, each named by role or by character key."""
    a, b = seats.key(source), seats.key(target)
    if a is None or b is None or a == b:
        return None
    return store.get(Edge, chat_id=seats.chat_id, source=a, target=b)


def edge_for(store, seats: Seats, source: str, target: str) -> Edge | None:
    """The edge ``source → target``, made (at zero) if this pair has none yet; ``None`` when
    a seat is empty."""
    a, b = seats.key(source), seats.key(target)
    if a is None or b is None or a == b:
        return None
    found = store.get(Edge, chat_id=seats.chat_id, source=a, target=b)
    if found is None:
        found = Edge(chat_id=seats.chat_id, source=a, target=b)
        store.add(found)
    return found


def between(store, seats: Seats, roles: Iterable[str]) -> dict[tuple[str, str], Edge]:
    """The edges among the characters in these seats, by (role, role), in PAIRS order."""
    wanted = set(roles)
    out = {}
    for a, b in PAIRS:
        if a in wanted and b in wanted and (found := edge(store, seats, a, b)) is not None:
            out[(a, b)] = found
    return out


def met(store, chat_id: int, a: str, b: str) -> bool:
    """Whether two characters (by key) have met in this chat: they have an edge."""
    return any(
        store.get(Edge, chat_id=chat_id, source=x, target=y) is not None
        for x, y in ((a, b), (b, a))
    )


def edges(chat_id: int) -> list[Edge]:
    """Every edge of the chat's cast, in the order they were made."""
    return list(Edge.objects.filter(chat_id=chat_id).order_by("id"))


# -- the group node -----------------------------------------------------------------------


def group_key(members: Iterable[str]) -> str:
    return "+".join(sorted(members))


def group_node(store, seats: Seats, *, create: bool = False) -> GroupNode | None:
    """The node of the three characters in the seats now (present or not): a trio that meets
    again finds its summary and threads where it left them."""
    members = seats.trio()
    if members is None:
        return None
    key = {"chat_id": seats.chat_id, "key": group_key(members)}
    node = store.get(GroupNode, **key)
    if node is None and create:
        node = GroupNode(**key, members=members)
        store.add(node)
    return node


# -- the cast -----------------------------------------------------------------------------


def members(store, chat_id: int) -> list[CastMember]:
    """Everyone who has appeared in the chat, in order of arrival."""
    return store.filter(CastMember, chat_id=chat_id)


def names(store, chat_id: int) -> dict[str, str]:
    """Every cast member's name, by key (a seated character's as the seat has it now)."""
    out = {m.key: m.name for m in members(store, chat_id)}
    out.update(Seats.of(store, chat_id).names)
    return out
