"""Hand edits from the play page's drawer: a relationship's numbers and words, who witnessed
a memory. Each is a ``manual_edit`` event (worlds.services.manual_edit)."""

from __future__ import annotations

from typing import Any

from eventstore.records import EventRecord
from memory.models import Memory
from play.engine import turnlock
from play.engine.errors import NotFound
from worlds.roles import ROLES
from worlds.services import manual_edit


def edge_edit(
    *, chat_id: int, source: str, target: str, changes: dict[str, Any], origin: str
) -> EventRecord:
    with turnlock.held(chat_id, origin):
        return manual_edit(
            chat=chat_id, target="edge", key={"source": source, "target": target}, changes=changes
        )


def memory_witnesses_edit(
    *, chat_id: int, memory_id: int, witnesses: dict[str, bool], origin: str
) -> EventRecord | None:
    """Set who witnessed a memory, by seat; None (and no event) when nothing changes."""
    with turnlock.held(chat_id, origin):
        memory = Memory.objects.filter(chat_id=chat_id, pk=memory_id).first()
        if memory is None:
            raise NotFound(f"no memory {memory_id} in chat {chat_id}")
        changes = {
            f"w_{role}": seen
            for role, seen in witnesses.items()
            if role in ROLES and getattr(memory, f"w_{role}") != seen
        }
        if not changes:
            return None
        return manual_edit(chat=chat_id, target="memory", key={"id": memory.pk}, changes=changes)
