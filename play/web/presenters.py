"""Page data for the play screen: what the templates and the drawing scripts show.

One place per rule: the transcript rows (avatars, dividers, swipes, the analysis notice), the
relationship graph (nodes, the six directed edges, what changed this turn), the cast, the
memory panel and the drawer as a whole. Views and the websocket consumer only call these.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import Q

from eventstore.models import Event
from memory.models import Memory
from play.engine import bookkeeping, selectors, turnlock
from play.engine.lore import authors_note_state, lorebooks_for
from play.models import Chat, Turn
from play.web.rendering import render_text
from worlds import clock
from worlds.authors_note import NOTE_POSITIONS, NOTE_ROLES
from worlds.models import (
    Activity,
    Character,
    Container,
    Edge,
    EntityState,
    GroupNode,
    Lorebook,
    Scene,
    WorldState,
)
from worlds.roles import PAIRS, ROLES

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
                "blurb": c.description[:140],
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
                "retry_url": analysis_retry_url(chat.pk, turn.id),
            }
        )
        previous = turn
    return rows


def turn_row(chat: Chat, turn: Turn) -> dict[str, Any]:
    previous = Turn.objects.filter(chat=chat, id__lt=turn.id).order_by("-id").first()
    return turn_rows(chat, [turn], previous=previous)[0]


# -- relationships -------------------------------------------------------------------------


def _edges(chat_id: int) -> list[Edge]:
    """The chat's directed edges. The one place that knows how edges are keyed (by role
    today; by character once issue 12 lands)."""
    found = {(e.source, e.target): e for e in Edge.objects.filter(chat_id=chat_id)}
    return [found[pair] for pair in PAIRS if pair in found]


def _changes_this_turn(chat_id: int) -> dict[tuple[str, str], dict[str, int]]:
    """What the newest bot turn's analysis did to each edge (its deltas, summed)."""
    last = (
        Turn.objects.filter(chat_id=chat_id, speaker__in=BOT_SPEAKERS)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    if last is None:
        return {}
    changes: dict[tuple[str, str], dict[str, int]] = defaultdict(
        lambda: {"affinity": 0, "trust": 0}
    )
    for payload in Event.objects.filter(
        stream_id=chat_id, caused_by_id=last, kind="edge_update"
    ).values_list("payload", flat=True):
        for d in payload.get("edges", []):
            change = changes[(d["source"], d["target"])]
            change["affinity"] += int(d.get("affinity_delta") or 0)
            change["trust"] += int(d.get("trust_delta") or 0)
    return dict(changes)


def _marks(change: dict[str, int]) -> list[dict[str, Any]]:
    return [
        {"what": what, "up": value > 0, "by": abs(value)} for what, value in change.items() if value
    ]


def relationship_graph(chat_id: int) -> dict[str, Any]:
    """Nodes (everyone of the cast, faded when away, with avatars), the group node and the
    six directed edges with what this turn changed. Drawn by static/js/story.js."""
    people = _characters(chat_id)
    entities = {e.role: e for e in people["entities"]}
    moods = {e.role: e.mood for e in people["entities"]}
    nodes = [
        {
            "id": role,
            "role": role,
            "name": entities[role].name,
            "present": entities[role].present,
            "avatar": people["by_role"].get(role, ""),
            "initials": initials(entities[role].name),
            "mood": moods.get(role, ""),
        }
        for role in ROLES
        if role in entities
    ]
    present = {n["role"] for n in nodes if n["present"]}
    changes = _changes_this_turn(chat_id)
    edges = []
    for e in _edges(chat_id):
        change = changes.get((e.source, e.target), {"affinity": 0, "trust": 0})
        edges.append(
            {
                "source": e.source,
                "target": e.target,
                "source_name": entities[e.source].name if e.source in entities else e.source,
                "target_name": entities[e.target].name if e.target in entities else e.target,
                "affinity": e.affinity,
                "trust": e.trust,
                "summary": e.summary,
                "knowledge": list(e.knowledge),
                "last_interaction": e.last_interaction,
                "change": change,
                "marks": _marks(change),
                "present": e.source in present and e.target in present,
            }
        )
    group = GroupNode.objects.filter(chat_id=chat_id).first()
    return {
        "nodes": nodes,
        "edges": edges,
        "group": {
            "summary": group.summary,
            "dynamic": group.dynamic,
            "html": render_text(" ".join(p for p in (group.summary, group.dynamic) if p)),
            "present": set(ROLES) <= present,
        }
        if group is not None and len(nodes) == 3
        else None,
    }


# -- the cast: who is where ----------------------------------------------------------------


def cast(chat_id: int) -> list[dict[str, Any]]:
    people = _characters(chat_id)
    places = dict(Container.objects.filter(chat_id=chat_id).values_list("key", "name"))
    activity = {a.role: a for a in Activity.objects.filter(chat_id=chat_id)}
    rows = []
    for e in sorted(people["entities"], key=lambda e: ROLES.index(e.role)):
        a = activity.get(e.role)
        doing = " ".join(p for p in (a.posture, a.verb) if p) if a else ""
        rows.append(
            {
                "role": e.role,
                "name": e.name,
                "present": e.present,
                "avatar": people["by_role"].get(e.role, ""),
                "initials": initials(e.name),
                "mood": e.mood,
                "status": e.status,
                "place": places.get(a.container, a.container) if a else "",
                "slot": a.slot if a else "",
                "doing": doing,
                "holding": list(a.holding) if a else [],
                "inventory": list(e.inventory),
            }
        )
    return rows


# -- memories: pinned, and a search ----------------------------------------------------------

MEMORY_RESULTS = 30


def memory_groups(chat_id: int, *, query: str = "", limit: int = MEMORY_RESULTS) -> list[dict]:
    """Memories as one row per remembered thing (each bot keeps its own copy of a shared
    turn): its text as safe HTML, and per copy its owner, pin and witnesses."""
    names = dict(EntityState.objects.filter(chat_id=chat_id).values_list("role", "name"))
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
                "owner_name": names.get(m.owner, m.owner),
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
    state = selectors.chat_state(chat, memory_limit=0)
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
    }
