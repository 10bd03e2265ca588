"""Starting, listing and removing chats."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.db import transaction

from eventstore.models import Branch, Event
from eventstore.records import EventRecord
from eventstore.services import append, branch_activate, branch_create, stream_open, stream_purge
from play.engine import turnlock
from play.engine.selectors import chat_get
from play.models import Chat
from worlds import clock
from worlds.keys import place_key
from worlds.lines import line_now
from worlds.macros import expand_macros
from worlds.models import Character, EntityState, Persona, Scenario
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


_PLACE_WORDS = (
    "cottage house home room bedroom kitchen hall tavern inn bar pub cafe café shop store "
    "office library study garden forest woods clearing glade cave castle palace tower temple "
    "church school classroom street alley road car train ship boat station park beach shore "
    "village town city camp tent cabin hut apartment flat lobby hospital ward lab laboratory "
    "dungeon cell throne market square bridge field meadow lake river mountain hill ruins"
)
PLACE_WORDS = _PLACE_WORDS.split()
# "… in the cottage", "… at a small tavern": the first place a greeting puts itself in
_PLACE = re.compile(
    r"\b(?:in|at|inside|into|on|by|outside|of)\s+((?:the|a|an|her|his|their|your|my)\s+"
    r"(?:[a-z]+\s+){0,2}?(?:" + "|".join(PLACE_WORDS) + r"))\b",
    re.IGNORECASE,
)


# words of an opening that say the time of day (the hour it starts at) and the weather
_HOURS = {
    "dawn": 6, "sunrise": 6, "morning": 9, "breakfast": 8, "noon": 12, "midday": 12,
    "lunch": 12, "afternoon": 15, "dusk": 19, "sunset": 19, "evening": 20, "dinner": 19,
    "supper": 19, "tonight": 21, "night": 22, "midnight": 0, "moonlight": 23, "moonlit": 23,
}  # fmt: skip
_WEATHER = {
    "rain": "rain", "raining": "rain", "rainy": "rain", "drizzle": "drizzle", "storm": "storm",
    "stormy": "storm", "thunder": "thunderstorm", "snow": "snow", "snowing": "snow",
    "blizzard": "blizzard", "fog": "fog", "foggy": "fog", "mist": "mist", "misty": "mist",
    "wind": "wind", "windy": "wind", "sunny": "sunny", "sunshine": "sunny", "hail": "hail",
}  # fmt: skip


def opening_hints(text: str) -> tuple[str, str]:
    """(the story time, the weather) an opening's own words say, today at the hour its
    time-of-day word names ("" when none) and the first weather word ("" when none)."""
    words = re.findall(r"[a-z]+", (text or "").lower())
    hour = next((_HOURS[w] for w in words if w in _HOURS), None)
    weather = next((_WEATHER[w] for w in words if w in _WEATHER), "")
    when = ""
    if hour is not None:
        when = datetime.now().replace(hour=hour, minute=0).strftime(clock.FORMAT)
    return when, weather


def neutral_setup(opening: str, owner: str = "") -> dict[str, Any]:
    """Where a story with no scenario starts when nothing better is known: one place named
    from the greeting ("her cottage"; else "the scene"); the time of day and the weather its
    words say (else no weather, and now: chat_start)."""
    when, weather = opening_hints(opening)
    found = _PLACE.search(opening or "")
    name = found.group(1).strip() if found else "the scene"
    first, _, rest = name.partition(" ")
    if found and first.lower() in ("a", "an"):
        name = "the " + rest
    elif found and owner and first.lower() in ("her", "his", "their"):
        name = f"{owner}'s {rest}"  # "her cottage" in Seraphina's greeting: Seraphina's
    key = place_key(name, limit=40, default="scene")
    return {
        "story_time": when,
        "weather": weather,
        "location": key,
        "containers": [{"key": key, "name": name, "kind": "place", "slots": []}],
        "activities": [
            {"role": HOST, "container": key, "slot": "", "verb": "waiting"},
            {"role": YOU, "container": key, "slot": "", "verb": "waiting"},
        ],
    }


def default_setup(
    *, character: Character, persona: Persona, scenario: Scenario | None
) -> dict[str, Any]:
    """The starting state when no kickoff parse is available: the place the scenario names
    as its start (else its first place)."""
    if scenario is None:  # the card's own story, unread
        setup = neutral_setup(
            expand_macros(character.first_mes, char=character.name, user=persona.name),
            owner=character.name,
        )
        setup["story_time"] = setup["story_time"] or datetime.now().strftime(clock.FORMAT)
        return setup
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
    greeting_index: int = 0,
) -> Chat:
    """Create a chat, its main branch and its ``chat_started`` event, then the greeting:
    ``greeting`` when given ("" for none), else the card's greetings as swipes of the first
    message, ``greeting_index`` (0: first_mes, n: alternate greeting n) shown."""
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
        if greeting is not None:
            if greeting:
                greeting_append(chat=chat, text=greeting, caused_by=started)
        else:
            greetings = [character.first_mes, *character.alternate_greetings]
            greetings_offer(chat=chat, greetings=greetings, shown=greeting_index, caused_by=started)
    return chat


def greetings_offer(
    *, chat: Chat, greetings: list[str], shown: int, caused_by: EventRecord
) -> None:
    """The greetings as swipes of the first message: the first on the chat's own line, each
    other on a sibling branch forked at ``caused_by`` (as a regenerate forks), ``shown`` (an
    index into ``greetings``; an empty one falls back to the first) on the active line."""
    offered = [(index, text) for index, text in enumerate(greetings) if text and text.strip()]
    if not offered:
        return
    fork = Event.objects.get(pk=caused_by.id)
    active = None
    for n, (index, text) in enumerate(offered):
        branch = None
        if n:
            branch = branch_create(
                stream=chat, fork_event=fork, kind=Branch.Kind.SWIPE, label=f"greeting {index}"
            )
        greeting_append(chat=chat, text=text, caused_by=caused_by, branch=branch)
        if index == shown:
            active = branch
    if active is not None:
        branch_activate(stream=chat, branch=active)


def greeting_append(
    *,
    chat: Chat,
    text: str,
    caused_by: EventRecord | None = None,
    branch: Branch | None = None,
) -> EventRecord:
    host = EntityState.objects.get(chat=chat, role=HOST)
    you = EntityState.objects.get(chat=chat, role=YOU)
    said = expand_macros(text, char=host.name, user=you.name)
    payload = line_now(chat.pk, speaker=HOST, name=host.name, text=said, source="greeting")
    return append(
        stream=chat, kind="assistant_turn", payload=payload, caused_by=caused_by, branch=branch
    )


def chat_create(**fields: Any) -> Chat:
    """A chat and its log's root branch."""
    with transaction.atomic():
        chat = Chat.objects.create(**fields)
        stream_open(stream=chat)
    return chat


def chat_delete(*, chat_id: int, origin: str) -> Chat:
    """The chat and its whole log, gone (the one way rows leave the log). Returns the chat as
    it was, for its title."""
    with turnlock.held(chat_id, origin):
        chat = chat_get(chat_id)
        stream_purge(stream=chat)
        return chat


def chat_archive(*, chat_id: int, archived: bool | None = None, origin: str) -> Chat:
    """Archive or restore the chat (``None`` turns it over); returns it as it is now."""
    with turnlock.held(chat_id, origin):
        chat = chat_get(chat_id)
        chat.archived = not chat.archived if archived is None else archived
        Chat.objects.filter(pk=chat_id).update(archived=chat.archived)
        return chat
