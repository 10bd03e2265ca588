"""The play UI: chat list, new-chat flow, the play page and its HTMX partials, settings."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.html import escape
from django.views.decorators.http import require_GET, require_POST

from play.engine import pipeline, selectors, turnlock
from play.engine.background import spawn
from play.engine.errors import ChatBusy, NotFound
from play.engine.inference import get_backend
from play.engine.kickoff import read_opening
from play.engine.recovery import bookkeep_in_background
from play.engine.samplers import KEYS as SAMPLER_KEYS
from play.engine.schemas import StoryEventChange, ThreadChange
from play.engine.services.analysis import analysis_retry
from play.engine.services.branches import branch_switch, swipe_switch, turn_fork
from play.engine.services.cast import (
    guest_add,
    guest_remove,
    meanwhile_continue,
    meanwhile_end,
    meanwhile_start,
)
from play.engine.services.chats import chat_archive, chat_delete, chat_start
from play.engine.services.compose import turn_continue
from play.engine.services.delete import turn_delete, turn_delete_preview, turn_hide
from play.engine.services.edit import state_edit, turn_edit, turn_edit_preview
from play.engine.services.lore import authors_note_edit, lorebook_attach, lorebook_detach
from play.engine.services.memories import (
    SIGNIFICANCE,
    memory_pin,
    memory_significance_set,
    memory_witnesses_edit,
)
from play.engine.services.samplers import samplers_edit
from play.engine.services.skip import time_skip
from play.engine.services.st_chats import MAX_BYTES, ChatImportError, chat_import
from play.engine.services.story import story_event_change, thread_change
from play.engine.turnlock import TAB
from play.models import Chat, Turn
from play.web import presenters
from play.web.errors import error_fragment, int_field, message_of, page_errors
from play.web.rendering import render_text
from worlds.macros import expand_macros
from worlds.models import Character, Persona, Scenario
from worlds.roles import NARRATOR, ROLES

# -- page contexts (also rendered by the websocket consumer); the data comes from presenters --


def turn_context(chat_id: int, turn_id: int) -> dict[str, Any] | None:
    turn = Turn.objects.filter(chat_id=chat_id, pk=turn_id).first()
    if turn is None:
        return None
    chat = Chat.objects.get(pk=chat_id)
    return {"row": presenters.turn_row(chat, turn), "chat": chat}


PAGE_TURNS = 120  # a page shows the newest turns; earlier ones load on demand


def transcript_context(chat_id: int, *, before: int | None = None) -> dict[str, Any]:
    chat = Chat.objects.get(pk=chat_id)
    turns = Turn.objects.filter(chat=chat)
    if before is not None:
        turns = turns.filter(id__lt=before)
    page = list(turns.order_by("-id")[: PAGE_TURNS + 1])
    more = len(page) > PAGE_TURNS
    previous = page[PAGE_TURNS] if more else None
    page = list(reversed(page[:PAGE_TURNS]))
    rows = presenters.turn_rows(chat, page, previous=previous)
    return {"chat": chat, "rows": rows, "earlier": page[0].id if more and page else None}


@require_GET
@page_errors
def transcript_earlier(request: HttpRequest, chat_id: int) -> HttpResponse:
    get_object_or_404(Chat, pk=chat_id)
    before = int_field(request.GET, "before") if request.GET.get("before") else None
    return render(request, "play/_transcript.html", transcript_context(chat_id, before=before))


def drawer_context(chat_id: int) -> dict[str, Any]:
    return presenters.drawer(chat_id)


# -- pages ----------------------------------------------------------------------------------


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    archived = request.GET.get("archived") == "1"
    return render(request, "play/home.html", presenters.home(archived=archived))


@require_GET
def chat_new(request: HttpRequest) -> HttpResponse:
    # the opening is read by the model next: the embedded one starts loading now
    warm_up = getattr(get_backend(), "warm_up", None)
    if warm_up is not None:
        warm_up()
    characters = list(Character.objects.all())
    selected = request.GET.get("character") or (str(characters[0].pk) if characters else None)
    scenarios = list(Scenario.objects.all())
    # preselected: a scenario written for the chosen character, else none: the card's own
    # story (its scenario and greeting). Another scenario is a choice, never a default.
    default = next((s for s in scenarios if selected and str(s.character_id) == selected), None)
    return render(
        request,
        "play/new_chat.html",
        {
            "characters": characters,
            "personas": Persona.objects.all(),
            "scenarios": scenarios,
            "selected": selected,
            "default_scenario": default.pk if default else None,
        },
    )


async def chat_setup(request: HttpRequest) -> HttpResponse:
    """Parse the kickoff prose (a model call) and show the confirm screen."""
    if request.method != "POST":
        return redirect("play:chat_new")

    def load():
        character = get_object_or_404(Character, pk=request.POST.get("character"))
        persona = get_object_or_404(Persona, pk=request.POST.get("persona"))
        scenario_id = request.POST.get("scenario")
        scenario = get_object_or_404(Scenario, pk=scenario_id) if scenario_id else None
        return character, persona, scenario

    character, persona, scenario = await sync_to_async(load)()
    setup, failures = await read_opening(character, persona, scenario)
    greetings = [character.first_mes, *character.alternate_greetings]
    context = {
        "character": character,
        "persona": persona,
        "scenario": scenario,
        "setup": setup,
        "setup_json": json.dumps(setup, indent=2, ensure_ascii=False),
        "greetings": [
            {
                "index": i,
                "html": render_text(expand_macros(g, char=character.name, user=persona.name)),
            }
            for i, g in enumerate(greetings)
            if g
        ],
        "failures": failures,
        "card_scenario": expand_macros(character.scenario, char=character.name, user=persona.name),
        "title": request.POST.get("title") or f"{character.name} & {persona.name}",
    }
    return await sync_to_async(render)(request, "play/confirm.html", context)


def _edited_setup(post) -> dict[str, Any]:
    try:
        setup = json.loads(post.get("setup_json") or "{}")
    except ValueError as exc:
        raise ValueError(f"the starting state is not valid JSON: {exc}") from exc
    if not isinstance(setup, dict):
        raise ValueError("the starting state must be a JSON object")
    for field in ("story_time", "weather", "location"):
        if post.get(field) is not None:
            setup[field] = post.get(field).strip()
    containers = setup.get("containers") or []
    if not isinstance(containers, list) or not containers:
        raise ValueError("the starting state needs at least one place (container)")
    keys = {c.get("key") for c in containers if isinstance(c, dict)}
    if setup.get("location") not in keys:
        raise ValueError(f"location must be one of the places: {', '.join(sorted(keys))}")
    return setup


@require_POST
@page_errors
def chat_create(request: HttpRequest) -> HttpResponse:
    character = get_object_or_404(Character, pk=request.POST.get("character"))
    persona = get_object_or_404(Persona, pk=request.POST.get("persona"))
    scenario_id = request.POST.get("scenario")
    scenario = get_object_or_404(Scenario, pk=scenario_id) if scenario_id else None
    try:
        setup = _edited_setup(request.POST)
    except ValueError as exc:
        messages.error(request, str(exc))
        return redirect("play:chat_new")
    index = int_field(request.POST, "greeting") if request.POST.get("greeting") else 0
    chat = chat_start(
        character=character,
        persona=persona,
        scenario=scenario,
        setup=setup,
        title=request.POST.get("title", ""),
        greeting_index=index,
    )
    return redirect("play:chat", chat.pk)


@require_GET
def chat_play(request: HttpRequest, chat_id: int) -> HttpResponse:
    chat = get_object_or_404(Chat, pk=chat_id)
    if chat.active_branch_id is None:
        raise Http404("this chat has no story yet")
    return render(
        request,
        "play/play.html",
        {
            **transcript_context(chat_id),
            **drawer_context(chat_id),
        },
    )


@require_GET
def memory_search(request: HttpRequest, chat_id: int) -> HttpResponse:
    """The drawer's memory panel: pinned memories, or those matching ``q`` (read-only)."""
    chat = get_object_or_404(Chat, pk=chat_id)
    query = request.GET.get("q", "").strip()[:200]
    return render(
        request,
        "play/_memories.html",
        {"chat": chat, "groups": presenters.memory_groups(chat_id, query=query), "query": query},
    )


