"""A line said: a user's turn, a bot's, a narrator's. Each is an event of one of
``LINE_KINDS`` whose payload has one shape, made here for every writer (the turn pipeline,
greetings, the narration of a skip or a meanwhile scene, imported chats)."""

from __future__ import annotations

from typing import Any

from eventstore.projection import read_rows
from worlds.models import EntityState, WorldState
from worlds.roles import witness_mask

LINE_KINDS = ("user_turn", "assistant_turn", "narration")


def line_payload(
    *,
    speaker: str,
    name: str,
    text: str,
    witnesses: dict[str, bool],
    scene: int,
    story_time: str | None = None,
    bot_text: str | None = None,
    sources: list[int] | None = None,
    **more: Any,
) -> dict[str, Any]:
    """Who said it (``speaker``: a role or the narrator; ``name``: as the page shows them),
    what (``text``; ``bot_text``: what the bots see of it, when that may differ), who heard it
    (``witnesses``: by role), in which scene and at what story time (an imported line has
    none). ``more`` is what a kind of line adds (a bot turn's model, an import's origin),
    written between the words and the witnesses; ``sources``: the lines a narration was
    written from, last. What is not given is not written: old lines replay as they were."""
    payload: dict[str, Any] = {"speaker": speaker, "name": name, "text": text}
    if bot_text is not None:
        payload["bot_text"] = bot_text
    payload.update(more)
    payload["witnesses"] = witnesses
    payload["scene"] = scene
    if story_time is not None:
        payload["story_time"] = story_time
    if sources:
        payload["sources"] = sources
    return payload


def line_now(chat_id: int, *, speaker: str, name: str, text: str, **more: Any) -> dict[str, Any]:
    """``line_payload`` of a line said now: heard by everyone present, in the current scene, at
    the current story time. Read with plain SQL: every turn writes two of these."""
    present = read_rows(EntityState, "chat_id = %s AND present = %s", [chat_id, True])
    (world,) = read_rows(WorldState, "chat_id = %s", [chat_id])
    return line_payload(
        speaker=speaker,
        name=name,
        text=text,
        witnesses=witness_mask(e.role for e in present),
        scene=world.scene,
        story_time=world.story_time,
        **more,
    )
