"""After a bot's turn: one structured analysis call, its outcomes appended as events.

Every outcome is its own event with ``caused_by`` = the bot turn, so a turn's consequences
can be listed, previewed and undone together. ``turn_bookkept`` closes the set; a turn
without it is picked up again at start-up (play.engine.recovery).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from asgiref.sync import sync_to_async
from django.db import models, transaction

from eventstore import branches as branch_log
from eventstore.models import Branch, Event
from eventstore.projection import DBStore
from eventstore.services import append
from memory.models import Memory
from memory.selectors import visible_to
from play.engine.classify import classify, failures_record
from play.engine.gate import Gate, Line
from play.engine.inference import GenParams, InferenceError, get_backend
from play.engine.prompt.sections import activity_line
from play.engine.schemas import TurnAnalysis
from play.engine.story import story_event_apply, thread_apply
from play.models import Chat, Turn
from rpsite.config import load_config
from worlds import cast, clock
from worlds import provenance as pv
from worlds.cast import Seats
from worlds.macros import expand_macros
from worlds.models import (
    Activity,
    Character,
    Container,
    EntityState,
    StoryEvent,
    Thread,
    Witness,
    WorldState,
)
from worlds.prompts import current as current_template
from worlds.roles import BOTS, GUEST, HOST, YOU, witness_mask
from worlds.selectors import present_roles

SUMMARY_SLACK_S = 15.0

log = logging.getLogger("rp.bookkeeping")

SCENE_GAP_MINUTES = 180
ANALYSIS_WINDOW = 6


def scene_context(chat_id: int) -> dict[str, Any]:
    """The current scene, for closing it outside a turn (meanwhile start/end, skips)."""
    world = WorldState.objects.get(chat_id=chat_id)
    present = sorted(present_roles(chat_id))
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
            failures_record(chat=chat, failures=failures, turn_id=caused_by)
            if present_after:
                append(
                    stream=chat,
                    kind="presence_changed",
                    caused_by=caused_by,
                    payload={"present": present_after},
                )
            scene_closed_append(
                chat,
                ctx,
                reason=reason,
                summaries=summaries,
                group_summary=group_summary,
                caused_by=caused_by,
            )

    await sync_to_async(write)()


def story_lines(chat_id: int, gate: Gate) -> str:
    """The planned and active story events everyone present may know of."""
    out = []
    for e in StoryEvent.objects.filter(chat_id=chat_id, status__in=["planned", "active"]):
        # a key is made from a title: it says what the title says, to whom the title may
        key = gate.admit(Line(e.key, pv.prov_of(e, "title")))
        title = gate.admit(Line(e.title or e.key, pv.prov_of(e, "title")))
        if key is None or title is None:
            continue
        props = [x for p in e.props if (x := gate.admit(Line(p, pv.prov_of(e, f"props:{p}"))))]
        needs = [
            x
            for p in e.preconditions
            if (x := gate.admit(Line(p, pv.prov_of(e, f"preconditions:{p}"))))
        ]
        out.append(
            f"{key}: {title} [{e.status}]"
            + (f", props {', '.join(props)}" if props else "")
            + (f", starts only if: {'; '.join(needs)}" if needs else "")
        )
    return "; ".join(out) or "none"


def thread_lines(chat_id: int, gate: Gate) -> str:
    threads = Thread.objects.filter(chat_id=chat_id, status="open")
    out = [
        f"{key}: {title}"
        for t in threads
        if (title := gate.admit(Line(t.title, pv.prov_of(t, "title")))) is not None
        and (key := gate.admit(Line(t.key, pv.prov_of(t, "title")))) is not None
    ]
    return "; ".join(out) or "none"


def common_lines(chat_id: int, turns: list[Turn], gate: Gate) -> list[tuple[Turn, list[str]]]:
    """The turns every reader of ``gate`` witnessed, each with who witnessed it (by key)."""
    seen = {
        w.event: w.seen_by
        for w in Witness.objects.filter(chat_id=chat_id, event__in=[t.id for t in turns])
    }
    out = []
    for turn in turns:
        by = seen.get(turn.id, [])
        said = Line(turn.bot_text or "", {"src": [turn.id], "by": by}, verbatim=True)
        if gate.admit(said) is not None:
            out.append((turn, by))
    return out


def analysis_context(chat_id: int, turn_id: int) -> dict[str, Any]:
    """The analysis prompt: only what everyone present may know (the lines all of them
    witnessed, marked with who heard them), so that what it finds is theirs to know."""
    turn = Turn.objects.get(pk=turn_id)
    entities = {e.role: e for e in EntityState.objects.filter(chat_id=chat_id)}
    present = sorted(r for r, e in entities.items() if e.present)
    names = {r: e.name for r, e in entities.items()}
    who = {pv.key_of(e): e.name for e in entities.values()}
    gate = Gate.for_readers(chat_id, [pv.key_of(entities[r]) for r in present])
    world = WorldState.objects.get(chat_id=chat_id)
    recent = list(
        Turn.objects.filter(chat_id=chat_id, scene=turn.scene, id__lte=turn_id).order_by("-id")[
            :ANALYSIS_WINDOW
        ]
    )[::-1]
    window = common_lines(chat_id, recent, gate)
    acts = Activity.objects.filter(chat_id=chat_id, role__in=present)
    location = Container.objects.filter(chat_id=chat_id, key=world.location).first()
    edges = cast.between(DBStore(), Seats.of_entities(chat_id, entities.values()), present)
    lines = [
        "Characters present (use these role ids): "
        + ", ".join(f"{r} = {names[r]}" + (" (the user)" if r == YOU else "") for r in present),
        f"Place: {location.name if location else world.location}; time {world.story_time}.",
        "Activities: "
        + "; ".join(
            activity_line(a, names, {location.key: location} if location else {}, gate)
            for a in acts
        ),
        "Relationships now: "
        + "; ".join(
            f"{a}->{b} affinity {e.affinity} trust {e.trust}" for (a, b), e in edges.items()
        ),
        "Story events (key: title [status], props): " + story_lines(chat_id, gate),
        "Open threads (key: title): " + thread_lines(chat_id, gate),
        "",
        "Recent exchange (each line says who heard it; what someone did not hear, they do not "
        "know):",
        *[
            f"{t.name or t.speaker}: {gate.admit(Line(t.bot_text or '', None, (t.id,), True))} "
            f"[heard by {', '.join(who.get(k, k) for k in by)}]"
            for t, by in window
        ],
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
        "sources": sorted(gate.seen | {t.id for t, _ in window}) or [turn_id],
        "prompt": "\n".join(lines),
    }


async def bookkeep(chat: Chat, turn_id: int, *, retry: bool = False) -> None:
    """Run the analysis for one bot turn and append what it found (never raises).
    ``retry``: again, for a turn whose analysis failed (``analysis_failures``)."""
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
            closing = await sync_to_async(closing_props)(chat.pk, analysis)
            summaries, group_summary, more = await scene_summaries(chat, ctx, pending, closing)
            failures += more
        failed = result.failures[-1]["error"] if result.fell_back and result.failures else ""
        await sync_to_async(apply_analysis)(
            chat,
            ctx,
            analysis,
            failures,
            close,
            summaries,
            group_summary,
            failed=failed,
            retry=retry,
            usage=result.usage,
        )
        if result.usage.get("cached_tokens") is not None:
            log.info(
                "turn %s analysis: %s of %s prompt tokens cached",
                turn_id,
                result.usage["cached_tokens"],
                result.usage.get("prompt_tokens", "?"),
            )
    except Exception:
        log.exception("bookkeeping failed for turn %s", turn_id)
        await sync_to_async(_mark_bookkept_after_error)(chat, turn_id)


def closing_props(chat_id: int, analysis: TurnAnalysis) -> list[list[str]]:
    """The props of the story events this analysis completes or cancels."""
    out = []
    for change in analysis.story_events:
        if change.action not in ("complete", "cancel"):
            continue
        found = StoryEvent.objects.filter(chat_id=chat_id).filter(
            models.Q(key=change.key) | models.Q(title__iexact=change.title or "\x00")
        )
        out += [list(e.props) for e in found if e.props]
    return out


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
        append(
            stream=chat,
            kind="turn_bookkept",
            caused_by=turn_id,
            payload=_bookkept(turn_id, "bookkeeping crashed; see the server log"),
        )


def _bookkept(turn_id: int, failed: str, usage: dict[str, int] | None = None) -> dict[str, Any]:
    """The ``turn_bookkept`` payload: whether the analysis landed, and if not, why; and the
    analysis call's prompt and cached token counts, when the model reported them."""
    payload: dict[str, Any] = {"turn_id": turn_id, "analysis": "ok"}
    if failed:
        payload = {"turn_id": turn_id, "analysis": "failed", "reason": failed}
    if usage:
        payload["usage"] = usage
    return payload


