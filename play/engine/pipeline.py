"""The turn pipeline (docs/design.md, A turn): user turn → speaker → prompt → stream → bot turn →
bookkeeping. Runs in the server's event loop; database work goes through sync_to_async,
model calls never do, and no transaction is held across a stream."""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async

from eventstore import branches
from eventstore.models import Branch, Event
from eventstore.projection import read_rows
from eventstore.records import EventRecord
from eventstore.services import active_branch_id, append, branch_activate, branch_fork
from eventstore.snapshots import maybe_periodic
from memory.indexing import enabled, query_vector, schedule
from play.engine import broadcast, turnlock
from play.engine.addressee import choose
from play.engine.bookkeeping import bookkeep
from play.engine.classify import ask, failures_record
from play.engine.errors import ModelFailed
from play.engine.inference import GenParams, InferenceError, RateLimited, get_backend
from play.engine.lore import lore_timed_record
from play.engine.prompt import Prompt, build_prompt
from play.engine.schemas import InterjectionDecision
from play.engine.selectors import reader_keys, recent_lines
from play.engine.text import strip_ooc
from play.models import Chat, Turn
from rpsite.config import load_config, ooc_markers
from worlds.lines import line_now
from worlds.models import EntityState
from worlds.roles import GUEST, HOST, YOU
from worlds.selectors import present_bots, present_roles

log = logging.getLogger("rp.pipeline")

RATE_LIMIT_RETRY_MAX_S = 10.0


class TurnFailed(ModelFailed):
    """The model could not produce the turn; ``message`` is for the user."""

    def __init__(self, message: str, *, kind: str = "error") -> None:
        super().__init__(message)
        self.kind = kind


@dataclass
class TurnOut:
    id: int
    speaker: str
    name: str
    text: str
    truncated: bool
    branch: int

    @classmethod
    def of(cls, turn: Turn, branch: int) -> TurnOut:
        return cls(turn.id, turn.speaker, turn.name, turn.text, turn.truncated, branch)


def validate_text(text: str) -> str:
    limit = int(load_config()["play"]["max_message_chars"])
    if not isinstance(text, str) or not text.strip():
        raise ValueError("the message is empty")
    if len(text) > limit:
        raise ValueError(f"the message is {len(text)} characters; the limit is {limit}")
    return text.strip()


# -- database steps (run in the DB thread) ---------------------------------------------------


def append_user_turn(chat: Chat, text: str) -> EventRecord:
    opening, closing = ooc_markers()
    (you,) = read_rows(EntityState, "chat_id = %s AND role = %s", [chat.pk, YOU])
    bot_text = strip_ooc(text, opening, closing)
    payload = line_now(chat.pk, speaker=YOU, name=you.name, text=text, bot_text=bot_text)
    return append(stream=chat, kind="user_turn", payload=payload)


def append_bot_turn(
    chat: Chat,
    *,
    speaker: str,
    text: str,
    truncated: bool,
    model: str,
    prompt: Prompt,
    reply_to: int | None,
    interjection: bool = False,
    guard: dict | None = None,
    branch: Branch | None = None,
    usage: dict[str, int] | None = None,
    continued_from: int | None = None,
) -> EventRecord:
    payload = line_now(
        chat.pk,
        speaker=speaker,
        name=prompt.speaker_name,
        text=text,
        truncated=truncated,
        model=model,
        tokens_in=prompt.total_tokens,
        tokens_out=max(1, len(text.split())),
        reply_to=reply_to,
        interjection=interjection,
    )
    payload["prompt"] = prompt.record()
    if guard:
        payload["repetition_guard"] = guard
    if usage:  # what the model reported: its own prompt token count, and the cached part
        payload["usage"] = usage
    if continued_from:  # a longer version of that reply (Continue)
        payload["continued_from"] = continued_from
    return append(
        stream=chat, kind="assistant_turn", payload=payload, caused_by=reply_to, branch=branch
    )


def _chat(chat_id: int) -> Chat:
    return Chat.objects.select_related("persona").get(pk=chat_id)


