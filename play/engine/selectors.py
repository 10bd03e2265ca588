"""Reads for the play page and the API."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from eventstore.branches import chain, contains, last_event
from eventstore.models import Branch, Event
from eventstore.projection import MemoryStore
from eventstore.records import EventRecord
from play.engine.errors import NotFound
from play.engine.gate import Gate
from play.models import Chat, Turn
from worlds import cast
from worlds import provenance as pv
from worlds.cast import Seats
from worlds.lines import LINE_KINDS
from worlds.models import (
    Edge,
    EntityState,
    Scene,
    StoryEvent,
    Thread,
    WorldState,
)
from worlds.projectors import HANDLERS as WORLD_HANDLERS


def chat_get(chat_id: int) -> Chat:
    chat = Chat.objects.filter(pk=chat_id).first()
    if chat is None:
        raise NotFound(f"no chat {chat_id}")
    return chat


@dataclass
class TurnPrompt:
    """A bot turn's event as the prompt inspector reads it (page and API alike)."""

    pk: int  # the assistant_turn event
    payload: dict[str, Any]  # its prompt, model, usage, repetition guard, speaker
    analysis_usage: dict | None  # of the turn's latest analysis (a retry supersedes a failure)

    @property
    def prompt(self) -> dict[str, Any]:
        """Empty for a greeting or an imported line: no model wrote it from a prompt."""
        return self.payload.get("prompt") or {}


def turn_prompt(chat_id: int, turn_id: int) -> TurnPrompt:
    """The recorded prompt of a bot turn on any branch of the chat; NotFound for anything
    else."""
    event = Event.objects.filter(stream_id=chat_id, pk=turn_id, kind="assistant_turn").first()
    if event is None:
        raise NotFound(f"no bot turn {turn_id} in chat {chat_id}")
    bookkept = (
        Event.objects.filter(stream_id=chat_id, kind="turn_bookkept", caused_by_id=event.pk)
        .order_by("-id")
        .values_list("payload", flat=True)
        .first()
    )
    return TurnPrompt(event.pk, event.payload, (bookkept or {}).get("usage"))


@dataclass
class Swipe:
    index: int  # 1-based position of the shown reply
    total: int
    siblings: list[tuple[int, int]]  # (turn event id, branch to activate), oldest first


VARIANTS = (Branch.Kind.SWIPE, Branch.Kind.EDIT)


def swipe_groups(chat: Chat, turn_ids: set[int] | None = None) -> dict[int, Swipe]:
    """For every line of the active log that has other versions (or only those in
    ``turn_ids``): its position among them. A version is a regenerated or continued reply (a
    swipe) or an edit of the line's words: the first line of a sibling branch forked at the
    same point."""
    forks = list(
        Event.objects.filter(
            pk__in=Branch.objects.filter(stream=chat, kind__in=VARIANTS).values_list(
                "fork_event_id", flat=True
            )
        ).only("id", "branch_id", "seq")
    )
    if not forks:
        return {}
    active = Branch.objects.get(pk=chat.active_branch_id)
    segments = chain(active)
    shown_turns = Turn.objects.filter(chat=chat)
    if turn_ids is not None:
        shown_turns = shown_turns.filter(pk__in=turn_ids)
    turns = {t.seq: t for t in shown_turns.only("id", "seq")}
    groups: dict[int, Swipe] = {}
    for fork in forks:
        if not contains(segments, branch_id=fork.branch_id, seq=fork.seq):
            continue
        shown = turns.get(fork.seq + 1)
        if shown is None:
            continue
        siblings: list[tuple[int, int]] = []
        original = Event.objects.filter(
            branch_id=fork.branch_id, seq=fork.seq + 1, kind__in=LINE_KINDS
        ).first()
        if original is not None:
            siblings.append((original.pk, fork.branch_id))
        for b in Branch.objects.filter(fork_event=fork, kind__in=VARIANTS).order_by("pk"):
            first = Event.objects.filter(branch=b, seq=fork.seq + 1, kind__in=LINE_KINDS).first()
            if first is not None:
                siblings.append((first.pk, b.pk))
        siblings.sort()
        ids = [s[0] for s in siblings]
        if shown.id in ids and len(ids) > 1:
            groups[shown.id] = Swipe(ids.index(shown.id) + 1, len(ids), siblings)
    return groups


