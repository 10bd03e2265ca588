"""One action at a time per chat: whatever arrives while a bot streams is told the chat is busy,
in the same words on a page, in a tab and from the API; whatever arrives while the turn's
bookkeeping finishes waits its turn. The log shows no other action inside a turn."""

import asyncio
import json
import threading
import time

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient, Client

from eventstore.models import Event
from eventstore.replay import verify
from memory.models import Memory
from play.engine import turnlock
from play.engine.errors import ChatBusy
from play.engine.inference.registry import override_backend
from play.engine.inference.scripted import ScriptedBackend
from play.models import Chat
from tests.factories import make_chat
from tests.play.web.test_consumer import communicator, receive_until

BUSY = ChatBusy.MESSAGE


# -- the lock itself ------------------------------------------------------------------------


def test_a_held_chat_is_busy_for_anyone_else_and_free_again_after():
    with turnlock.held(1, turnlock.TAB) as run:
        assert turnlock.current(1) is run and turnlock.is_busy(1)
        with pytest.raises(ChatBusy) as busy, turnlock.held(1, turnlock.API):
            pass
        assert str(busy.value) == BUSY
        with pytest.raises(ChatBusy):
            turnlock.ensure_idle(1)
        with turnlock.held(2, turnlock.API):  # another chat is not held up
            pass
    assert turnlock.current(1) is None


def test_the_lock_is_released_when_the_action_fails():
    with pytest.raises(ValueError), turnlock.held(1, turnlock.API):
        raise ValueError("bad input")
    assert turnlock.current(1) is None


def test_an_action_waits_while_the_turn_only_has_bookkeeping_left():
    order: list[str] = []
    with turnlock.held(1, turnlock.TAB) as run:
        run.phase = "bookkeeping"

        def later():
            with turnlock.held(1, turnlock.API):
                order.append("waiting action")

        waiter = threading.Thread(target=later)
        waiter.start()
        time.sleep(0.2)
        order.append("bookkeeping done")
    waiter.join(5)
    assert order == ["bookkeeping done", "waiting action"]


def test_bookkeeping_that_outlasts_the_wait_is_busy():
    with turnlock.held(1, turnlock.TAB) as run:
        run.phase = "bookkeeping"
        with pytest.raises(ChatBusy), turnlock.held(1, turnlock.API, wait_s=0.1):
            pass


async def test_the_async_twin_waits_without_blocking_the_loop():
    async with turnlock.aheld(1, turnlock.TAB) as run:
        run.phase = "bookkeeping"
        waiting = asyncio.ensure_future(_take(1))
        await asyncio.sleep(0.15)
        assert not waiting.done()  # the loop ran on while it waited
    assert await asyncio.wait_for(waiting, 2) == "taken"
    with turnlock.held(1, turnlock.TAB), pytest.raises(ChatBusy):
        await _take(1)


async def _take(chat_id: int) -> str:
    async with turnlock.aheld(chat_id, turnlock.API):
        return "taken"


# -- actions fired while a turn streams ---------------------------------------------------------


class GatedBackend(ScriptedBackend):
    """While ``gated``: a reply streams its first word and waits for ``release``; an analysis
    waits for ``analyse``."""

    def __init__(self) -> None:
        super().__init__()
        self.gated = False
        self.streaming, self.release = asyncio.Event(), asyncio.Event()
        self.analysing, self.analyse = asyncio.Event(), asyncio.Event()

    async def stream(self, messages, params):
        async for piece in super().stream(messages, params):
            yield piece
            if self.gated:
                self.streaming.set()
                await self.release.wait()

    async def structured(self, messages, schema, params):
        if self.gated:
            self.analysing.set()
            await self.analyse.wait()
        return await super().structured(messages, schema, params)


def _setup() -> dict:
    """A chat with a bot turn that has a swipe, a memory and a snapshot."""
    client = Client()
    chat = make_chat()
    api = f"/api/chats/{chat.pk}"
    bot = client.post(f"{api}/turns", {"text": "Hello."}, content_type="application/json")
    bot = bot.json()["turns"][1]
    assert client.post(f"{api}/turns/{bot['id']}/regenerate").status_code == 200
    snapshot = client.post(f"{api}/snapshots").json()["name"]
    swiped = client.get(f"{api}/transcript").json()["turns"][-1]
    assert swiped["swipe"] == {"index": 2, "total": 2}
    return {
        "chat": chat,
        "swiped": swiped["id"],
        "memory": Memory.objects.filter(chat=chat).order_by("id").first().pk,
        "snapshot": snapshot,
    }


