"""Reads for the play page and the API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eventstore import branches as branch_log
from eventstore.models import Branch, Event
from memory.models import Memory
from play.models import Chat, ClassifierFailure, Turn
from worlds.models import (
    Activity,
    Container,
    Edge,
    EntityState,
    GroupNode,
    Scene,
    StoryEvent,
    Thread,
    WorldState,
)
from worlds.roles import PAIRS, YOU


@dataclass
class Swipe:
    index: int  # 1-based position of the shown reply
    total: int
    siblings: list[tuple[int, int]]  # (turn event id, branch to activate), oldest first


def swipe_groups(chat: Chat, turn_ids: set[int] | None = None) -> dict[int, Swipe]:
    """For every bot turn of the active log that has siblings (or only those in
    ``turn_ids``): its swipe position."""
    forks = list(
        Event.objects.filter(
            pk__in=Branch.objects.filter(stream=chat, kind=Branch.Kind.SWIPE).values_list(
                "fork_event_id", flat=True
            )
        ).only("id", "branch_id", "seq")
    )
    if not forks:
        return {}
    active = Branch.objects.get(pk=chat.active_branch_id)
    segments = branch_log.chain(active)
    shown_turns = Turn.objects.filter(chat=chat).exclude(speaker=YOU)
    if turn_ids is not None:
        shown_turns = shown_turns.filter(pk__in=turn_ids)
    turns = {t.seq: t for t in shown_turns.only("id", "seq")}
    groups: dict[int, Swipe] = {}
    for fork in forks:
        if not branch_log.contains(segments, branch_id=fork.branch_id, seq=fork.seq):
            continue
        shown = turns.get(fork.seq + 1)
        if shown is None:
            continue
        siblings: list[tuple[int, int]] = []
        original = Event.objects.filter(
            branch_id=fork.branch_id, seq=fork.seq + 1, kind="assistant_turn"
        ).first()
        if original is not None:
            siblings.append((original.pk, fork.branch_id))
        for b in Branch.objects.filter(fork_event=fork, kind=Branch.Kind.SWIPE).order_by("pk"):
            first = Event.objects.filter(branch=b, seq=fork.seq + 1, kind="assistant_turn").first()
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
        last = branch_log.last_event(b)
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


def memory_row(m: Memory) -> dict[str, Any]:
    return {
        "id": m.id,
        "owner": m.owner,
        "kind": m.kind,
        "text": m.text,
        "witnesses": m.witnesses,
        "significance": m.significance,
        "pinned": m.pinned,
        "pin_kind": m.pin_kind,
        "scene": m.scene,
        "turn_id": m.turn_id,
    }


def chat_state(chat: Chat, *, memory_limit: int = 200) -> dict[str, Any]:
    cid = chat.pk
    world = WorldState.objects.filter(chat_id=cid).first()
    edges = {(e.source, e.target): e for e in Edge.objects.filter(chat_id=cid)}
    return {
        "world": {
            "story_time": world.story_time if world else "",
            "weather": world.weather if world else "",
            "location": world.location if world else "",
            "scene": world.scene if world else 1,
        },
        "entities": [
            {
                "role": e.role,
                "name": e.name,
                "present": e.present,
                "mood": e.mood,
                "goals": e.goals,
                "status": e.status,
                "inventory": e.inventory,
            }
            for e in EntityState.objects.filter(chat_id=cid).order_by("role")
        ],
        "activity": [
            {
                "role": a.role,
                "container": a.container,
                "slot": a.slot,
                "posture": a.posture,
                "verb": a.verb,
                "interruptible": a.interruptible,
                "required_attention": a.required_attention,
                "expected_duration": a.expected_duration,
                "holding": a.holding,
                "attention": a.attention,
                "status": a.status,
            }
            for a in Activity.objects.filter(chat_id=cid).order_by("role")
        ],
        "containers": [
            {
                "key": c.key,
                "name": c.name,
                "kind": c.kind,
                "slots": c.slots,
                "moving": c.moving,
                "public": c.public,
                "audible_range": c.audible_range,
                "active": c.active,
            }
            for c in Container.objects.filter(chat_id=cid).order_by("id")
        ],
        "edges": [
            {
                "source": e.source,
                "target": e.target,
                "affinity": e.affinity,
                "trust": e.trust,
                "summary": e.summary,
                "knowledge": e.knowledge,
                "last_interaction": e.last_interaction,
            }
            for pair in PAIRS
            if (e := edges.get(pair))
        ],
        "group": next(
            (
                {"members": g.members, "summary": g.summary, "dynamic": g.dynamic}
                for g in GroupNode.objects.filter(chat_id=cid)
            ),
            None,
        ),
        "memories": [
            memory_row(m) for m in Memory.objects.filter(chat_id=cid).order_by("-id")[:memory_limit]
        ],
        "scenes": [
            {
                "number": s.number,
                "container": s.container,
                "configuration": s.configuration,
                "present": s.present,
                "closed": s.closed_event is not None,
                "close_reason": s.close_reason,
                "meanwhile": s.meanwhile,
            }
            for s in Scene.objects.filter(chat_id=cid).order_by("number")
        ],
        "story_events": [
            {
                "key": e.key,
                "title": e.title,
                "status": e.status,
                "props": e.props,
                "significance": e.significance,
                "planned_for": e.planned_for,
            }
            for e in StoryEvent.objects.filter(chat_id=cid).order_by("id")
        ],
        "threads": [
            {"key": t.key, "title": t.title, "status": t.status, "notes": t.notes}
            for t in Thread.objects.filter(chat_id=cid).order_by("id")
        ],
        "classifier_failures": [
            {
                "id": f.id,
                "model": f.model,
                "prompt_kind": f.prompt_kind,
                "error": f.error,
                "fallback": f.fallback,
                "turn_id": f.turn_id,
            }
            for f in ClassifierFailure.objects.filter(chat_id=cid).order_by("-id")[:50]
        ],
    }


def recent_lines(chat_id: int, n: int) -> list[str]:
    turns = Turn.objects.filter(chat_id=chat_id).order_by("-id")[:n]
    return [f"{t.name or t.speaker}: {t.bot_text}" for t in reversed(turns)]
