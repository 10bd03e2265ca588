"""Who answers: whole-word name match, then (with a guest) a classifier for ambiguity."""

from __future__ import annotations

import re

from asgiref.sync import sync_to_async

from play.engine.classify import ask, failures_record
from play.engine.schemas import AddresseeDecision
from play.engine.selectors import reader_keys, recent_lines
from play.models import Chat
from worlds.roles import GUEST, HOST, YOU
from worlds.selectors import present_bots


def named(text: str, name: str) -> bool:
    """Whole-word, case-insensitive; the first name alone counts too."""
    candidates = {name.strip(), name.strip().split(" ")[0]}
    return any(
        c and re.search(rf"(?<!\w){re.escape(c)}(?!\w)", text, re.IGNORECASE) for c in candidates
    )


def by_name(text: str, bots: dict[str, str]) -> str | None:
    """The one bot named, or None when both or neither are."""
    hits = [role for role, name in bots.items() if named(text, name)]
    return hits[0] if len(hits) == 1 else None


async def choose(chat: Chat, text: str) -> str:
    bots = await sync_to_async(present_bots)(chat.pk)
    if GUEST not in bots:
        return HOST if HOST in bots else next(iter(bots), HOST)
    if HOST not in bots:
        return GUEST
    found = by_name(text, bots)
    if found:
        return found
    both = named(text, bots[HOST]) and named(text, bots[GUEST])
    if both:
        return HOST
    return await _classify_addressee(chat, text, bots)


async def _classify_addressee(chat: Chat, text: str, bots: dict[str, str]) -> str:
    # everyone present: the user's line is said to all of them
    readers = await sync_to_async(reader_keys)(chat.pk, [YOU, *bots])
    lines = await sync_to_async(recent_lines)(chat.pk, 6, readers=readers)
    result = await ask(
        kind="addressee",
        schema=AddresseeDecision,
        max_tokens=60,
        system="Decide which character the user's last message is addressed to: "
        f"host = {bots[HOST]}, guest = {bots[GUEST]}. If unsure, host.",
        user="\n".join([*lines, f"User: {text}"]),
    )
    await sync_to_async(failures_record)(chat=chat, failures=result.failures, turn_id=None)
    return result.value.addressee if result.value.confidence != "low" else HOST