@require_GET
def chat_drawer(request: HttpRequest, chat_id: int) -> HttpResponse:
    get_object_or_404(Chat, pk=chat_id)
    return render(request, "play/_drawer.html", drawer_context(chat_id))


@require_GET
def prompt_inspector(request: HttpRequest, chat_id: int, turn_id: int) -> HttpResponse:
    chat = get_object_or_404(Chat, pk=chat_id)
    try:
        turn = selectors.turn_prompt(chat_id, turn_id)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    return render(
        request,
        "play/prompt.html",
        {
            "chat": chat,
            "event": turn,
            "prompt": turn.prompt,
            "guard": turn.payload.get("repetition_guard"),
            "usage": _cache_usage(turn.payload.get("usage")),
            "analysis_usage": _cache_usage(turn.analysis_usage),
        },
    )


def _cache_usage(usage: dict | None) -> dict | None:
    """A call's reported prompt and cached tokens, when the model reported the cached ones."""
    if not usage or usage.get("cached_tokens") is None:
        return None
    return {"cached": usage["cached_tokens"], "prompt": usage.get("prompt_tokens")}


# -- actions (HTMX posts; every tab is updated over the websocket) ---------------------------


def _done(request: HttpRequest, message: str = "") -> HttpResponse:
    if message:
        return HttpResponse(f'<p class="notice">{escape(message)}</p>', status=200)
    return HttpResponse(status=204)


