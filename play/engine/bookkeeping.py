"""After a bot's turn: one structured analysis call, its outcomes appended as events.

Every outcome is its own event with ``caused_by`` = the bot turn, so a turn's consequences
can be listed, previewed and undone together. ``turn_bookkept`` closes the set; a turn
without it is picked up again at start-up (play.engine.recovery).

What the analysis is shown is an ``AnalysisContext``; what came of it an ``Outcome``;
``apply_analysis`` writes that with one function per event kind (``OUTCOME_WRITERS``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import sync_to_async
from django.db import models, transaction

from eventstore import branches
from eventstore.models import Branch, Event
from eventstore.projection import DBStore
from eventstore.services import append
from memory.models import Memory
from memory.selectors import visible_to
from play.engine.classify import ask, failures_record
from play.engine.gate import Gate, Line, gone_words, heard_by, scrub_model
from play.engine.inference import GenParams, InferenceError, get_backend
from play.engine.prompt.sections import activity_line
from play.engine.schemas import TurnAnalysis
from play.engine.story import story_event_apply, thread_apply
from play.models import Chat, Turn
from rpsite.config import load_config
from worlds import cast, clock
from worlds import provenance as pv
from worlds.cast import Seats
from worlds.keys import place_key
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
EXCHANGE_MINUTES_MAX = 180  # the most one exchange moves the clock
FAILED_EXCHANGE_MINUTES = 2  # what an exchange whose analysis failed is taken to last
ANALYSIS_WINDOW = 6


@dataclass(frozen=True)
class OpenScene:
    """The scene a pass may close: its number, who is in it, where, and its story time."""

    number: int
    present: list[str]
    story_time: str
    location_key: str
    location_name: str = ""


def open_scene(chat_id: int) -> OpenScene:
    """The current scene, for closing it outside a turn (meanwhile start/end, skips)."""
    world = WorldState.objects.get(chat_id=chat_id)
    present = sorted(present_roles(chat_id))
    return OpenScene(world.scene, present, world.story_time, world.location)


async def close_scene(
    chat: Chat,
    *,
    reason: str,
    present_after: dict[str, bool] | None = None,
    caused_by: int | None = None,
) -> None:
    """Per-POV summaries of the current scene, then close it (and change who is present
    for the scene that opens next)."""
    scene = await sync_to_async(open_scene)(chat.pk)
    summaries, group_summary, failures = await scene_summaries(chat, scene, {})

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
                scene,
                reason=reason,
                summaries=summaries,
                group_summary=group_summary,
                caused_by=caused_by,
            )

    await sync_to_async(write)()


def story_lines(chat_id: int, gate: Gate) -> str:
    """The planned and active story events everyone present may know of."""
    out = []
    for e in StoryEvent.objects.filter(chat_id=chat_id, status__in=StoryEvent.OPEN):
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


@dataclass(frozen=True)
class AnalysisContext:
    """What one bot turn's analysis is shown, and what its outcome is written against."""

    turn_id: int
    reply_to: int | None
    scene: OpenScene
    sources: list[int]  # the lines it was shown: what it finds came from them
    prompt: str
    # what it asks after the narrative request and the reply when it rides on them (the same
    # model): what the narrative prompt does not say (role ids, numbers, keys, who heard what)
    riding: str = ""

    @property
    def present(self) -> set[str]:
        return set(self.scene.present)

    @property
    def exchange(self) -> list[int]:
        """The turn and the line it answers (if any): the significance found is theirs."""
        return [tid for tid in (self.turn_id, self.reply_to) if tid]


