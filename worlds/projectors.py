"""Projectors for the world state of a chat. Pure: the same events give the same rows.

Each handler takes ``(store, event)``; rows are read and written only through the store so
the same code serves live appends (DBStore) and replay (MemoryStore).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from eventstore.records import EventRecord
from worlds import cast
from worlds import provenance as pv
from worlds.cast import Seats
from worlds.models import (
    Activity,
    AuthorsNote,
    CastMember,
    ChatLorebook,
    Container,
    Edge,
    EntityState,
    GroupNode,
    LoreTimedState,
    Scene,
    StoryEvent,
    Thread,
    WorldState,
)
from worlds.roles import AFFINITY_RANGE, GUEST, TRUST_RANGE, YOU, clamp, configuration

ACTIVITY_FIELDS = (
    "container",
    "slot",
    "posture",
    "verb",
    "interruptible",
    "required_attention",
    "expected_duration",
    "holding",
    "attention",
    "status",
)
CONTAINER_FIELDS = ("name", "kind", "slots", "moving", "public", "audible_range", "description")
ENTITY_FIELDS = ("name", "character_id", "mood", "goals", "status", "inventory")
EDGE_FIELDS = (
    "affinity",
    "trust",
    "summary",
    "knowledge",
    "private_moments",
    "last_interaction",
    "met",
)
STORY_EVENT_FIELDS = (
    "title",
    "description",
    "props",
    "preconditions",
    "on_start",
    "on_complete",
    "significance",
    "participants",
    "planned_for",
)

# What a manual_edit may change, per target. The service validates against the same table.
MANUAL_TARGETS: dict[str, tuple[type, tuple[str, ...]]] = {
    "world": (WorldState, ("story_time", "weather", "location")),
    "entity": (EntityState, ("name", "mood", "goals", "status", "inventory")),
    "activity": (Activity, ACTIVITY_FIELDS),
    "edge": (Edge, EDGE_FIELDS),
    "group": (GroupNode, ("summary", "dynamic", "shared_threads")),
    "container": (Container, (*CONTAINER_FIELDS, "active")),
    "story_event": (StoryEvent, STORY_EVENT_FIELDS),
    "thread": (Thread, ("title", "notes")),
}


def _set(obj: Any, data: dict[str, Any], fields: tuple[str, ...], entry=None) -> None:
    """Copy ``fields`` from ``data``; with a provenance ``entry``, each field (and each item
    of a list field) it writes records where it came from."""
    for name in fields:
        if name in data and data[name] is not None:
            setattr(obj, name, data[name])
            if entry is not None and hasattr(obj, "prov"):
                _mark(obj, name, data[name], entry)


def _mark(obj: Any, name: str, value: Any, entry) -> None:
    """A list field's items each carry an entry (``holding:the hamper``); a scalar, one."""
    if isinstance(value, list):
        prov = {k: v for k, v in (obj.prov or {}).items() if not k.startswith(f"{name}:")}
        prov.update({f"{name}:{item}": entry for item in value if isinstance(item, str)})
        obj.prov = prov
    else:
        pv.set_prov(obj, name, entry)


def _world(store, event: EventRecord) -> WorldState:
    world = store.get(WorldState, chat_id=event.stream_id)
    if world is None:
        world = WorldState(chat_id=event.stream_id)
        store.add(world)
    return world


def _present(store, chat_id: int) -> set[str]:
    return {e.role for e in store.filter(EntityState, chat_id=chat_id, present=True)}


def _upsert(store, model, key: dict[str, Any], data: dict[str, Any], fields, entry=None) -> Any:
    obj = store.get(model, **key)
    if obj is None:
        obj = model(**key)
        _set(obj, data, fields, entry)
        store.add(obj)
    else:
        _set(obj, data, fields, entry)
        store.save(obj)
    return obj


