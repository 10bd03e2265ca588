"""Starting, listing and removing chats."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from eventstore.records import EventRecord
from eventstore.services import append, stream_open, stream_purge
from play.models import Chat
from worlds.models import Character, Persona, Scenario
from worlds.prompts import versions_in_use
from worlds.roles import HOST, YOU


def container_from_template(template, *, key: str | None = None) -> dict[str, Any]:
    return {
        "key": key or template.kind or template.name.lower().replace(" ", "_"),
        "name": template.name,
        "kind": template.kind,
        "slots": list(template.slots),
        "moving": template.moving,
        "public": template.public,
        "audible_range": template.audible_range,
        "description": template.description,
    }


def default_setup(
    *, character: Character, persona: Persona, scenario: Scenario | None
) -> dict[str, Any]:
    """The starting state when no kickoff parse is available: the place the scenario names
    as its start (else its first place)."""
    template = None
    if scenario is not None:
        template = scenario.start_place or scenario.containers.first()
    container = (
        container_from_template(template)
        if template
        else {"key": "scene", "name": "the scene", "kind": "place", "slots": []}
    )
    slots = container.get("slots") or [""]
    return {
        "story_time": scenario.start_time if scenario else "",
        "weather": scenario.weather if scenario else "",
        "location": container["key"],
        "containers": [container],
        "activities": [
            {"role": HOST, "container": container["key"], "slot": slots[0], "verb": "waiting"},
            {
                "role": YOU,
                "container": container["key"],
                "slot": slots[1] if len(slots) > 1 else slots[0],
                "verb": "waiting",
            },
        ],
    }


def chat_start(
    *,
    character: Character,
    persona: Persona,
    scenario: Scenario | None = None,
    setup: dict[str, Any] | None = None,
    title: str = "",
    greeting: str | None = None,
) -> Chat:
    """Create a chat, its main branch and its ``chat_started`` event (plus the greeting)."""
    setup = setup or default_setup(character=character, persona=persona, scenario=scenario)
    payload = {
        "title": title or f"{character.name} & {persona.name}",
        "kickoff": scenario.kickoff if scenario else "",
        "story_time": setup.get("story_time", ""),
        "weather": setup.get("weather", ""),
        "location": setup.get("location", ""),
        "containers": setup.get("containers", []),
        "activities": setup.get("activities", []),
        "entities": [
            {"role": YOU, "name": persona.name, "present": True},
            {"role": HOST, "name": character.name, "character_id": character.pk, "present": True},
        ],
        "edges": setup.get("edges")
        or [
            {"source": HOST, "target": YOU, "affinity": 0, "trust": 0},
            {"source": YOU, "target": HOST, "affinity": 0, "trust": 0},
        ],
        "prompt_versions": versions_in_use(),
    }
    with transaction.atomic():
        chat = chat_create(
            title=payload["title"], character=character, persona=persona, scenario=scenario
        )
        started = append(stream=chat, kind="chat_started", payload=payload)
        text = character.first_mes if greeting is None else greeting
        if text:
            greeting_append(chat=chat, text=text, caused_by=started)
    return chat


def greeting_append(*, chat: Chat, text: str, caused_by: EventRecord | None = None) -> EventRecord:
    from worlds.macros import expand_macros
    from worlds.models import EntityState, WorldState

    host = EntityState.objects.get(chat=chat, role=HOST)
    you = EntityState.objects.get(chat=chat, role=YOU)
    world = WorldState.objects.get(chat=chat)
    present = set(
        EntityState.objects.filter(chat=chat, present=True).values_list("role", flat=True)
    )
    return append(
        stream=chat,
        kind="assistant_turn",
        payload={
            "speaker": HOST,
            "name": host.name,
            "text": expand_macros(text, char=host.name, user=you.name),
            "source": "greeting",
            "witnesses": {r: r in present for r in ("you", "host", "guest")},
            "scene": world.scene,
            "story_time": world.story_time,
        },
        caused_by=caused_by,
    )


def chat_create(**fields: Any) -> Chat:
    """A chat and its log's root branch."""
    with transaction.atomic():
        chat = Chat.objects.create(**fields)
        stream_open(stream=chat)
    return chat


def chat_delete(*, chat: Chat) -> None:
    stream_purge(stream=chat)


def chat_archive(*, chat: Chat, archived: bool = True) -> None:
    Chat.objects.filter(pk=chat.pk).update(archived=archived)
