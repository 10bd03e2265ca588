"""Who is in the story: the guest bot, and meanwhile scenes between the two bots."""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async

from eventstore.projection import DBStore
from eventstore.services import append
from memory.indexing import schedule
from play.engine import broadcast, turnlock
from play.engine.bookkeeping import bookkeep, close_scene
from play.engine.classify import classify, failures_record
from play.engine.errors import Conflict
from play.engine.gate import gone_words, scrub_model
from play.engine.pipeline import TurnOut, _turn_out, speak, validate_text
from play.engine.schemas import MeetingParse
from play.engine.selectors import reader_keys, recent_lines
from play.models import Chat
from worlds import cast
from worlds.cast import Seats
from worlds.lines import line_now
from worlds.models import Activity, Character, Container, EntityState, WorldState
from worlds.provenance import entity_key
from worlds.roles import GUEST, HOST, NARRATOR, YOU
from worlds.selectors import present_roles


class CastError(Conflict):
    """Who is in the scene does not allow this now."""


def _guest_context(chat_id: int, character_id: int) -> dict[str, Any]:
    character = Character.objects.filter(pk=character_id).first()
    if character is None:
        raise LookupError(f"no character {character_id}")
    entities = {e.role: e for e in EntityState.objects.filter(chat_id=chat_id)}
    if GUEST in entities and entities[GUEST].present:
        raise CastError(f"{entities[GUEST].name} is already here; remove them first")
    if entities[HOST].character_id == character.pk:
        raise CastError(f"{character.name} is already the host")
    world = WorldState.objects.get(chat_id=chat_id)
    container = Container.objects.filter(chat_id=chat_id, key=world.location).first()
    taken = set(
        Activity.objects.filter(chat_id=chat_id, container=world.location)
        .exclude(role=GUEST)
        .values_list("slot", flat=True)
    )
    free = [s for s in (container.slots if container else []) if s not in taken]
    # The first-meeting gate, per pair: whoever has met the arriving character in this chat
    # goes on with the edges the story gave them; only a first meeting is seeded.
    seats, arriving = Seats.of_entities(chat_id, entities.values()), entity_key(GUEST, character.pk)
    met = {
        role: cast.met(DBStore(), chat_id, seats.key(role) or role, arriving)
        for role in (HOST, YOU)
    }
    return {
        "character": character,
        "host": entities[HOST].name,
        "you": entities[YOU].name,
        "location": world.location,
        "slot": free[0] if free else "",
        "met": met,
    }


def _seed(source: str, target: str, seed, met: bool) -> dict[str, Any]:
    return {
        "source": source,
        "target": target,
        "affinity": seed.affinity,
        "trust": seed.trust,
        "summary": seed.summary,
        "knowledge": seed.knowledge,
        "met": met,
    }


async def guest_add(
    *, chat_id: int, character_id: int, met_text: str = "", origin: str
) -> dict[str, Any]:
    """Bring a second bot into the scene; ``met_text`` says how the two bots know each other.

    It is read into two independent edges (host → guest and guest → host) when the two meet
    for the first time in this chat; a character who was here before comes back to the edges
    the story gave them (``met_before``)."""
    async with turnlock.aheld(chat_id, origin):
        chat = await sync_to_async(Chat.objects.get)(pk=chat_id)
        ctx = await sync_to_async(_guest_context)(chat_id, character_id)
        character = ctx["character"]
        failures: list[dict] = []
        edges: list[dict[str, Any]] = []
        if not ctx["met"][HOST]:
            meeting = MeetingParse()
            if met_text.strip():
                result = await classify(
                    kind="meeting",
                    schema=MeetingParse,
                    max_tokens=500,
                    messages=[
                        {
                            "role": "system",
                            "content": "Two characters are about to share a scene. "
                            "From the user's note, describe how each one regards the other — "
                            "separately: feelings need not be mutual. Affinity and trust from -100 "
                            "to 100. host = " + ctx[HOST] + ", guest = " + character.name + ".",
                        },
                        {"role": "user", "content": met_text.strip()},
                    ],
                )
                meeting, failures = result.value, result.failures
                # how they met comes from the note; nothing a line on this story no longer
                # says comes back through it
                scrub_model(meeting, await sync_to_async(gone_words)(chat_id))
            edges += [
                _seed(HOST, GUEST, meeting.host_to_guest, meeting.met),
                _seed(GUEST, HOST, meeting.guest_to_host, meeting.met),
            ]
        if not ctx["met"][YOU]:
            edges += [
                {"source": GUEST, "target": YOU, "met": False},
                {"source": YOU, "target": GUEST, "met": False},
            ]

        def write():

            failures_record(chat=chat, failures=failures, turn_id=None)
            return append(
                stream=chat,
                kind="guest_added",
                payload={
                    "role": GUEST,
                    "name": character.name,
                    "character_id": character.pk,
                    "met_text": met_text.strip(),
                    "edges": edges,
                    "activity": {
                        "container": ctx["location"],
                        "slot": ctx["slot"],
                        "verb": "arriving",
                        "posture": "standing",
                    },
                },
            )

        await sync_to_async(write)()
        return {"guest": character.name, "met_before": ctx["met"][HOST], "met": ctx["met"]}