@require_POST
@page_errors
async def turn_regenerate(request: HttpRequest, chat_id: int, turn_id: int) -> HttpResponse:

    await sync_to_async(get_object_or_404)(Chat, pk=chat_id)
    turnlock.ensure_idle(chat_id)
    spawn(chat_id, pipeline.regenerate(chat_id, turn_id, origin=TAB))
    await asyncio.sleep(0)
    return HttpResponse(status=202)


@require_POST
@page_errors
async def turn_continue_view(request: HttpRequest, chat_id: int, turn_id: int) -> HttpResponse:
    """The reply written on from where it stops, streamed into its own bubble in every tab."""
    await sync_to_async(get_object_or_404)(Chat, pk=chat_id)
    turnlock.ensure_idle(chat_id)
    spawn(chat_id, turn_continue(chat_id=chat_id, turn_id=turn_id, origin=TAB))
    await asyncio.sleep(0)
    return HttpResponse(status=202)


@require_POST
@page_errors
async def turn_analysis_retry(request: HttpRequest, chat_id: int, turn_id: int) -> HttpResponse:
    """The turn's "retry" under "state not updated": runs in the background; the row is
    redrawn in every tab when it ends."""
    await sync_to_async(get_object_or_404)(Chat, pk=chat_id)
    turnlock.ensure_idle(chat_id)
    spawn(chat_id, analysis_retry(chat_id=chat_id, turn_id=turn_id, origin=TAB))
    await asyncio.sleep(0)
    return HttpResponse(status=202)


@require_POST
@page_errors
def turn_swipe(request: HttpRequest, chat_id: int, turn_id: int, direction: int) -> HttpResponse:
    get_object_or_404(Chat, pk=chat_id)
    swipe_switch(chat_id=chat_id, turn_id=turn_id, direction=1 if direction else -1, origin=TAB)
    return _done(request)


@require_POST
@page_errors
def turn_fork_view(request: HttpRequest, chat_id: int, turn_id: int, kind: str) -> HttpResponse:
    get_object_or_404(Chat, pk=chat_id)
    turn_fork(chat_id=chat_id, turn_id=turn_id, kind=kind, origin=TAB)
    return _done(request)


@require_POST
@page_errors
def branch_activate(request: HttpRequest, chat_id: int, branch_id: int) -> HttpResponse:
    get_object_or_404(Chat, pk=chat_id)
    branch_switch(chat_id=chat_id, branch_id=branch_id, origin=TAB)
    return _done(request)


@require_POST
@page_errors
def memory_pin_view(request: HttpRequest, chat_id: int, memory_id: int) -> HttpResponse:
    get_object_or_404(Chat, pk=chat_id)
    memory_pin(chat_id=chat_id, memory_id=memory_id, origin=TAB)
    return _done(request)


