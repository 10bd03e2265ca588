"""Reading a scenario's kickoff prose into the starting state (one structured call)."""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async

from play.engine.classify import classify
from play.engine.schemas import KickoffParse
from play.engine.services.chats import container_from_template, default_setup
from worlds import clock
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
                "Opening:",
                scenario.kickoff,
            ]
        ),
        "default": default_setup(character=character, persona=persona, scenario=scenario),
        "places": {p["key"]: p for p in places},
    }


async def parse_kickoff(
    character: Character, persona: Persona, scenario: Scenario
) -> tuple[dict[str, Any], list[dict]]:
    """The setup for ``chat_start`` and any classifier failures (a bad parse falls back)."""
    ctx = await sync_to_async(_context)(character, persona, scenario)
    result = await classify(
        kind="kickoff",
        schema=KickoffParse,
        max_tokens=700,
        messages=[
            {"role": "system", "content": ctx["template"]},
            {"role": "user", "content": ctx["text"]},
        ],
    )
    return merge_parse(result.value, ctx["default"], ctx["places"]), result.failures


def merge_parse(
    parse: KickoffParse, default: dict[str, Any], places: dict[str, dict]
) -> dict[str, Any]:
    """Keep what the parse got right; fill the rest from the scenario's authored defaults."""
    containers: dict[str, dict] = {}
    for spec in parse.containers:
        base = places.get(spec.key, {})
        containers[spec.key] = {**base, **{k: v for k, v in spec.model_dump().items() if v}}
        containers[spec.key].setdefault("slots", [])
    if not containers:
        containers = {c["key"]: c for c in default["containers"]}
    location = parse.location if parse.location in containers else next(iter(containers))
    by_role = {a.role: a.model_dump() for a in parse.activities if a.role in (HOST, YOU)}
    activities = []
    for fallback in default["activities"]:
        act = {**fallback, **{k: v for k, v in by_role.get(fallback["role"], {}).items() if v}}
        if act.get("container") not in containers:
            act["container"] = location
        activities.append(act)
    parsed_time = clock.parse(parse.story_time)
    story_time = parsed_time.strftime(clock.FORMAT) if parsed_time else default["story_time"]
    return {
        "story_time": story_time,
        "weather": parse.weather or default["weather"],
        "location": location,
        "containers": list(containers.values()),
        "activities": activities,
    }
