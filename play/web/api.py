"""The play API: chats, turns (JSON or server-sent events), state, prompts, branches."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from ninja import File, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile
from pydantic import ValidationError

from eventstore import snapshots
from play.engine import broadcast, exports, pipeline, selectors, turnlock
from play.engine.bookkeeping import analysis_failures
from play.engine.classify import failures_record
from play.engine.inference import get_backend
from play.engine.kickoff import read_opening
from play.engine.lore import BookInEffect, authors_note_state, lorebooks_for
from play.engine.recovery import bookkeep_in_background, progress
from play.engine.samplers import samplers_state
from play.engine.schemas import StoryEventChange, ThreadChange
from play.engine.services import analysis, commands, compose, delete, edit
from play.engine.services.branches import branch_switch, swipe_switch, turn_fork
from play.engine.services.cast import (
    guest_add,
    guest_remove,
    meanwhile_continue,
    meanwhile_end,
    meanwhile_start,
)
from play.engine.services.chats import chat_archive, chat_delete, chat_start
from play.engine.services.lore import authors_note_edit, lorebook_attach, lorebook_detach
from play.engine.services.memories import memory_significance_set
from play.engine.services.samplers import samplers_edit
from play.engine.services.skip import time_skip
from play.engine.services.st_chats import MAX_BYTES, ChatImportError, chat_export, chat_import
from play.engine.services.story import story_event_change, thread_change
from play.engine.turnlock import API
from play.models import Chat, Turn
from play.web import presenters
from play.web.errors import message_of, status_of
from worlds.models import Character, Persona, Scenario
from worlds.roles import GUEST, HOST

router = Router(tags=["play"])


class ChatIn(Schema):
    character: int
    persona: int | None = None
    scenario: int | None = None
    title: str = ""
    greeting: int = 0  # 0 = first_mes, n = alternate greeting n
    parse_kickoff: bool = True
    setup: dict[str, Any] | None = None


class TurnIn(Schema):
    text: str  # a story line, a /command, or "" (a reply to the last line)


class EditIn(Schema):
    text: str
    mode: str = "save"  # save: what followed stays after the line; branch: the story goes on


class EditPreviewIn(Schema):
    text: str


class StateEditIn(Schema):
    target: str  # edge, entity, memory, world, activity, thread, story_event, group, container
    key: dict[str, Any] = {}
    changes: dict[str, Any] = {}
    knowledge_add: list[str] = []
    knowledge_remove: list[str] = []


class GuestIn(Schema):
    character: int
    met: str = ""  # how the two bots know each other, in prose (optional)


class SkipIn(Schema):
    mode: str = "jump"  # elision | jump
    to: str = ""  # for a jump, in words: "the next morning", "a week later"
    minutes: int | None = None
    then_meanwhile: bool = False


class StoryEventIn(Schema):
    action: str  # plan | start | complete | cancel
    key: str = ""
    title: str = ""
    description: str = ""
    props: list[str] = []
    preconditions: list[str] = []
    planned_for: str = ""
    significance: int = 1
    gist: str = ""
    on_start: dict[str, Any] = {}  # {"activities": [{"role", "verb", ...}]}
    on_complete: dict[str, Any] = {}  # {"inventory": [...], "knowledge": [...], ...}


class ThreadIn(Schema):
    action: str  # open | update | resolve | drop
    key: str = ""
    title: str = ""
    notes: str = ""


class SignificanceIn(Schema):
    significance: int


class LorebookIn(Schema):
    lorebook: int


class AuthorsNoteIn(Schema):
    """Fields left out keep their current value."""

    text: str | None = None
    position: str | None = None  # before_scenario | after_scenario | at_depth
    depth: int | None = None
    role: str | None = None  # system | user | assistant (at_depth)
    frequency: int | None = None  # every N of your messages; 0 = never


class SamplersIn(Schema):
    """The chat's whole set of overrides: a sampler left out or null takes the global value
    (data/config.toml's [samplers]; context_size: budgets.narrative_hard)."""

    temperature: float | None = None
    top_p: float | None = None
    min_p: float | None = None
    repetition_penalty: float | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    max_tokens: int | None = None  # 0: 1.6 x the reply length
    context_size: int | None = None


class MeanwhileIn(Schema):
    action: str  # start | continue | end
    setting: str = ""
    exchanges: int = 2


def _chat_or_404(chat_id: int) -> Chat:
    return get_object_or_404(Chat, pk=chat_id)


@router.get("/health")
def health(request):
    return {"status": "ok", "inference": get_backend().describe()}


@router.get("/chats")
def list_chats(request, archived: bool = False):
    return {"chats": [presenters.chat_out(c) for c in Chat.objects.filter(archived=archived)]}


@router.post("/chats/import", response={201: dict})
def import_chat(
    request,
    file: UploadedFile = File(...),
    character: int | None = None,
    persona: int | None = None,
    bookkeep: bool = False,
):
    """A SillyTavern chat (JSONL). Swipes become sibling branches. With ``bookkeep``, the
    imported replies are analysed in the background (resumable)."""

    if file.size and file.size > MAX_BYTES:
        raise HttpError(413, f"the file is {file.size} bytes; chats are limited to {MAX_BYTES}")
    char = get_object_or_404(Character, pk=character) if character else None
    pers = get_object_or_404(Persona, pk=persona) if persona else None
    try:
        result = chat_import(
            data=file.read(MAX_BYTES + 1), character=char, persona=pers, bookkeep=bookkeep
        )
    except ChatImportError as exc:
        raise HttpError(400, f"{file.name}: {exc}") from exc
    if bookkeep:
        bookkeep_in_background(result.chat.pk)
    return Status(
        201,
        {
            **presenters.chat_out(result.chat),
            "messages": result.messages,
            "swipes": result.swipes,
            "warnings": result.warnings,
        },
    )


@router.post("/chats", response={201: dict})
async def create_chat(request, body: ChatIn):
    def load():
        character = get_object_or_404(Character, pk=body.character)
        persona = (
            get_object_or_404(Persona, pk=body.persona)
            if body.persona
            else Persona.objects.order_by("-is_default", "pk").first()
        )
        if persona is None:
            persona = Persona.objects.create(name="You", is_default=True)
        scenario = get_object_or_404(Scenario, pk=body.scenario) if body.scenario else None
        return character, persona, scenario

    character, persona, scenario = await sync_to_async(load)()
    greetings = [character.first_mes, *character.alternate_greetings]
    if not 0 <= body.greeting < len(greetings):
        raise HttpError(400, f"greeting must be 0..{len(greetings) - 1}")
    setup, failures = body.setup, []
    if setup is None and body.parse_kickoff:  # the scenario's opening, else the card's own
        setup, failures = await read_opening(character, persona, scenario, body.greeting)

    def create():

        chat = chat_start(
            character=character,
            persona=persona,
            scenario=scenario,
            setup=setup,
            title=body.title,
            greeting_index=body.greeting,
        )
        failures_record(chat=chat, failures=failures, turn_id=None)
        return presenters.chat_out(Chat.objects.get(pk=chat.pk))

    return Status(201, await sync_to_async(create)())


def lorebook_out(found: BookInEffect) -> dict[str, Any]:
    book = found.lorebook
    return {
        "id": book.pk,
        "name": book.name,
        "source": found.source,
        "entries": book.entries.count(),
    }


def _lorebooks(chat_id: int) -> dict[str, Any]:
    return {"lorebooks": [lorebook_out(found) for found in lorebooks_for(chat_id)]}


@router.get("/chats/{chat_id}/lorebooks")
def chat_lorebooks(request, chat_id: int):
    """The lorebooks in effect: attached to the chat, the persona's, the present characters'."""
    _chat_or_404(chat_id)
    return _lorebooks(chat_id)


@router.post("/chats/{chat_id}/lorebooks", response={200: dict, 201: dict})
def attach_lorebook(request, chat_id: int, body: LorebookIn):
    """Attach a lorebook to this chat (201; 200 when it was attached already)."""
    _chat_or_404(chat_id)
    record = lorebook_attach(chat_id=chat_id, lorebook_id=body.lorebook, origin=API)
    return Status(201 if record else 200, _lorebooks(chat_id))


@router.delete("/chats/{chat_id}/lorebooks/{lorebook_id}")
def detach_lorebook(request, chat_id: int, lorebook_id: int):
    _chat_or_404(chat_id)
    lorebook_detach(chat_id=chat_id, lorebook_id=lorebook_id, origin=API)
    return _lorebooks(chat_id)


@router.get("/chats/{chat_id}/authors-note")
def get_authors_note(request, chat_id: int):
    """The Author's Note in force; ``source`` says whether it is the chat's own, the host
    character's default or the empty default."""
    _chat_or_404(chat_id)
    return authors_note_state(chat_id)


@router.put("/chats/{chat_id}/authors-note")
def put_authors_note(request, chat_id: int, body: AuthorsNoteIn):
    _chat_or_404(chat_id)
    authors_note_edit(chat_id=chat_id, origin=API, **body.dict())
    return authors_note_state(chat_id)


@router.get("/chats/{chat_id}/samplers")
def get_samplers(request, chat_id: int):
    """The samplers of the chat's story calls: ``overrides`` (its own), ``global`` (the
    settings) and ``effective`` (what the next reply uses)."""
    _chat_or_404(chat_id)
    return samplers_state(chat_id)


@router.put("/chats/{chat_id}/samplers")
def put_samplers(request, chat_id: int, body: SamplersIn):
    _chat_or_404(chat_id)
    samplers_edit(chat_id=chat_id, origin=API, values=body.dict())
    return samplers_state(chat_id)


@router.delete("/chats/{chat_id}", response={204: None})
def delete_chat(request, chat_id: int):
    _chat_or_404(chat_id)
    chat_delete(chat_id=chat_id, origin=API)
    return Status(204, None)


@router.post("/chats/{chat_id}/archive")
def archive_chat(request, chat_id: int, archived: bool = True):
    _chat_or_404(chat_id)
    return presenters.chat_out(chat_archive(chat_id=chat_id, archived=archived, origin=API))


async def _sse(chat_id: int, work):
    """Relay the chat's broadcast messages for this run as server-sent events."""
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(broadcast.group(chat_id), channel)
    task = asyncio.ensure_future(work())
    try:
        while True:
            receive = asyncio.ensure_future(layer.receive(channel))
            done, _ = await asyncio.wait({receive, task}, return_when=asyncio.FIRST_COMPLETED)
            if receive in done:
                msg = receive.result()
                kind = msg.pop("type").removeprefix("chat.")
                if kind in (
                    "token",
                    "stream_start",
                    "stream_end",
                    "stream_reset",
                    "notice",
                    "stream_failed",
                ):
                    yield f"event: {kind}\ndata: {json.dumps(msg)}\n\n"
            else:
                receive.cancel()
            if task in done:
                try:
                    outs = task.result()
                except Exception as exc:  # reported to the client as an error event
                    status = status_of(exc) or 500
                    detail = message_of(exc) if status != 500 else "internal error"
                    yield f"event: error\ndata: {json.dumps({'status': status, 'detail': detail})}\n\n"
                else:
                    turns = [o.__dict__ for o in outs]
                    yield f"event: done\ndata: {json.dumps({'turns': turns})}\n\n"
                return
    finally:
        await layer.group_discard(broadcast.group(chat_id), channel)


@router.post("/chats/{chat_id}/turns")
async def post_turn(request, chat_id: int, body: TurnIn):
    """Your line, as the message box sends it: words (a turn and its reply), nothing (a reply
    to the last line), or a slash command (``/help`` lists them; ``/impersonate`` answers
    with a ``draft``, ``/help`` with ``help``; an unknown one is a 400, never a line)."""
    await sync_to_async(_chat_or_404)(chat_id)
    command = commands.parse(body.text)
    if command.name == "help":
        return {"turns": [], "help": commands.help_text()}
    turnlock.ensure_idle(chat_id)

    def run():
        return commands.run(chat_id, command, origin=API)

    def work():
        # shielded: a client that goes away does not cut the turn off half-way
        return asyncio.shield(_turns_of(run()))

    if "text/event-stream" in request.headers.get("Accept", ""):
        response = StreamingHttpResponse(_sse(chat_id, work), content_type="text/event-stream")
        response["Cache-Control"] = "no-cache"
        return response
    done = await asyncio.shield(run())
    out: dict[str, Any] = {"turns": [o.__dict__ for o in done.turns]}
    if done.draft is not None:
        out["draft"] = done.draft
    if done.notice:
        out["notice"] = done.notice
    return out


async def _turns_of(done) -> list:
    return (await done).turns


@router.put("/chats/{chat_id}/turns/{turn_id}")
async def turn_edit(request, chat_id: int, turn_id: int, body: EditIn):
    """Give a line new words. ``mode`` "save" keeps what followed (its consequences re-derived
    from the log, the edited exchange analysed again); "branch" forks at the line. The old
    words stay on their branch, one swipe away."""
    await sync_to_async(_chat_or_404)(chat_id)
    if body.mode not in ("save", "branch"):
        raise HttpError(400, "mode is save or branch")
    done = await asyncio.shield(
        edit.turn_edit(
            chat_id=chat_id,
            turn_id=turn_id,
            text=body.text,
            keep_after=body.mode == "save",
            origin=API,
        )
    )

    def out():
        turn = Turn.objects.get(pk=done["turn_id"])
        return presenters.turn_out(turn, done["branch"])

    return {**done, "turn": await sync_to_async(out)()}


@router.post("/chats/{chat_id}/turns/{turn_id}/edit-preview")
def turn_edit_preview(request, chat_id: int, turn_id: int, body: EditPreviewIn):
    """What saving these words would take away with the old ones (before the new words are
    analysed): the delete preview's diff."""
    _chat_or_404(chat_id)
    return edit.turn_edit_preview(chat_id=chat_id, turn_id=turn_id, text=body.text)


@router.post("/chats/{chat_id}/turns/{turn_id}/continue")
async def turn_continue(request, chat_id: int, turn_id: int):
    """The newest reply written on from where it stops: a new variant of it (the shorter one
    stays one swipe away). ``Accept: text/event-stream`` streams it."""
    await sync_to_async(_chat_or_404)(chat_id)
    turnlock.ensure_idle(chat_id)

    def work():
        return asyncio.shield(compose.turn_continue(chat_id=chat_id, turn_id=turn_id, origin=API))

    if "text/event-stream" in request.headers.get("Accept", ""):
        response = StreamingHttpResponse(_sse(chat_id, work), content_type="text/event-stream")
        response["Cache-Control"] = "no-cache"
        return response
    outs = await work()
    return {"turns": [o.__dict__ for o in outs]}


@router.post("/chats/{chat_id}/impersonate")
async def impersonate(request, chat_id: int):
    """Your next line drafted in your persona's voice, from what your persona witnessed.
    Nothing is stored: send it (edited or not) as a turn."""
    await sync_to_async(_chat_or_404)(chat_id)
    draft = await asyncio.shield(compose.impersonate(chat_id=chat_id, origin=API))
    return {"text": draft["text"]}


@router.post("/chats/{chat_id}/edits")
def state_edit(request, chat_id: int, body: StateEditIn):
    """A hand edit of what the world holds (a ``manual_edit`` event): an edge's affinity,
    trust, summary and knowledge (``knowledge_add``/``knowledge_remove``), a memory's words,
    a character's mood, goals and status, the place and the weather."""
    chat = _chat_or_404(chat_id)
    record = edit.state_edit(
        chat_id=chat_id,
        target=body.target,
        key=body.key,
        changes=body.changes,
        knowledge_add=body.knowledge_add,
        knowledge_remove=body.knowledge_remove,
        origin=API,
    )
    return {"event": record.id, "state": presenters.chat_state(chat)}


@router.post("/chats/{chat_id}/stop")
def stop(request, chat_id: int):
    _chat_or_404(chat_id)
    return {"stopping": turnlock.request_stop(chat_id)}


@router.get("/chats/{chat_id}/transcript")
def transcript(request, chat_id: int):
    chat = _chat_or_404(chat_id)
    swipes = selectors.swipe_groups(chat)
    rows = list(selectors.transcript(chat))
    bots = {t.id for t in rows if t.speaker in (HOST, GUEST)}
    failed = analysis_failures(chat, bots)
    dropped = presenters.analysis_dropped(chat.pk, {t.id for t in rows})
    turns = []
    for t in rows:
        row = presenters.turn_out(t, chat.active_branch_id)
        if t.id in swipes:
            row["swipe"] = {"index": swipes[t.id].index, "total": swipes[t.id].total}
        if t.id in failed:
            row["analysis_error"] = failed[t.id]
        elif t.id in dropped:
            row["analysis_dropped"] = dropped[t.id]
        turns.append(row)
    return {"chat": presenters.chat_out(chat), "turns": turns}


@router.get("/chats/{chat_id}/state")
def state(request, chat_id: int):
    return presenters.chat_state(_chat_or_404(chat_id))


@router.get("/chats/{chat_id}/turns/{turn_id}/prompt")
def turn_prompt(request, chat_id: int, turn_id: int):
    _chat_or_404(chat_id)
    turn = selectors.turn_prompt(chat_id, turn_id)
    prompt = turn.prompt
    if not prompt:
        raise HttpError(404, "this turn was not written from a prompt (a greeting or import)")
    return {
        "messages": prompt["messages"],
        "sections": prompt["sections"],
        "memories": prompt.get("memories", []),
        "lore": prompt.get("lore", []),
        "withheld": prompt.get("withheld", []),
        "total_tokens": prompt.get("total_tokens"),
        "repetition_guard": turn.payload.get("repetition_guard"),
        "model": turn.payload.get("model", ""),
        "usage": turn.payload.get("usage"),  # prompt and cached tokens, as the model reported
    }


@router.post("/chats/{chat_id}/turns/{turn_id}/regenerate")
async def regenerate(request, chat_id: int, turn_id: int):
    await sync_to_async(_chat_or_404)(chat_id)
    outs = await asyncio.shield(pipeline.regenerate(chat_id, turn_id, origin=API))
    return {"turns": [o.__dict__ for o in outs]}


@router.post("/chats/{chat_id}/turns/{turn_id}/analysis/retry")
async def analysis_retry(request, chat_id: int, turn_id: int):
    """Run a failed turn analysis ("state not updated") again."""
    await sync_to_async(_chat_or_404)(chat_id)
    reason = await asyncio.shield(
        analysis.analysis_retry(chat_id=chat_id, turn_id=turn_id, origin=API)
    )
    return {"turn_id": turn_id, "analysis": "failed" if reason else "ok", "reason": reason}


@router.post("/chats/{chat_id}/turns/{turn_id}/rewind")
def rewind(request, chat_id: int, turn_id: int):
    _chat_or_404(chat_id)
    branch = turn_fork(chat_id=chat_id, turn_id=turn_id, kind="rewind", origin=API)
    return {"branch": branch.pk, "chat": presenters.chat_out(Chat.objects.get(pk=chat_id))}


@router.post("/chats/{chat_id}/turns/{turn_id}/branch")
def branch_from(request, chat_id: int, turn_id: int):
    _chat_or_404(chat_id)
    branch = turn_fork(chat_id=chat_id, turn_id=turn_id, kind="branch", origin=API)
    return {"branch": branch.pk, "chat": presenters.chat_out(Chat.objects.get(pk=chat_id))}


@router.post("/chats/{chat_id}/turns/{turn_id}/swipe")
def swipe(request, chat_id: int, turn_id: int, direction: int = 1):
    _chat_or_404(chat_id)
    if direction not in (-1, 1):
        raise HttpError(400, "direction is -1 or 1")
    branch = swipe_switch(chat_id=chat_id, turn_id=turn_id, direction=direction, origin=API)
    return {"branch": branch.pk}


@router.get("/chats/{chat_id}/branches")
def list_branches(request, chat_id: int):
    return {"branches": selectors.branches(_chat_or_404(chat_id))}


@router.post("/chats/{chat_id}/branches/{branch_id}/activate")
def activate_branch(request, chat_id: int, branch_id: int):
    _chat_or_404(chat_id)
    branch = branch_switch(chat_id=chat_id, branch_id=branch_id, origin=API)
    return {"branch": branch.pk, "chat": presenters.chat_out(Chat.objects.get(pk=chat_id))}


@router.post("/chats/{chat_id}/guest")
async def add_guest(request, chat_id: int, body: GuestIn):

    await sync_to_async(_chat_or_404)(chat_id)
    result = await guest_add(
        chat_id=chat_id, character_id=body.character, met_text=body.met, origin=API
    )
    chat = await sync_to_async(Chat.objects.get)(pk=chat_id)
    return {**result, "chat": await sync_to_async(presenters.chat_out)(chat)}


@router.delete("/chats/{chat_id}/guest")
def remove_guest(request, chat_id: int):

    _chat_or_404(chat_id)
    guest_remove(chat_id=chat_id, origin=API)
    return {"chat": presenters.chat_out(Chat.objects.get(pk=chat_id))}


@router.post("/chats/{chat_id}/meanwhile")
async def meanwhile(request, chat_id: int, body: MeanwhileIn):
    """Host and guest without you: start, continue (the bots talk), end (you return)."""

    await sync_to_async(_chat_or_404)(chat_id)
    if body.action == "start":
        await meanwhile_start(chat_id=chat_id, setting=body.setting, origin=API)
        ids: list[int] = []
    elif body.action == "continue":
        ids = await asyncio.shield(
            meanwhile_continue(chat_id=chat_id, exchanges=body.exchanges, origin=API)
        )
    elif body.action == "end":
        await meanwhile_end(chat_id=chat_id, origin=API)
        ids = []
    else:
        raise ValueError("action is start, continue or end")

    def rows():
        branch = Chat.objects.get(pk=chat_id).active_branch_id
        return [
            presenters.turn_out(t, branch) for t in Turn.objects.filter(pk__in=ids).order_by("id")
        ]

    return {"turns": await sync_to_async(rows)()}


@router.post("/chats/{chat_id}/skip")
async def skip_post(request, chat_id: int, body: SkipIn):
    """Skip time: ``elision`` (the rest of what is going on) or ``jump`` (to a later time)."""

    await sync_to_async(_chat_or_404)(chat_id)
    return await asyncio.shield(
        time_skip(
            chat_id=chat_id,
            mode=body.mode,
            to=body.to,
            minutes=body.minutes,
            then_meanwhile=body.then_meanwhile,
            origin=API,
        )
    )


def _story_changed(chat_id: int, record):
    if record is None:
        raise HttpError(
            400, "that change does not apply (unknown key, or not in a state that allows it)"
        )
    state = presenters.chat_state(_chat_or_404(chat_id))
    return {"event": record.id, "kind": record.kind, "state": state}


@router.post("/chats/{chat_id}/story_events")
def story_event(request, chat_id: int, body: StoryEventIn):

    _chat_or_404(chat_id)
    data = body.dict()
    effects = {"on_start": data.pop("on_start"), "on_complete": data.pop("on_complete")}
    try:
        change = StoryEventChange.model_validate(data)
    except ValidationError as exc:
        raise HttpError(400, f"invalid story event change: {exc.errors()[0]['msg']}") from exc
    record = story_event_change(chat_id=chat_id, change=change, **effects, origin=API)
    return _story_changed(chat_id, record)


@router.post("/chats/{chat_id}/threads")
def thread(request, chat_id: int, body: ThreadIn):

    _chat_or_404(chat_id)
    try:
        change = ThreadChange.model_validate(body.dict())
    except ValidationError as exc:
        raise HttpError(400, f"invalid thread change: {exc.errors()[0]['msg']}") from exc
    record = thread_change(chat_id=chat_id, change=change, origin=API)
    return _story_changed(chat_id, record)


@router.post("/chats/{chat_id}/turns/{turn_id}/significance")
def rerate(request, chat_id: int, turn_id: int, body: SignificanceIn):

    _chat_or_404(chat_id)
    memory_significance_set(
        chat_id=chat_id, turn_id=turn_id, significance=body.significance, origin=API
    )
    return _turn_out(chat_id, turn_id)


def _turn_out(chat_id: int, turn_id: int) -> dict[str, Any]:
    branch = _chat_or_404(chat_id).active_branch_id
    return {"turn": presenters.turn_out(Turn.objects.get(pk=turn_id), branch)}


class HideIn(Schema):
    hidden: bool = True


@router.get("/chats/{chat_id}/turns/{turn_id}/delete-preview")
def delete_preview(request, chat_id: int, turn_id: int):
    """What deleting this turn (and everything it caused) would change. Changes nothing."""

    _chat_or_404(chat_id)
    return delete.turn_delete_preview(chat_id=chat_id, turn_id=turn_id)


@router.delete("/chats/{chat_id}/turns/{turn_id}")
def turn_delete(request, chat_id: int, turn_id: int):
    """Surgical delete: a new active branch without the turn; the old line stays reachable."""

    _chat_or_404(chat_id)
    branch = delete.turn_delete(chat_id=chat_id, turn_id=turn_id, origin=API)
    return {"branch": branch.pk, "chat": presenters.chat_out(Chat.objects.get(pk=chat_id))}


@router.post("/chats/{chat_id}/turns/{turn_id}/hide")
def turn_hide(request, chat_id: int, turn_id: int, body: HideIn):

    _chat_or_404(chat_id)
    delete.turn_hide(chat_id=chat_id, turn_id=turn_id, hidden=body.hidden, origin=API)
    return _turn_out(chat_id, turn_id)


@router.get("/chats/{chat_id}/export")
def export_chat(request, chat_id: int, format: str = "st", scene: int | None = None):
    """``st`` (SillyTavern JSONL), ``md`` or ``json`` (with significance and per-POV
    summaries); ``scene`` exports one closed scene."""

    chat = _chat_or_404(chat_id)
    if format == "st":
        if scene is not None:
            raise HttpError(400, "SillyTavern exports are whole chats")
        data, filename = chat_export(chat)
        content_type = "application/jsonl"
    elif format in ("md", "json"):
        data, content_type, filename = exports.export_chat(chat, fmt=format, scene=scene)
        exports.write_export(chat, fmt=format, scene=scene)
    else:
        raise HttpError(400, "format is st, md or json")
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@router.get("/chats/{chat_id}/bookkeeping")
def bookkeeping_progress(request, chat_id: int):

    _chat_or_404(chat_id)
    done, total = progress(chat_id)
    return {"done": done, "total": total}


@router.get("/chats/{chat_id}/snapshots")
def list_snapshots(request, chat_id: int):

    _chat_or_404(chat_id)
    return {
        "snapshots": [
            {
                "name": i.name,
                "kind": i.kind,
                "event": i.event_id,
                "branch": i.branch_id,
                "created_at": i.created_at.isoformat(),
            }
            for i in snapshots.list_snapshots(chat_id)
        ]
    }


@router.post("/chats/{chat_id}/snapshots", response={201: dict})
def create_snapshot(request, chat_id: int):

    info = snapshots.snapshot_create(_chat_or_404(chat_id), kind="manual")
    if info is None:
        raise HttpError(400, "the chat has no events yet")
    return Status(201, {"name": info.name, "event": info.event_id})


# -- the story as pictures: read-only views of the log for the play page's drawer -----------


class TimelinePoint(Schema):
    seq: int
    story_time: str
    affinity: int
    trust: int


class TimelineEdge(Schema):
    source: str  # the characters' names
    target: str
    source_key: str  # character keys: "you", "c<character id>"
    target_key: str
    source_role: str | None  # the seat each holds now (None: another took it)
    target_role: str | None
    points: list[TimelinePoint]


class TimelineMark(Schema):
    seq: int
    story_time: str
    kind: str  # scene | skip | story_event
    label: str


class TimelineOut(Schema):
    edges: list[TimelineEdge]
    marks: list[TimelineMark]


@router.get("/chats/{chat_id}/timeline", response=TimelineOut)
def relationship_timeline(request, chat_id: int):
    """Affinity and trust of each directed edge over the story (a point wherever one changed),
    with scene breaks, time skips and story events marked. Folded from the active branch's
    log; no model calls."""
    return selectors.relationship_timeline(_chat_or_404(chat_id))


@router.get("/chats/{chat_id}/story-strip")
def story_strip(request, chat_id: int):
    """Scenes, time skips, story events and threads as spans of the active branch's story."""
    return selectors.story_strip(_chat_or_404(chat_id))


@router.get("/chats/{chat_id}/branch-tree")
def branch_tree(request, chat_id: int):
    """Every branch (swipes, rewinds, forks, deletes, restores) as one tree, labelled by its
    first words and story time, with the line being shown marked."""
    return selectors.branch_tree(_chat_or_404(chat_id))
