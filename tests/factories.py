"""A small fixed cast reused by the tests."""

from __future__ import annotations

from eventstore.projection import DBStore
from play.engine.services.chats import chat_start
from play.models import Chat
from worlds import cast
from worlds.cast import Seats
from worlds.models import Character, ContainerTemplate, Edge, Persona, Scenario


def make_character(name: str = "Mara", **fields) -> Character:
    fields.setdefault("description", f"{name} is a coastal surveyor.")
    fields.setdefault("first_mes", f"*{name} waves.* Hello, {{{{user}}}}.")
    return Character.objects.create(name=name, **fields)


def make_persona(name: str = "Sam") -> Persona:
    return Persona.objects.create(name=name, description=f"{name} is a photographer.")


def make_scenario() -> Scenario:
    car = ContainerTemplate.objects.get_or_create(
        name="Test car",
        defaults={"kind": "car", "slots": ["driver", "passenger"], "moving": True},
    )[0]
    scenario = Scenario.objects.create(
        name=f"Drive {Scenario.objects.count()}",
        kickoff="A rainy night drive.",
        start_time="2024-10-12T21:00",
        weather="rain",
    )
    scenario.containers.add(car)
    return scenario


def make_chat(character: Character | None = None, persona: Persona | None = None) -> Chat:
    return chat_start(
        character=character or make_character(),
        persona=persona or make_persona(),
        scenario=make_scenario(),
    )


def edge_of(chat: Chat, source: str, target: str) -> Edge:
    """The edge between the characters holding two seats now (each a role or a character
    key): edges belong to characters, seats only find them (worlds.cast)."""
    found = cast.edge(DBStore(), Seats.live(chat.pk), source, target)
    if found is None:
        raise Edge.DoesNotExist(f"no edge {source} → {target} in chat {chat.pk}")
    return found