def guest_remove(*, chat_id: int, origin: str) -> None:
    with turnlock.held(chat_id, origin):
        guest = EntityState.objects.filter(chat_id=chat_id, role=GUEST, present=True).first()
        if guest is None:
            raise CastError("there is no guest in this chat")
        append(stream=chat_id, kind="guest_removed", payload={"role": GUEST, "name": guest.name})


async def meanwhile_start(*, chat_id: int, setting: str = "", origin: str) -> None:
    """Close the scene; the two bots carry on without you ("meanwhile…")."""
    async with turnlock.aheld(chat_id, origin):
        present = await sync_to_async(present_roles)(chat_id)
        if not {HOST, GUEST} <= present:
            raise CastError("a meanwhile scene needs both bots: add a guest first")
        if YOU not in present:
            raise CastError("a meanwhile scene is already running")
        chat = await sync_to_async(Chat.objects.get)(pk=chat_id)
        await close_scene(chat, reason="meanwhile", present_after={YOU: False})
        if setting.strip():
            await sync_to_async(_narrate)(chat, setting.strip())
    await broadcast.send(chat_id, "chat.refresh", reason="meanwhile")


def _narrate(chat: Chat, text: str) -> int:
    payload = line_now(chat.pk, speaker=NARRATOR, name="Narrator", text=text, bot_text=text)
    return append(stream=chat, kind="narration", payload=payload).id


async def narrate(*, chat_id: int, text: str, origin: str) -> TurnOut:
    """A narrator line (``/sys``): what happens, said by no one, heard by everyone present."""
    text = validate_text(text)
    async with turnlock.aheld(chat_id, origin):
        chat = await sync_to_async(Chat.objects.get)(pk=chat_id)
        turn_id = await sync_to_async(_narrate)(chat, text)
        out = await sync_to_async(_turn_out)(turn_id)
    await broadcast.send(chat_id, "chat.refresh", reason="narration")
    schedule(chat_id)
    return out


async def meanwhile_continue(*, chat_id: int, exchanges: int = 2, origin: str) -> list[int]:
    """The bots talk to each other, turn about, ``exchanges`` times each way."""

    if not 1 <= exchanges <= 6:
        raise ValueError("exchanges: 1 to 6")
    async with turnlock.aheld(chat_id, origin) as run:
        present = await sync_to_async(present_roles)(chat_id)
        if YOU in present or not {HOST, GUEST} <= present:
            raise CastError("no meanwhile scene is running")
        return await _meanwhile_talk(run, chat_id, exchanges)


async def _meanwhile_talk(run: turnlock.Run, chat_id: int, exchanges: int) -> list[int]:
    ids: list[int] = []
    try:
        chat = await sync_to_async(Chat.objects.get)(pk=chat_id)
        await broadcast.send(chat_id, "chat.busy", busy=True)
        for i in range(exchanges * 2):
            speaker = HOST if i % 2 == 0 else GUEST
            readers = await sync_to_async(reader_keys)(chat_id, [speaker])
            lines = await sync_to_async(recent_lines)(chat_id, 2, readers=readers)
            record = await speak(run, chat, speaker, reply_to=None, query=" ".join(lines))
            ids.append(record.id)
            run.phase = "bookkeeping"
            await bookkeep(chat, record.id)
            if run.stop.is_set():
                break

        schedule(chat_id)
        return ids
    finally:
        await broadcast.send(chat_id, "chat.busy", busy=False)


async def meanwhile_end(*, chat_id: int, origin: str) -> None:
    """Close the meanwhile scene (per-POV summaries become the bots' digest); you return."""
    async with turnlock.aheld(chat_id, origin):
        present = await sync_to_async(present_roles)(chat_id)
        if YOU in present:
            raise CastError("no meanwhile scene is running")
        chat = await sync_to_async(Chat.objects.get)(pk=chat_id)
        await close_scene(chat, reason="you return", present_after={YOU: True})
    await broadcast.send(chat_id, "chat.refresh", reason="meanwhile end")
