"""The websocket: a tab sends, every tab receives; the last tab closing stops the bot and
keeps what it wrote, truncated."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.urls import path

from play.engine import turnlock
from play.engine.inference import base
from play.engine.inference.registry import override_backend
from play.engine.inference.scripted import ScriptedBackend
from play.models import Turn
from play.web.consumers import ChatConsumer
from tests.factories import make_chat
from worlds.models import WorldState

pytestmark = pytest.mark.django_db(transaction=True)

LONG = " ".join(f"word{i}" for i in range(300))


def communicator(chat_id: int) -> WebsocketCommunicator:

    app = URLRouter([path("ws/chats/<int:chat_id>/", ChatConsumer.as_asgi())])
    return WebsocketCommunicator(app, f"/ws/chats/{chat_id}/")


async def receive_until(comm: WebsocketCommunicator, needle: str, timeout: float = 10) -> str:
    seen = ""
    while needle not in seen:
        seen += await comm.receive_from(timeout=timeout)
    return seen


async def test_the_last_tab_closing_commits_the_partial_reply_truncated():
    chat = await sync_to_async(make_chat)()
    with override_backend(ScriptedBackend(narrative=[LONG], token_delay=0.01)):
        comm = communicator(chat.pk)
        connected, _ = await comm.connect()
        assert connected
        await receive_until(comm, 'id="transcript"')  # the re-sync on connect
        await comm.send_json_to({"action": "send", "text": "Tell me a long story."})
        await receive_until(comm, "word3")
        await comm.disconnect()
        for _ in range(200):
            if not turnlock.current(chat.pk):
                break
            await asyncio.sleep(0.05)
    bot = await sync_to_async(
        lambda: Turn.objects.filter(chat=chat, speaker="host").order_by("-id").first()
    )()
    assert bot.truncated and "word3" in bot.text and "word299" not in bot.text


async def test_two_tabs_both_receive_the_tokens_and_the_new_turn():
    chat = await sync_to_async(make_chat)()
    with override_backend(ScriptedBackend(narrative=["The harbour lights are out."])):
        a, b = communicator(chat.pk), communicator(chat.pk)
        for comm in (a, b):
            assert (await comm.connect())[0]
            await receive_until(comm, 'id="transcript"')
        await a.send_json_to({"action": "send", "text": "What happened to the lights?"})
        for comm in (a, b):
            seen = await receive_until(comm, '<article class="turn turn-host')
            assert "What happened to the lights?" in seen and "harbour" in seen
        for comm in (a, b):
            await comm.disconnect()
        for _ in range(100):
            if not turnlock.current(chat.pk):
                break
            await asyncio.sleep(0.05)


async def test_an_empty_message_asks_for_a_reply_and_writes_no_line_of_yours():
    chat = await sync_to_async(make_chat)()
    with override_backend(ScriptedBackend(narrative=["*Mara hums along to the radio.*"])):
        comm = communicator(chat.pk)
        await comm.connect()
        await receive_until(comm, 'id="transcript"')
        await comm.send_json_to({"action": "send", "text": "   "})
        assert "hums along" in await receive_until(comm, "hums along")
        await comm.disconnect()
    assert await sync_to_async(Turn.objects.filter(chat=chat, speaker="you").count)() == 0
    bots = await sync_to_async(Turn.objects.filter(chat=chat, speaker="host").count)()
    assert bots == 2  # the greeting and the reply


async def test_help_and_unknown_commands_answer_this_tab_and_send_nothing():
    chat = await sync_to_async(make_chat)()
    comm = communicator(chat.pk)
    await comm.connect()
    await receive_until(comm, 'id="transcript"')
    await comm.send_json_to({"action": "send", "text": "/help"})
    helped = await receive_until(comm, "notice")
    assert "/impersonate" in helped and "/sys" in helped
    await comm.send_json_to({"action": "send", "text": "/dance wildly"})
    assert "unknown command /dance" in await receive_until(comm, "notice")
    await comm.disconnect()
    assert await sync_to_async(Turn.objects.filter(chat=chat, speaker="you").count)() == 0


async def test_a_skip_in_plain_words_is_confirmed_before_it_is_applied():

    chat = await sync_to_async(make_chat)()
    with override_backend(ScriptedBackend()):
        comm = communicator(chat.pk)
        await comm.connect()
        await receive_until(comm, 'id="transcript"')
        await comm.send_json_to({"action": "send", "text": "Let's skip to the next morning."})
        confirm = await receive_until(comm, "skip-confirm")
        assert "skip to the next morning" in confirm
        assert await sync_to_async(Turn.objects.filter(chat=chat, speaker="you").count)() == 0
        await comm.send_json_to({"action": "skip", "mode": "jump", "to": "the next morning"})
        for _ in range(100):
            world = await sync_to_async(WorldState.objects.get)(chat=chat)
            if world.story_time == "2024-10-13T08:00" and not turnlock.current(chat.pk):
                break
            await asyncio.sleep(0.05)
        assert world.story_time == "2024-10-13T08:00"
        await comm.disconnect()


@pytest.mark.parametrize(
    "error",
    ["EndpointDown", "ServerError", "EndpointTimeout", "RateLimited", "Refusal", "EmptyCompletion"],
)
async def test_a_failing_model_shows_a_clear_notice_and_frees_the_chat(error):

    chat = await sync_to_async(make_chat)()
    failure = getattr(base, error)(f"the endpoint said no ({error})")
    if error == "RateLimited":  # too long a wait to retry: it fails at once
        failure = base.RateLimited(f"the endpoint said no ({error})", retry_after=60)
    with override_backend(ScriptedBackend(narrative=[failure])):
        comm = communicator(chat.pk)
        await comm.connect()
        await receive_until(comm, 'id="transcript"')
        await comm.send_json_to({"action": "send", "text": "Hello?"})
        seen = await receive_until(comm, f"({error})")
        assert "notice" in seen
        seen = await receive_until(comm, ">Send</button>")  # the composer is enabled again
        await comm.disconnect()
    assert turnlock.current(chat.pk) is None
    assert await sync_to_async(Turn.objects.filter(chat=chat, text="Hello?").exists)()


async def test_a_regenerate_without_a_valid_turn_id_is_a_notice_not_a_crash():
    chat = await sync_to_async(make_chat)()
    comm = communicator(chat.pk)
    await comm.connect()
    await receive_until(comm, 'id="transcript"')
    await comm.send_json_to({"action": "regenerate", "turn_id": "seven"})
    assert "turn_id must be a whole number" in await receive_until(comm, "notice")
    await comm.send_json_to({"action": "regenerate"})
    assert "turn_id is missing" in await receive_until(comm, "is missing")
    await comm.disconnect()
