"""The play page's websocket: tokens, new turns and drawer updates mirrored to every tab."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.template.loader import render_to_string
from django.utils.html import escape

from play.engine import broadcast, pipeline, turnlock
from play.engine.background import spawn
from play.engine.errors import ChatBusy
from play.engine.services import commands, compose
from play.engine.services.skip import detect, time_skip
from play.engine.turnlock import TAB
from play.models import Chat
from play.web.errors import int_field, message_of
from play.web.views import drawer_context, transcript_context, turn_context

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
            turnlock.request_stop(self.chat_id, origin=TAB)

    async def receive_json(self, content, **kwargs):
        action = content.get("action")
        if action in ("send", "send_literal"):
            text = content.get("text", "")
            try:
                command = (
                    commands.parse(text)
                    if action == "send"
                    else commands.Command("say", pipeline.validate_text(text))
                )
                if command.name == "help":
                    await self.send_html(self.notice(commands.help_text(), lines=True))
                    return
                turnlock.ensure_idle(self.chat_id)
            except (ValueError, ChatBusy) as exc:
                await self.send_html(self.notice(message_of(exc)))
                return
            if command.name == "say":
                intent = detect(text)
                if intent is not None:  # a skip in plain words: ask before doing it
                    await self.send_html(
                        render_to_string(
                            "play/_skip_confirm.html", {"intent": intent, "text": text}
                        )
                    )
                    return
            await self.send_html('<div id="skip-confirm" hx-swap-oob="delete"></div>')
            spawn(self.chat_id, self._run(command))
        elif action == "skip":
            await self.send_html('<div id="skip-confirm" hx-swap-oob="delete"></div>')
            spawn(
                self.chat_id,
                time_skip(
                    chat_id=self.chat_id,
                    mode=content.get("mode", "jump"),
                    to=content.get("to", ""),
                    origin=TAB,
                ),
            )
        elif action == "stop":
            turnlock.request_stop(self.chat_id)
        elif action == "regenerate":
            try:
                turn_id = int_field(content, "turn_id")
            except ValueError as exc:
                await self.send_html(self.notice(str(exc)))
                return
            spawn(self.chat_id, pipeline.regenerate(self.chat_id, turn_id, origin=TAB))
        elif action in ("continue", "impersonate"):
            try:
                turnlock.ensure_idle(self.chat_id)
                turn_id = int_field(content, "turn_id") if content.get("turn_id") else None
            except (ValueError, ChatBusy) as exc:
                await self.send_html(self.notice(message_of(exc)))
                return
            if action == "continue":
                work = compose.turn_continue(chat_id=self.chat_id, turn_id=turn_id, origin=TAB)
            else:  # the draft comes back to this tab's message box only
                work = compose.impersonate(chat_id=self.chat_id, origin=TAB, key=self.draft_key)
            spawn(self.chat_id, work)

    async def _run(self, command: commands.Command) -> None:
        """A command from the message box; what it says back goes to this tab (the lines it
        writes reach every tab as they are written)."""
        done = await commands.run(self.chat_id, command, origin=TAB, draft_key=self.draft_key)
        if done.notice:
            await self.send_html(self.notice(done.notice))

    async def send_html(self, html: str) -> None:
        if html:
            await self.send(text_data=html)

    @staticmethod
    def notice(message: str, *, lines: bool = False) -> str:
        words = escape(message)
        if lines:  # a list (/help): one line each
            words = "<br>".join(words.splitlines())
        return (
            f'<div id="notices" hx-swap-oob="beforeend"><p class="notice" role="status">'
            f"{words}</p></div>"
        )

    async def render_refresh(self) -> str:
        return await database_sync_to_async(_render_refresh)(self.chat_id)

    # -- group messages ---------------------------------------------------------------------

    @property
    def draft_key(self) -> str:
        return f"draft-{self.channel_name}"

    async def chat_stream_start(self, event):
        if event.get("continues"):  # Continue: the words go on in the reply's own bubble
            await self.send_html(
                f'<div id="body-{int(event["continues"])}" hx-swap-oob="beforeend">'
                f'<span class="continued" id="stream-{event["key"]}"></span>'
                '<form class="stop-form" ws-send><input type="hidden" name="action" value="stop">'
                '<button id="stop-btn" class="stop" type="submit">Stop</button></form></div>'
                + _composer_state(True)
            )
            return
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
        if event.get("continues"):  # the longer reply takes the shorter one's place
            await self.send_html(await self.render_refresh())
            return
        html = await database_sync_to_async(_render_turn)(self.chat_id, event["turn_id"])
        await self.send_html(
            f'<div id="turnrow-{event["key"]}" hx-swap-oob="outerHTML">{html}</div>'
        )

    async def chat_stream_failed(self, event):
        await self.send_html(
            f'<div id="turnrow-{event["key"]}" hx-swap-oob="outerHTML"></div>'
            + self.notice(event["message"])
        )

    # -- Impersonate: the draft streams into the message box of the tab that asked ------------

    async def chat_draft_start(self, event):
        if event["key"] == self.draft_key:
            await self.send_html('<div id="draft-sink" hx-swap-oob="innerHTML"></div>')

    async def chat_draft_token(self, event):
        if event["key"] == self.draft_key:
            await self.send_html(
                '<div id="draft-sink" hx-swap-oob="beforeend">'
                f'<span class="draft-piece">{escape(event["text"])}</span></div>'
            )

    async def chat_draft_end(self, event):
        if event["key"] != self.draft_key:
            return
        final = escape(event["text"])
        await self.send_html(
            f'<div id="draft-sink" hx-swap-oob="beforeend"><span class="draft-done">{final}'
            "</span></div>" + (self.notice(event["error"]) if event.get("error") else "")
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
