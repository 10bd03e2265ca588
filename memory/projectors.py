"""Projectors for memories: one row per owner per remembered thing, with its witness mask."""

from __future__ import annotations

from typing import Any

from eventstore.records import EventRecord
from memory import dates
from memory.models import Memory, memory_id
from worlds import provenance as pv
from worlds.models import EntityState, StoryEvent, Witness
from worlds.roles import BOTS, ROLES, YOU

PIN_SOFT_CAP = 8
MANUAL_FIELDS = ("text", "w_you", "w_host", "w_guest", "significance")


def _mask(witnesses: dict[str, Any]) -> dict[str, bool]:
    return {f"w_{role}": bool(witnesses.get(role)) for role in ROLES}


def write_memory(
    store, event: EventRecord, n: int, *, owner: str, text: str, witnesses: dict, **fields: Any
) -> Memory:
    entity = store.get(EntityState, chat_id=event.stream_id, role=owner)
    keys, days = resolved_dates(text, fields.get("story_time", ""))
    mem = Memory(
        id=memory_id(event.id, n),
        chat_id=event.stream_id,
        owner=owner,
        character_id=entity.character_id if entity else None,
        text=text,
        source_event=event.id,
        keys=keys,
        dates=days,
        **_mask(witnesses),
        **fields,
    )
    store.add(mem)
    if mem.significance >= 3:
        pin(store, mem, kind="auto", at=event.id)
    return mem


def resolved_dates(text: str, story_time: str) -> tuple[str, str]:
    """(keys, dates) for the relative dates in ``text`` said at ``story_time``: each phrase
    with the day it means, spelled out for the indexes, and the ISO days for date scoring."""
    said = dates.parse_day(story_time)
    found = dates.resolve(text, said) if said else []
    keys = "\n".join(f"{phrase} = {dates.spelled(day)}" for phrase, day in found)
    days = " ".join(dict.fromkeys(day.isoformat() for _, day in found))
    return keys, days[:200]


def add_keys(mem: Memory, keys: list[str]) -> bool:
    """Append index-only keys a memory does not hold yet; whether any was new."""
    held = mem.keys.split("\n") if mem.keys else []
    new = [k for k in (" ".join(k.split())[:300] for k in keys) if k and k not in held]
    if new:
        mem.keys = "\n".join(held + new)
    return bool(new)


def pin(store, mem: Memory, *, kind: str, at: int) -> None:
    if mem.pinned and (mem.pin_kind == "manual" or kind == "auto"):
        return
    mem.pinned, mem.pin_kind, mem.pinned_at = True, kind, at
    store.save(mem)
    _evict_auto_pins(store, mem)


def unpin(store, mem: Memory) -> None:
    mem.pinned, mem.pin_kind, mem.pinned_at = False, "", None
    store.save(mem)


def _evict_auto_pins(store, mem: Memory) -> None:
    """Soft cap per bot: auto pins beyond it go, oldest first; manual pins never do."""
    pinned = store.filter(
        Memory, chat_id=mem.chat_id, owner=mem.owner, pinned=True, character_id=mem.character_id
    )
    excess = len(pinned) - PIN_SOFT_CAP
    if excess <= 0:
        return
    autos = sorted((m for m in pinned if m.pin_kind == "auto"), key=lambda m: (m.pinned_at, m.id))
    for mem in autos[:excess]:
        unpin(store, mem)


def on_turn(store, event: EventRecord) -> None:
    """A user or bot utterance becomes a memory for every bot that witnessed it."""
    p = event.payload
    text = p.get("bot_text", p.get("text", ""))
    if not text.strip():
        return
    witnesses = p.get("witnesses", {})
    line = f"{p.get('name') or p.get('speaker', '')}: {text}"
    for n, owner in enumerate(BOTS):
        if witnesses.get(owner):
            write_memory(
                store,
                event,
                n,
                owner=owner,
                text=line,
                witnesses=witnesses,
                kind=Memory.Kind.TURN,
                speaker=p.get("speaker", YOU if event.kind == "user_turn" else ""),
                scene=p.get("scene", 1),
                story_time=p.get("story_time", ""),
                turn_id=event.id,
            )