def transcript(chat: Chat, *, include_hidden: bool = True) -> list[Turn]:
    turns = Turn.objects.filter(chat=chat).order_by("id")
    if not include_hidden:
        turns = turns.filter(hidden=False)
    return list(turns)


def branches(chat: Chat) -> list[dict[str, Any]]:
    rows = []
    for b in Branch.objects.filter(stream=chat).order_by("pk"):
        last = last_event(b)
        rows.append(
            {
                "id": b.pk,
                "parent": b.parent_id,
                "kind": b.kind,
                "label": b.label,
                "fork_event": b.fork_event_id,
                "active": b.pk == chat.active_branch_id,
                "last_event": last.pk if last else None,
                "created_at": b.created_at.isoformat(),
            }
        )
    return rows


# -- the story over time: relationship timeline and story strip (read-only folds) -------------

# Every kind the world projectors handle (edges now depend on who witnessed the lines an
# analysis cites, so the turns are folded too): the fold then equals the live world tables.
# The play and memory projectors (transcript, memories, search) are left out: the pictures
# need none of them.
TIMELINE_KINDS = tuple(WORLD_HANDLERS)
_EDGE_KINDS = {"chat_started", "edge_update", "manual_edit", "guest_added"}
_STORY_MARKS = {
    "story_event_started": "started",
    "story_event_completed": "completed",
    "story_event_cancelled": "cancelled",
    "story_event_expired": "expired",
}


def _active_log(chat: Chat, kinds: tuple[str, ...]) -> Iterator[EventRecord]:
    """The active branch's events of ``kinds``, in log order."""
    branch = Branch.objects.get(pk=chat.active_branch_id)
    columns = ("id", "stream_id", "branch_id", "seq", "kind", "payload", "caused_by_id")
    for seg in chain(branch):
        rows = Event.objects.filter(branch_id=seg.branch_id, kind__in=kinds)
        if seg.max_seq is not None:
            rows = rows.filter(seq__lte=seg.max_seq)
        for row in rows.order_by("seq").values_list(*columns):
            yield EventRecord(*row, created_at="")


def _story_time(store: MemoryStore, chat_id: int) -> str:
    world = store.get(WorldState, chat_id=chat_id)
    return world.story_time if world else ""


def _edge_values(store: MemoryStore, chat_id: int) -> dict[tuple[str, str], tuple]:
    """Every edge's (affinity, trust), by its characters: a guest who comes back continues
    their own lines, another character in the same seat has lines of their own."""
    return {
        (e.source, e.target): (e.affinity, e.trust) for e in store.filter(Edge, chat_id=chat_id)
    }


def _fold(chat: Chat) -> dict[str, Any]:
    """The world projectors run over the active log, and what the pictures read on the way."""
    chat_id = chat.pk
    store = MemoryStore()
    if chat.active_branch_id is None:
        return {"store": store, "series": {}, "marks": [], "at": {}, "skips": [], "last_seq": 0}
    series: dict[tuple[str, str], list[dict[str, Any]]] = {}
    last: dict[tuple, tuple] = {}
    marks: list[dict[str, Any]] = []
    at: dict[int, tuple[int, str]] = {}  # event id -> (seq, story time after it)
    skips: list[dict[str, Any]] = []
    last_seq = 0
    for record in _active_log(chat, TIMELINE_KINDS):
        before = _story_time(store, chat_id)
        WORLD_HANDLERS[record.kind](store, record)
        now = _story_time(store, chat_id)
        at[record.id] = (record.seq, now)
        last_seq = record.seq
        if record.kind in _EDGE_KINDS:
            for key, value in _edge_values(store, chat_id).items():
                if last.get(key) != value:
                    last[key] = value
                    series.setdefault(key, []).append(
                        {
                            "seq": record.seq,
                            "story_time": now,
                            "affinity": value[0],
                            "trust": value[1],
                        }
                    )
        if mark := _mark(store, record, now):
            marks.append(mark)
        if record.kind == "time_skip":
            mode = record.payload.get("mode", "jump")
            skips.append({"seq": record.seq, "from": before, "to": now, "mode": mode})
    return {
        "store": store,
        "series": series,
        "marks": marks,
        "at": at,
        "skips": skips,
        "last_seq": last_seq,
    }


