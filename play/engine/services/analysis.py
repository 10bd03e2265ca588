"""A turn's analysis run again when it did not land ("state not updated: …" on the turn)."""

from __future__ import annotations

from asgiref.sync import sync_to_async

from play.engine import broadcast, turnlock
from play.engine.bookkeeping import analysis_failures, bookkeep
from play.models import Chat, Turn


def _failed_turn(chat_id: int, turn_id: int) -> Chat:
    chat = Chat.objects.get(pk=chat_id)
    turn = Turn.objects.filter(chat_id=chat_id, pk=turn_id).first()
    if turn is None or turn.speaker in ("you", "narrator"):
        raise LookupError(f"no bot turn {turn_id} in chat {chat_id}")
    if turn_id not in analysis_failures(chat, {turn_id}):
        raise ValueError("the analysis of this turn landed: there is nothing to retry")
    return chat


async def analysis_retry(*, chat_id: int, turn_id: int, origin: str) -> str:
    """Run the analysis of a turn whose analysis failed again; its outcomes are appended,
    caused by the turn. Returns "" when it landed, else why it failed again. Raises
    LookupError, ValueError (nothing to retry) or ChatBusy."""
    async with turnlock.aheld(chat_id, origin) as run:
        chat = await sync_to_async(_failed_turn)(chat_id, turn_id)
        run.phase = "bookkeeping"
        await bookkeep(chat, turn_id, retry=True)
        failures = await sync_to_async(analysis_failures)(chat, {turn_id})
    await broadcast.send(chat_id, "chat.refresh", reason="analysis retried")
    return failures.get(turn_id, "")
