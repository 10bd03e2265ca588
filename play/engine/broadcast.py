"""Pushing to every open tab of a chat through the channel layer."""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

log = logging.getLogger("rp.broadcast")


def group(chat_id: int) -> str:
    return f"chat_{chat_id}"


async def send(chat_id: int, type_: str, **data: Any) -> None:
    layer = get_channel_layer()
    if layer is not None:
        await layer.group_send(group(chat_id), {"type": type_, **data})


def send_sync(chat_id: int, type_: str, **data: Any) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group(chat_id), {"type": type_, **data})
    except Exception:  # a broadcast must never break the write that caused it
        log.exception("broadcast failed")


def on_event_committed(sender, *, event, **kwargs) -> None:
    send_sync(event.stream_id, "chat.event", event_id=event.id, kind=event.kind)


def on_branch_switched(sender, *, stream_id: int, branch_id: int, **kwargs) -> None:
    send_sync(stream_id, "chat.refresh", reason="branch")
