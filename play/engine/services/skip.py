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
from play.engine.classify import ask, failures_record
from play.engine.gate import Gate, Line, gone_words, heard_by, scrub_model
from play.engine.prompt.sections import activity_line
from play.engine.schemas import LandingActivity, SkipOutcome, SkipTarget
from play.engine.selectors import reader_keys
from play.engine.services.cast import meanwhile_start
from play.engine.story import story_event_close
from play.models import Chat
from worlds import clock
from worlds import provenance as pv
from worlds.cast import Seats
from worlds.lines import line_payload
from worlds.models import Activity, StoryEvent, WorldState
from worlds.roles import BOTS, NARRATOR, witness_mask
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


@dataclass(frozen=True)
class SkipContext:
    """What a skip reads of the story before it moves: the clock, who is here doing what,
    and the story events it may pass."""

    now: str  # the story time it leaves from
    clock_started: bool  # the story had no clock: ``now`` is when the chat was created
    present: list[str]
    names: dict[str, str]  # role → name
    activities: dict[str, Activity]  # of those present, by role
    events: list[StoryEvent]  # planned and active


@dataclass(frozen=True)
class Skip:
    """One skip, decided: from where, how, to when, and the story events it runs forward."""

    ctx: SkipContext
    mode: str
    to_time: str
    overdue: list[StoryEvent]  # planned events whose time falls in the skip
    active: list[StoryEvent]  # events still active across a jump


@dataclass(frozen=True)
class Told:
    """What the model said of the skipped time, and what it was shown to say it."""

    outcome: SkipOutcome
    failures: list[dict[str, Any]]  # a skip the model could not narrate lands on defaults
    sources: list[int]  # the lines it read: what the skip writes came from them


def _context(chat: Chat) -> SkipContext:
    world = WorldState.objects.get(chat_id=chat.pk)
    present = sorted(present_roles(chat.pk))
    clock_started = clock.parse(world.story_time) is None
    acts = Activity.objects.filter(chat_id=chat.pk, role__in=present)
    return SkipContext(
        now=clock_start(chat) if clock_started else world.story_time,
        clock_started=clock_started,
        present=present,
        names=Seats.live(chat.pk).role_names,
        activities={a.role: a for a in acts},
        events=list(StoryEvent.objects.filter(chat_id=chat.pk, status__in=StoryEvent.OPEN)),
    )


def clock_start(chat: Chat) -> str:
    """Where a story without a clock starts one: the moment the chat was created."""
    return timezone.localtime(chat.created_at).strftime(clock.FORMAT)