def _open_scene(store, event: EventRecord, world: WorldState, *, number: int) -> None:
    present = sorted(_present(store, event.stream_id))
    store.add(
        Scene(
            chat_id=event.stream_id,
            number=number,
            container=world.location,
            configuration=configuration(set(present)),
            present=present,
            opened_event=event.id,
            opened_time=world.story_time,
            meanwhile=YOU not in present,
        )
    )


def on_chat_started(store, event: EventRecord) -> None:
    p = event.payload
    chat_id = event.stream_id
    world = _world(store, event)
    world.story_time = p.get("story_time", "")
    world.weather = p.get("weather", "")
    world.location = p.get("location", "")
    world.prompt_versions = p.get("prompt_versions", {})
    world.kickoff = p.get("kickoff", "")
    world.scene = 1
    store.save(world)
    for c in p.get("containers", []):
        _upsert(store, Container, {"chat_id": chat_id, "key": c["key"]}, c, CONTAINER_FIELDS)
    for e in p.get("entities", []):
        obj = _upsert(store, EntityState, {"chat_id": chat_id, "role": e["role"]}, e, ENTITY_FIELDS)
        obj.present = e.get("present", True)
        store.save(obj)
        _seat(store, event, obj)
    for a in p.get("activities", []):
        _upsert(store, Activity, {"chat_id": chat_id, "role": a["role"]}, a, ACTIVITY_FIELDS)
    seats = Seats.of(store, chat_id)
    for seed in p.get("edges", []):
        edge = cast.edge_for(store, seats, seed["source"], seed["target"])
        if edge is not None:
            _set(edge, seed, EDGE_FIELDS)
            store.save(edge)
    _open_scene(store, event, world, number=1)


# -- the cast: who has appeared, and who holds which seat ------------------------------------

CARRIED = ("mood", "goals", "status", "inventory")  # a character's own, whatever seat it holds


def _member(store, event: EventRecord, entity: EntityState) -> CastMember:
    key = {"chat_id": event.stream_id, "key": pv.key_of(entity)}
    member = store.get(CastMember, **key)
    if member is None:
        member = CastMember(
            **key, name=entity.name, character_id=entity.character_id, joined_event=event.id
        )
        store.add(member)
    return member


def _seat(store, event: EventRecord, entity: EntityState) -> None:
    """The character in ``entity``'s seat is of the cast, and holds that seat."""
    member = _member(store, event, entity)
    member.name, member.seat = entity.name, entity.role
    store.save(member)


def _vacate(store, event: EventRecord, entity: EntityState) -> None:
    """Another character takes ``entity``'s seat: what the leaver carries, feels and wants
    waits with the leaver (their cast row) until they return."""
    member = _member(store, event, entity)
    member.seat = ""
    member.state = {
        **{name: getattr(entity, name) for name in CARRIED},
        "prov": {k: v for k, v in (entity.prov or {}).items() if k.split(":")[0] in CARRIED},
    }
    store.save(member)


def _resume(store, chat_id: int, entity: EntityState, key: str) -> None:
    """The seat's state becomes the arriving character's own: as they left it, or blank."""
    member = store.get(CastMember, chat_id=chat_id, key=key)
    state = member.state if member is not None else {}
    for name in CARRIED:
        setattr(entity, name, state.get(name, [] if name == "inventory" else ""))
    entity.prov = dict(state.get("prov", {}))
    if member is not None and member.state:
        member.state = {}
        store.save(member)


def rejected_edge_deltas(store, event: EventRecord) -> list[dict[str, Any]]:
    """The deltas of an ``edge_update`` that cannot apply: what a character learns must come
    from lines that character witnessed (one rule for the world projector and the failure
    log)."""
    entry = pv.provenance(store, event)
    if entry is None:
        return []  # a source is gone (a deleted turn): nothing of the update applies
    seats = Seats.of(store, event.stream_id)
    out = []
    for d in event.payload.get("edges", []):
        source = seats.key(d.get("source"))
        if source is not None and not pv.known_to(entry, source):
            out.append(d)
    return out


