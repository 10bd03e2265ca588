"""Time skips (docs/design.md): ``elision`` skips the middle of the activity in progress; ``jump``
goes to a later time (the next morning, a week later). A skip closes the scene, runs the story
events it passes over forward, narrates the landing, gives each bot memories of a jump's
skipped time and resets everyone's activity for the landing.

A story without a clock gets one when it first skips: it starts at the moment the chat was
created (to the minute), recorded in the ``time_skip`` event as its ``from_time`` with
``clock_started``; a skip that fails starts nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from django.db import transaction
from django.utils import timezone

from eventstore.services import append
from memory.indexing import schedule
from play.engine import broadcast, turnlock
from play.engine.bookkeeping import close_scene
from play.engine.classify import Classified, classify, failures_record
from play.engine.gate import Gate, Line
from play.engine.prompt.sections import activity_line
from play.engine.schemas import SkipOutcome, SkipTarget
from play.engine.selectors import reader_keys
from play.engine.services.cast import meanwhile_start
from play.engine.story import story_event_close
from play.models import Chat
from worlds import clock
from worlds import provenance as pv
from worlds.models import Activity, EntityState, StoryEvent, WorldState
from worlds.roles import BOTS, witness_mask
from worlds.selectors import present_roles

DEFAULT_ELISION_MINUTES = 30
MODES = ("elision", "jump")

# "let's skip to the next morning", "fast forward to tomorrow", "time skip: a week later"
_JUMP = re.compile(
    r"\b(?:skip|fast[- ]?forward|time[- ]?skip|jump)(?:\s+ahead)?\s*(?:to|until|till|:)?\s+"
    r"(?P<to>(?:the\s+)?(?:next|tomorrow|tonight|this|later|an?|one|two|three|four|five|six|"
    r"seven|\d+|a few|a couple|several|noon|midday|dawn|morning|evening|night|midnight)"
    r"[\w\s-]*)",
    re.IGNORECASE,
)
_ELISION = re.compile(
    r"\b(?:skip|fast[- ]?forward)\s+(?:the\s+)?(?:rest\s+of\s+(?:the\s+)?\w+|boring\s+part|"
    r"drive|ride|walk|wait|journey|trip|meal)",
    re.IGNORECASE,
)


@dataclass
class SkipIntent:
    mode: str
    to: str  # the target in words ("" for an elision)
    label: str


def detect(text: str) -> SkipIntent | None:
    """A skip asked for in plain words in the composer (then confirmed by the user)."""
    if m := _ELISION.search(text):
        return SkipIntent("elision", "", f"skip {m.group(0).split(' ', 1)[1]}")
    if m := _JUMP.search(text):
        to = m["to"].strip(" .!?")
        return SkipIntent("jump", to, f"skip to {to}")
    return None


class SkipError(ValueError):
    pass


def _context(chat_id: int) -> dict[str, Any]:
    world = WorldState.objects.get(chat_id=chat_id)
    present = sorted(present_roles(chat_id))
    names = dict(EntityState.objects.filter(chat_id=chat_id).values_list("role", "name"))
    acts = {a.role: a for a in Activity.objects.filter(chat_id=chat_id, role__in=present)}
    return {
        "now": world.story_time,
        "weather": world.weather,
        "present": present,
        "names": names,
        "activities": acts,
        "events": list(
            StoryEvent.objects.filter(chat_id=chat_id, status__in=["planned", "active"])
        ),
    }


def clock_start(chat: Chat) -> str:
    """Where a story without a clock starts one: the moment the chat was created."""
    return timezone.localtime(chat.created_at).strftime(clock.FORMAT)


async def target_time(mode: str, ctx: dict[str, Any], to: str, minutes: int | None) -> str:
    now = ctx["now"]
    if minutes is not None:
        if minutes <= 0:
            raise SkipError("a skip goes forward: minutes must be positive")
        return clock.advance(now, minutes)
    if mode == "elision":
        durations = [clock.minutes_in(a.expected_duration) for a in ctx["activities"].values()]
        return clock.advance(now, max([d for d in durations if d] or [DEFAULT_ELISION_MINUTES]))
    if not to.strip():
        raise SkipError("say where to jump: e.g. 'the next morning' or 'a week later'")
    found = clock.resolve_phrase(to, now)
    if found is None:
        result = await classify(
            kind="skip_target",
            schema=SkipTarget,
            max_tokens=40,
            messages=[
                {"role": "system", "content": f"It is {now}. Give the story time the user means."},
                {"role": "user", "content": to},
            ],
        )
        parsed = clock.parse(result.value.to_time)
        if parsed is None or result.value.to_time <= now:
            raise SkipError(
                f"could not tell when {to!r} is; try 'the next morning' or 'in 3 hours'"
            )
        found = parsed.strftime(clock.FORMAT)
    if found <= now:
        raise SkipError("a skip goes forward in time")
    return found


def _due(ctx: dict[str, Any], mode: str, to_time: str) -> tuple[list, list]:
    """Planned events whose time falls in the skip; events still active across a jump."""
    overdue = [
        e
        for e in ctx["events"]
        if e.status == "planned"
        and e.planned_for
        and clock.parse(e.planned_for)
        and e.planned_for <= to_time
    ]
    active = [e for e in ctx["events"] if e.status == "active"] if mode == "jump" else []
    return overdue, active


async def time_skip(
    *,
    chat_id: int,
    mode: str,
    to: str = "",
    minutes: int | None = None,
    then_meanwhile: bool = False,
    origin: str,
) -> dict[str, Any]:
    if mode not in MODES:
        raise SkipError(f"mode is {' or '.join(MODES)}")
    async with turnlock.aheld(chat_id, origin):
        chat = await sync_to_async(Chat.objects.get)(pk=chat_id)
        ctx = await sync_to_async(_context)(chat_id)
        ctx["clock_started"] = clock.parse(ctx["now"]) is None
        if ctx["clock_started"]:
            ctx["now"] = clock_start(chat)
        to_time = await target_time(mode, ctx, to, minutes)
        overdue, active = _due(ctx, mode, to_time)
        answered = await _outcome(chat_id, ctx, mode, to_time, overdue, active)
        outcome = answered.value
        # the events it runs forward close first: the scene's summaries are written after
        # their seal (never sealed whole afterwards)
        closed = await sync_to_async(_close_events)(chat, overdue, active, outcome)
        await close_scene(chat, reason=f"time skip ({mode}) to {to_time}")
        result = await sync_to_async(_write)(
            chat, ctx, mode, to_time, closed, outcome, answered.failures
        )
    await broadcast.send(chat_id, "chat.refresh", reason="skip")

    schedule(chat_id)
    if then_meanwhile:
        await meanwhile_start(chat_id=chat_id, origin=origin)
    return result


def _skip_prompt_parts(chat_id: int, ctx, overdue, active) -> dict[str, str]:
    """What the skip's model may read: only what everyone present may know (the gate)."""
    gate = Gate.for_readers(chat_id, reader_keys(chat_id, ctx["present"]))

    def title(e) -> str:
        return gate.admit(Line(e.title, pv.prov_of(e, "title"))) or e.key

    parts = {
        "doing": "; ".join(
            activity_line(a, ctx["names"], {}, gate) for a in ctx["activities"].values()
        ),
        "due": "; ".join(f"{e.key}: {title(e)} at {e.planned_for}" for e in overdue) or "none",
        "active": "; ".join(f"{e.key}: {title(e)}" for e in active) or "none",
    }
    ctx["sources"] = sorted(gate.seen)  # what the skip writes came from these
    return parts


