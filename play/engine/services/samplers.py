"""A chat's own samplers, from the drawer and the API (the rules: play.engine.samplers)."""

from __future__ import annotations

from typing import Any

from eventstore.records import EventRecord
from eventstore.services import append
from play.engine import turnlock
from play.engine.samplers import chat_overrides, overrides_check


def samplers_edit(*, chat_id: int, origin: str, values: dict[str, Any]) -> EventRecord | None:
    """Set the chat's whole set of overrides: a key given None or "" (or left out) takes the
    global value. ValueError on a bad value; None (and no event) when nothing changes."""
    overrides = overrides_check(values)
    with turnlock.held(chat_id, origin):
        if overrides == chat_overrides(chat_id):
            return None
        return append(stream=chat_id, kind="samplers_set", payload={"values": overrides})