@require_POST
@page_errors
def memory_witnesses_view(request: HttpRequest, chat_id: int, memory_id: int) -> HttpResponse:
    get_object_or_404(Chat, pk=chat_id)
    memory_witnesses_edit(
        chat_id=chat_id,
        memory_id=memory_id,
        witnesses={role: request.POST.get(role) == "on" for role in ROLES},
        origin=TAB,
    )
    return _done(request)


@require_POST
@page_errors
def edge_edit(request: HttpRequest, chat_id: int) -> HttpResponse:
    get_object_or_404(Chat, pk=chat_id)
    changes = {}
    for field in ("affinity", "trust", "summary"):
        if request.POST.get(field) not in (None, ""):
            changes[field] = request.POST[field]
    learned = request.POST.get("knowledge_add", "").strip()
    state_edit(
        chat_id=chat_id,
        target="edge",
        key={"source": request.POST.get("source"), "target": request.POST.get("target")},
        changes=changes,
        knowledge_add=[learned] if learned else [],
        knowledge_remove=request.POST.getlist("knowledge_remove"),
        origin=TAB,
    )
    return _done(request)


# what the drawer's edit forms may change, by target: (the key's fields, the fields changed)
STATE_FORMS = {
    "entity": (("role",), ("mood", "goals", "status")),
    "world": ((), ("weather", "location")),
    "memory": (("id",), ("text",)),
}


@require_POST
@page_errors
def state_edit_view(request: HttpRequest, chat_id: int) -> HttpResponse:
    """A hand edit from the drawer: how a character is, the place and the weather, a memory's
    words (a summary's too). One ``manual_edit`` event, like the admin's."""
    get_object_or_404(Chat, pk=chat_id)
    target = request.POST.get("target", "")
    if target not in STATE_FORMS:
        raise ValueError(f"unknown target {target!r}")
    keys, fields = STATE_FORMS[target]
    key = {k: int_field(request.POST, k) if k == "id" else request.POST.get(k, "") for k in keys}
    changes = {f: request.POST[f] for f in fields if f in request.POST}
    state_edit(chat_id=chat_id, target=target, key=key, changes=changes, origin=TAB)
    return _done(request)


@require_POST
def chat_remove(request: HttpRequest, chat_id: int) -> HttpResponse:
    chat = get_object_or_404(Chat, pk=chat_id)
    try:
        if request.POST.get("action") == "archive":
            chat = chat_archive(chat_id=chat_id, origin=TAB)
            messages.success(
                request, f"{'Archived' if chat.archived else 'Restored'} {chat.title}."
            )
        elif request.POST.get("confirm") == chat.title:
            chat_delete(chat_id=chat_id, origin=TAB)
            messages.success(request, f"Deleted {chat.title} and its whole history.")
        else:
            messages.error(request, "Type the chat's title to confirm deleting it.")
    except ChatBusy as exc:
        messages.error(request, message_of(exc))
    return redirect("play:home")


@require_POST
@page_errors
async def guest_add_view(request: HttpRequest, chat_id: int) -> HttpResponse:

    await sync_to_async(get_object_or_404)(Chat, pk=chat_id)
    if not request.POST.get("character"):
        return error_fragment("choose a character")
    character_id = int_field(request.POST, "character")
    spawn(
        chat_id,
        guest_add(
            chat_id=chat_id,
            character_id=character_id,
            met_text=request.POST.get("met", ""),
            origin=TAB,
        ),
    )
    await asyncio.sleep(0)
    return HttpResponse(status=202)


@require_POST
@page_errors
def guest_remove_view(request: HttpRequest, chat_id: int) -> HttpResponse:

    get_object_or_404(Chat, pk=chat_id)
    guest_remove(chat_id=chat_id, origin=TAB)
    return _done(request)


