"""Projectors for the transcript (Turn rows), recorded classifier failures and a chat's own
samplers."""

from __future__ import annotations

import json

from eventstore.records import EventRecord
from play.models import ChatSamplers, ClassifierFailure, Turn
from worlds.projectors import rejected_edge_deltas
from worlds.roles import HOST, NARRATOR, YOU

_DEFAULT_SPEAKER = {"user_turn": YOU, "assistant_turn": HOST, "narration": NARRATOR}


def on_turn(store, event: EventRecord) -> None:
    p = event.payload
    store.add(
        Turn(
            id=event.id,
            chat_id=event.stream_id,
            seq=event.seq,
            speaker=p.get("speaker", _DEFAULT_SPEAKER.get(event.kind, HOST)),
            name=p.get("name", ""),
            text=p.get("text", ""),
            bot_text=p.get("bot_text", p.get("text", "")),
            truncated=bool(p.get("truncated", False)),
            scene=p.get("scene", 1),
            story_time=p.get("story_time", ""),
            reply_to=p.get("reply_to"),
            interjection=bool(p.get("interjection", False)),
            model=p.get("model", ""),
            witnesses=p.get("witnesses", {}),
            edited_from=p.get("edited_from"),
            continued_from=p.get("continued_from"),
            recalled=recalled_of(p),
            # A user turn and a greeting need no bookkeeping of their own.
            # a greeting or an imported reply needs no analysis, unless the import asked for it
            bookkept=event.kind != "assistant_turn"
            or (p.get("source") in ("greeting", "import") and not p.get("bookkeep")),
        )
    )


def recalled_of(payload: dict) -> list[list]:
    """What a bot line's prompt recalled anew, best first: the prompt record says it (an older
    one: its retrieved memories, in the order it listed them)."""
    prompt = payload.get("prompt") or {}
    if "recalled" in prompt:
        return [list(r) for r in prompt["recalled"]]
    return [
        [m["id"], 0.0]
        for m in prompt.get("memories", [])
        if m.get("section") == "retrieved memories" and isinstance(m.get("id"), int)
    ]


def on_turn_bookkept(store, event: EventRecord) -> None:
    turn = store.get(Turn, id=event.payload["turn_id"])
    if turn is not None:
        turn.bookkept = True
        store.save(turn)


def on_significance_set(store, event: EventRecord) -> None:
    turn_id = event.payload.get("turn_id")
    turn = store.get(Turn, id=turn_id) if turn_id is not None else None
    if turn is not None:
        turn.significance = int(event.payload["significance"])
        store.save(turn)


def on_turn_hidden(store, event: EventRecord) -> None:
    turn = store.get(Turn, id=event.payload["turn_id"])
    if turn is not None:
        turn.hidden = bool(event.payload.get("hidden", True))
        store.save(turn)


def on_classifier_failed(store, event: EventRecord) -> None:
    p = event.payload
    store.add(
        ClassifierFailure(
            id=event.id,
            chat_id=event.stream_id,
            model=p.get("model", ""),
            prompt_kind=p.get("prompt_kind", ""),
            raw_output=p.get("raw_output", "")[:20000],
            error=p.get("error", ""),
            fallback=p.get("fallback", ""),
            turn_id=p.get("turn_id"),
        )
    )


def on_edge_update(store, event: EventRecord) -> None:
    """What the world projector refused to learn is shown as a failed analysis."""
    for n, delta in enumerate(rejected_edge_deltas(store, event)):
        store.add(
            ClassifierFailure(
                id=-(event.id * 64 + n),  # never an event's id: those are positive
                chat_id=event.stream_id,
                prompt_kind="turn_analysis",
                raw_output=json.dumps(delta, ensure_ascii=False)[:20000],
                error=(
                    f"{delta.get('source')} cannot learn this about {delta.get('target')}: "
                    "it did not witness the lines it came from"
                ),
                fallback="not applied",
                turn_id=event.caused_by_id,
            )
        )


def on_samplers_set(store, event: EventRecord) -> None:
    """The chat's whole set of overrides (none: every sampler takes the global value)."""
    values = dict(event.payload.get("values") or {})
    row = store.get(ChatSamplers, chat_id=event.stream_id)
    if row is None and values:
        store.add(ChatSamplers(chat_id=event.stream_id, values=values))
    elif row is not None and values:
        row.values = values
        store.save(row)
    elif row is not None:
        store.delete(row)


HANDLERS = {
    "edge_update": on_edge_update,
    "user_turn": on_turn,
    "assistant_turn": on_turn,
    "narration": on_turn,
    "turn_bookkept": on_turn_bookkept,
    "memory_significance_set": on_significance_set,
    "turn_hidden": on_turn_hidden,
    "classifier_failed": on_classifier_failed,
    "samplers_set": on_samplers_set,
}
