"""The play page's websocket: tokens, new turns and drawer updates mirrored to every tab."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.template.loader import render_to_string
from django.utils.html import escape

from eventstore.models import Event
from play.engine import broadcast, pipeline, turnlock
from play.engine.background import spawn
from play.engine.services.skip import detect, skip
from play.models import Chat, Turn
from play.web.errors import int_field
from play.web.views import PAGE_TURNS, drawer_context, transcript_context, turn_context

log = logging.getLogger("rp.ws")

# Open tabs per chat in this process: the last one closing stops a bot it started.
_tabs: Counter[int] = Counter()


class ChatConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.chat_id = int(self.scope["url_route"]["kwargs"]["chat_id"])
        if not await database_sync_to_async(_chat_exists)(self.chat_id):
            await self.close(code=4404)
            return
        self.group = broadcast.group(self.chat_id)
        self._drawer_pending = False
        self._asking_skip = False  # this tab shows the "That sounds like a time skip" question
        await self.channel_layer.group_add(self.group, self.channel_name)
        _tabs[self.chat_id] += 1
        await self.accept()
        # a tab that (re)connects re-syncs from the log's current state
        await self.send_html(await self.render_refresh())

    async def disconnect(self, code):
        if not hasattr(self, "group"):
            return
        await self.channel_layer.group_discard(self.group, self.channel_name)
        _tabs[self.chat_id] -= 1
        if _tabs[self.chat_id] <= 0:
            del _tabs[self.chat_id]
            # the last tab closed: a bot streaming for a tab stops; its text is kept, truncated
            turnlock.request_stop(self.chat_id, origin="ws")

    async def receive_json(self, content, **kwargs):
        action = content.get("action")
        if action in ("send", "send_literal"):
            text = content.get("text", "")
            try:
                pipeline.validate_text(text)
            except ValueError as exc:
                await self.send_html(self.notice(str(exc)))
                return
            if turnlock.is_busy(self.chat_id):
                await self.send_html(self.notice("A bot is still writing. Wait or press Stop."))
                return
            if action == "send":
                intent = detect(text)
                if intent is not None:  # a skip in plain words: ask before doing it
                    await self.send_html(
                        render_to_string(
                            "play/_skip_confirm.html", {"intent": intent, "text": text}
                        )
                    )
                    self._asking_skip = True
                    return
            await self.close_skip_question()
            spawn(self.chat_id, pipeline.run_turn(self.chat_id, text, origin="ws"))
        elif action == "skip":
            await self.close_skip_question()
            spawn(
                self.chat_id,
                skip(self.chat_id, mode=content.get("mode", "jump"), to=content.get("to", "")),
            )
        elif action == "stop":
            turnlock.request_stop(self.chat_id)
        elif action == "regenerate":
            try:
                turn_id = int_field(content, "turn_id")
            except ValueError as exc:
                await self.send_html(self.notice(str(exc)))
                return
            spawn(self.chat_id, pipeline.regenerate(self.chat_id, turn_id, origin="ws"))

    async def close_skip_question(self) -> None:
        """Remove the skip question if this tab shows one: a swap whose target is missing is a
        console error in the page (it was sent with every message)."""
        if self._asking_skip:
            self._asking_skip = False
            await self.send_html('<div id="skip-confirm" hx-swap-oob="delete"></div>')

    async def send_html(self, html: str) -> None:
        if html:
            await self.send(text_data=html)

    @staticmethod
    def notice(message: str) -> str:
        return (
            f'<div id="notices" hx-swap-oob="beforeend"><p class="notice" role="status">'
            f"{escape(message)}</p></div>"
        )

    async def render_refresh(self) -> str:
        return await database_sync_to_async(_render_refresh)(self.chat_id)

    # -- group messages ---------------------------------------------------------------------

    async def chat_stream_start(self, event):
        html = render_to_string(
            "play/_streaming.html",
            {"key": event["key"], "name": event["name"], "speaker": event["speaker"]},
        )
        await self.send_html(
            f'<div id="transcript" hx-swap-oob="beforeend">{html}</div>' + _composer_state(True)
        )

    async def chat_token(self, event):
        await self.send_html(
            f'<span id="stream-{event["key"]}" hx-swap-oob="beforeend">{escape(event["text"])}'
            "</span>"
        )

    async def chat_stream_reset(self, event):
        await self.send_html(f'<span id="stream-{event["key"]}" hx-swap-oob="innerHTML"></span>')

    async def chat_stream_end(self, event):
        html = await database_sync_to_async(_render_turn)(self.chat_id, event["turn_id"])
        await self.send_html(
            f'<div id="turnrow-{event["key"]}" hx-swap-oob="outerHTML">{html}</div>'
        )

    async def chat_stream_failed(self, event):
        await self.send_html(
            f'<div id="turnrow-{event["key"]}" hx-swap-oob="outerHTML"></div>'
            + self.notice(event["message"])
        )

    async def chat_busy(self, event):
        await self.send_html(_composer_state(event["busy"]))

    async def chat_notice(self, event):
        await self.send_html(self.notice(event["message"]))

    async def chat_refresh(self, event):
        await self.send_html(await self.render_refresh())

    async def chat_event(self, event):
        if event["kind"] == "user_turn":
            html = await database_sync_to_async(_render_turn)(self.chat_id, event["event_id"])
            await self.send_html(f'<div id="transcript" hx-swap-oob="beforeend">{html}</div>')
        elif event["kind"] == "turn_bookkept":
            # the analysis ended: the row shows whether it landed ("state not updated: …")
            await self.send_html(
                await database_sync_to_async(_render_analysed)(self.chat_id, event["event_id"])
            )
        if not self._drawer_pending:
            # bookkeeping appends several events at once: redraw the drawer once for them,
            # without holding up the tokens queued behind this message
            self._drawer_pending = True
            asyncio.ensure_future(self._redraw_drawer_soon())

    async def _redraw_drawer_soon(self) -> None:
        await asyncio.sleep(0.15)
        self._drawer_pending = False
        await self.send_html(await database_sync_to_async(_render_drawer)(self.chat_id))


def _chat_exists(chat_id: int) -> bool:

    return Chat.objects.filter(pk=chat_id).exists()


def _composer_state(busy: bool) -> str:
    return render_to_string("play/_composer_state.html", {"busy": busy})


def _render_turn(chat_id: int, turn_id: int) -> str:

    context = turn_context(chat_id, turn_id)
    return render_to_string("play/_turn.html", context) if context else ""


def _render_analysed(chat_id: int, event_id: int) -> str:
    """A row whose analysis failed, redrawn with its notice. Only a row every tab shows (one
    of the newest page): a swap whose target is missing is a console error in the page."""
    payload = Event.objects.filter(pk=event_id).values_list("payload", flat=True).first() or {}
    turn_id = payload.get("turn_id")
    if payload.get("analysis") != "failed" or not turn_id:
        return ""
    newest = Turn.objects.filter(chat_id=chat_id).order_by("-id").values_list("id", flat=True)
    if turn_id not in set(newest[:PAGE_TURNS]):
        return ""
    html = _render_turn(chat_id, turn_id)
    return f'<div id="turn-{turn_id}" hx-swap-oob="outerHTML">{html}</div>' if html else ""


def _render_drawer(chat_id: int) -> str:

    html = render_to_string("play/_drawer.html", drawer_context(chat_id))
    return f'<div id="drawer" hx-swap-oob="innerHTML">{html}</div>'


def _render_refresh(chat_id: int) -> str:

    transcript = render_to_string("play/_transcript.html", transcript_context(chat_id))
    return (
        f'<div id="transcript" hx-swap-oob="innerHTML">{transcript}</div>'
        + _render_drawer(chat_id)
        + _composer_state(turnlock.is_busy(chat_id))
    )