@require_POST
@page_errors
async def meanwhile_view(request: HttpRequest, chat_id: int) -> HttpResponse:

    await sync_to_async(get_object_or_404)(Chat, pk=chat_id)
    action = request.POST.get("action")
    if action == "start":
        setting = request.POST.get("setting", "")
        work = meanwhile_start(chat_id=chat_id, setting=setting, origin=TAB)
    elif action == "continue":
        exchanges = int_field(request.POST, "exchanges") if request.POST.get("exchanges") else 1
        work = meanwhile_continue(chat_id=chat_id, exchanges=exchanges, origin=TAB)
    elif action == "end":
        work = meanwhile_end(chat_id=chat_id, origin=TAB)
    else:
        return error_fragment("unknown meanwhile action")
    spawn(chat_id, work)
    await asyncio.sleep(0)
    return HttpResponse(status=202)


@require_POST
@page_errors
async def skip_view(request: HttpRequest, chat_id: int) -> HttpResponse:

    await sync_to_async(get_object_or_404)(Chat, pk=chat_id)
    turnlock.ensure_idle(chat_id)
    spawn(
        chat_id,
        time_skip(
            chat_id=chat_id,
            mode=request.POST.get("mode", "jump"),
            to=request.POST.get("to", ""),
            then_meanwhile=request.POST.get("then_meanwhile") == "on",
            origin=TAB,
        ),
    )
    await asyncio.sleep(0)
    return HttpResponse(status=202)


@require_POST
@page_errors
def lorebook_attach_view(request: HttpRequest, chat_id: int) -> HttpResponse:
    get_object_or_404(Chat, pk=chat_id)
    lorebook_attach(chat_id=chat_id, lorebook_id=int_field(request.POST, "lorebook"), origin=TAB)
    return _done(request)


@require_POST
@page_errors
def lorebook_detach_view(request: HttpRequest, chat_id: int, lorebook_id: int) -> HttpResponse:
    get_object_or_404(Chat, pk=chat_id)
    lorebook_detach(chat_id=chat_id, lorebook_id=lorebook_id, origin=TAB)
    return _done(request)


@require_POST
@page_errors
def authors_note_view(request: HttpRequest, chat_id: int) -> HttpResponse:
    get_object_or_404(Chat, pk=chat_id)
    post = request.POST
    authors_note_edit(
        chat_id=chat_id,
        origin=TAB,
        text=post.get("text", ""),
        position=post.get("position", ""),
        depth=int_field(post, "depth"),
        role=post.get("role", ""),
        frequency=int_field(post, "frequency"),
    )
    return _done(request)


@require_POST
@page_errors
def samplers_view(request: HttpRequest, chat_id: int) -> HttpResponse:
    get_object_or_404(Chat, pk=chat_id)
    samplers_edit(
        chat_id=chat_id, origin=TAB, values={k: request.POST.get(k, "") for k in SAMPLER_KEYS}
    )
    return _done(request)


def _story_form(post) -> dict[str, Any]:
    data = {
        k: post.get(k, "")
        for k in ("action", "key", "title", "planned_for", "gist", "notes", "description")
    }
    data["props"] = [p.strip() for p in post.get("props", "").split(",") if p.strip()]
    return data


@require_POST
@page_errors
def story_event_view(request: HttpRequest, chat_id: int) -> HttpResponse:

    get_object_or_404(Chat, pk=chat_id)
    change = StoryEventChange.model_validate(_story_form(request.POST))
    if story_event_change(chat_id=chat_id, change=change, origin=TAB) is None:
        return error_fragment("that change does not apply now")
    return _done(request)


@require_POST
@page_errors
def thread_view(request: HttpRequest, chat_id: int) -> HttpResponse:

    get_object_or_404(Chat, pk=chat_id)
    change = ThreadChange.model_validate(_story_form(request.POST))
    if thread_change(chat_id=chat_id, change=change, origin=TAB) is None:
        return error_fragment("that change does not apply now")
    return _done(request)