def on_memory_written(store, event: EventRecord) -> None:
    for n, m in enumerate(event.payload.get("memories", [])):
        write_memory(
            store,
            event,
            n,
            owner=m["owner"],
            text=m["text"],
            witnesses=m.get("witnesses", {m["owner"]: True}),
            kind=m.get("kind", Memory.Kind.MANUAL),
            speaker=m.get("speaker", ""),
            significance=int(m.get("significance", 0)),
            scene=m.get("scene", 1),
            story_time=m.get("story_time", ""),
            turn_id=m.get("turn_id"),
        )


def extract(lines: list[Memory]) -> str:
    """What stands in for a summary until one is written: the first and last lines."""
    texts = [m.text for m in lines]
    return " … ".join(texts[:1] + texts[-2:]) if len(texts) > 3 else " … ".join(texts)


def _scene_lines(store, chat_id: int, owner: str, scene: int) -> list[Memory]:
    return sorted(
        (
            m
            for m in store.filter(Memory, chat_id=chat_id, owner=owner)
            if m.kind == Memory.Kind.TURN and m.scene == scene and not m.sealed
        ),
        key=lambda m: m.id,
    )


def sealed_summary(store, chat_id: int, text: str, sources: list[int]) -> str:
    """A summary keeps no sentence naming a closed event's prop, unless one of its lines named
    the prop again after the close."""
    renamed = {
        prop
        for source in sources
        if (row := store.get(Witness, chat_id=chat_id, event=source)) is not None
        for prop in row.renames
    }
    for _, props in pv.closed_props(store, chat_id):
        text = pv.seal_text(text, [p for p in props if p not in renamed])
    return text


def on_scene_closed(store, event: EventRecord) -> None:
    """Per-POV summaries: one memory per witness, written from its own angle. A summary
    whose lines are not all on this line any more (a deleted turn) becomes an extract of the
    lines that are, marked to be rewritten."""
    p = event.payload
    chat_id = event.stream_id
    for n, summary in enumerate(p.get("summaries", [])):
        owner = summary["owner"]
        sources = list(summary.get("sources", []))
        text, rewrite = summary["text"], False
        if any(store.get(Witness, chat_id=chat_id, event=s) is None for s in sources):
            lines = _scene_lines(store, chat_id, owner, p.get("scene", 1))
            sources = [m.turn_id for m in lines if m.turn_id]
            text, rewrite = extract(lines), True
        text = sealed_summary(store, chat_id, text, sources)
        if not text.strip():
            continue
        write_memory(
            store,
            event,
            n,
            owner=owner,
            text=text,
            witnesses=summary.get("witnesses", {owner: True}),
            kind=Memory.Kind.SUMMARY,
            significance=int(summary.get("significance", 1)),
            scene=p.get("scene", 1),
            story_time=p.get("story_time", ""),
            sources=sources,
            rewrite=rewrite,
        )


def on_summary_rewritten(store, event: EventRecord) -> None:
    """The model's rewrite of a summary that lost a line replaces the stand-in extract."""
    p = event.payload
    mem = store.get(Memory, id=p.get("memory_id"))
    if mem is None or mem.chat_id != event.stream_id or not mem.rewrite:
        return
    if any(store.get(Witness, chat_id=mem.chat_id, event=s) is None for s in p.get("sources", [])):
        return  # written from lines that are gone since
    text = sealed_summary(store, mem.chat_id, p.get("text", ""), p.get("sources", []))
    if text.strip():
        mem.text, mem.rewrite, mem.sources = text, False, list(p.get("sources", []))
        store.save(mem)


def on_significance_set(store, event: EventRecord) -> None:
    p = event.payload
    significance = int(p["significance"])
    if p.get("turn_id") is not None:
        mems = store.filter(Memory, chat_id=event.stream_id, turn_id=p["turn_id"])
    else:
        mems = [m for i in p.get("memory_ids", []) if (m := store.get(Memory, id=i))]
    for mem in mems:
        mem.significance = significance
        store.save(mem)
        if significance >= 3:
            pin(store, mem, kind="auto", at=event.id)
        elif mem.pin_kind == "auto":
            unpin(store, mem)