def analysis_failures(chat: Chat, turn_ids: set[int]) -> dict[int, str]:
    """Turns (of ``turn_ids``) whose latest analysis on the active branch did not land: the
    state was not updated from them. {turn id: why}."""
    if not turn_ids or chat.active_branch_id is None:
        return {}
    marks = list(
        Event.objects.filter(stream_id=chat.pk, kind="turn_bookkept", caused_by_id__in=turn_ids)
        .order_by("id")
        .values_list("branch_id", "seq", "caused_by_id", "payload")
    )
    if not any(p.get("analysis") == "failed" for *_, p in marks):
        return {}
    segments = branch_log.chain(Branch.objects.get(pk=chat.active_branch_id))
    latest: dict[int, dict] = {}
    for branch_id, seq, turn_id, payload in marks:
        if branch_log.contains(segments, branch_id=branch_id, seq=seq):
            latest[turn_id] = payload
    return {
        t: p.get("reason") or "the analysis failed"
        for t, p in latest.items()
        if p.get("analysis") == "failed"
    }


def scene_close_reason(analysis: TurnAnalysis, ctx: dict[str, Any]) -> str:
    moved = analysis.scene.moved_to.strip()
    if moved and moved.lower() not in (ctx["location_name"].lower(), ctx["location_key"]):
        return f"moved to {moved}"
    if analysis.scene.minutes_passed >= SCENE_GAP_MINUTES:
        return f"{analysis.scene.minutes_passed} minutes passed"
    return ""


