"""Story events (with their props), active threads: the writes, shared by bookkeeping, the
drawer, the API and time skips."""

from __future__ import annotations

from typing import Any

from eventstore.records import EventRecord
from eventstore.services import append
from play.engine.schemas import StoryEventChange, ThreadChange
from play.models import Chat
from worlds.keys import story_key
from worlds.models import StoryEvent, Thread
from worlds.provenance import seal_text
from worlds.selectors import witnesses_now

CLOSE_KIND = {
    "complete": "story_event_completed",
    "cancel": "story_event_cancelled",
    "expire": "story_event_expired",
}


def _unique_key(model, chat: Chat, base: str) -> str:
    key, n = base, 2
    while model.objects.filter(chat=chat, key=key).exists():
        key, n = f"{base}-{n}", n + 1
    return key


def _find(chat: Chat, change: StoryEventChange) -> StoryEvent | None:
    if change.key:
        found = StoryEvent.objects.filter(chat=chat, key=change.key).first()
        if found:
            return found
    if change.title:
        return (
            StoryEvent.objects.filter(chat=chat, title__iexact=change.title)
            .exclude(status__in=StoryEvent.CLOSED)
            .first()
        )
    return None


def story_event_apply(
    *,
    chat: Chat,
    change: StoryEventChange,
    caused_by: int | None = None,
    on_start: dict | None = None,
    on_complete: dict | None = None,
    sources: list[int] | None = None,
) -> EventRecord | None:
    """Append the lifecycle event a change asks for; invalid transitions are ignored.
    ``sources``: the lines the change was read from (an analysis); none for a hand edit."""
    existing = _find(chat, change)
    origin = {"sources": sources} if sources else {}
    effects = {"on_start": on_start, "on_complete": on_complete}
    if change.action == "plan":
        if existing is not None or not change.title.strip():
            return None
        return _planned(chat, change, caused_by, effects, origin)
    if change.action == "start":
        if existing is None:
            if not change.title.strip():
                return None
            # started without being planned first: plan and start in one go
            planned = _planned(chat, change, caused_by, effects, origin)
            existing = StoryEvent.objects.get(chat=chat, key=planned.payload["key"])
        if existing.status != StoryEvent.Status.PLANNED:
            return None
        return append(
            stream=chat,
            kind="story_event_started",
            caused_by=caused_by,
            payload={"key": existing.key, **origin},
        )
    if existing is None or existing.status not in StoryEvent.OPEN:
        return None
    return story_event_close(
        chat=chat,
        event=existing,
        action=change.action,
        gist=change.gist,
        promote={
            "inventory": [a.model_dump() for a in change.acquired],
            "knowledge": [k.model_dump() for k in change.knowledge],
            "relationship": [r.model_dump() for r in change.relationship],
        },
        caused_by=caused_by,
        sources=sources,
    )


def _planned(
    chat: Chat,
    change: StoryEventChange,
    caused_by: int | None,
    effects: dict[str, dict | None],
    origin: dict[str, Any],
) -> EventRecord:
    """A new story event, planned: its key made from its own or its title, unique in the
    chat; ``effects``: its authored on_start and on_complete, if any."""
    key = _unique_key(StoryEvent, chat, story_key(change.key or change.title))
    return append(
        stream=chat,
        kind="story_event_planned",
        caused_by=caused_by,
        payload={
            "key": key,
            "title": change.title.strip(),
            "description": change.description,
            "props": [p.strip() for p in change.props if p.strip()],
            "preconditions": change.preconditions,
            "planned_for": change.planned_for,
            "significance": change.significance,
            **{name: value for name, value in effects.items() if value},
            **origin,
        },
    )


def story_event_close(
    *,
    chat: Chat,
    event: StoryEvent,
    action: str,
    gist: str = "",
    promote: dict[str, Any] | None = None,
    caused_by: int | None = None,
    sources: list[int] | None = None,
) -> EventRecord:
    gist = seal_text(gist, event.props) or (
        f"{event.title} was {'completed' if action == 'complete' else action + 'led'}."
        if action != "expire"
        else f"{event.title} never happened."
    )
    return append(
        stream=chat,
        kind=CLOSE_KIND[action],
        caused_by=caused_by,
        payload={
            "key": event.key,
            "gist": gist,
            "promote": promote or {},
            "witnesses": witnesses_now(chat.pk),
            **({"sources": sources} if sources else {}),
        },
    )


def thread_apply(
    *,
    chat: Chat,
    change: ThreadChange,
    caused_by: int | None = None,
    sources: list[int] | None = None,
) -> EventRecord | None:
    origin = {"sources": sources} if sources else {}
    existing = None
    if change.key:
        existing = Thread.objects.filter(chat=chat, key=change.key).first()
    if existing is None and change.title:
        existing = Thread.objects.filter(
            chat=chat, title__iexact=change.title, status="open"
        ).first()
    if change.action == "open":
        if existing is not None and existing.status == "open":
            return None
        if not change.title.strip():
            return None
        key = _unique_key(Thread, chat, story_key(change.key or change.title))
        return append(
            stream=chat,
            kind="thread_opened",
            caused_by=caused_by,
            payload={"key": key, "title": change.title.strip(), "notes": change.notes, **origin},
        )
    if existing is None or existing.status != "open":
        return None
    if change.action == "update":
        return append(
            stream=chat,
            kind="thread_updated",
            caused_by=caused_by,
            payload={
                "key": existing.key,
                "notes": change.notes,
                **({"title": change.title} if change.title else {}),
                **origin,
            },
        )
    return append(
        stream=chat,
        kind="thread_closed",
        caused_by=caused_by,
        payload={
            "key": existing.key,
            "status": "resolved" if change.action == "resolve" else "dropped",
            "resolution": change.notes,
            **origin,
        },
    )