async def _outcome(chat_id, ctx, mode, to_time, overdue, active) -> Classified:
    names = ctx["names"]
    parts = await sync_to_async(_skip_prompt_parts)(chat_id, ctx, overdue, active)
    lines = [
        f"Time skip ({mode}) from {clock.describe(ctx['now'])} to {clock.describe(to_time)}.",
        "Present: " + ", ".join(names[r] + f" ({r})" for r in ctx["present"]),
        "Doing before the skip: " + parts["doing"],
        "Events due during the skip (decide completed or expired): " + parts["due"],
        "Events in progress (decide how they ended): " + parts["active"],
        "Write: a short narration of the landing moment; where each present character lands "
        "(posture, what they are doing, holding)"
        + ("; for each bot, a memory of the skipped time." if mode == "jump" else "."),
    ]
    result = await classify(
        kind="time_skip",
        schema=SkipOutcome,
        max_tokens=900,
        messages=[
            {"role": "system", "content": "You narrate time skips in a roleplay story, as JSON."},
            {"role": "user", "content": "\n".join(lines)},
        ],
    )
    return result


def _close_events(chat: Chat, overdue, active, outcome: SkipOutcome) -> list[dict[str, str]]:
    decided = {e.key: e for e in outcome.events}
    closed = []
    with transaction.atomic():
        for event in overdue + active:
            choice = decided.get(event.key)
            verdict = choice.outcome if choice else ("completed" if event in active else "expired")
            if verdict.startswith("still"):
                continue
            action = {"completed": "complete", "expired": "expire", "cancelled": "cancel"}[verdict]
            story_event_close(
                chat=chat, event=event, action=action, gist=choice.gist if choice else ""
            )
            closed.append({"key": event.key, "outcome": verdict})
    return closed