def summary_inputs(
    chat_id: int,
    scene: int,
    owner: str,
    pending: dict[int, int] | None = None,
    closing: list[list[str]] | None = None,
) -> dict[str, Any]:
    """What a per-POV summary is written from: the lines its owner witnessed, through the
    gate. ``pending``: significance not yet recorded (the closing exchange's own, decided in
    this same bookkeeping pass); ``closing``: props of the story events that pass closes, so
    the summary is written after their seal."""

    entity = EntityState.objects.get(chat_id=chat_id, role=owner)
    character = Character.objects.filter(pk=entity.character_id).first()
    edge = cast.edge(DBStore(), Seats.live(chat_id), owner, YOU)
    gate = Gate.for_readers(chat_id, [pv.key_of(entity)], also_sealed=closing or [])

    # only what this bot witnessed and still holds (sealed event talk stays out)
    held = set(visible_to(chat_id, owner).filter(scene=scene).values_list("turn_id", flat=True))
    turns = [
        (t, text)
        for t in Turn.objects.filter(chat_id=chat_id, scene=scene).order_by("id")
        if t.id in held and (text := gate.admit(Line(t.bot_text or "", None, (t.id,), True)))
    ]
    feeling = gate.admit(Line(edge.summary, pv.prov_of(edge, "summary"))) if edge else ""
    return {
        "name": entity.name,
        "user": EntityState.objects.get(chat_id=chat_id, role=YOU).name,
        "persona": character.description if character else "",
        "edge": f"affinity {edge.affinity}, trust {edge.trust}. {feeling or ''}" if edge else "",
        "lines": [f"{t.name or t.speaker}: {text}" for t, text in turns],
        "key_quotes": [
            f"{t.name or t.speaker}: “{text.strip()[:300]}”"
            for t, text in turns
            if (pending or {}).get(t.id, t.significance) >= 2
        ],
        "present": sorted({t.speaker for t, _ in turns}),
        "sources": sorted(gate.seen),
    }


