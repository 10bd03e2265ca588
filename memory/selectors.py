"""Reads of memories. Every read a bot's prompt uses goes through ``visible_to``."""

from __future__ import annotations

import contextvars
from contextlib import contextmanager

from django.db import connection
from django.db.models import QuerySet

from memory import witness
from memory.models import Memory
from worlds.models import EntityState, Scene

_known: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "known_characters", default=None
)


@contextmanager
def known_characters(chat_id: int, characters: dict[str, int | None]):
    """Within the block, the characters in each role of this chat are already known (a prompt
    build reads them once instead of on every memory query)."""
    token = _known.set({(chat_id, role): cid for role, cid in characters.items()})
    try:
        yield
    finally:
        _known.reset(token)


def speaker_character(chat_id: int, speaker: str) -> int | None:
    known = _known.get()
    if known is not None and (chat_id, speaker) in known:
        return known[(chat_id, speaker)]
    with connection.cursor() as cur:  # read on every retrieval: plain SQL, not the ORM
        cur.execute(
            f"SELECT character_id FROM {EntityState._meta.db_table} "
            "WHERE chat_id = %s AND role = %s",
            [chat_id, speaker],
        )
        row = cur.fetchone()
    return row[0] if row else None


def visible_to(chat_id: int, speaker: str, *, facing_you: bool = False) -> QuerySet[Memory]:
    """The one witness-filtered selector: what the speaker may recall of its own store (the
    character now in that role), by the rule of ``memory.witness``."""
    character = speaker_character(chat_id, speaker)
    return Memory.objects.filter(witness.q(chat_id, speaker, character, facing_you=facing_you))


def visible_sql(
    chat_id: int, speaker: str, character: int | None, *, facing_you: bool = False
) -> tuple[str, list]:
    """``visible_to`` as a WHERE clause over the memory table, for retrieval's hot paths
    (plain SQL, no ORM query to build)."""
    return witness.where(chat_id, speaker, character, facing_you=facing_you)


def pinned(chat_id: int, speaker: str) -> list[Memory]:
    return list(visible_to(chat_id, speaker).filter(pinned=True).order_by("id"))


def recent_scene_summaries(chat_id: int, speaker: str, *, scenes: int = 2) -> list[Memory]:
    """The speaker's own summaries of its latest closed scenes (always loaded)."""
    found = visible_to(chat_id, speaker).filter(kind=Memory.Kind.SUMMARY).order_by("-id")
    return list(reversed(found[:scenes]))


def why_visible(memory: Memory, speaker: str) -> str:
    """For the prompt inspector: why this speaker may see this memory."""
    present = [r for r, seen in memory.witnesses.items() if seen]
    return (
        f"owned by {memory.owner}; {speaker}'s witness bit is set "
        f"(present: {', '.join(present) or 'nobody'})"
    )


def meanwhile_digests(chat_id: int, speaker: str, current_scene: int) -> list[Memory]:
    """The speaker's summaries of the meanwhile scenes just before the current one: what the
    bots know that ``you`` did not see, surfaced to the bots only."""

    numbers = []
    for scene in Scene.objects.filter(chat_id=chat_id, number__lt=current_scene).order_by(
        "-number"
    ):
        if not scene.meanwhile:
            break
        numbers.append(scene.number)
    if not numbers:
        return []
    return list(
        visible_to(chat_id, speaker)
        .filter(kind=Memory.Kind.SUMMARY, scene__in=numbers)
        .order_by("id")
    )