def _open_turn(chat_id: int, text: str) -> tuple[Chat, EventRecord]:
    chat = _chat(chat_id)
    return chat, append_user_turn(chat, text)


def _turn_out(turn_id: int) -> TurnOut:
    turn = Turn.objects.get(pk=turn_id)
    chat = Chat.objects.get(pk=turn.chat_id)
    return TurnOut.of(turn, chat.active_branch_id)


def recent_bot_texts(chat_id: int, speaker: str, n: int = 5) -> list[str]:
    return list(
        Turn.objects.filter(chat_id=chat_id, speaker=speaker, truncated=False)
        .order_by("-id")
        .values_list("bot_text", flat=True)[:n]
    )


# -- repetition guard ------------------------------------------------------------------------

_WORDS = re.compile(r"[a-z']+")


def repetition(reply: str, earlier: list[str], n: int = 4) -> float:
    """Share of the reply's word 4-grams already used in the bot's recent turns."""

    def grams(text: str) -> set[tuple[str, ...]]:
        words = _WORDS.findall(text.lower())
        return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}

    mine = grams(reply)
    if len(mine) < 6:
        return 0.0
    seen: set[tuple[str, ...]] = set()
    for text in earlier:
        seen |= grams(text)
    return len(mine & seen) / len(mine)


REPETITION_THRESHOLD = 0.35
EMPTY_REPLY_RETRIES = 2  # draws after an empty one, before the turn fails as "stopped"


# -- the stream ------------------------------------------------------------------------------


async def _stream(
    run: turnlock.Run, chat_id: int, key: str, prompt: Prompt, *, prefill: str = ""
) -> tuple[str, bool, str, dict[str, int]]:
    """Stream one reply to every tab. Returns (text, truncated, model label, usage: the
    prompt and cached token counts the model reported, if any). A reply of nothing (a small
    model sometimes samples its end at once) is drawn again, ``EMPTY_REPLY_RETRIES`` times."""
    drawn = await _draw(run, chat_id, key, prompt, prefill)
    for _ in range(EMPTY_REPLY_RETRIES):
        if drawn[0] or run.stop.is_set():
            break
        log.info("the model wrote nothing; drawing the reply again")
        await broadcast.send(chat_id, "chat.stream_reset", key=key)
        drawn = await _draw(run, chat_id, key, prompt, prefill)
    return drawn


async def _draw(
    run: turnlock.Run, chat_id: int, key: str, prompt: Prompt, prefill: str = ""
) -> tuple[str, bool, str, dict[str, int]]:
    """One reply streamed to every tab (a rate limit with a short wait is waited out once)."""
    backend = get_backend()
    params = GenParams(
        purpose="narrative",
        max_tokens=prompt.max_tokens,
        stop=prompt.stop,
        **prompt.drawing(),
        speaker=prompt.speaker_name,
        timeout=float(load_config()["inference"]["timeout_s"]),
        prefill=prefill,
    )
    described = backend.describe()
    model = described.get("narrative_model") or described.get("model") or backend.name
    pieces: list[str] = []
    for attempt in range(2):
        try:
            async for piece in backend.stream(prompt.messages, params):
                pieces.append(piece)
                await broadcast.send(chat_id, "chat.token", key=key, text=piece)
                if run.stop.is_set():
                    break
            break
        except RateLimited as exc:
            wait = exc.retry_after if exc.retry_after is not None else 2.0
            if pieces or attempt or wait > RATE_LIMIT_RETRY_MAX_S:
                raise
            await broadcast.send(
                chat_id, "chat.notice", message=f"The model is busy; retrying in {wait:g} s."
            )
            await asyncio.sleep(wait)
        except InferenceError as exc:
            if pieces:
                # keep what arrived: the turn is committed truncated, the user is told
                log.warning("stream broke off: %s", exc.message)
                await broadcast.send(chat_id, "chat.notice", message=exc.message)
                return "".join(pieces).strip(), True, model, params.usage
            raise
    text = "".join(pieces).strip()
    return text, run.stop.is_set(), model, params.usage


