"""Reading a scenario's kickoff prose into the starting state (one structured call)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from asgiref.sync import sync_to_async

from play.engine.classify import ask
from play.engine.schemas import KickoffParse
from play.engine.services.chats import container_from_template, default_setup, neutral_setup
from rpsite.config import load_config
from worlds import clock
from worlds.macros import expand_macros
from worlds.models import Character, Persona, Scenario
from worlds.prompts import current as current_template
from worlds.roles import HOST, YOU


def _context(character: Character, persona: Persona, scenario: Scenario) -> dict[str, Any]:
    places = [container_from_template(t) for t in scenario.containers.all()]
    return {
        "template": current_template("kickoff").text,
        "text": "\n".join(
            [
                f"Characters: host = {character.name}; you = {persona.name} (the user).",
                "Known places: "
                + "; ".join(
                    f"{p['key']} ({p['name']}, slots: {', '.join(p['slots'])})" for p in places
                ),
                f"Default date and time: {scenario.start_time}. Weather: {scenario.weather}.",
                *(
                    [f"The story opens in: {scenario.start_place.name}."]
                    if scenario.start_place
                    else []
                ),
                "Opening:",
                scenario.kickoff,
            ]
        ),
        "default": default_setup(character=character, persona=persona, scenario=scenario),
        "places": {p["key"]: p for p in places},
        "start_named": scenario.start_place_id is not None,
    }


def _card_context(character: Character, persona: Persona, greeting: str) -> dict[str, Any]:
    """A card's own story: its scenario and the greeting it opens with, read like a
    scenario's kickoff; nothing authored to keep, so what the reading finds is the start."""
    expand = lambda text: expand_macros(text or "", char=character.name, user=persona.name)  # noqa: E731
    opening = expand(greeting)
    scenario = expand(character.scenario)
    return {
        "template": current_template("kickoff").text,
        "text": "\n".join(
            [
                f"Characters: host = {character.name}; you = {persona.name} (the user).",
                "Known places: none yet: name the place the opening is set in.",
                *([f"Scenario: {scenario}"] if scenario.strip() else []),
                "Opening:",
                opening,
            ]
        ),
        "default": neutral_setup(f"{opening}\n{scenario}", owner=character.name),
        "places": {},
        "start_named": False,
    }


async def parse_card_kickoff(
    character: Character, persona: Persona, greeting: str = ""
) -> tuple[dict[str, Any], list[dict]]:
    """The setup of a story that is the card's own (no scenario chosen): its place, seats,
    time of day and weather read from its scenario and ``greeting``, and any failures (a
    failed reading falls back to ``neutral_setup``). The story time is now when neither
    says."""
    ctx = await sync_to_async(_card_context)(character, persona, greeting)
    setup, failures = await _read(ctx)
    if setup["location"] != ctx["default"]["location"]:  # the reading named the place
        setup["containers"] = [
            c for c in setup["containers"] if c["key"] != ctx["default"]["location"]
        ]
    read = clock.parse(setup.get("story_time") or "")
    if read is not None and not ctx["default"]["story_time"] and str(read.year) not in ctx["text"]:
        read = None  # a date and hour the card never names are the model's guess: now
    setup["story_time"] = (read or datetime.now()).strftime(clock.FORMAT)
    return setup, failures


async def read_opening(
    character: Character, persona: Persona, scenario: Scenario | None, greeting: int = 0
) -> tuple[dict[str, Any], list[dict]]:
    """The starting state of a new story and any failures of its reading: the scenario's
    when one is chosen, else the card's own (its scenario and the greeting it opens with,
    ``greeting`` 0 the first message, n alternate greeting n)."""
    if scenario is not None:
        return await parse_kickoff(character, persona, scenario)
    greetings = [character.first_mes, *character.alternate_greetings]
    opening = greetings[greeting] if 0 <= greeting < len(greetings) else character.first_mes
    return await parse_card_kickoff(character, persona, opening or character.first_mes)


async def parse_kickoff(
    character: Character, persona: Persona, scenario: Scenario
) -> tuple[dict[str, Any], list[dict]]:
    """The setup for ``chat_start`` and any classifier failures (a bad parse falls back)."""
    return await _read(await sync_to_async(_context)(character, persona, scenario))


async def _read(ctx: dict[str, Any]) -> tuple[dict[str, Any], list[dict]]:
    result = await ask(
        kind="kickoff",
        schema=KickoffParse,
        max_tokens=700,
        system=ctx["template"],
        user=ctx["text"],
        # the first call of a session may load the embedded model as well (seconds)
        timeout=max(float(load_config()["inference"]["classifier_timeout_s"]), READ_TIMEOUT_S),
    )
    setup = merge_parse(result.value, ctx["default"], ctx["places"], start_named=ctx["start_named"])
    return setup, result.failures


READ_TIMEOUT_S = 45.0  # the opening's reading waits longer than other structured calls

# Activity values of the default setup that are placeholders, not authored: a parse may fill them.
_PLACEHOLDER_VERBS = {"", "waiting"}


def merge_parse(
    parse: KickoffParse,
    default: dict[str, Any],
    places: dict[str, dict],
    *,
    start_named: bool = True,
) -> dict[str, Any]:
    """The authored setup, with the gaps the parse can fill: what the scenario says (its
    starting place, clock, weather, places) always wins; the parse adds places the scenario
    does not have, and who sits where doing what when the default only guessed. With
    ``start_named`` False (the scenario names no starting place) the parse may choose one of
    the places."""
    containers: dict[str, dict] = {c["key"]: dict(c) for c in default["containers"]}
    by_name = {c["name"].strip().lower(): k for k, c in {**places, **containers}.items()}
    same: dict[str, str] = {}  # a parsed key → the known place it names
    for spec in parse.containers:
        key = spec.key if spec.key in places or spec.key in containers else None
        key = key or by_name.get(spec.name.strip().lower())
        if key is not None:
            same[spec.key] = key
            authored = containers.get(key) or places[key]
            filled = {k: v for k, v in spec.model_dump().items() if v and not authored.get(k)}
            containers[key] = {**authored, **filled, "key": key}
        elif spec.key not in containers:
            containers[spec.key] = {**spec.model_dump(), "slots": list(spec.slots)}
    location = default["location"]
    parsed_location = same.get(parse.location, parse.location)
    if not start_named and parsed_location in containers:
        location = parsed_location
    slots = set(containers[location].get("slots") or [])
    by_role = {a.role: a for a in parse.activities if a.role in (HOST, YOU)}
    activities = []
    for fallback in default["activities"]:
        act = {**fallback, "container": location}
        parsed = by_role.get(fallback["role"])
        if parsed is not None:
            for field, value in parsed.model_dump().items():
                if field in ("role", "container") or not value:
                    continue
                if field == "slot":
                    if value in slots:
                        act["slot"] = value
                elif field == "verb":
                    if act.get("verb", "") in _PLACEHOLDER_VERBS:
                        act["verb"] = value
                elif not act.get(field):
                    act[field] = value
        activities.append(act)
    story_time = default["story_time"]
    if not clock.parse(story_time or ""):
        parsed_time = clock.parse(parse.story_time)
        story_time = parsed_time.strftime(clock.FORMAT) if parsed_time else story_time
    return {
        "story_time": story_time,
        "weather": default["weather"] or parse.weather,
        "location": location,
        "containers": list(containers.values()),
        "activities": activities,
    }