def on_edge_update(store, event: EventRecord) -> None:
    """Feelings move by the deltas; what is known and said comes with its provenance. Text
    whose lines are not all on this line any more (a deleted turn) is not applied; the
    numbers, which carry none of it, are. The deltas name seats (the roles the analysis was
    given); each applies to the edge of the characters holding them now."""
    entry = pv.provenance(store, event)
    rejected = rejected_edge_deltas(store, event)
    seats = Seats.of(store, event.stream_id)
    for d in event.payload.get("edges", []):
        if d in rejected:
            continue
        edge = cast.edge_for(store, seats, d["source"], d["target"])
        if edge is None:
            continue  # an empty seat: nobody to feel it
        edge.affinity = clamp(edge.affinity + int(d.get("affinity_delta", 0)), AFFINITY_RANGE)
        edge.trust = clamp(edge.trust + int(d.get("trust_delta", 0)), TRUST_RANGE)
        _note_change(edge, event, d)
        if entry is None:
            store.save(edge)
            continue
        known = list(edge.knowledge)
        for fact in d.get("knowledge_facts", []):
            if fact and fact not in known:
                known.append(fact)
                pv.set_prov(edge, f"knowledge:{fact}", entry)
        edge.knowledge = known
        for name in ("last_interaction", "summary"):
            if d.get(name):
                setattr(edge, name, d[name])
                pv.set_prov(edge, name, entry)
        if d.get("private_moment"):
            edge.private_moments = [*edge.private_moments, d["private_moment"]]
        store.save(edge)


def _note_change(edge: Edge, event: EventRecord, delta: dict[str, Any]) -> None:
    """What the analyses of one turn did to an edge, summed (the drawer's ▲▼)."""
    change = dict(edge.last_change or {})
    if not change or change.get("turn") != event.caused_by_id:
        change = {"turn": event.caused_by_id, "affinity": 0, "trust": 0}
    change["affinity"] += int(delta.get("affinity_delta") or 0)
    change["trust"] += int(delta.get("trust_delta") or 0)
    edge.last_change = change


def on_entity_state_change(store, event: EventRecord) -> None:
    entry = pv.provenance(store, event)
    if entry is None:
        return
    for change in event.payload.get("changes", []):
        entity = store.get(EntityState, chat_id=event.stream_id, role=change["role"])
        if entity is None:
            continue
        _set(entity, change, ("mood", "goals", "status"), entry)
        inventory = [i for i in entity.inventory if i not in change.get("inventory_remove", [])]
        for item in change.get("inventory_add", []):
            if item not in inventory:
                inventory.append(item)
                pv.set_prov(entity, f"inventory:{item}", entry)
        entity.inventory = inventory
        store.save(entity)


def on_activity_change(store, event: EventRecord) -> None:
    entry = pv.provenance(store, event)
    if entry is None:
        return
    for change in event.payload.get("changes", []):
        key = {"chat_id": event.stream_id, "role": change["role"]}
        _upsert(store, Activity, key, change, ACTIVITY_FIELDS, entry)


def on_world_changed(store, event: EventRecord) -> None:
    world = _world(store, event)
    _set(world, event.payload, ("story_time", "weather"))
    store.save(world)


def on_scene_transition(store, event: EventRecord) -> None:
    """Everyone present moves to another container (created if new)."""
    p = event.payload
    entry = pv.provenance(store, event)
    if entry is None:
        return
    world = _world(store, event)
    container = p.get("container") or {}
    if container:
        key = {"chat_id": event.stream_id, "key": container["key"]}
        _upsert(store, Container, key, container, CONTAINER_FIELDS, entry)
        for other in store.filter(Container, chat_id=event.stream_id):
            if other.active != (other.key == container["key"]):
                other.active = other.key == container["key"]
                store.save(other)
        world.location = container["key"]
    _set(world, p, ("story_time", "weather"))
    store.save(world)
    for move in p.get("moves", []):
        key = {"chat_id": event.stream_id, "role": move["role"]}
        data = {"container": world.location, **move}
        _upsert(store, Activity, key, data, ACTIVITY_FIELDS, entry)