async def query_vector_for(chat_id: int, query: str):
    """The query's embedding, computed off the event loop; None when embeddings are off or the
    embedder fails (retrieval is then lexical alone). A chat without vectors yet simply finds
    no vector neighbours."""

    if not query.strip() or not enabled():
        return None
    try:
        return await asyncio.to_thread(query_vector, query, chat_id=chat_id)
    except Exception:
        log.exception("query embedding failed; retrieving lexically")
        return None


async def speak(
    run: turnlock.Run,
    chat: Chat,
    speaker: str,
    *,
    reply_to: int | None,
    query: str = "",
    interjection: bool = False,
    query_vector: asyncio.Future | None = None,
) -> EventRecord:
    """Build the speaker's prompt, stream its reply, append the assistant_turn.
    ``query_vector``: the query's embedding already under way (run_turn starts it early)."""
    # Longer than 60 lines: the draw, the repetition guard's one redraw and every way the
    # stream can end tell the tabs about the same stream key, in order.
    key = f"{chat.pk}-{reply_to}-{speaker}-{int(asyncio.get_running_loop().time() * 1e6)}"
    qvec = await (query_vector or query_vector_for(chat.pk, query))
    prompt = await sync_to_async(build_prompt)(chat, speaker, query=query, query_vector=qvec)
    run.phase = "streaming"
    await broadcast.send(
        chat.pk, "chat.stream_start", key=key, speaker=speaker, name=prompt.speaker_name
    )
    guard: dict[str, Any] | None = None
    try:
        text, truncated, model, usage = await _stream(run, chat.pk, key, prompt)
        if text and not truncated:
            earlier = await sync_to_async(recent_bot_texts)(chat.pk, speaker)
            overlap = repetition(text, earlier)
            if overlap >= REPETITION_THRESHOLD:
                first = text
                prompt = await sync_to_async(build_prompt)(
                    chat,
                    speaker,
                    query=query,
                    query_vector=qvec,
                    extra_note="Your last draft repeated your earlier replies. Say something new,"
                    " in fresh words.",
                )
                await broadcast.send(chat.pk, "chat.stream_reset", key=key)
                text, truncated, model, usage = await _stream(run, chat.pk, key, prompt)
                guard = {"fired": True, "overlap": round(overlap, 3), "first_draft": first}
    except InferenceError as exc:
        await broadcast.send(chat.pk, "chat.stream_failed", key=key, message=exc.message)
        raise TurnFailed(exc.message, kind=exc.kind) from exc
    if not text:
        await broadcast.send(
            chat.pk, "chat.stream_failed", key=key, message="stopped before the bot wrote anything"
        )
        raise TurnFailed("stopped before the bot wrote anything", kind="stopped")
    record = await sync_to_async(append_bot_turn)(
        chat,
        speaker=speaker,
        text=text,
        truncated=truncated,
        model=model,
        prompt=prompt,
        reply_to=reply_to,
        interjection=interjection,
        guard=guard,
        usage=usage,
    )
    await sync_to_async(lore_timed_record)(chat, speaker=speaker, caused_by=record.id)
    await broadcast.send(chat.pk, "chat.stream_end", key=key, turn_id=record.id)
    return record


async def pick_speaker(chat: Chat, text: str) -> str:
    """Addressee: whole-word name match; both or neither → the host."""

    return await choose(chat, text)


async def run_turn(chat_id: int, text: str, *, origin: str = "api") -> list[TurnOut]:
    """The whole turn. Raises ChatBusy, ValueError (bad input) or TurnFailed."""
    text = validate_text(text)
    if YOU not in await sync_to_async(present_roles)(chat_id):
        raise ValueError(
            "you are not in this scene (meanwhile…): end the meanwhile scene to return"
        )
    async with turnlock.aheld(chat_id, origin) as run:
        return await _turn(run, chat_id, text)