def on_memory_keys_added(store, event: EventRecord) -> None:
    """Fact keys from the turn analysis ("Dan's dog Pickle is a greyhound"): index-only words
    on the memories of the exchange they came from, so a question in other words finds the
    verbatim lines. A memory gets them only if its owner witnessed every line the analysis
    was shown (the provenance rule), and only those turns' own memories get them."""
    keys = [str(k) for k in event.payload.get("keys", []) if str(k).strip()]
    entry = pv.provenance(store, event) if keys else None
    if entry is None:  # no keys, or a line they came from left the active line
        return
    for turn_id in event.payload.get("turn_ids", []):
        for mem in store.filter(Memory, chat_id=event.stream_id, turn_id=turn_id):
            owner = pv.entity_key(mem.owner, mem.character_id)
            if pv.known_to(entry, owner) and add_keys(mem, keys):
                store.save(mem)


def on_memory_pinned(store, event: EventRecord) -> None:
    mem = store.get(Memory, id=event.payload["memory_id"])
    if mem is None or mem.chat_id != event.stream_id:
        return
    if event.payload.get("pinned", True):
        pin(store, mem, kind="manual", at=event.id)
    else:
        unpin(store, mem)


def on_manual_edit(store, event: EventRecord) -> None:
    p = event.payload
    if p.get("target") != "memory":
        return
    mem = store.get(Memory, id=p.get("key", {}).get("id"))
    if mem is None or mem.chat_id != event.stream_id:
        return
    changes = p.get("changes", {})
    for name in MANUAL_FIELDS:
        if name in changes:
            setattr(mem, name, changes[name])
    store.save(mem)
    if "pinned" in changes:
        if changes["pinned"]:
            pin(store, mem, kind="manual", at=event.id)
        else:
            unpin(store, mem)


def on_story_event_closed(store, event: EventRecord) -> None:
    """Props live and die with the event: a line that names one is sealed whole (a quote is
    not redacted); a summary, gist or recollection loses only the sentences that name one.
    The narrative gist becomes a memory for each witness instead."""
    p = event.payload
    obj = store.get(StoryEvent, chat_id=event.stream_id, key=p["key"])
    if obj is None or obj.closed_event != event.id:
        return  # not closed by this event (already closed, or unknown)
    props = [prop.strip() for prop in obj.props if prop.strip()]
    for mem in store.filter_mentioning(
        Memory, "text", props, chat_id=event.stream_id, sealed=False
    ):
        if mem.kind == Memory.Kind.TURN:
            mem.sealed = True
        else:
            mem.text = pv.seal_text(mem.text, props)
            mem.sealed = not mem.text.strip()
        store.save(mem)
    # a fact key naming a prop goes with the prop (the key, not the line it points at)
    for mem in store.filter_mentioning(
        Memory, "keys", props, chat_id=event.stream_id, sealed=False
    ):
        mem.keys = "\n".join(k for k in mem.keys.split("\n") if not pv.names_prop(k, props))
        store.save(mem)
    gist = p.get("gist", "").strip()
    if gist:
        witnesses = p.get("witnesses", {})
        for n, owner in enumerate(BOTS):
            if witnesses.get(owner):
                write_memory(
                    store,
                    event,
                    n,
                    owner=owner,
                    text=gist,
                    witnesses=witnesses,
                    kind=Memory.Kind.GIST,
                    significance=obj.significance,
                    story_time=obj.closed_time,
                )


HANDLERS = {
    "user_turn": on_turn,
    "assistant_turn": on_turn,
    "narration": on_turn,
    "memory_written": on_memory_written,
    "scene_closed": on_scene_closed,
    "summary_rewritten": on_summary_rewritten,
    "memory_significance_set": on_significance_set,
    "memory_pinned": on_memory_pinned,
    "memory_keys_added": on_memory_keys_added,
    "manual_edit": on_manual_edit,
    "story_event_completed": on_story_event_closed,
    "story_event_cancelled": on_story_event_closed,
    "story_event_expired": on_story_event_closed,
}