def on_scene_closed(store, event: EventRecord) -> None:
    p = event.payload
    world = _world(store, event)
    scene = store.get(Scene, chat_id=event.stream_id, number=p.get("scene", world.scene))
    if scene is not None and scene.closed_event is None:
        scene.closed_event = event.id
        scene.closed_time = world.story_time
        scene.close_reason = p.get("reason", "")
        store.save(scene)
    entry = pv.provenance(store, event)
    group = None
    if p.get("group_summary") and entry is not None:
        group = cast.group_node(store, Seats.of(store, event.stream_id), create=True)
    if group is not None:
        group.summary = p["group_summary"]
        pv.set_prov(group, "summary", entry)
        store.save(group)
    world.scene = max(world.scene, p.get("scene", world.scene)) + 1
    store.save(world)
    _open_scene(store, event, world, number=world.scene)


def on_meanwhile_digested(store, event: EventRecord) -> None:
    for number in event.payload.get("scenes", []):
        scene = store.get(Scene, chat_id=event.stream_id, number=number)
        if scene is not None:
            scene.digest_delivered = True
            store.save(scene)


def on_group_node_updated(store, event: EventRecord) -> None:
    """The trio in the seats (an analysis writes one only when all three are present)."""
    entry = pv.provenance(store, event)
    group = cast.group_node(store, Seats.of(store, event.stream_id), create=entry is not None)
    if group is None or entry is None:
        return
    _set(group, event.payload, ("summary", "dynamic", "shared_threads"), entry)
    store.save(group)


def on_guest_added(store, event: EventRecord) -> None:
    """A character takes the guest seat. Everyone keeps their own edges: a pair that has met
    in this chat goes on from where it was; only a pair meeting for the first time is seeded
    (the first-meeting gate, per pair)."""
    p = event.payload
    chat_id = event.stream_id
    arriving = pv.entity_key(GUEST, p.get("character_id"))
    previous = store.get(EntityState, chat_id=chat_id, role=GUEST)
    if previous is not None and pv.key_of(previous) != arriving:
        _vacate(store, event, previous)
        _resume(store, chat_id, previous, arriving)
        store.save(previous)
    entity = _upsert(store, EntityState, {"chat_id": chat_id, "role": GUEST}, p, ENTITY_FIELDS)
    entity.present = True
    store.save(entity)
    _seat(store, event, entity)
    entry = pv.provenance(store, event)  # the meeting prose: witnessed by all now present
    if p.get("activity"):
        _upsert(
            store,
            Activity,
            {"chat_id": chat_id, "role": GUEST},
            p["activity"],
            ACTIVITY_FIELDS,
            entry,
        )
    seats = Seats.of(store, chat_id)
    for seed in p.get("edges", []):
        if cast.edge(store, seats, seed["source"], seed["target"]) is not None:
            continue  # met before in this chat: the story's edge stands, not a seed
        edge = cast.edge_for(store, seats, seed["source"], seed["target"])
        if edge is not None:
            _set(edge, seed, EDGE_FIELDS, entry)
            store.save(edge)
    cast.group_node(store, seats, create=True)


def on_guest_removed(store, event: EventRecord) -> None:
    entity = store.get(EntityState, chat_id=event.stream_id, role=GUEST)
    if entity is not None:
        entity.present = False
        store.save(entity)


def on_presence_changed(store, event: EventRecord) -> None:
    """Who is in the scene (e.g. a meanwhile scene without ``you``)."""
    for role, present in event.payload.get("present", {}).items():
        entity = store.get(EntityState, chat_id=event.stream_id, role=role)
        if entity is not None:
            entity.present = bool(present)
            store.save(entity)