async def run_reply(chat_id: int, *, origin: str = "api") -> list[TurnOut]:
    """Send with nothing written (as in SillyTavern): a reply to the story's last line — yours
    (after a rewind to it, or a failed reply), else the bot goes on. Raises ChatBusy,
    ValueError (nothing to answer) or TurnFailed."""
    if YOU not in await sync_to_async(present_roles)(chat_id):
        raise ValueError(
            "you are not in this scene (meanwhile…): end the meanwhile scene to return"
        )
    async with turnlock.aheld(chat_id, origin) as run:
        last = await sync_to_async(_last_line)(chat_id)
        if last is None:
            raise ValueError("nothing to reply to yet: write the first line")
        query = last.bot_text or last.text
        embedding = asyncio.ensure_future(query_vector_for(chat_id, query))
        chat = await sync_to_async(_chat)(chat_id)
        if last.speaker == YOU:
            speaker = await pick_speaker(chat, query)
            return await _answer(run, chat, speaker, reply_to=last.id, query=query, qvec=embedding)
        speaker = last.speaker if last.speaker in (HOST, GUEST) else HOST
        if speaker not in await sync_to_async(present_roles)(chat_id):
            speaker = HOST
        return await _answer(run, chat, speaker, reply_to=None, query=query, qvec=embedding)


def _last_line(chat_id: int) -> Turn | None:
    return Turn.objects.filter(chat_id=chat_id, hidden=False).order_by("-id").first()


async def _turn(run: turnlock.Run, chat_id: int, text: str) -> list[TurnOut]:
    # The query's embedding depends on the text alone, so it is computed first, on its own:
    # run alongside the append it was slower end to end (the two fight over 2 cores and the
    # GIL; bench/send_to_request.py).
    embedding = asyncio.ensure_future(query_vector_for(chat_id, strip_ooc(text, *ooc_markers())))
    try:
        await broadcast.send(chat_id, "chat.busy", busy=True)
        await asyncio.wait([embedding])
        chat, user = await sync_to_async(_open_turn)(chat_id, text)
        bot_text = user.payload["bot_text"]
        if not bot_text.strip():  # only out-of-character text: nothing for the bots to answer
            return [await sync_to_async(_turn_out)(user.id)]
        speaker = await pick_speaker(chat, bot_text)
        outs = await _answer(run, chat, speaker, reply_to=user.id, query=bot_text, qvec=embedding)
        return [await sync_to_async(_turn_out)(user.id), *outs]
    finally:
        _settle(embedding)
        await broadcast.send(chat_id, "chat.busy", busy=False)


async def _answer(
    run: turnlock.Run,
    chat: Chat,
    speaker: str,
    *,
    reply_to: int | None,
    query: str,
    qvec: asyncio.Future,
) -> list[TurnOut]:
    """The reply to ``reply_to`` (your line; None: the bot goes on), its bookkeeping and any
    interjection; the chat is back to idle for the tabs once the reply is in."""
    try:
        await broadcast.send(chat.pk, "chat.busy", busy=True)
        record = await speak(run, chat, speaker, reply_to=reply_to, query=query, query_vector=qvec)
        outs = [await sync_to_async(_turn_out)(record.id)]
        run.phase = "bookkeeping"
        await broadcast.send(chat.pk, "chat.busy", busy=False)
        await bookkeep(chat, record.id)
        if reply_to is not None:
            extra = await interject(run, chat, first=record, reply_to=reply_to, query=query)
            outs += [await sync_to_async(_turn_out)(r.id) for r in extra]
        await sync_to_async(_maybe_snapshot)(chat)
        schedule_indexing(chat.pk)
        return outs
    finally:
        _settle(qvec)
        await broadcast.send(chat.pk, "chat.busy", busy=False)


def _settle(embedding: asyncio.Future) -> None:
    if not embedding.done():
        embedding.cancel()
    elif not embedding.cancelled():
        embedding.exception()  # retrieved: a failure here was already the turn's failure


def schedule_indexing(chat_id: int) -> None:

    schedule(chat_id)


def _maybe_snapshot(chat: Chat) -> None:

    try:
        maybe_periodic(chat)
    except OSError:
        log.exception("periodic snapshot failed")


# -- regenerate (a swipe) --------------------------------------------------------------------