def _mark(store: MemoryStore, record: EventRecord, now: str) -> dict[str, Any] | None:
    """What an event marks on the story strip: a scene break, a skip, a story event's step."""
    p = record.payload
    if record.kind == "scene_closed":
        kind, label = "scene", f"scene {p.get('scene', '')} closed: {p.get('reason', '')}".strip()
    elif record.kind == "time_skip":
        kind = "skip"
        label = "skip: " + ("the rest of this" if p.get("mode") == "elision" else (now or "later"))
    elif record.kind == "manual_edit":  # a hand edit of the world (the drawer, the admin)
        changed = ", ".join(sorted(p.get("changes", {}))) or "state"
        kind, label = "edit", f"hand edit of {p.get('target', '')}: {changed}"
    elif record.kind in _STORY_MARKS:
        event = store.get(StoryEvent, chat_id=record.stream_id, key=p.get("key", ""))
        title = event.title if event else p.get("key", "")
        kind, label = "story_event", f"{title} {_STORY_MARKS[record.kind]}"
    else:
        return None
    return {"seq": record.seq, "story_time": now, "kind": kind, "label": label}


_fold_cache: OrderedDict[tuple, dict[str, Any]] = OrderedDict()
_fold_lock = threading.Lock()


def _cached_fold(chat: Chat) -> dict[str, Any]:
    """The fold of the active branch, cached by (branch, newest event): a tab that asks again
    after a redraw with nothing new costs one query."""
    newest = Event.objects.filter(stream_id=chat.pk).order_by("-id").values_list("id", flat=True)
    key = (chat.pk, chat.active_branch_id, newest.first())
    with _fold_lock:
        if key in _fold_cache:
            _fold_cache.move_to_end(key)
            return _fold_cache[key]
    fold = _fold(chat)
    with _fold_lock:
        _fold_cache[key] = fold
        while len(_fold_cache) > 16:
            _fold_cache.popitem(last=False)
    return fold


def relationship_timeline(chat: Chat) -> dict[str, Any]:
    """Affinity and trust of each directed edge over the story, and the marks between them
    (scene breaks, skips, story events). Read from the log; no model calls."""
    fold = _cached_fold(chat)
    store = fold["store"]
    seats = Seats.of(store, chat.pk)
    names = cast.names(store, chat.pk)
    return {
        "edges": [
            {
                "source": names.get(source, source),
                "target": names.get(target, target),
                "source_key": source,
                "target_key": target,
                "source_role": seats.role(source),
                "target_role": seats.role(target),
                "points": points,
            }
            for (source, target), points in fold["series"].items()
        ],
        "marks": fold["marks"],
    }