async def write_summary(data: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
    """One per-POV summary from ``summary_inputs``; on a model failure the first and last
    lines stand in (and the failure is returned to be recorded)."""
    template = await sync_to_async(lambda: current_template("summary").text)()
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
    failure = None
    # bounded like a reply: a summary past it is cancelled and falls back to the scene's first
    # and last lines. The backend enforces the bound; the wait here is the same bound with
    # room for its answer, so that nothing a call waits on can hold a scene open for longer.
    timeout = float(load_config()["inference"]["timeout_s"])
    try:
        text = await asyncio.wait_for(
            get_backend().generate(
                prompt,
                GenParams(purpose="classifier", max_tokens=260, temperature=0.5, timeout=timeout),
            ),
            timeout + SUMMARY_SLACK_S,
        )
    except (InferenceError, TimeoutError) as exc:
        failure = {
            "model": getattr(exc, "model", ""),
            "prompt_kind": "scene_summary",
            "raw_output": getattr(exc, "raw", ""),
            "error": getattr(exc, "message", "") or f"timed out after {timeout:g} s",
            "fallback": "first and last lines",
        }
        text = " … ".join(data["lines"][:1] + data["lines"][-2:])
    if data["key_quotes"]:
        text = text.strip() + "\nKey quotes: " + " ".join(data["key_quotes"][:4])
    return text.strip(), failure


async def scene_summaries(
    chat: Chat,
    ctx: dict[str, Any],
    pending: dict[int, int],
    closing: list[list[str]] | None = None,
):
    """One summary per present bot, from its own angle; the group node when all three."""
    summaries, failures = [], []
    bots = [r for r in ctx["present"] if r in BOTS]
    witnesses = witness_mask(ctx["present"])
    for owner in bots:
        data = await sync_to_async(summary_inputs)(chat.pk, ctx["scene"], owner, pending, closing)
        text, failure = await write_summary(data)
        if failure:
            failures.append(failure)
        summaries.append(
            {"owner": owner, "text": text, "witnesses": witnesses, "sources": data["sources"]}
        )
    group = ""
    if {YOU, HOST, GUEST} <= set(ctx["present"]) and summaries:
        group = " / ".join(s["text"].split("\n")[0][:300] for s in summaries)
    return summaries, group, failures


async def summaries_rewrite(chat: Chat) -> int:
    """Write again, with the model, each summary that lost one of its lines (a deleted turn)
    and holds a stand-in extract meanwhile. Returns how many were rewritten."""
    pending = await sync_to_async(
        lambda: list(Memory.objects.filter(chat=chat, kind=Memory.Kind.SUMMARY, rewrite=True))
    )()
    done = 0
    for mem in pending:
        data = await sync_to_async(summary_inputs)(chat.pk, mem.scene, mem.owner)
        text, failure = await write_summary(data)
        if failure is not None:
            continue  # the extract stays; a later start-up tries again
        await sync_to_async(append)(
            stream=chat,
            kind="summary_rewritten",
            payload={"memory_id": mem.id, "text": text, "sources": data["sources"]},
        )
        done += 1
    return done


def summary_sources(summaries: list[dict[str, Any]]) -> list[int]:
    return sorted({s for summary in summaries for s in summary.get("sources", [])})


def scene_closed_append(
    chat: Chat,
    ctx: dict[str, Any],
    *,
    reason: str,
    summaries: list[dict[str, Any]],
    group_summary: str | None,
    caused_by: int | None,
    sources: list[int] | None = None,
) -> None:
    """Close the scene of ``ctx`` with its summaries. Their sources are the lines they were
    written from (else ``sources``: what the analysis that closed it was shown; with none,
    the event is its own source)."""
    cited = summary_sources(summaries) or sources
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
            **({"sources": cited} if cited else {}),
        },
    )


def apply_analysis(
    chat: Chat,
    ctx: dict[str, Any],
    analysis: TurnAnalysis,
    failures: list[dict[str, Any]],
    close: str,
    summaries: list[dict[str, Any]],
    group_summary: str,
    *,
    failed: str = "",
    retry: bool = False,
    usage: dict[str, int] | None = None,
) -> None:
    turn_id = ctx["turn_id"]
    present = set(ctx["present"])
    sources = ctx["sources"]  # what it found came from the lines it was shown
    with transaction.atomic():
        if not retry and Turn.objects.filter(pk=turn_id, bookkept=True).exists():
            return  # already done (a recovery raced a live run)
        failures_record(chat=chat, failures=failures, turn_id=turn_id)
        seen: set[tuple[str, str]] = set()
        edges = []
        for delta in analysis.edges:
            pair = (delta.source, delta.target)
            if delta.source == delta.target or not set(pair) <= present or pair in seen:
                continue
            seen.add(pair)
            edges.append(delta.model_dump())
        if edges:
            append(
                stream=chat,
                kind="edge_update",
                caused_by=turn_id,
                payload={"edges": edges, "sources": sources},
            )
        changes = [c.model_dump(exclude_none=True) for c in analysis.entities if c.role in present]
        changes = [c for c in changes if len(c) > 1]
        if changes:
            append(
                stream=chat,
                kind="entity_state_change",
                caused_by=turn_id,
                payload={"changes": changes, "sources": sources},
            )
        acts = [a.model_dump(exclude_none=True) for a in analysis.activities if a.role in present]
        acts = [a for a in acts if len(a) > 1]
        if acts:
            append(
                stream=chat,
                kind="activity_change",
                caused_by=turn_id,
                payload={"changes": acts, "sources": sources},
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
                payload={"turn_ids": turns, "keys": keys, "sources": sources},
            )

        for change in analysis.story_events:
            story_event_apply(chat=chat, change=change, caused_by=turn_id, sources=sources)
        for thread in analysis.threads:
            thread_apply(chat=chat, change=thread, caused_by=turn_id, sources=sources)
        group = analysis.group
        if group and {"you", HOST, GUEST} <= present and (group.summary or group.dynamic):
            append(
                stream=chat,
                kind="group_node_updated",
                caused_by=turn_id,
                payload={**group.model_dump(exclude_none=True), "sources": sources},
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
            # the move first: the scene that opens is in the new place
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
                        "sources": sources,
                    },
                )
            scene_closed_append(
                chat,
                ctx,
                reason=close,
                summaries=summaries,
                group_summary=group_summary,
                caused_by=turn_id,
                sources=sources,
            )
        append(
            stream=chat,
            kind="turn_bookkept",
            caused_by=turn_id,
            payload=_bookkept(turn_id, failed, usage),
        )
