"""Explicit handler tables: each app maps event kinds to its projector functions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eventstore.records import EventRecord

Handler = Callable[[Any, EventRecord], None]


def make_receiver(handlers: dict[str, Handler]) -> Callable[..., None]:
    def receiver(sender, *, event: EventRecord, store, **kwargs) -> None:
        handler = handlers.get(event.kind)
        if handler is not None:
            handler(store, event)

    return receiver