@page_errors
def significance_page(request: HttpRequest, chat_id: int) -> HttpResponse:
    """Review panel: the distribution of significance in a chat, and re-rating (an event)."""

    chat = get_object_or_404(Chat, pk=chat_id)
    if request.method == "POST":
        memory_significance_set(
            chat_id=chat_id,
            turn_id=int_field(request.POST, "turn"),
            significance=int_field(request.POST, "significance"),
            origin=TAB,
        )
        if request.htmx:
            return _done(request)
        return redirect("play:significance", chat_id)
    turns = list(Turn.objects.filter(chat=chat).exclude(speaker=NARRATOR).order_by("id"))
    counts = {level: 0 for level in range(len(SIGNIFICANCE))}
    for t in turns:
        counts[t.significance] += 1
    total = max(1, len(turns))
    levels = [
        {"level": lv, "label": label, "count": counts[lv], "pct": 100 * counts[lv] // total}
        for lv, label in enumerate(SIGNIFICANCE)
    ]
    return render(
        request, "play/significance.html", {"chat": chat, "turns": turns, "levels": levels}
    )


@require_GET
@page_errors
def delete_preview_view(request: HttpRequest, chat_id: int, turn_id: int) -> HttpResponse:

    chat = get_object_or_404(Chat, pk=chat_id)
    impact = turn_delete_preview(chat_id=chat_id, turn_id=turn_id)
    return render(
        request,
        "play/_delete_preview.html",
        {
            "chat": chat,
            "turn_id": turn_id,
            "impact": impact,
            "groups": presenters.impact_groups(impact),
        },
    )


@require_POST
@page_errors
async def turn_edit_view(request: HttpRequest, chat_id: int, turn_id: int) -> HttpResponse:
    """Save an edited line (``mode`` save: what followed stays; branch: it forks there). Every
    tab redraws when it lands; an error answers with the typed words kept in the editor."""
    await sync_to_async(get_object_or_404)(Chat, pk=chat_id)
    done = await asyncio.shield(
        turn_edit(
            chat_id=chat_id,
            turn_id=turn_id,
            text=request.POST.get("text", ""),
            keep_after=request.POST.get("mode", "save") != "branch",
            origin=TAB,
        )
    )
    return HttpResponse(json.dumps({"turn_id": done["turn_id"]}), content_type="application/json")


@require_POST
@page_errors
def turn_edit_preview_view(request: HttpRequest, chat_id: int, turn_id: int) -> HttpResponse:
    """Before an earlier line is saved: what its old words take away with them."""
    chat = get_object_or_404(Chat, pk=chat_id)
    impact = turn_edit_preview(chat_id=chat_id, turn_id=turn_id, text=request.POST.get("text", ""))
    return render(
        request,
        "play/_edit_preview.html",
        {
            "chat": chat,
            "turn_id": turn_id,
            "impact": impact,
            "groups": presenters.impact_groups(impact),
        },
    )


@require_POST
@page_errors
def delete_view(request: HttpRequest, chat_id: int, turn_id: int) -> HttpResponse:

    get_object_or_404(Chat, pk=chat_id)
    turn_delete(chat_id=chat_id, turn_id=turn_id, origin=TAB)
    return HttpResponse('<div id="delete-preview"></div>')


@require_POST
@page_errors
def hide_view(request: HttpRequest, chat_id: int, turn_id: int) -> HttpResponse:

    get_object_or_404(Chat, pk=chat_id)
    turn_hide(chat_id=chat_id, turn_id=turn_id, origin=TAB)
    return _done(request)


@require_POST
def chat_import_view(request: HttpRequest) -> HttpResponse:

    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "Choose a SillyTavern chat file (.jsonl).")
        return redirect("play:home")
    if upload.size > MAX_BYTES:
        messages.error(request, f"{upload.name} is too large (limit {MAX_BYTES} bytes).")
        return redirect("play:home")
    character_id = request.POST.get("character")
    character = Character.objects.filter(pk=character_id).first() if character_id else None
    bookkeep = request.POST.get("bookkeep") == "on"
    try:
        result = chat_import(data=upload.read(), character=character, bookkeep=bookkeep)
    except ChatImportError as exc:
        messages.error(request, f"{upload.name}: {exc}")
        return redirect("play:home")
    if bookkeep:
        bookkeep_in_background(result.chat.pk)
    messages.success(request, f"Imported {result.messages} messages ({result.swipes} swipes).")
    for warning in result.warnings:
        messages.warning(request, warning)
    return redirect("play:chat", result.chat.pk)
