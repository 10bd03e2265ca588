"""After a bot's turn: one structured analysis call, its outcomes appended as events.

Every outcome is its own event with ``caused_by`` = the bot turn, so a turn's consequences
can be listed, previewed and undone together. ``turn_bookkept`` closes the set; a turn
without it is picked up again at start-up (play.engine.recovery).
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import sync_to_async
from django.db import transaction

from eventstore.services import append
from play.engine.classify import classify
from play.engine.inference import GenParams, InferenceError, get_backend
from play.engine.schemas import TurnAnalysis
from play.models import Chat, Turn
from worlds import clock
from worlds.macros import expand_macros
from worlds.models import (
    Activity,
    Container,
    Edge,
    EntityState,
    StoryEvent,
    Thread,
    WorldState,
)
from worlds.prompts import current as current_template
from worlds.roles import BOTS, YOU

log = logging.getLogger("rp.bookkeeping")

SCENE_GAP_MINUTES = 180
ANALYSIS_WINDOW = 6


def _names(chat_id: int) -> dict[str, str]:
    return dict(EntityState.objects.filter(chat_id=chat_id).values_list("role", "name"))


def scene_context(chat_id: int) -> dict[str, Any]:
    """The current scene, for closing it outside a turn (meanwhile start/end, skips)."""
    world = WorldState.objects.get(chat_id=chat_id)
    present = sorted(
        EntityState.objects.filter(chat_id=chat_id, present=True).values_list("role", flat=True)
    )
    return {
        "scene": world.scene,
        "present": present,
        "story_time": world.story_time,
        "location_key": world.location,
    }


async def close_scene(
    chat: Chat,
    *,
    reason: str,
    present_after: dict[str, bool] | None = None,
    caused_by: int | None = None,
) -> None:
    """Per-POV summaries of the current scene, then close it (and change who is present
    for the scene that opens next)."""
    ctx = await sync_to_async(scene_context)(chat.pk)
    summaries, group_summary, failures = await scene_summaries(chat, ctx, {})

    def write():
        with transaction.atomic():
            for failure in failures:
                append(
                    stream=chat,
                    kind="classifier_failed",
                    caused_by=caused_by,
                    payload={**failure, "turn_id": caused_by},
                )
            if present_after:
                append(
                    stream=chat,
                    kind="presence_changed",
                    caused_by=caused_by,
                    payload={"present": present_after},
                )
            append(
                stream=chat,
                kind="scene_closed",
                caused_by=caused_by,
                payload={
                    "scene": ctx["scene"],
                    "reason": reason,
                    "summaries": summaries,
                    "group_summary": group_summary,
                    "story_time": ctx["story_time"],
                },
            )

    await sync_to_async(write)()


def story_lines(chat_id: int) -> str:
    events = StoryEvent.objects.filter(chat_id=chat_id, status__in=["planned", "active"])
    return (
        "; ".join(
            f"{e.key}: {e.title} [{e.status}]"
            + (f", props {', '.join(e.props)}" if e.props else "")
            + (f", starts only if: {'; '.join(e.preconditions)}" if e.preconditions else "")
            for e in events
        )
        or "none"
    )


def thread_lines(chat_id: int) -> str:
    threads = Thread.objects.filter(chat_id=chat_id, status="open")
    return "; ".join(f"{t.key}: {t.title}" for t in threads) or "none"


def analysis_context(chat_id: int, turn_id: int) -> dict[str, Any]:
    turn = Turn.objects.get(pk=turn_id)
    entities = {e.role: e for e in EntityState.objects.filter(chat_id=chat_id)}
    present = sorted(r for r, e in entities.items() if e.present)
    names = {r: e.name for r, e in entities.items()}
    world = WorldState.objects.get(chat_id=chat_id)
    recent = list(
        Turn.objects.filter(chat_id=chat_id, scene=turn.scene, id__lte=turn_id).order_by("-id")[
            :ANALYSIS_WINDOW
        ]
    )[::-1]
    acts = Activity.objects.filter(chat_id=chat_id, role__in=present)
    location = Container.objects.filter(chat_id=chat_id, key=world.location).first()
    edges = Edge.objects.filter(chat_id=chat_id, source__in=present, target__in=present)
    lines = [
        "Characters present (use these role ids): "
        + ", ".join(f"{r} = {names[r]}" + (" (the user)" if r == YOU else "") for r in present),
        f"Place: {location.name if location else world.location}; time {world.story_time}.",
        "Activities: "
        + "; ".join(f"{a.role}: {a.posture} {a.verb} at {a.slot}".strip() for a in acts),
        "Relationships now: "
        + "; ".join(f"{e.source}->{e.target} affinity {e.affinity} trust {e.trust}" for e in edges),
        "Story events (key: title [status], props): " + story_lines(chat_id),
        "Open threads (key: title): " + thread_lines(chat_id),
        "",
        "Recent exchange:",
        *[f"{t.name or t.speaker}: {t.bot_text}" for t in recent],
        "",
        f"Analyse the latest turn (by {turn.name}) and what it shows about everyone present.",
    ]
    return {
        "turn_id": turn_id,
        "reply_to": turn.reply_to,
        "present": present,
        "names": names,
        "location_key": world.location,
        "location_name": location.name if location else "",
        "story_time": world.story_time,
        "scene": turn.scene,
        "prompt": "\n".join(lines),
    }


async def bookkeep(chat: Chat, turn_id: int) -> None:
    """Run the analysis for one bot turn and append what it found (never raises)."""
    try:
        ctx = await sync_to_async(analysis_context)(chat.pk, turn_id)
        template = await sync_to_async(lambda: current_template("bookkeeping").text)()
        messages = [
            {"role": "system", "content": template},
            {"role": "user", "content": ctx["prompt"]},
        ]
        result = await classify(kind="turn_analysis", messages=messages, schema=TurnAnalysis)
        analysis: TurnAnalysis = result.value
        close = scene_close_reason(analysis, ctx)
        summaries: list[dict[str, Any]] = []
        group_summary = ""
        failures = list(result.failures)
        if close:
            pending = {tid: analysis.significance for tid in (turn_id, ctx.get("reply_to")) if tid}
            summaries, group_summary, more = await scene_summaries(chat, ctx, pending)
            failures += more
        await sync_to_async(apply_analysis)(
            chat, ctx, analysis, failures, close, summaries, group_summary
        )
    except Exception:
        log.exception("bookkeeping failed for turn %s", turn_id)
        await sync_to_async(_mark_bookkept_after_error)(chat, turn_id)


def _mark_bookkept_after_error(chat: Chat, turn_id: int) -> None:
    with transaction.atomic():
        if not Turn.objects.filter(pk=turn_id, bookkept=False).exists():
            return
        append(
            stream=chat,
            kind="classifier_failed",
            caused_by=turn_id,
            payload={
                "prompt_kind": "turn_analysis",
                "error": "bookkeeping crashed; see the server log",
                "turn_id": turn_id,
                "fallback": "nothing recorded",
            },
        )
        append(stream=chat, kind="turn_bookkept", caused_by=turn_id, payload={"turn_id": turn_id})


def scene_close_reason(analysis: TurnAnalysis, ctx: dict[str, Any]) -> str:
    moved = analysis.scene.moved_to.strip()
    if moved and moved.lower() not in (ctx["location_name"].lower(), ctx["location_key"]):
        return f"moved to {moved}"
    if analysis.scene.minutes_passed >= SCENE_GAP_MINUTES:
        return f"{analysis.scene.minutes_passed} minutes passed"
    return ""


def summary_inputs(
    chat_id: int, scene: int, owner: str, pending: dict[int, int] | None = None
) -> dict[str, Any]:
    """What a per-POV summary is written from. ``pending``: significance not yet recorded
    (the closing exchange's own, decided in this same bookkeeping pass)."""
    from worlds.models import Character

    entity = EntityState.objects.get(chat_id=chat_id, role=owner)
    character = Character.objects.filter(pk=entity.character_id).first()
    edge = Edge.objects.filter(chat_id=chat_id, source=owner, target=YOU).first()
    from memory.selectors import visible_to

    # only what this bot witnessed and still holds (sealed event talk stays out)
    held = set(visible_to(chat_id, owner).filter(scene=scene).values_list("turn_id", flat=True))
    turns = [
        t for t in Turn.objects.filter(chat_id=chat_id, scene=scene).order_by("id") if t.id in held
    ]
    return {
        "name": entity.name,
        "user": EntityState.objects.get(chat_id=chat_id, role=YOU).name,
        "persona": character.description if character else "",
        "edge": f"affinity {edge.affinity}, trust {edge.trust}. {edge.summary}" if edge else "",
        "lines": [f"{t.name or t.speaker}: {t.bot_text}" for t in turns],
        "key_quotes": [
            f"{t.name or t.speaker}: “{t.bot_text.strip()[:300]}”"
            for t in turns
            if (pending or {}).get(t.id, t.significance) >= 2
        ],
        "present": sorted({t.speaker for t in turns}),
    }


async def scene_summaries(chat: Chat, ctx: dict[str, Any], pending: dict[int, int]):
    """One summary per present bot, from its own angle; the group node when all three."""
    backend = get_backend()
    template = await sync_to_async(lambda: current_template("summary").text)()
    summaries, failures = [], []
    bots = [r for r in ctx["present"] if r in BOTS]
    witnesses = {r: r in ctx["present"] for r in ("you", "host", "guest")}
    for owner in bots:
        data = await sync_to_async(summary_inputs)(chat.pk, ctx["scene"], owner, pending)
        prompt = [
            {
                "role": "system",
                "content": expand_macros(template, char=data["name"], user=data["user"]),
            },
            {
                "role": "user",
                "content": "\n".join(
                    [
                        f"{data['name']}: {data['persona']}",
                        f"{data['name']}'s feelings toward {data['user']}: {data['edge']}",
                        "The scene:",
                        *data["lines"][-40:],
                        "Key lines:",
                        *data["key_quotes"],
                    ]
                ),
            },
        ]
        try:
            text = await backend.generate(
                prompt, GenParams(purpose="classifier", max_tokens=260, temperature=0.5)
            )
        except InferenceError as exc:
            failures.append(
                {
                    "model": exc.model,
                    "prompt_kind": "scene_summary",
                    "raw_output": exc.raw,
                    "error": exc.message,
                    "fallback": "first and last lines",
                }
            )
            text = " … ".join(data["lines"][:1] + data["lines"][-2:])
        if data["key_quotes"]:
            text = text.strip() + "\nKey quotes: " + " ".join(data["key_quotes"][:4])
        summaries.append({"owner": owner, "text": text.strip(), "witnesses": witnesses})
    group = ""
    if {"you", "host", "guest"} <= set(ctx["present"]) and summaries:
        group = " / ".join(s["text"].split("\n")[0][:300] for s in summaries)
    return summaries, group, failures


def apply_analysis(
    chat: Chat,
    ctx: dict[str, Any],
    analysis: TurnAnalysis,
    failures: list[dict[str, Any]],
    close: str,
    summaries: list[dict[str, Any]],
    group_summary: str,
) -> None:
    turn_id = ctx["turn_id"]
    present = set(ctx["present"])
    with transaction.atomic():
        if Turn.objects.filter(pk=turn_id, bookkept=True).exists():
            return  # already done (a recovery raced a live run)
        for failure in failures:
            append(
                stream=chat,
                kind="classifier_failed",
                caused_by=turn_id,
                payload={**failure, "turn_id": turn_id},
            )
        seen: set[tuple[str, str]] = set()
        edges = []
        for delta in analysis.edges:
            pair = (delta.source, delta.target)
            if delta.source == delta.target or not set(pair) <= present or pair in seen:
                continue
            seen.add(pair)
            edges.append(delta.model_dump())
        if edges:
            append(stream=chat, kind="edge_update", caused_by=turn_id, payload={"edges": edges})
        changes = [c.model_dump(exclude_none=True) for c in analysis.entities if c.role in present]
        changes = [c for c in changes if len(c) > 1]
        if changes:
            append(
                stream=chat,
                kind="entity_state_change",
                caused_by=turn_id,
                payload={"changes": changes},
            )
        acts = [a.model_dump(exclude_none=True) for a in analysis.activities if a.role in present]
        acts = [a for a in acts if len(a) > 1]
        if acts:
            append(
                stream=chat, kind="activity_change", caused_by=turn_id, payload={"changes": acts}
            )
        for tid in filter(None, (turn_id, ctx.get("reply_to"))):
            append(
                stream=chat,
                kind="memory_significance_set",
                caused_by=turn_id,
                payload={"turn_id": tid, "significance": analysis.significance},
            )
        keys = [k.strip()[:300] for k in analysis.memory_keys if k.strip()]
        if keys:  # index-only words on the exchange's memories (memory.projectors)
            turns = [tid for tid in (ctx.get("reply_to"), turn_id) if tid]
            append(
                stream=chat,
                kind="memory_keys_added",
                caused_by=turn_id,
                payload={"turn_ids": turns, "keys": keys},
            )
        from play.engine.services.story import story_event_apply, thread_apply

        for change in analysis.story_events:
            story_event_apply(chat, change, caused_by=turn_id)
        for thread in analysis.threads:
            thread_apply(chat, thread, caused_by=turn_id)
        group = analysis.group
        if group and {"you", "host", "guest"} <= present and (group.summary or group.dynamic):
            append(
                stream=chat,
                kind="group_node_updated",
                caused_by=turn_id,
                payload=group.model_dump(exclude_none=True),
            )
        minutes = analysis.scene.minutes_passed
        if minutes:
            append(
                stream=chat,
                kind="world_changed",
                caused_by=turn_id,
                payload={"story_time": clock.advance(ctx["story_time"], minutes)},
            )
        if close:
            append(
                stream=chat,
                kind="scene_closed",
                caused_by=turn_id,
                payload={
                    "scene": ctx["scene"],
                    "reason": close,
                    "summaries": summaries,
                    "group_summary": group_summary,
                    "story_time": ctx["story_time"],
                },
            )
            moved = analysis.scene.moved_to.strip()
            if moved and close.startswith("moved"):
                key = "".join(c if c.isalnum() else "_" for c in moved.lower()).strip("_")[:60]
                append(
                    stream=chat,
                    kind="scene_transition",
                    caused_by=turn_id,
                    payload={
                        "container": {
                            "key": key or "elsewhere",
                            "name": moved,
                            "kind": analysis.scene.moved_to_kind or "place",
                            "slots": [],
                        },
                        "moves": [
                            {"role": r, "slot": "", "verb": "arriving"} for r in sorted(present)
                        ],
                    },
                )
        append(stream=chat, kind="turn_bookkept", caused_by=turn_id, payload={"turn_id": turn_id})