def analysis_context(chat_id: int, turn_id: int) -> AnalysisContext:
    """The analysis prompt: only what everyone present may know (the lines all of them
    witnessed, marked with who heard them), so that what it finds is theirs to know."""
    turn = Turn.objects.get(pk=turn_id)
    seats = Seats.live(chat_id)
    present = sorted(seats.present)
    gate = Gate.for_readers(chat_id, [seats.key(r) for r in present])
    world = WorldState.objects.get(chat_id=chat_id)
    recent = list(
        Turn.objects.filter(chat_id=chat_id, scene=turn.scene, id__lte=turn_id).order_by("-id")[
            :ANALYSIS_WINDOW
        ]
    )[::-1]
    window = common_lines(chat_id, recent, gate)
    location = Container.objects.filter(chat_id=chat_id, key=world.location).first()
    scene = OpenScene(
        number=turn.scene,
        present=present,
        story_time=world.story_time,
        location_key=world.location,
        location_name=location.name if location else "",
    )
    prompt = analysis_prompt(
        turn, seats=seats, scene=scene, place=location, window=window, gate=gate
    )
    riding = analysis_prompt(
        turn, seats=seats, scene=scene, place=location, window=window[-2:], gate=gate, short=True
    )
    return AnalysisContext(
        turn_id=turn_id,
        reply_to=turn.reply_to,
        scene=scene,
        # after the prompts: the gate has seen all it admitted
        sources=sorted(gate.seen | {t.id for t, _ in window}) or [turn_id],
        prompt=prompt,
        riding=riding,
    )