def _write(chat: Chat, ctx, mode, to_time, closed, outcome: SkipOutcome, failures) -> dict:
    names = ctx["names"]
    with transaction.atomic():
        # a skip the model could not narrate lands on defaults; the failure is shown, not lost
        failures_record(chat=chat, failures=failures, turn_id=None)
        landing = {a.role: a for a in outcome.activities if a.role in ctx["present"]}
        activities = []
        for role in ctx["present"]:
            a = landing.get(role)
            activities.append(
                {
                    "role": role,
                    "posture": a.posture if a else "",
                    "verb": a.verb if a else "",
                    "holding": a.holding if a else [],
                    "status": a.status if a else "",
                    "attention": "",
                    "expected_duration": "",
                    "interruptible": True,
                    "required_attention": "low",
                }
            )
        skip_event = append(
            stream=chat,
            kind="time_skip",
            payload={
                **({"sources": ctx["sources"]} if ctx.get("sources") else {}),
                "mode": mode,
                "from_time": ctx["now"],
                "to_time": to_time,
                "activities": activities,
                "weather": outcome.weather,
                "closed_events": closed,
                **({"clock_started": True} if ctx["clock_started"] else {}),
            },
        )
        present = set(ctx["present"])
        witnesses = witness_mask(present)
        if mode == "jump":
            memories = {m.role: m.text for m in outcome.memories if m.role in BOTS}
            synthesized = []
            for bot in (r for r in ctx["present"] if r in BOTS):
                text = memories.get(bot) or (
                    f"Between {clock.describe(ctx['now'])} and {clock.describe(to_time)} "
                    "time passed"
                    + (
                        ": " + "; ".join(f"{c['key']} {c['outcome']}" for c in closed)
                        if closed
                        else "."
                    )
                )
                synthesized.append(
                    {
                        "owner": bot,
                        "text": text,
                        "kind": "synthesized",
                        "witnesses": {bot: True},
                        "story_time": to_time,
                        "significance": 1,
                    }
                )
            if synthesized:
                append(
                    stream=chat,
                    kind="memory_written",
                    caused_by=skip_event.id,
                    payload={"memories": synthesized},
                )
        narration = outcome.narration.strip() or (
            f"{clock.describe(to_time).split(',')[0]}, later. "
            + " ".join(f"{names[a['role']]} is {a['verb']}." for a in activities if a["verb"])
        )
        world = WorldState.objects.get(chat_id=chat.pk)
        append(
            stream=chat,
            kind="narration",
            caused_by=skip_event.id,
            payload={
                "speaker": "narrator",
                "name": "Narrator",
                "text": narration,
                "bot_text": narration,
                "witnesses": witnesses,
                "scene": world.scene,
                "story_time": to_time,
                # the model wrote it from these lines: a delete of one scrubs it like any
                # derived text (it is no line of its own that says their words)
                **({"sources": ctx["sources"]} if ctx.get("sources") else {}),
            },
        )
    return {
        "mode": mode,
        "from_time": ctx["now"],
        "to_time": to_time,
        "closed_events": closed,
        "narration": narration,
    }