def _log(chat_id: int) -> list[Event]:
    return list(Event.objects.filter(stream_id=chat_id).order_by("id"))


@pytest.mark.django_db(transaction=True, databases=["default", "scratch"])
async def test_a_restore_a_delete_a_pin_and_a_swipe_never_land_inside_a_streaming_turn():
    backend = GatedBackend()
    with override_backend(backend):
        s = await sync_to_async(_setup)()
        chat, client = s["chat"], AsyncClient()
        page, api = f"/chats/{chat.pk}", f"/api/chats/{chat.pk}"
        tab, other_tab = communicator(chat.pk), communicator(chat.pk)
        for comm in (tab, other_tab):
            assert (await comm.connect())[0]
            await receive_until(comm, 'id="transcript"')

        backend.gated = True
        await tab.send_json_to({"action": "send", "text": "Tell me about the lighthouse."})
        await asyncio.wait_for(backend.streaming.wait(), 10)

        # while the bot streams: every surface answers the one busy error, in the same words
        busy = await asyncio.gather(
            client.post(
                f"{page}/snapshots/{s['snapshot']}/restore/", {"confirm": "restore"}, follow=True
            ),
            client.post(f"{page}/remove/", {"confirm": chat.title}, follow=True),
            client.post(f"{page}/memories/{s['memory']}/pin/"),
            client.post(f"{page}/turns/{s['swiped']}/swipe/0/"),
            client.delete(api),
            client.post(f"{api}/turns/{s['swiped']}/swipe?direction=-1"),
            client.post(
                f"{api}/turns/{s['swiped']}/significance",
                {"significance": 2},
                content_type="application/json",
            ),
        )
        restore, remove, pin, swipe, api_delete, api_swipe, api_rerate = busy
        assert [r.status_code for r in busy] == [200, 200, 409, 409, 409, 409, 409]
        for redirected in (restore, remove):  # full pages: the message after the redirect
            assert BUSY in redirected.content.decode()
        for fragment in (pin, swipe):
            assert BUSY in fragment.content.decode()
        for answer in (api_delete, api_swipe, api_rerate):
            assert answer.json()["detail"] == BUSY
        await other_tab.send_json_to({"action": "send", "text": "Me too!"})
        assert BUSY in await receive_until(other_tab, BUSY)

        # while its bookkeeping runs: a pin and a swipe wait their turn, then land
        backend.release.set()
        await asyncio.wait_for(backend.analysing.wait(), 10)
        waiting = [
            asyncio.ensure_future(client.post(f"{page}/memories/{s['memory']}/pin/")),
            asyncio.ensure_future(client.post(f"{api}/turns/{s['swiped']}/swipe?direction=-1")),
        ]
        await asyncio.sleep(0.3)
        assert not any(w.done() for w in waiting)
        backend.analyse.set()
        late_pin, late_swipe = await asyncio.wait_for(asyncio.gather(*waiting), 20)
        assert (late_pin.status_code, late_swipe.status_code) == (204, 200)
        for comm in (tab, other_tab):
            await comm.disconnect()

    log = await sync_to_async(_log)(chat.pk)
    user = next(e for e in log if e.kind == "user_turn" and "lighthouse" in e.payload["text"])
    reply = next(e for e in log if e.kind == "assistant_turn" and e.caused_by_id == user.pk)
    inside = [e for e in log if user.pk < e.pk < reply.pk]
    assert all(e.caused_by_id == user.pk for e in inside), [e.kind for e in inside]
    assert reply.branch_id == user.branch_id
    bookkept = next(e for e in log if e.kind == "turn_bookkept" and e.caused_by_id == reply.pk)
    pinned = [e for e in log if e.kind == "memory_pinned"]
    assert len(pinned) == 1 and pinned[0].pk > bookkept.pk  # after the turn, not inside it
    rerated = [e for e in log if e.kind == "memory_significance_set" and e.payload.get("by")]
    assert rerated == []  # the busy re-rate left nothing
    assert "Me too!" not in json.dumps([e.payload for e in log if e.kind == "user_turn"])
    assert await sync_to_async(Chat.objects.filter(pk=chat.pk).exists)()
    assert await sync_to_async(verify)(chat.pk) == []
    assert turnlock.current(chat.pk) is None