def story_strip(chat: Chat) -> dict[str, Any]:
    """Scenes, skips, story events and threads as spans of the story (event order, with the
    story time at each end)."""
    fold = _cached_fold(chat)
    store, at = fold["store"], fold["at"]

    def point(event_id: int | None) -> dict[str, Any] | None:
        if event_id is None or event_id not in at:
            return None
        seq, time = at[event_id]
        return {"seq": seq, "story_time": time}

    scenes = [
        {
            "label": f"Scene {s.number}",
            "detail": s.container,
            "meanwhile": s.meanwhile,
            "start": point(s.opened_event),
            "end": point(s.closed_event),
            "status": "closed" if s.closed_event else "open",
        }
        for s in sorted(store.filter(Scene, chat_id=chat.pk), key=lambda s: s.number)
    ]
    events = [
        {
            "label": e.title,
            "status": e.status,
            "detail": e.planned_for,
            "start": point(e.started_event) or point(e.planned_event),
            "end": point(e.closed_event),
        }
        for e in store.filter(StoryEvent, chat_id=chat.pk)
    ]
    threads = [
        {
            "label": t.title,
            "status": t.status,
            "detail": t.notes,
            "start": point(t.opened_event),
            "end": point(t.closed_event),
        }
        for t in store.filter(Thread, chat_id=chat.pk)
    ]
    return {
        "last_seq": fold["last_seq"],
        "now": _story_time(store, chat.pk),
        "scenes": scenes,
        "skips": fold["skips"],
        "story_events": events,
        "threads": threads,
    }


# -- the branch tree -----------------------------------------------------------------------


def _first_words(text: str, count: int = 8) -> str:
    words = text.replace("*", "").replace("_", " ").split()
    return " ".join(words[:count]) + ("…" if len(words) > count else "")


def branch_tree(chat: Chat) -> dict[str, Any]:
    """Every branch of the chat as a node of one tree: where it forked, what it says first
    (its first words and story time), and whether it lies on the line being shown."""
    branches = list(Branch.objects.filter(stream=chat).order_by("pk"))
    active = next((b for b in branches if b.pk == chat.active_branch_id), None)
    on_path = {seg.branch_id for seg in chain(active)} if active else set()
    forks = dict(
        Event.objects.filter(
            pk__in=[b.fork_event_id for b in branches if b.fork_event_id]
        ).values_list("id", "seq")
    )
    nodes = []
    for b in branches:
        first = (
            Event.objects.filter(branch=b, kind__in=LINE_KINDS)
            .order_by("seq")
            .only("payload", "seq")
            .first()
        )
        turns = Event.objects.filter(branch=b, kind__in=LINE_KINDS).count()
        payload = first.payload if first else {}
        # which line of the story it forks after: the lines before it on its way from the root
        before = 0
        for seg in chain(b)[:-1]:
            before += Event.objects.filter(
                branch_id=seg.branch_id, seq__lte=seg.max_seq, kind__in=LINE_KINDS
            ).count()
        nodes.append(
            {
                "id": b.pk,
                "parent": b.parent_id,
                "kind": b.kind,
                "label": b.label,
                "fork_seq": forks.get(b.fork_event_id),
                "fork_line": before,  # it starts at line before + 1
                "first_words": _first_words(payload.get("text", "")),
                "speaker": payload.get("name") or payload.get("speaker", ""),
                "story_time": payload.get("story_time", ""),
                "turns": turns,
                "active": b.pk == chat.active_branch_id,
                "on_active_path": b.pk in on_path,
                "created_at": b.created_at.isoformat(),
            }
        )
    return {"active": chat.active_branch_id, "nodes": nodes}


def recent_lines(chat_id: int, n: int, *, readers: list[str]) -> list[str]:
    """The newest ``n`` lines every reader witnessed, as they may see them (the gate)."""
    gate = Gate.for_readers(chat_id, readers)
    turns = list(Turn.objects.filter(chat_id=chat_id).order_by("-id")[: n * 3])[::-1]
    seen = gate.turns(turns)[-n:]
    return [f"{t.name or t.speaker}: {text}" for t, text, _ in seen]


def reader_keys(chat_id: int, roles) -> list[str]:
    """The characters in these seats now, as the gate names its readers."""
    return [pv.key_of(e) for e in EntityState.objects.filter(chat_id=chat_id, role__in=roles)]
