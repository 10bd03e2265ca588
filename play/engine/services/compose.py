"""Writing with the model beyond a turn: Continue (a reply goes on) and Impersonate (your next
line drafted in your persona's voice).

**Continue** writes on from where the newest reply ends, into the same bubble: the result is a
new variant of that reply (a swipe; the shorter one stays one click away), analysed whole.
**Impersonate** drafts your line from what your persona witnessed (the gate with ``you`` as
its reader) and stores nothing: the draft goes into the message box, yours to change and send.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from asgiref.sync import sync_to_async

from eventstore import branches as branch_log
from eventstore.models import Branch, Event
from eventstore.services import active_branch_id, branch_fork
from play.engine import broadcast, turnlock
from play.engine.bookkeeping import bookkeep
from play.engine.errors import NotFound
from play.engine.inference import GenParams, InferenceError, get_backend
from play.engine.pipeline import (
    TurnFailed,
    TurnOut,
    _reactivate,
    _stream,
    _turn_out,
    append_bot_turn,
    query_vector_for,
    schedule_indexing,
)
from play.engine.prompt import build_prompt
from play.engine.prompt.impersonation import build_impersonation
from play.models import Chat, Turn
from rpsite.config import load_config
from worlds.roles import GUEST, HOST

CONTINUE_NOTE = (
    "Your reply above stopped before it was finished. Continue it from exactly where it "
    "stops — the next words only, without repeating any of it:\n{text}"
)
_NO_SPACE_BEFORE = re.compile(r"^[.,;:!?…'’\")\]}\-–—]")


def joined(before: str, after: str) -> str:
    """A reply and its continuation as one text: what the continuation repeated of the reply's
    end is dropped, and a space goes between words."""
    before, after = before.rstrip(), after.strip()
    for size in range(min(len(before), len(after)), 7, -1):  # a repeat of the reply's end
        if before.endswith(after[:size]):
            after = after[size:].lstrip()
            break
    if after.startswith(before[:40]) and len(before) >= 12:  # the whole reply again
        after = after[len(before) :].lstrip()
    if not after:
        return before
    sep = "" if _NO_SPACE_BEFORE.match(after) or before.endswith(("-", "—", "\n")) else " "
    return before + sep + after


def _prepare_continue(chat_id: int, turn_id: int | None) -> tuple[Chat, Turn]:
    chat = Chat.objects.select_related("persona").get(pk=chat_id)
    newest = Turn.objects.filter(chat_id=chat_id).order_by("-id").first()
    turn = newest if turn_id is None else Turn.objects.filter(chat_id=chat_id, pk=turn_id).first()
    if turn is None:
        raise NotFound(f"no turn {turn_id} in chat {chat_id}")
    if turn.speaker not in (HOST, GUEST):
        raise ValueError("only a bot's reply can be continued")
    if newest is None or newest.pk != turn.pk:
        raise ValueError("only the newest reply can be continued")
    event = Event.objects.get(pk=turn.pk)
    before = branch_log.previous_event(event, Branch.objects.get(pk=chat.active_branch_id))
    branch_fork(
        stream=chat,
        fork_event=before,
        kind=Branch.Kind.SWIPE,
        label=f"continue of turn {turn.pk}",
        announce=False,  # the tabs keep showing the reply: the words go on in its bubble
    )
    return chat, turn


async def turn_continue(*, chat_id: int, turn_id: int | None = None, origin: str) -> list[TurnOut]:
    """The newest reply, written on from where it ends (streamed into its own bubble): a new
    variant of it, then its analysis (of the whole reply). Stop keeps what came."""
    async with turnlock.aheld(chat_id, origin) as run:
        return await _turn_continue(run, chat_id, turn_id)


async def _turn_continue(run: turnlock.Run, chat_id: int, turn_id: int | None) -> list[TurnOut]:
    previous = await sync_to_async(active_branch_id)(chat_id)
    chat, turn = await sync_to_async(_prepare_continue)(chat_id, turn_id)
    try:
        query = await sync_to_async(
            lambda: (
                Turn.objects.filter(pk=turn.reply_to).values_list("bot_text", flat=True).first()
                or ""
            )
        )()
        key = f"{chat_id}-continue-{turn.pk}-{int(asyncio.get_running_loop().time() * 1e6)}"
        try:
            record = await _continue(run, chat, turn, key, query)
        except Exception:
            await sync_to_async(_reactivate)(chat_id, previous)
            await broadcast.send(chat_id, "chat.refresh", reason="continue failed")
            raise
        run.phase = "bookkeeping"
        await broadcast.send(chat_id, "chat.busy", busy=False)
        await bookkeep(chat, record.id)
        schedule_indexing(chat_id)
        return [await sync_to_async(_turn_out)(record.id)]
    finally:
        await broadcast.send(chat_id, "chat.busy", busy=False)


async def _continue(run, chat: Chat, turn: Turn, key: str, query: str):
    qvec = await query_vector_for(chat.pk, query)
    prompt = await sync_to_async(build_prompt)(
        chat,
        turn.speaker,
        query=query,
        query_vector=qvec,
        extra_note=CONTINUE_NOTE.format(text=turn.bot_text),
    )
    run.phase = "streaming"
    await broadcast.send(
        chat.pk,
        "chat.stream_start",
        key=key,
        speaker=turn.speaker,
        name=prompt.speaker_name,
        continues=turn.pk,
    )
    try:
        more, truncated, model, usage = await _stream(
            run, chat.pk, key, prompt, prefill=turn.bot_text
        )
    except InferenceError as exc:
        await broadcast.send(chat.pk, "chat.stream_failed", key=key, message=exc.message)
        raise TurnFailed(exc.message, kind=exc.kind) from exc
    text = joined(turn.text, more)
    if text == turn.text.rstrip():
        await broadcast.send(
            chat.pk, "chat.stream_failed", key=key, message="the model had nothing to add"
        )
        raise TurnFailed("the model had nothing to add", kind="stopped")
    record = await sync_to_async(append_bot_turn)(
        chat,
        speaker=turn.speaker,
        text=text,
        truncated=truncated,
        model=model,
        prompt=prompt,
        reply_to=turn.reply_to,
        interjection=turn.interjection,
        usage=usage,
        continued_from=turn.continued_from or turn.pk,
    )
    await broadcast.send(chat.pk, "chat.stream_end", key=key, turn_id=record.id, continues=turn.pk)
    return record


# -- impersonate -------------------------------------------------------------------------------


async def impersonate(*, chat_id: int, origin: str, key: str = "") -> dict[str, Any]:
    """Your next line drafted by the model in your persona's voice, from what your persona
    witnessed; streamed to the tabs (``chat.draft_token``) and returned. Nothing is stored."""
    async with turnlock.aheld(chat_id, origin) as run:
        return await _impersonate(run, chat_id, key)


async def _impersonate(run: turnlock.Run, chat_id: int, key: str) -> dict[str, Any]:
    try:
        chat = await sync_to_async(Chat.objects.select_related("persona").get)(pk=chat_id)
        prompt = await sync_to_async(build_impersonation)(chat)
        key = key or f"{chat_id}-draft-{int(asyncio.get_running_loop().time() * 1e6)}"
        run.phase = "streaming"
        await broadcast.send(chat_id, "chat.busy", busy=True)
        await broadcast.send(chat_id, "chat.draft_start", key=key)
        params = GenParams(
            purpose="narrative",
            max_tokens=prompt.max_tokens,
            stop=prompt.stop,
            **prompt.drawing(),
            speaker=prompt.speaker_name,
            timeout=float(load_config()["inference"]["timeout_s"]),
        )
        pieces: list[str] = []
        try:
            async for piece in get_backend().stream(prompt.messages, params):
                pieces.append(piece)
                await broadcast.send(chat_id, "chat.draft_token", key=key, text=piece)
                if run.stop.is_set():
                    break
        except InferenceError as exc:
            await broadcast.send(chat_id, "chat.draft_end", key=key, text="", error=exc.message)
            raise TurnFailed(exc.message, kind=exc.kind) from exc
        text = strip_name("".join(pieces).strip(), prompt.speaker_name)
        await broadcast.send(chat_id, "chat.draft_end", key=key, text=text, error="")
        return {"text": text, "prompt": prompt.record()}
    finally:
        await broadcast.send(chat_id, "chat.busy", busy=False)


def strip_name(text: str, name: str) -> str:
    """A draft without the "Name:" a model may start it with."""
    prefix = f"{name}:"
    return text[len(prefix) :].lstrip() if name and text.startswith(prefix) else text
