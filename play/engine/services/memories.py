"""Pinning a memory and re-rating a turn's significance: the user's own marks on what the
bots remember (docs/design.md, Vocabulary: significance)."""

from __future__ import annotations

from eventstore.records import EventRecord
from eventstore.services import append
from memory.models import Memory
from play.engine import turnlock
from play.engine.errors import NotFound
from play.models import Turn

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