def on_story_event_planned(store, event: EventRecord) -> None:
    p = event.payload
    if not p.get("key"):
        return  # its key went with a deleted line it was made from
    key = {"chat_id": event.stream_id, "key": p["key"]}
    found = store.get(StoryEvent, **key)
    if found is not None and found.status not in ("planned",):
        return  # a key already used by a started or closed event is not re-planned
    entry = pv.provenance(store, event)
    if entry is None:
        if found is not None:
            store.delete(found)
        return
    obj = _upsert(store, StoryEvent, key, p, STORY_EVENT_FIELDS, entry)
    obj.status = StoryEvent.Status.PLANNED
    obj.planned_event = obj.planned_event or event.id
    store.save(obj)


def on_story_event_started(store, event: EventRecord) -> None:
    p = event.payload
    if not p.get("key"):
        return  # its key went with a deleted line it was made from
    entry = pv.provenance(store, event)
    if entry is None:
        return
    obj = store.get(StoryEvent, chat_id=event.stream_id, key=p["key"])
    if obj is None:
        obj = StoryEvent(
            chat_id=event.stream_id,
            key=p["key"],
            title=p.get("title", p["key"]),
            planned_event=event.id,
        )
        _set(obj, p, STORY_EVENT_FIELDS, entry)
        store.add(obj)
    if obj.status != StoryEvent.Status.PLANNED:
        return
    obj.status = StoryEvent.Status.ACTIVE
    obj.started_event = event.id
    obj.started_time = _world(store, event).story_time
    store.save(obj)
    # on_start effects: where everyone goes and what they take up when it begins
    for change in (obj.on_start or {}).get("activities", []):
        _upsert(
            store,
            Activity,
            {"chat_id": event.stream_id, "role": change["role"]},
            change,
            ACTIVITY_FIELDS,
            entry,
        )


CLOSE_STATUS = {
    "story_event_completed": StoryEvent.Status.COMPLETED,
    "story_event_cancelled": StoryEvent.Status.CANCELLED,
    "story_event_expired": StoryEvent.Status.EXPIRED,
}


def on_story_event_closed(store, event: EventRecord) -> None:
    """Close an event. Only the four promoted kinds leave it, written without its props; the
    props stay in the record and leave everything else that names them."""
    p = event.payload
    obj = store.get(StoryEvent, chat_id=event.stream_id, key=p["key"])
    if obj is None or obj.status in StoryEvent.CLOSED:
        return
    obj.status = CLOSE_STATUS[event.kind]
    obj.closed_event = event.id
    obj.closed_time = _world(store, event).story_time
    obj.gist = p.get("gist", "")
    store.save(obj)
    props = list(obj.props)
    seal_state(store, event.stream_id, props)
    entry = pv.provenance(store, event)
    promoted = {k: list(v) for k, v in p.get("promote", {}).items()}
    if entry is None:
        promoted = {}  # what it learned came from lines that are not on this line any more
    if obj.status == StoryEvent.Status.COMPLETED:
        # on_complete effects are authored promotions: the same four kinds, no others
        for kind, values in (obj.on_complete or {}).items():
            if kind in ("inventory", "knowledge", "relationship"):
                promoted.setdefault(kind, []).extend(
                    v for v in values if v not in promoted.get(kind, [])
                )
    for item in promoted.get("inventory", []):  # acquired objects → inventory
        entity = store.get(EntityState, chat_id=event.stream_id, role=item["role"])
        if entity is not None and item["item"] not in entity.inventory:
            entity.inventory = [*entity.inventory, item["item"]]
            pv.set_prov(entity, f"inventory:{item['item']}", entry)
            store.save(entity)
    seats = Seats.of(store, event.stream_id)  # promotions name seats: whoever holds them now
    for fact in promoted.get("knowledge", []):  # knowledge gained → edge knowledge
        edge = cast.edge(store, seats, fact["source"], fact["target"])
        text = pv.seal_text(fact["fact"], props)
        if edge is not None and text and text not in edge.knowledge:
            edge.knowledge = [*edge.knowledge, text]
            pv.set_prov(edge, f"knowledge:{text}", entry)
            store.save(edge)
    for change in promoted.get("relationship", []):  # relationship change → edge summary
        edge = cast.edge(store, seats, change["source"], change["target"])
        text = pv.seal_text(change["summary"], props)
        if edge is not None and text:
            edge.summary = text
            pv.set_prov(edge, "summary", entry)
            store.save(edge)