def analysis_prompt(
    turn: Turn,
    *,
    seats: Seats,
    scene: OpenScene,
    place: Container | None,
    window: list[tuple[Turn, list[str]]],
    gate: Gate,
    short: bool = False,
) -> str:
    """The scene as everyone present knows it (through ``gate``), then the recent exchange
    they all heard (``window``: each turn with who heard it). ``short``: after the narrative
    request it rides on, which says the place and what everyone does already."""
    chat_id, present = turn.chat_id, scene.present
    names, who = seats.role_names, seats.names  # by seat, by character key
    acts = Activity.objects.filter(chat_id=chat_id, role__in=present)
    edges = cast.between(DBStore(), seats, present)
    places = {place.key: place} if place else {}
    lines = [
        "Characters present (use these role ids): "
        + ", ".join(f"{r} = {names[r]}" + (" (the user)" if r == YOU else "") for r in present),
        *(
            []
            if short
            else [
                f"Place: {place.name if place else scene.location_key}; time {scene.story_time}.",
                "Activities: " + "; ".join(activity_line(a, names, places, gate) for a in acts),
            ]
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
    return "\n".join(lines)


@dataclass(frozen=True)
class Outcome:
    """What one analysis found and what came of it, as ``apply_analysis`` writes it."""

    analysis: TurnAnalysis
    failures: list[dict[str, Any]]  # failed model calls (the analysis's, the summaries')
    close: str = ""  # why the scene closes ("": it goes on)
    summaries: list[dict[str, Any]] = field(default_factory=list)  # the closing scene's
    group_summary: str = ""
    failed: str = ""  # why the analysis did not land ("": it did)
    usage: dict[str, int] = field(default_factory=dict)  # the analysis call's, if reported


async def bookkeep(chat: Chat, turn_id: int, *, retry: bool = False) -> None:
    """Run the analysis for one bot turn and append what it found (never raises).
    ``retry``: again, for a turn whose analysis failed (``analysis_failures``)."""
    try:
        ctx = await sync_to_async(analysis_context)(chat.pk, turn_id)
        outcome = await analyse(chat, ctx)
        await sync_to_async(apply_analysis)(chat, ctx, outcome, retry=retry)
        if outcome.usage.get("cached_tokens") is not None:
            log.info(
                "turn %s analysis: %s of %s prompt tokens cached",
                turn_id,
                outcome.usage["cached_tokens"],
                outcome.usage.get("prompt_tokens", "?"),
            )
    except Exception:
        log.exception("bookkeeping failed for turn %s", turn_id)
        await sync_to_async(_mark_bookkept_after_error)(chat, turn_id)


def exchange_of(turn_id: int) -> dict[str, Any] | None:
    """The narrative request a bot line was written from, and the line: what its analysis
    rides on when it runs on the same model (GenParams.after). What the analysis finds is
    still credited to the lines everyone present heard (``AnalysisContext.sources``), and the
    gate reads its words."""
    payload = Event.objects.filter(pk=turn_id).values_list("payload", flat=True).first() or {}
    prompt = payload.get("prompt") or {}
    if not prompt.get("messages") or payload.get("source") in ("greeting", "import"):
        return None
    return {
        "messages": prompt["messages"],
        "speaker": payload.get("name", ""),
        "reply": payload.get("text", ""),
    }


async def analyse(chat: Chat, ctx: AnalysisContext) -> Outcome:
    """The analysis call and, when it closes the scene, the scene's summaries (written
    after the seal of the story events it closes)."""
    template = await sync_to_async(lambda: current_template("bookkeeping").text)()
    after = await sync_to_async(exchange_of)(ctx.turn_id)
    if after is not None:
        after["ask"] = f"{template}\n\n{ctx.riding}"
    result = await ask(
        kind="turn_analysis", schema=TurnAnalysis, system=template, user=ctx.prompt, after=after
    )
    analysis: TurnAnalysis = result.value
    failed = result.failures[-1]["error"] if result.fell_back and result.failures else ""
    close = scene_close_reason(analysis, ctx.scene)
    if not close:
        return Outcome(analysis, list(result.failures), failed=failed, usage=result.usage)
    pending = {tid: analysis.significance for tid in ctx.exchange}
    closing = await sync_to_async(closing_props)(chat.pk, analysis)
    summaries, group_summary, more = await scene_summaries(chat, ctx.scene, pending, closing)
    return Outcome(
        analysis,
        [*result.failures, *more],
        close=close,
        summaries=summaries,
        group_summary=group_summary,
        failed=failed,
        usage=result.usage,
    )


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
    segments = branches.chain(Branch.objects.get(pk=chat.active_branch_id))
    latest: dict[int, dict] = {}
    for branch_id, seq, turn_id, payload in marks:
        if branches.contains(segments, branch_id=branch_id, seq=seq):
            latest[turn_id] = payload
    return {
        t: p.get("reason") or "the analysis failed"
        for t, p in latest.items()
        if p.get("analysis") == "failed"
    }


def scene_close_reason(analysis: TurnAnalysis, scene: OpenScene) -> str:
    moved = analysis.scene.moved_to.strip()
    if moved and moved.lower() not in (scene.location_name.lower(), scene.location_key):
        return f"moved to {moved}"
    if analysis.scene.minutes_passed >= SCENE_GAP_MINUTES:
        return f"{analysis.scene.minutes_passed} minutes passed"
    return ""


@dataclass(frozen=True)
class SummaryInputs:
    """What a per-POV summary is written from."""

    name: str  # the owner's
    user: str  # your name
    persona: str  # the owner's card description
    edge: str  # how the owner stands with you
    lines: list[str]  # the scene as the owner witnessed it
    key_quotes: list[str]  # its significant lines, quoted
    sources: list[int]


def summary_inputs(
    chat_id: int,
    scene: int,
    owner: str,
    pending: dict[int, int] | None = None,
    closing: list[list[str]] | None = None,
) -> SummaryInputs:
    """The lines ``owner`` witnessed of ``scene``, through the gate. ``pending``:
    significance not yet recorded (the closing exchange's own, decided in this same
    bookkeeping pass); ``closing``: props of the story events that pass closes, so the
    summary is written after their seal."""

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
    return SummaryInputs(
        name=entity.name,
        user=EntityState.objects.get(chat_id=chat_id, role=YOU).name,
        persona=character.description if character else "",
        edge=f"affinity {edge.affinity}, trust {edge.trust}. {feeling or ''}" if edge else "",
        lines=[f"{t.name or t.speaker}: {text}" for t, text in turns],
        key_quotes=[
            f"{t.name or t.speaker}: “{text.strip()[:300]}”"
            for t, text in turns
            if (pending or {}).get(t.id, t.significance) >= 2
        ],
        sources=sorted(gate.seen),
    )


async def write_summary(data: SummaryInputs) -> tuple[str, dict[str, Any] | None]:
    """One per-POV summary from ``summary_inputs``; on a model failure the first and last
    lines stand in (and the failure is returned to be recorded)."""
    template = await sync_to_async(lambda: current_template("summary").text)()
    prompt = [
        {
            "role": "system",
            "content": expand_macros(template, char=data.name, user=data.user),
        },
        {
            "role": "user",
            "content": "\n".join(
                [
                    f"{data.name}: {data.persona}",
                    f"{data.name}'s feelings toward {data.user}: {data.edge}",
                    "The scene:",
                    *data.lines[-40:],
                    "Key lines:",
                    *data.key_quotes,
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
        text = " … ".join(data.lines[:1] + data.lines[-2:])
    if data.key_quotes:
        text = text.strip() + "\nKey quotes: " + " ".join(data.key_quotes[:4])
    return text.strip(), failure


async def scene_summaries(
    chat: Chat,
    scene: OpenScene,
    pending: dict[int, int],
    closing: list[list[str]] | None = None,
):
    """One summary per present bot, from its own angle; the group node when all three."""
    summaries, failures = [], []
    bots = [r for r in scene.present if r in BOTS]
    witnesses = witness_mask(scene.present)
    for owner in bots:
        data = await sync_to_async(summary_inputs)(chat.pk, scene.number, owner, pending, closing)
        text, failure = await write_summary(data)
        text = await sync_to_async(heard_by)(chat.pk, [owner], text)  # the owner's words only
        if failure:
            failures.append(failure)
        summaries.append(
            {"owner": owner, "text": text, "witnesses": witnesses, "sources": data.sources}
        )
    group = ""
    if {YOU, HOST, GUEST} <= set(scene.present) and summaries:
        group = " / ".join(s["text"].split("\n")[0][:300] for s in summaries)
        group = await sync_to_async(heard_by)(chat.pk, scene.present, group)
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
        text = await sync_to_async(heard_by)(chat.pk, [mem.owner], text)
        await sync_to_async(append)(
            stream=chat,
            kind="summary_rewritten",
            payload={"memory_id": mem.id, "text": text, "sources": data.sources},
        )
        done += 1
    return done


def summary_sources(summaries: list[dict[str, Any]]) -> list[int]:
    return sorted({s for summary in summaries for s in summary.get("sources", [])})


def scene_closed_append(
    chat: Chat,
    scene: OpenScene,
    *,
    reason: str,
    summaries: list[dict[str, Any]],
    group_summary: str | None,
    caused_by: int | None,
    sources: list[int] | None = None,
) -> None:
    """Close ``scene`` with its summaries. Their sources are the lines they were written
    from (else ``sources``: what the analysis that closed it was shown; with none, the
    event is its own source)."""
    cited = summary_sources(summaries) or sources
    append(
        stream=chat,
        kind="scene_closed",
        caused_by=caused_by,
        payload={
            "scene": scene.number,
            "reason": reason,
            "summaries": summaries,
            "group_summary": group_summary,
            "story_time": scene.story_time,
            **({"sources": cited} if cited else {}),
        },
    )


# -- writing the outcome: one function per event kind, in the order they are appended -----


@dataclass(frozen=True)
class Writes:
    """Where one analysis's outcome goes: each event caused by the turn it analysed, citing
    the lines the analysis was shown."""

    chat: Chat
    ctx: AnalysisContext
    retry: bool = False  # a failed analysis run again (its failure already moved the clock)

    def append(self, kind: str, payload: dict[str, Any]) -> None:
        append(stream=self.chat, kind=kind, caused_by=self.ctx.turn_id, payload=payload)


def write_edge_update(w: Writes, found: Outcome) -> None:
    """Relationship deltas between characters present, one per direction."""
    seen: set[tuple[str, str]] = set()
    edges = []
    for delta in found.analysis.edges:
        pair = (delta.source, delta.target)
        if delta.source == delta.target or not set(pair) <= w.ctx.present or pair in seen:
            continue
        seen.add(pair)
        edges.append(delta.model_dump())
    if edges:
        w.append("edge_update", {"edges": edges, "sources": w.ctx.sources})


def _write_changes(w: Writes, kind: str, changes: list) -> None:
    """The changes of characters present that say more than whose they are."""
    said = [c.model_dump(exclude_none=True) for c in changes if c.role in w.ctx.present]
    said = [c for c in said if len(c) > 1]
    if said:
        w.append(kind, {"changes": said, "sources": w.ctx.sources})


def write_entity_state_change(w: Writes, found: Outcome) -> None:
    _write_changes(w, "entity_state_change", found.analysis.entities)


def write_activity_change(w: Writes, found: Outcome) -> None:
    _write_changes(w, "activity_change", found.analysis.activities)


def write_significance(w: Writes, found: Outcome) -> None:
    for tid in w.ctx.exchange:
        w.append(
            "memory_significance_set", {"turn_id": tid, "significance": found.analysis.significance}
        )


def write_memory_keys(w: Writes, found: Outcome) -> None:
    """Index-only words on the exchange's memories (memory.projectors)."""
    keys = [k.strip()[:300] for k in found.analysis.memory_keys if k.strip()]
    if keys:
        turns = [tid for tid in (w.ctx.reply_to, w.ctx.turn_id) if tid]
        w.append("memory_keys_added", {"turn_ids": turns, "keys": keys, "sources": w.ctx.sources})


def write_story_changes(w: Writes, found: Outcome) -> None:
    """Story events planned, started or closed, then threads opened or closed."""
    turn_id, sources = w.ctx.turn_id, w.ctx.sources
    for change in found.analysis.story_events:
        story_event_apply(chat=w.chat, change=change, caused_by=turn_id, sources=sources)
    for thread in found.analysis.threads:
        thread_apply(chat=w.chat, change=thread, caused_by=turn_id, sources=sources)


def write_group_node(w: Writes, found: Outcome) -> None:
    group = found.analysis.group
    if group and {YOU, HOST, GUEST} <= w.ctx.present and (group.summary or group.dynamic):
        w.append(
            "group_node_updated", {**group.model_dump(exclude_none=True), "sources": w.ctx.sources}
        )


def exchange_minutes(found: Outcome, *, retry: bool = False) -> int:
    """How far the clock moves for one exchange: the minutes its analysis reports, at least
    one (words take time) and at most ``EXCHANGE_MINUTES_MAX`` (a longer gap is a time skip's
    to make, or closes the scene); a failed analysis moves it ``FAILED_EXCHANGE_MINUTES``, and
    a retry that lands moves it on by what the failure's default did not already."""
    if found.failed:
        return 0 if retry else FAILED_EXCHANGE_MINUTES
    minutes = min(max(found.analysis.scene.minutes_passed, 1), EXCHANGE_MINUTES_MAX)
    return max(minutes - FAILED_EXCHANGE_MINUTES, 0) if retry else minutes


def write_clock(w: Writes, found: Outcome) -> None:
    """The story clock moves on by the minutes the exchange took."""
    minutes = exchange_minutes(found, retry=w.retry)
    if minutes and clock.parse(w.ctx.scene.story_time or ""):
        w.append("world_changed", {"story_time": clock.advance(w.ctx.scene.story_time, minutes)})


def write_scene_close(w: Writes, found: Outcome) -> None:
    """A scene the exchange ends: the move first (the scene that opens is in the new
    place), then the close with its summaries."""
    if not found.close:
        return
    moved = found.analysis.scene.moved_to.strip()
    if moved and found.close.startswith("moved"):
        w.append(
            "scene_transition",
            {
                "container": {
                    "key": place_key(moved, limit=60, default="elsewhere"),
                    "name": moved,
                    "kind": found.analysis.scene.moved_to_kind or "place",
                    "slots": [],
                },
                "moves": [
                    {"role": r, "slot": "", "verb": "arriving"} for r in sorted(w.ctx.present)
                ],
                "sources": w.ctx.sources,
            },
        )
    scene_closed_append(
        w.chat,
        w.ctx.scene,
        reason=found.close,
        summaries=found.summaries,
        group_summary=found.group_summary,
        caused_by=w.ctx.turn_id,
        sources=w.ctx.sources,
    )


OUTCOME_WRITERS: tuple[Callable[[Writes, Outcome], None], ...] = (
    write_edge_update,
    write_entity_state_change,
    write_activity_change,
    write_significance,
    write_memory_keys,
    write_story_changes,
    write_group_node,
    write_clock,
    write_scene_close,
)


def apply_analysis(
    chat: Chat, ctx: AnalysisContext, outcome: Outcome, *, retry: bool = False
) -> None:
    """Append what one analysis found, then ``turn_bookkept``, in one transaction."""
    with transaction.atomic():
        if not retry and Turn.objects.filter(pk=ctx.turn_id, bookkept=True).exists():
            return  # already done (a recovery raced a live run)
        failures_record(chat=chat, failures=outcome.failures, turn_id=ctx.turn_id)
        # what the model brought from lines nobody on this line said (it saw them in an
        # earlier request, before a delete or an edit) is not kept
        scrub_model(outcome.analysis, gone_words(chat.pk))
        w = Writes(chat, ctx, retry=retry)
        for write in OUTCOME_WRITERS:
            write(w, outcome)
        w.append("turn_bookkept", _bookkept(ctx.turn_id, outcome.failed, outcome.usage))
