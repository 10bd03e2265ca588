"""Story events and threads changed by hand, from the drawer or the API (the rules of each
change are play.engine.story's; an analysis applies the same ones)."""

from __future__ import annotations

from eventstore.records import EventRecord
from play.engine import turnlock
from play.engine.schemas import StoryEventChange, ThreadChange
from play.engine.selectors import chat_get
from play.engine.story import story_event_apply, thread_apply


def story_event_change(
    *,
    chat_id: int,
    change: StoryEventChange,
    on_start: dict | None = None,
    on_complete: dict | None = None,
    origin: str,
) -> EventRecord | None:
    """None (and no event) when the change does not apply now."""
    with turnlock.held(chat_id, origin):
        return story_event_apply(
            chat=chat_get(chat_id), change=change, on_start=on_start, on_complete=on_complete
        )


def thread_change(*, chat_id: int, change: ThreadChange, origin: str) -> EventRecord | None:
    """None (and no event) when the change does not apply now."""
    with turnlock.held(chat_id, origin):
        return thread_apply(chat=chat_get(chat_id), change=change)