async def target_time(mode: str, ctx: SkipContext, to: str, minutes: int | None) -> str:
    now = ctx.now
    if minutes is not None:
        if minutes <= 0:
            raise SkipError("a skip goes forward: minutes must be positive")
        return clock.advance(now, minutes)
    if mode == "elision":
        durations = [clock.minutes_in(a.expected_duration) for a in ctx.activities.values()]
        return clock.advance(now, max([d for d in durations if d] or [DEFAULT_ELISION_MINUTES]))
    if not to.strip():
        raise SkipError("say where to jump: e.g. 'the next morning' or 'a week later'")
    found = clock.resolve_phrase(to, now)
    if found is None:
        result = await ask(
            kind="skip_target",
            schema=SkipTarget,
            max_tokens=40,
            system=f"It is {now}. Give the story time the user means.",
            user=to,
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


def _plan(ctx: SkipContext, mode: str, to_time: str) -> Skip:
    """The skip to ``to_time``: planned events whose time falls in it, events still active
    across a jump."""
    overdue = [
        e
        for e in ctx.events
        if e.status == StoryEvent.Status.PLANNED
        and e.planned_for
        and clock.parse(e.planned_for)
        and e.planned_for <= to_time
    ]
    active = []
    if mode == "jump":
        active = [e for e in ctx.events if e.status == StoryEvent.Status.ACTIVE]
    return Skip(ctx, mode, to_time, overdue, active)


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
        ctx = await sync_to_async(_context)(chat)
        skip = _plan(ctx, mode, await target_time(mode, ctx, to, minutes))
        told = await _tell(chat_id, skip)
        # the events it runs forward close first: the scene's summaries are written after
        # their seal (never sealed whole afterwards)
        closed = await sync_to_async(_close_events)(chat, skip, told.outcome)
        await close_scene(chat, reason=f"time skip ({mode}) to {skip.to_time}")
        result = await sync_to_async(_write)(chat, skip, told, closed)
    await broadcast.send(chat_id, "chat.refresh", reason="skip")

    schedule(chat_id)
    if then_meanwhile:
        await meanwhile_start(chat_id=chat_id, origin=origin)
    return result


def _prompt(chat_id: int, skip: Skip) -> tuple[str, list[int]]:
    """What the skip's model reads (only what everyone present may know: the gate), and the
    lines it was made from: what the skip writes came from them."""
    ctx = skip.ctx
    gate = Gate.for_readers(chat_id, reader_keys(chat_id, ctx.present))

    def title(e) -> str:
        return gate.admit(Line(e.title, pv.prov_of(e, "title"))) or e.key

    doing = "; ".join(activity_line(a, ctx.names, {}, gate) for a in ctx.activities.values())
    due = "; ".join(f"{e.key}: {title(e)} at {e.planned_for}" for e in skip.overdue) or "none"
    active = "; ".join(f"{e.key}: {title(e)}" for e in skip.active) or "none"
    lines = [
        f"Time skip ({skip.mode}) from {clock.describe(ctx.now)} to "
        f"{clock.describe(skip.to_time)}.",
        "Present: " + ", ".join(ctx.names[r] + f" ({r})" for r in ctx.present),
        "Doing before the skip: " + doing,
        "Events due during the skip (decide completed or expired): " + due,
        "Events in progress (decide how they ended): " + active,
        "Write: a short narration of the landing moment; where each present character lands "
        "(posture, what they are doing, holding)"
        + ("; for each bot, a memory of the skipped time." if skip.mode == "jump" else "."),
    ]
    return "\n".join(lines), sorted(gate.seen)


async def _tell(chat_id: int, skip: Skip) -> Told:
    prompt, sources = await sync_to_async(_prompt)(chat_id, skip)
    gone = await sync_to_async(gone_words)(chat_id)
    result = await ask(
        kind="time_skip",
        schema=SkipOutcome,
        max_tokens=900,
        system="You narrate time skips in a roleplay story, as JSON.",
        user=prompt,
    )
    # nothing a line on this story no longer says comes back through what it writes
    return Told(scrub_model(result.value, gone), result.failures, sources)


CLOSE_ACTION = {"completed": "complete", "expired": "expire", "cancelled": "cancel"}


def _close_events(chat: Chat, skip: Skip, outcome: SkipOutcome) -> list[dict[str, str]]:
    """Close the events the skip runs forward as the model decided (else: an active one
    completed, a planned one expired); an event it says is still going stays."""
    decided = {e.key: e for e in outcome.events}
    closed = []
    with transaction.atomic():
        for event in skip.overdue + skip.active:
            choice = decided.get(event.key)
            default = "completed" if event in skip.active else "expired"
            verdict = choice.outcome if choice else default
            if verdict.startswith("still"):
                continue
            story_event_close(
                chat=chat,
                event=event,
                action=CLOSE_ACTION[verdict],
                gist=choice.gist if choice else "",
            )
            closed.append({"key": event.key, "outcome": verdict})
    return closed


# What a landing resets of each activity to its field's default (where one is stays; what
# one does, holds and how one is are the model's, LandingActivity).
LANDING_RESET = ("attention", "expected_duration", "interruptible", "required_attention")


def _landing(skip: Skip, outcome: SkipOutcome) -> list[dict[str, Any]]:
    """Each present character's activity on landing, as the model said it (else blank)."""
    said = {a.role: a for a in outcome.activities if a.role in skip.ctx.present}
    reset = {name: Activity._meta.get_field(name).get_default() for name in LANDING_RESET}
    return [
        {**(said.get(role) or LandingActivity(role=role)).model_dump(), **reset}
        for role in skip.ctx.present
    ]


def _write(chat: Chat, skip: Skip, told: Told, closed: list[dict[str, str]]) -> dict:
    ctx = skip.ctx
    with transaction.atomic():
        landing = _landing(skip, told.outcome)
        skip_event = append(
            stream=chat,
            kind="time_skip",
            payload={
                **({"sources": told.sources} if told.sources else {}),
                "mode": skip.mode,
                "from_time": ctx.now,
                "to_time": skip.to_time,
                "activities": landing,
                "weather": told.outcome.weather,
                "closed_events": closed,
                **({"clock_started": True} if ctx.clock_started else {}),
            },
        )
        if skip.mode == "jump":
            _remember_between(chat, skip, told.outcome, closed, caused_by=skip_event.id)
        # the narration is a line everyone present hears: only what they all may know
        narration = heard_by(chat.pk, ctx.present, told.outcome.narration.strip()) or (
            f"{clock.describe(skip.to_time).split(',')[0]}, later. "
            + " ".join(f"{ctx.names[a['role']]} is {a['verb']}." for a in landing if a["verb"])
        )
        world = WorldState.objects.get(chat_id=chat.pk)
        # the model wrote it from ``told.sources``: a delete of one scrubs it like any
        # derived text (it is no line of its own that says their words)
        said = line_payload(
            speaker=NARRATOR,
            name="Narrator",
            text=narration,
            bot_text=narration,
            witnesses=witness_mask(ctx.present),
            scene=world.scene,
            story_time=skip.to_time,
            sources=told.sources,
        )
        line = append(stream=chat, kind="narration", caused_by=skip_event.id, payload=said)
        # said on the skip's own line, as an analysis failure is on its reply
        failures_record(chat=chat, failures=told.failures, turn_id=line.id)
    return {
        "mode": skip.mode,
        "from_time": ctx.now,
        "to_time": skip.to_time,
        "closed_events": closed,
        "narration": narration,
    }


def _remember_between(
    chat: Chat, skip: Skip, outcome: SkipOutcome, closed: list[dict[str, str]], *, caused_by: int
) -> None:
    """A jump gives each present bot a memory of the time in between: the model's, else
    what the clock and the closed events say."""
    ctx = skip.ctx
    told = {m.role: m.text for m in outcome.memories if m.role in BOTS}
    passed = ": " + "; ".join(f"{c['key']} {c['outcome']}" for c in closed) if closed else "."
    memories = [
        {
            "owner": bot,
            "text": told.get(bot)
            or (
                f"Between {clock.describe(ctx.now)} and {clock.describe(skip.to_time)} "
                f"time passed{passed}"
            ),
            "kind": "synthesized",
            "witnesses": {bot: True},
            "story_time": skip.to_time,
            "significance": 1,
        }
        for bot in ctx.present
        if bot in BOTS
    ]
    if memories:
        append(
            stream=chat, kind="memory_written", caused_by=caused_by, payload={"memories": memories}
        )
