"""Pinning a memory, who witnessed it, a turn's significance: the user's own marks on what
the bots remember (docs/design.md, Vocabulary: significance; witness mask)."""

from __future__ import annotations

from eventstore.records import EventRecord
from eventstore.services import append
from memory.models import Memory
from play.engine import turnlock
from play.engine.errors import NotFound
from play.models import Turn
from worlds.roles import ROLES
from worlds.services import manual_edit

SIGNIFICANCE = ("routine", "notable", "significant", "pivotal")  # 0..3; pivotal auto-pins


def memory_pin(
    *, chat_id: int, memory_id: int, pinned: bool | None = None, origin: str
) -> EventRecord:
    """Pin or unpin a memory (``None`` turns it over)."""
    with turnlock.held(chat_id, origin):
        memory = Memory.objects.filter(chat_id=chat_id, pk=memory_id).first()
        if memory is None:
            raise NotFound(f"no memory {memory_id} in chat {chat_id}")
        pinned = not memory.pinned if pinned is None else pinned
        return append(
            stream=chat_id,
            kind="memory_pinned",
            payload={"memory_id": memory.pk, "pinned": pinned},
        )


def memory_significance_set(
    *, chat_id: int, turn_id: int, significance: int, origin: str
) -> EventRecord:
    """The user's rating of a turn, over the analysis's."""
    if not 0 <= significance < len(SIGNIFICANCE):
        raise ValueError("significance is 0 (routine) to 3 (pivotal)")
    with turnlock.held(chat_id, origin):
        if not Turn.objects.filter(chat_id=chat_id, pk=turn_id).exists():
            raise NotFound(f"no turn {turn_id} in chat {chat_id}")
        return append(
            stream=chat_id,
            kind="memory_significance_set",
            payload={"turn_id": turn_id, "significance": significance, "by": "user"},
        )


def memory_witnesses_edit(
    *, chat_id: int, memory_id: int, witnesses: dict[str, bool], origin: str
) -> EventRecord | None:
    """Set who witnessed a memory, by seat (a hand edit); None (and no event) when nothing
    changes."""
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