def _seal_list(obj: Any, name: str, props: list[str]) -> bool:
    values = getattr(obj, name)
    kept = [v for v in values if not (isinstance(v, str) and pv.names_prop(v, props))]
    if kept == values:
        return False
    setattr(obj, name, kept)
    obj.prov = {
        k: v
        for k, v in (obj.prov or {}).items()
        if not (k.startswith(f"{name}:") and k.split(":", 1)[1] not in kept)
    }
    return True


def _seal_fields(obj: Any, names: tuple[str, ...], props: list[str]) -> bool:
    changed = False
    for name in names:
        value = getattr(obj, name)
        if isinstance(value, str) and value:
            sealed = pv.seal_text(value, props)
            if sealed != value:
                setattr(obj, name, sealed)
                changed = True
        elif isinstance(value, list):
            changed |= _seal_list(obj, name, props)
    return changed


SEALED_FIELDS: dict[type, tuple[str, ...]] = {
    Activity: ("posture", "verb", "holding", "attention", "status", "expected_duration"),
    EntityState: ("mood", "goals", "status", "inventory"),
    Edge: ("summary", "knowledge", "last_interaction", "private_moments"),
    GroupNode: ("summary", "dynamic"),
    Thread: ("title", "notes"),
}


def seal_state(store, chat_id: int, props: list[str]) -> None:
    """What a closed story event seals: every sentence and item of the chat's state that names
    one of its props (what someone holds, does, knows, notes) — never a whole text."""
    if not [p for p in props if p.strip()]:
        return
    for model, names in SEALED_FIELDS.items():
        for obj in store.filter(model, chat_id=chat_id):
            if _seal_fields(obj, names, props):
                store.save(obj)
    for member in store.filter(CastMember, chat_id=chat_id):  # the state of those away too
        if member.state and _seal_set_aside(member, props):
            store.save(member)


def _seal_set_aside(member: CastMember, props: list[str]) -> bool:
    held = SimpleNamespace(**member.state)
    if not _seal_fields(held, SEALED_FIELDS[EntityState], props):
        return False
    member.state = vars(held)
    return True


def on_thread_opened(store, event: EventRecord) -> None:
    p = event.payload
    if not p.get("key"):
        return  # its key went with a deleted line it was made from
    entry = pv.provenance(store, event)
    if entry is None:
        return
    obj = _upsert(
        store, Thread, {"chat_id": event.stream_id, "key": p["key"]}, p, ("title", "notes"), entry
    )
    obj.status = "open"
    obj.opened_event = obj.opened_event or event.id
    obj.closed_event = None
    store.save(obj)


def on_thread_updated(store, event: EventRecord) -> None:
    p = event.payload
    obj = store.get(Thread, chat_id=event.stream_id, key=p["key"])
    entry = pv.provenance(store, event)
    if obj is not None and obj.status == "open" and entry is not None:
        _set(obj, p, ("title", "notes"), entry)
        store.save(obj)


def on_thread_closed(store, event: EventRecord) -> None:
    p = event.payload
    obj = store.get(Thread, chat_id=event.stream_id, key=p["key"])
    if obj is not None and obj.status == "open":
        obj.status = p.get("status", "resolved")
        if p.get("resolution"):
            obj.notes = (obj.notes + "\n" if obj.notes else "") + p["resolution"]
        obj.closed_event = event.id
        store.save(obj)


