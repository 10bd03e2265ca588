"""Who answers: whole-word name match, then (with a guest) a classifier for ambiguity; and
whether the other bot interjects afterwards (conservative: false on any failure)."""

from __future__ import annotations

import re

from asgiref.sync import sync_to_async

from eventstore.records import EventRecord
from play.engine.schemas import AddresseeDecision, InterjectionDecision
from play.models import Chat
from worlds.models import EntityState
from worlds.roles import GUEST, HOST


def _bots(chat_id: int) -> dict[str, str]:
    return dict(
        EntityState.objects.filter(
            chat_id=chat_id, present=True, role__in=(HOST, GUEST)
        ).values_list("role", "name")
    )


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
    bots = await sync_to_async(_bots)(chat.pk)
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
    from play.engine.classify import classify
    from play.engine.pipeline import recent_lines

    lines = await sync_to_async(recent_lines)(chat.pk, 6)
    result = await classify(
        kind="addressee",
        schema=AddresseeDecision,
        max_tokens=60,
        messages=[
            {
                "role": "system",
                "content": "Decide which character the user's last message is "
                f"addressed to: host = {bots[HOST]}, guest = {bots[GUEST]}. If unsure, host.",
            },
            {"role": "user", "content": "\n".join([*lines, f"User: {text}"])},
        ],
    )
    await sync_to_async(record_failures)(chat, result.failures, None)
    return result.value.addressee if result.value.confidence != "low" else HOST


def record_failures(chat: Chat, failures: list[dict], turn_id: int | None) -> None:
    from eventstore.services import append

    for failure in failures:
        append(
            stream=chat,
            kind="classifier_failed",
            caused_by=turn_id,
            payload={**failure, "turn_id": turn_id},
        )


async def maybe_interject(
    run, chat: Chat, *, first: EventRecord, reply_to: int | None, query: str
) -> list[EventRecord]:
    """After the addressee speaks, the other bot may follow up (default: no)."""
    from play.engine.bookkeeping import bookkeep
    from play.engine.classify import classify
    from play.engine.pipeline import recent_lines, speak

    bots = await sync_to_async(_bots)(chat.pk)
    if len(bots) < 2:
        return []
    speaker = first.payload.get("speaker")
    other = GUEST if speaker == HOST else HOST
    lines = await sync_to_async(recent_lines)(chat.pk, 8)
    result = await classify(
        kind="interjection",
        schema=InterjectionDecision,
        max_tokens=80,
        messages=[
            {
                "role": "system",
                "content": f"Would {bots[other]} naturally interject right now, "
                "unprompted? Only if they have a strong reason (they were insulted, named, asked, or "
                "something urgent happened). When in doubt: false.",
            },
            {"role": "user", "content": "\n".join(lines)},
        ],
    )
    await sync_to_async(record_failures)(chat, result.failures, first.id)
    if result.fell_back or not result.value.interject:
        return []
    run.phase = "streaming"
    record = await speak(run, chat, other, reply_to=reply_to, query=query, interjection=True)
    run.phase = "bookkeeping"
    await bookkeep(chat, record.id)
    return [record]
