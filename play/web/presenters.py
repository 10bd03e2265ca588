"""Page data for the play screen: what the templates and the drawing scripts show.

One place per rule: the transcript rows (avatars, dividers, swipes, the analysis notice), the
relationship graph (nodes, the six directed edges, what changed this turn), the cast, the
memory panel and the drawer as a whole. Views and the websocket consumer only call these.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

from django.db.models import Q

from eventstore.models import Event
from eventstore.projection import DBStore
from memory.models import Memory
from play.engine import bookkeeping, selectors, turnlock
from play.engine.gate import Gate, Line, OwnView
from play.engine.lore import authors_note_state, lorebooks_for
from play.engine.samplers import BOUNDS, samplers_state
from play.models import Chat, ClassifierFailure, Turn
from play.web.rendering import render_text
from worlds import cast as cast_book
from worlds import clock
from worlds.authors_note import NOTE_POSITIONS, NOTE_ROLES
from worlds.cast import Seats, group_node
from worlds.macros import expand_macros
from worlds.models import (
    Activity,
    CastMember,
    Character,
    Container,
    EntityState,
    Lorebook,
    Persona,
    Scene,
    StoryEvent,
    Thread,
    WorldState,
)
from worlds.provenance import key_of, prov_of
from worlds.roles import GUEST, HOST, ROLES
from worlds.selectors import present_roles

BOT_SPEAKERS = ("host", "guest")


def initials(name: str) -> str:
    parts = [p for p in name.replace("-", " ").split() if p[:1].isalnum()]
    return "".join(p[0] for p in parts[:2]).upper() or "?"


def story_time_label(value: str) -> str:
    """Story time as a reader says it ("Sun 13 Oct, 06:10"); other values as they are."""
    moment = clock.parse(value)
    return f"{moment:%a %d %b, %H:%M}" if moment else value


def avatar_url(character: Character | None) -> str:
    return character.avatar.url if character is not None and character.avatar else ""


def _characters(chat_id: int, extra_names: set[str] = frozenset()) -> dict[str, Any]:
    """Avatars by role (the characters holding the roles now) and by name (anyone who spoke
    earlier in another role's seat, e.g. a previous guest)."""
    entities = list(EntityState.objects.filter(chat_id=chat_id))
    ids = {e.character_id for e in entities if e.character_id}
    found = Character.objects.filter(Q(pk__in=ids) | Q(name__in=extra_names)).only(
        "pk", "name", "avatar"
    )
    by_id = {c.pk: c for c in found}
    by_name = {c.name: avatar_url(c) for c in found}
    by_role = {e.role: avatar_url(by_id.get(e.character_id)) for e in entities}
    return {"by_role": by_role, "by_name": by_name, "entities": entities}


# -- the story list ------------------------------------------------------------------------


def home(*, archived: bool) -> dict[str, Any]:
    chats = list(Chat.objects.filter(archived=archived).select_related("character", "persona"))
    characters = list(Character.objects.all().only("pk", "name", "avatar", "description"))
    persona = Persona.objects.order_by("-is_default", "pk").first()
    user = persona.name if persona else "You"
    return {
        "chats": [
            {
                "chat": c,
                "avatar": avatar_url(c.character),
                "initials": initials(c.character.name if c.character else c.title),
            }
            for c in chats
        ],
        "archived": archived,
        "characters": [
            {
                "character": c,
                "avatar": avatar_url(c),
                "initials": initials(c.name),
                "blurb": expand_macros(c.description, char=c.name, user=user)[:140],
            }
            for c in characters
        ],
    }


# -- the transcript ------------------------------------------------------------------------


def analysis_failures(chat_id: int, turn_ids: set[int]) -> dict[int, str]:
    """Bot turns whose latest analysis on the active branch did not land, with the error to
    show (the engine's rule: ``bookkeeping.analysis_failures``); a retry that lands takes the
    notice off. The retry is ``POST /chats/<chat>/turns/<turn>/analysis/retry/``."""
    return bookkeeping.analysis_failures(Chat.objects.get(pk=chat_id), turn_ids)


def analysis_dropped(chat_id: int, turn_ids: set[int]) -> dict[int, str]:
    """What else the model failed on these lines, said on the line as a failed analysis is
    (which ``analysis_failures`` says, with its Retry): an analysis that landed with part
    of it dropped (what failed validation), a time skip it could not narrate."""
    rows = (
        ClassifierFailure.objects.filter(chat_id=chat_id, turn_id__in=turn_ids)
        .exclude(fallback="stricter retry")  # the retry's own outcome says
        .exclude(prompt_kind="turn_analysis", fallback="schema default")  # a failed analysis
        .values_list("turn_id", "prompt_kind", "error", "fallback")
    )
    notes: dict[int, str] = {}
    for turn_id, kind, error, fallback in rows:
        if fallback.startswith("dropped"):
            note = "part of the analysis was dropped: " + error.removeprefix(
                "rejected by validation: "
            )
        else:
            note = f"the model's {kind.replace('_', ' ')} failed ({error}); {fallback} stood in"
        notes.setdefault(turn_id, note)
    return notes


RECENT_NOTICES = 40


def recent_analysis(chat_id: int) -> dict[str, Any]:
    """The newest bot turns and which of them failed their analysis (for live notices)."""
    turns = list(
        Turn.objects.filter(chat_id=chat_id, speaker__in=BOT_SPEAKERS)
        .order_by("-id")
        .values_list("id", flat=True)[:RECENT_NOTICES]
    )
    failed = analysis_failures(chat_id, set(turns))
    return {
        "turns": turns,
        "failed": [
            {"turn_id": t, "error": failed[t], "retry_url": analysis_retry_url(chat_id, t)}
            for t in turns
            if t in failed
        ],
    }


def analysis_retry_url(chat_id: int, turn_id: int) -> str:
    return f"/chats/{chat_id}/turns/{turn_id}/analysis/retry/"


def _scene_titles(chat_id: int) -> dict[int, dict[str, str]]:
    places = dict(Container.objects.filter(chat_id=chat_id).values_list("key", "name"))
    return {
        s.number: {"place": places.get(s.container, s.container), "meanwhile": s.meanwhile}
        for s in Scene.objects.filter(chat_id=chat_id)
    }


def turn_rows(chat: Chat, turns: list[Turn], *, previous: Turn | None = None) -> list[dict]:
    """Everything a turn shows: its text as safe HTML, avatar, swipe position, whether a
    scene divider comes before it, and a failed analysis."""
    ids = {t.id for t in turns}
    swipes = selectors.swipe_groups(chat, turn_ids=ids)
    people = _characters(chat.pk, {t.name for t in turns if t.speaker in BOT_SPEAKERS})
    failures = analysis_failures(chat.pk, ids)
    dropped = analysis_dropped(chat.pk, ids)
    scenes = _scene_titles(chat.pk)
    rows = []
    for turn in turns:
        scene_break = previous is not None and turn.scene != previous.scene
        avatar = ""
        if turn.speaker in BOT_SPEAKERS:
            avatar = people["by_name"].get(turn.name) or people["by_role"].get(turn.speaker, "")
        rows.append(
            {
                "turn": turn,
                "html": render_text(turn.text),
                "swipe": swipes.get(turn.id),
                "avatar": avatar,
                "initials": initials(turn.name or turn.speaker),
                "divider": scene_break,
                "scene": scenes.get(turn.scene, {}),
                "when": story_time_label(turn.story_time),
                "narrator": turn.speaker == "narrator",
                "bot": turn.speaker in BOT_SPEAKERS,
                "analysis_error": failures.get(turn.id, ""),
                "analysis_dropped": dropped.get(turn.id, ""),
                "retry_url": analysis_retry_url(chat.pk, turn.id),
            }
        )
        previous = turn
    return rows


def turn_row(chat: Chat, turn: Turn) -> dict[str, Any]:
    previous = Turn.objects.filter(chat=chat, id__lt=turn.id).order_by("-id").first()
    return turn_rows(chat, [turn], previous=previous)[0]


# -- relationships -------------------------------------------------------------------------


def _newest_bot_turn(chat_id: int) -> int | None:
    return (
        Turn.objects.filter(chat_id=chat_id, speaker__in=BOT_SPEAKERS)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )


def _marks(change: dict[str, int]) -> list[dict[str, Any]]:
    return [
        {"what": what, "up": value > 0, "by": abs(value)} for what, value in change.items() if value
    ]


def _handle(key: str, role: str | None) -> str:
    """How the page names one end of an edge: its seat while it holds one (``host``), else
    its character key (``c12``, a guest who has left)."""
    return role or key


def _people(chat_id: int, view: OwnView | None = None) -> list[dict[str, Any]]:
    """The cast with what the page shows of each: avatar, initials, mood, the seat held (each
    one's own fields as they may hold them: ``OwnView``)."""
    view = view or OwnView(chat_id)
    rows = cast_rows(chat_id)
    entities = {e.role: e for e in EntityState.objects.filter(chat_id=chat_id)}
    members = {m.key: m for m in CastMember.objects.filter(chat_id=chat_id)}
    avatars = {
        c.pk: avatar_url(c)
        for c in Character.objects.filter(
            pk__in=[r["character_id"] for r in rows if r["character_id"]]
        ).only("pk", "avatar")
    }
    for row in rows:
        seated = entities.get(row["role"]) if row["role"] else None
        away = members[row["key"]].state if row["key"] in members else {}
        own = seated or SimpleNamespace(
            prov=away.get("prov", {}), **{f: away.get(f, "") for f in ("mood", "status")}
        )
        row["avatar"] = avatars.get(row["character_id"], "")
        row["initials"] = initials(row["name"])
        row["mood"] = view.text(row["key"], own, "mood")
        row["goals"] = view.text(row["key"], own, "goals") if seated else ""
        row["status"] = view.text(row["key"], own, "status")
        inventory = seated.inventory if seated else away.get("inventory", [])
        row["inventory"] = view.items(row["key"], own, "inventory", inventory)
    return rows


def relationship_graph(chat_id: int) -> dict[str, Any]:
    """Nodes (the whole cast, faded when away, with avatars), the group node of the trio in
    the seats, and every directed edge between them with what this turn changed. Drawn by
    static/js/story.js: nodes by key, placed by the seat they hold."""
    people = _people(chat_id)
    nodes = [
        {
            "id": p["key"],
            "role": p["role"] or "",
            "name": p["name"],
            "present": p["present"],
            "avatar": p["avatar"],
            "initials": p["initials"],
            "mood": p["mood"],
        }
        for p in people
    ]
    turn = _newest_bot_turn(chat_id)
    edges = []
    for e in edge_rows(chat_id):
        last = e["last_change"]
        change = {
            "affinity": last.get("affinity", 0) if turn and last.get("turn") == turn else 0,
            "trust": last.get("trust", 0) if turn and last.get("turn") == turn else 0,
        }
        edges.append(
            {
                **{k: v for k, v in e.items() if k != "last_change"},
                "id": f"{_handle(e['source'], e['source_role'])}-"
                f"{_handle(e['target'], e['target_role'])}",
                "source_role": e["source_role"] or "",
                "target_role": e["target_role"] or "",
                "change": change,
                "marks": _marks(change),
            }
        )
    seats = Seats.live(chat_id)
    group = group_node(DBStore(), seats)
    return {
        "nodes": nodes,
        "edges": edges,
        "group": {
            "summary": group.summary,
            "dynamic": group.dynamic,
            "html": render_text(" ".join(p for p in (group.summary, group.dynamic) if p)),
            "present": set(ROLES) <= seats.present,
        }
        if group is not None
        else None,
    }


# -- the cast: who is where ----------------------------------------------------------------


def cast(chat_id: int) -> list[dict[str, Any]]:
    """Everyone who has appeared: those in a seat first (with where they are and what they
    do), then those who left it to another."""
    places = dict(Container.objects.filter(chat_id=chat_id).values_list("key", "name"))
    activity = {a.role: a for a in Activity.objects.filter(chat_id=chat_id)}
    view = OwnView(chat_id)
    rows = []
    for p in _people(chat_id, view):
        a = activity.get(p["role"]) if p["role"] else None
        doing = [view.text(p["key"], a, f) for f in ("posture", "verb")] if a else []
        rows.append(
            {
                **p,
                "role": p["role"] or "",
                "place": places.get(a.container, a.container) if a else "",
                "slot": a.slot if a else "",
                "doing": " ".join(x for x in doing if x),
                "holding": view.items(p["key"], a, "holding") if a else [],
            }
        )
    order = {role: n for n, role in enumerate(ROLES)}
    return sorted(rows, key=lambda r: order.get(r["role"], len(order)))


# -- memories: pinned, and a search ----------------------------------------------------------

MEMORY_RESULTS = 30


def memory_groups(chat_id: int, *, query: str = "", limit: int = MEMORY_RESULTS) -> list[dict]:
    """Memories as one row per remembered thing (each bot keeps its own copy of a shared
    turn): its text as safe HTML, and per copy its owner, pin and witnesses."""
    names = dict(EntityState.objects.filter(chat_id=chat_id).values_list("role", "name"))
    # a memory's owner is the character whose store it is, not whoever holds that seat now
    owners = {
        m.character_id: m.name
        for m in CastMember.objects.filter(chat_id=chat_id, character_id__isnull=False)
    }
    rows = Memory.objects.filter(chat_id=chat_id)
    rows = rows.filter(text__icontains=query) if query else rows.filter(pinned=True)
    groups: dict[tuple, dict[str, Any]] = {}
    for m in rows.order_by("-id")[: limit * 3]:
        key = (m.turn_id, m.text) if m.turn_id else ("memory", m.id)
        group = groups.get(key)
        if group is None:
            if len(groups) >= limit:
                continue
            group = groups[key] = {
                "html": render_text(m.text),
                "kind": m.kind,
                "significance": m.significance,
                "scene": m.scene,
                "story_time": m.story_time,
                "copies": [],
            }
        group["copies"].append(
            {
                "id": m.id,
                "owner": m.owner,
                "owner_name": owners.get(m.character_id) or names.get(m.owner, m.owner),
                "text": m.text,
                "pinned": m.pinned,
                "witnesses": [
                    {"role": r, "name": names.get(r, r), "seen": getattr(m, f"w_{r}")}
                    for r in ROLES
                ],
            }
        )
    return list(groups.values())


# -- lore: the chat's lorebooks and Author's Note ---------------------------------------------


def lore(chat_id: int) -> dict[str, Any]:
    books = lorebooks_for(chat_id)
    return {
        "lorebooks": [
            {"id": b.lorebook.pk, "name": b.lorebook.name, "source": b.source} for b in books
        ],
        "lorebook_choices": Lorebook.objects.exclude(pk__in=[b.lorebook.pk for b in books]).only(
            "pk", "name"
        ),
        "note": authors_note_state(chat_id),
        "note_positions": NOTE_POSITIONS,
        "note_roles": NOTE_ROLES,
    }


# -- the chat's own samplers -------------------------------------------------------------------

SAMPLER_LABELS = {
    "temperature": "Temperature",
    "top_p": "Top-p",
    "min_p": "Min-p",
    "repetition_penalty": "Repetition penalty",
    "frequency_penalty": "Frequency penalty",
    "presence_penalty": "Presence penalty",
    "max_tokens": "Longest reply (tokens)",
    "context_size": "Context size (tokens)",
}


def samplers(chat_id: int) -> dict[str, Any]:
    """The drawer's sampler form: each field empty unless the chat sets it, with the global
    value shown in its place."""
    state = samplers_state(chat_id)
    rows = []
    for key, (kind, low, high) in BOUNDS.items():
        base = state["global"].get(key)
        rows.append(
            {
                "key": key,
                "label": SAMPLER_LABELS[key],
                "value": state["overrides"].get(key, ""),
                "placeholder": f"{base:g}"
                + (" (auto)" if key == "max_tokens" and not base else ""),
                "step": "1" if kind is int else "any",
                "min": str(low),
                "max": str(high),
            }
        )
    return {"sampler_fields": rows, "samplers_own": bool(state["overrides"])}


# -- the drawer as a whole -----------------------------------------------------------------


def world_line(chat_id: int) -> dict[str, str]:
    world = WorldState.objects.filter(chat_id=chat_id).first()
    if world is None:
        return {"story_time": "", "weather": "", "place": "", "scene": ""}
    place = (
        Container.objects.filter(chat_id=chat_id, key=world.location)
        .values_list("name", flat=True)
        .first()
    )
    return {
        "story_time": clock.describe(world.story_time),
        "weather": world.weather,
        "place": place or world.location,
        "scene": str(world.scene),
    }


def drawer(chat_id: int) -> dict[str, Any]:
    chat = Chat.objects.get(pk=chat_id)
    state = chat_state(chat, memory_limit=0)
    names = {e["role"]: e["name"] for e in state["entities"]}
    present = {e["role"] for e in state["entities"] if e["present"]}
    guest = next((e for e in state["entities"] if e["role"] == "guest"), None)
    host_id = (
        EntityState.objects.filter(chat_id=chat_id, role="host")
        .values_list("character_id", flat=True)
        .first()
    )
    graph = relationship_graph(chat_id)
    last_event = (
        Event.objects.filter(stream_id=chat_id).order_by("-id").values_list("id", flat=True)
    ).first()
    return {
        "chat": chat,
        "state": state,
        "world": world_line(chat_id),
        "names": names,
        "cast": cast(chat_id),
        "graph": graph,
        "pinned": memory_groups(chat_id),
        "memory_count": Memory.objects.filter(chat_id=chat_id).count(),
        "busy": turnlock.is_busy(chat_id),
        "guest": guest if guest and guest["present"] else None,
        "meanwhile": "you" not in present,
        "guest_choices": Character.objects.exclude(pk=host_id).only("pk", "name"),
        "last_event": last_event or 0,
        "analysis": recent_analysis(chat_id),
        **lore(chat_id),
        **samplers(chat_id),
    }


# -- the JSON API's views of a chat -----------------------------------------------------------


def chat_out(chat: Chat) -> dict[str, Any]:

    names = dict(EntityState.objects.filter(chat=chat).values_list("role", "name"))
    present = present_roles(chat.pk)
    return {
        "id": chat.pk,
        "title": chat.title,
        "host": names.get(HOST),
        "guest": names.get(GUEST) if GUEST in present else None,
        "active_branch": chat.active_branch_id,
        "archived": chat.archived,
        "busy": turnlock.is_busy(chat.pk),
        "created_at": chat.created_at.isoformat(),
    }


def turn_out(turn: Turn, branch: int) -> dict[str, Any]:
    return {
        "id": turn.id,
        "speaker": turn.speaker,
        "name": turn.name,
        "text": turn.text,
        "truncated": turn.truncated,
        "branch": branch,
        "hidden": turn.hidden,
        "significance": turn.significance,
        "scene": turn.scene,
        "reply_to": turn.reply_to,
    }


def memory_row(m: Memory) -> dict[str, Any]:
    return {
        "id": m.id,
        "owner": m.owner,
        "kind": m.kind,
        "text": m.text,
        "witnesses": m.witnesses,
        "significance": m.significance,
        "pinned": m.pinned,
        "pin_kind": m.pin_kind,
        "scene": m.scene,
        "turn_id": m.turn_id,
    }


def cast_rows(chat_id: int) -> list[dict[str, Any]]:
    """Everyone who has appeared in the chat, by character key: the seat each holds now
    (``None`` once another took it) and whether they are in the scene."""
    seats = Seats.live(chat_id)
    names = cast_book.names(DBStore(), chat_id)
    out = []
    for m in cast_book.members(DBStore(), chat_id):
        role = seats.role(m.key)
        out.append(
            {
                "key": m.key,
                "name": names.get(m.key, m.name),
                "character_id": m.character_id,
                "role": role,
                "present": role in seats.present,
            }
        )
    return out


def edge_rows(chat_id: int, view: OwnView | None = None) -> list[dict[str, Any]]:
    """Every edge of the cast, each end by character key with its name and the seat it holds
    now; ``present`` when both are in the scene. Its words are its source's own."""
    view = view or OwnView(chat_id)
    seats = Seats.live(chat_id)
    names = cast_book.names(DBStore(), chat_id)
    out = []
    for e in cast_book.edges(chat_id):
        source_role, target_role = seats.role(e.source), seats.role(e.target)
        out.append(
            {
                "source": e.source,
                "target": e.target,
                "source_name": names.get(e.source, e.source),
                "target_name": names.get(e.target, e.target),
                "source_role": source_role,
                "target_role": target_role,
                "present": {source_role, target_role} <= seats.present,
                "affinity": e.affinity,
                "trust": e.trust,
                "summary": view.text(e.source, e, "summary"),
                "knowledge": view.items(e.source, e, "knowledge"),
                "last_interaction": view.text(e.source, e, "last_interaction"),
                "last_change": dict(e.last_change or {}),
            }
        )
    return out


def chat_state(chat: Chat, *, memory_limit: int = 200) -> dict[str, Any]:
    """The chat's state as the API gives it: each character's own fields as that character
    may hold them (``withheld`` names the fields the word check cut)."""
    cid = chat.pk
    world = WorldState.objects.filter(chat_id=cid).first()
    group = group_node(DBStore(), Seats.live(cid))
    view = OwnView(cid)
    entities = {e.role: e for e in EntityState.objects.filter(chat_id=cid).order_by("role")}
    keys = {role: key_of(e) for role, e in entities.items()}
    edges = edge_rows(cid, view)
    shared = Gate.for_readers(cid, group.members) if group is not None else None
    activity = [
        {
            "role": a.role,
            "container": a.container,
            "slot": a.slot,
            **{
                f: view.text(keys.get(a.role, a.role), a, f)
                for f in ("posture", "verb", "expected_duration", "attention", "status")
            },
            "interruptible": a.interruptible,
            "required_attention": a.required_attention,
            "holding": view.items(keys.get(a.role, a.role), a, "holding"),
        }
        for a in Activity.objects.filter(chat_id=cid).order_by("role")
    ]
    people = [
        {
            "role": e.role,
            "name": e.name,
            "present": e.present,
            **{f: view.text(keys[e.role], e, f) for f in ("mood", "goals", "status")},
            "inventory": view.items(keys[e.role], e, "inventory"),
        }
        for e in entities.values()
    ]
    for row in people:
        row["withheld"] = sorted(view.cut.get(keys[row["role"]], ()))
    return {
        "world": {
            "story_time": world.story_time if world else "",
            "weather": world.weather if world else "",
            "location": world.location if world else "",
            "scene": world.scene if world else 1,
        },
        "entities": people,
        "activity": activity,
        "containers": [
            {
                "key": c.key,
                "name": c.name,
                "kind": c.kind,
                "slots": c.slots,
                "moving": c.moving,
                "public": c.public,
                "audible_range": c.audible_range,
                "active": c.active,
            }
            for c in Container.objects.filter(chat_id=cid).order_by("id")
        ],
        "cast": cast_rows(cid),
        "edges": edges,
        "group": {
            "members": group.members,
            "summary": shared.admit(Line(group.summary, prov_of(group, "summary"))) or "",
            "dynamic": shared.admit(Line(group.dynamic, prov_of(group, "dynamic"))) or "",
        }
        if group is not None
        else None,
        "memories": [
            memory_row(m) for m in Memory.objects.filter(chat_id=cid).order_by("-id")[:memory_limit]
        ],
        "scenes": [
            {
                "number": s.number,
                "container": s.container,
                "configuration": s.configuration,
                "present": s.present,
                "closed": s.closed_event is not None,
                "close_reason": s.close_reason,
                "meanwhile": s.meanwhile,
            }
            for s in Scene.objects.filter(chat_id=cid).order_by("number")
        ],
        "story_events": [
            {
                "key": e.key,
                "title": e.title,
                "status": e.status,
                "props": e.props,
                "significance": e.significance,
                "planned_for": e.planned_for,
            }
            for e in StoryEvent.objects.filter(chat_id=cid).order_by("id")
        ],
        "threads": [
            {"key": t.key, "title": t.title, "status": t.status, "notes": t.notes}
            for t in Thread.objects.filter(chat_id=cid).order_by("id")
        ],
        "classifier_failures": [
            {
                "id": f.id,
                "model": f.model,
                "prompt_kind": f.prompt_kind,
                "error": f.error,
                "fallback": f.fallback,
                "turn_id": f.turn_id,
            }
            for f in ClassifierFailure.objects.filter(chat_id=cid).order_by("-id")[:50]
        ],
    }


# -- what a delete or a restore would change --------------------------------------------------


def _shown(value: Any) -> str:
    """A field's value as one short line of the preview."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "; ".join(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def impact_groups(impact: dict[str, Any]) -> list[dict[str, Any]]:
    """The preview's changes by kind, each entry as it reads: what, now, after."""
    out = []
    for group in impact.get("groups", []):
        rows = []
        for e in group["entries"]:
            if e["field"] is None:
                what = "removed" if e["after"] is None else "added"
                rows.append({"label": e["label"], "field": what, "now": "", "after": ""})
                continue
            rows.append(
                {
                    "label": e["label"],
                    "field": e["field"].replace("_", " "),
                    "now": _shown(e["now"]),
                    "after": _shown(e["after"]),
                }
            )
        out.append({"kind": group["kind"], "rows": rows})
    return out