def on_time_skip(store, event: EventRecord) -> None:
    p = event.payload
    world = _world(store, event)
    world.story_time = p.get("to_time", world.story_time)
    if p.get("weather"):
        world.weather = p["weather"]
    store.save(world)
    entry = pv.provenance(store, event)
    if entry is None:
        return  # written from lines that are not on this line any more
    for change in p.get("activities", []):
        key = {"chat_id": event.stream_id, "role": change["role"]}
        _upsert(store, Activity, key, change, ACTIVITY_FIELDS, entry)


def on_manual_edit(store, event: EventRecord) -> None:
    p = event.payload
    target = MANUAL_TARGETS.get(p.get("target", ""))
    if target is None:
        return
    model, fields = target
    key = p.get("key", {})
    seats = Seats.of(store, event.stream_id)
    if model is Edge:  # by character key; an older edit named seats
        obj = cast.edge(store, seats, key.get("source", ""), key.get("target", ""))
    elif model is GroupNode and "key" not in key:  # an older edit: the one trio there was
        obj = cast.group_node(store, seats)
    else:
        obj = store.get(model, chat_id=event.stream_id, **key)
    if obj is None:
        return
    _set(obj, p.get("changes", {}), fields, pv.provenance(store, event))
    store.save(obj)
    if model is EntityState and "name" in p.get("changes", {}):
        _seat(store, event, obj)


def on_line(store, event: EventRecord) -> None:
    """A line said: who witnessed it (by character), and which sealed props it names again."""
    pv.record_line(store, event)


# -- lore: attached lorebooks, the Author's Note, World Info timed effects --------------------


def on_lorebook_attached(store, event: EventRecord) -> None:
    key = {"chat_id": event.stream_id, "lorebook_id": event.payload["lorebook"]}
    if store.get(ChatLorebook, **key) is None:
        store.add(ChatLorebook(**key, attached_event=event.id))


def on_lorebook_detached(store, event: EventRecord) -> None:
    key = {"chat_id": event.stream_id, "lorebook_id": event.payload["lorebook"]}
    row = store.get(ChatLorebook, **key)
    if row is not None:
        store.delete(row)


NOTE_FIELDS = ("text", "position", "depth", "role", "frequency")


def on_authors_note_set(store, event: EventRecord) -> None:
    _upsert(store, AuthorsNote, {"chat_id": event.stream_id}, event.payload, NOTE_FIELDS)


def on_lore_timed_state(store, event: EventRecord) -> None:
    data = {"state": event.payload["state"], "chat_length": event.payload["chat_length"]}
    _upsert(store, LoreTimedState, {"chat_id": event.stream_id}, data, ("state", "chat_length"))


HANDLERS = {
    "user_turn": on_line,
    "assistant_turn": on_line,
    "narration": on_line,
    "chat_started": on_chat_started,
    "edge_update": on_edge_update,
    "entity_state_change": on_entity_state_change,
    "activity_change": on_activity_change,
    "world_changed": on_world_changed,
    "scene_transition": on_scene_transition,
    "scene_closed": on_scene_closed,
    "meanwhile_digested": on_meanwhile_digested,
    "group_node_updated": on_group_node_updated,
    "guest_added": on_guest_added,
    "guest_removed": on_guest_removed,
    "presence_changed": on_presence_changed,
    "manual_edit": on_manual_edit,
    "story_event_planned": on_story_event_planned,
    "story_event_started": on_story_event_started,
    "story_event_completed": on_story_event_closed,
    "story_event_cancelled": on_story_event_closed,
    "story_event_expired": on_story_event_closed,
    "thread_opened": on_thread_opened,
    "thread_updated": on_thread_updated,
    "thread_closed": on_thread_closed,
    "time_skip": on_time_skip,
    "lorebook_attached": on_lorebook_attached,
    "lorebook_detached": on_lorebook_detached,
    "authors_note_set": on_authors_note_set,
    "lore_timed_state": on_lore_timed_state,
}