def _prepare_regenerate(chat_id: int, turn_id: int) -> tuple[Chat, Turn, Branch]:

    chat = _chat(chat_id)
    turn = Turn.objects.filter(chat_id=chat_id, pk=turn_id).first()
    if turn is None:
        raise LookupError(f"no turn {turn_id} in chat {chat_id}")
    if turn.speaker not in (HOST, GUEST):  # your lines, narrator lines (skips, scene breaks)
        raise ValueError("only a bot's turn can be regenerated")
    event = Event.objects.get(pk=turn_id)
    active = Branch.objects.get(pk=chat.active_branch_id)
    before = branches.previous_event(event, active)
    if before is None:
        raise ValueError("this turn has nothing before it to fork from")
    branch = branch_fork(
        stream=chat,
        fork_event=before,
        kind=Branch.Kind.SWIPE,
        label=f"regenerate of turn {turn_id}",
    )
    return chat, turn, branch


def _reactivate(chat_id: int, branch_id: int) -> None:

    branch_activate(stream=_chat(chat_id), branch=Branch.objects.get(pk=branch_id))


async def regenerate(chat_id: int, turn_id: int, *, origin: str = "api") -> list[TurnOut]:
    """A sibling branch forked just before the bot's turn, with a new reply (and its
    bookkeeping, and any interjection): a swipe."""
    async with turnlock.aheld(chat_id, origin) as run:
        return await _regenerate(run, chat_id, turn_id)


async def _regenerate(run: turnlock.Run, chat_id: int, turn_id: int) -> list[TurnOut]:
    previous_branch = await sync_to_async(active_branch_id)(chat_id)
    chat, turn, _branch = await sync_to_async(_prepare_regenerate)(chat_id, turn_id)
    try:
        query = await sync_to_async(
            lambda: (
                Turn.objects.filter(pk=turn.reply_to).values_list("bot_text", flat=True).first()
                or ""
            )
        )()
        await broadcast.send(chat_id, "chat.refresh", reason="regenerate")
        try:
            record = await speak(
                run,
                chat,
                turn.speaker,
                reply_to=turn.reply_to,
                query=query,
                interjection=turn.interjection,
            )
        except Exception:
            # no new reply (a failed model, or anything else): go back to the line the user
            # was on, never leave them on an empty branch
            await sync_to_async(_reactivate)(chat_id, previous_branch)
            await broadcast.send(chat_id, "chat.refresh", reason="regenerate failed")
            raise
        outs = [await sync_to_async(_turn_out)(record.id)]
        run.phase = "bookkeeping"
        await bookkeep(chat, record.id)
        if not turn.interjection and turn.reply_to:
            extra = await interject(run, chat, first=record, reply_to=turn.reply_to, query=query)
            outs += [await sync_to_async(_turn_out)(r.id) for r in extra]
        schedule_indexing(chat_id)
        return outs
    finally:
        await broadcast.send(chat_id, "chat.busy", busy=False)


async def interject(
    run, chat: Chat, *, first: EventRecord, reply_to: int | None, query: str
) -> list[EventRecord]:
    """After the addressee speaks, the other bot may follow up (default: no)."""
    bots = await sync_to_async(present_bots)(chat.pk)
    if len(bots) < 2:
        return []
    speaker = first.payload.get("speaker")
    other = GUEST if speaker == HOST else HOST
    # the decision is the interjector's: only what they witnessed
    readers = await sync_to_async(reader_keys)(chat.pk, [other])
    lines = await sync_to_async(recent_lines)(chat.pk, 8, readers=readers)
    result = await ask(
        kind="interjection",
        schema=InterjectionDecision,
        max_tokens=80,
        system=f"Would {bots[other]} naturally interject right now, unprompted? Only if they "
        "have a strong reason (they were insulted, named, asked, or something urgent happened). "
        "When in doubt: false.",
        user="\n".join(lines),
    )
    await sync_to_async(failures_record)(chat=chat, failures=result.failures, turn_id=first.id)
    if result.fell_back or not result.value.interject:
        return []
    run.phase = "streaming"
    record = await speak(run, chat, other, reply_to=reply_to, query=query, interjection=True)
    run.phase = "bookkeeping"
    await bookkeep(chat, record.id)
    return [record]
