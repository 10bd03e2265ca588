"""Longer scripted sessions through the API: replay --verify stays clean; SSE streaming."""

import asyncio
import json
from io import StringIO

import pytest
from django.core.management import call_command

from play.engine import turnlock
from play.engine.errors import ChatBusy
from play.models import Turn
from tests.factories import make_chat

pytestmark = pytest.mark.django_db(databases=["default", "scratch"])


def post(client, url, data=None, **extra):
    return client.post(url, json.dumps(data or {}), content_type="application/json", **extra)


def test_replay_verify_is_clean_after_a_session_with_swipes_and_rewinds(client, scripted):
    chat = make_chat()
    ids = []
    for i in range(6):
        scripted.narrative.append(f"reply {i}")
        scripted.structured_replies.append(
            {
                "significance": i % 4,
                "edges": [{"source": "host", "target": "you", "affinity_delta": i}],
            }
        )
        ids.append(
            post(client, f"/api/chats/{chat.pk}/turns", {"text": f"msg {i}"}).json()["turns"][1][
                "id"
            ]
        )
    for _ in range(2):
        last = Turn.objects.filter(chat=chat, speaker="host").order_by("-id").first()
        post(client, f"/api/chats/{chat.pk}/turns/{last.id}/regenerate")
    post(client, f"/api/chats/{chat.pk}/turns/{last.id}/swipe?direction=-1")
    post(client, f"/api/chats/{chat.pk}/turns/{ids[2]}/rewind")
    post(client, f"/api/chats/{chat.pk}/turns", {"text": "a new direction"})
    post(client, f"/api/chats/{chat.pk}/turns/{ids[1]}/branch")
    out = StringIO()
    call_command("replay", "--verify", stdout=out)
    assert "replay matches live state" in out.getvalue()
    assert "difference" not in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_turns_stream_as_server_sent_events_when_asked(client, scripted):
    chat = make_chat()
    scripted.narrative.append("Streaming words arrive one by one.")
    response = post(
        client, f"/api/chats/{chat.pk}/turns", {"text": "go"}, HTTP_ACCEPT="text/event-stream"
    )
    assert response["Content-Type"] == "text/event-stream"

    async def collect():
        return b"".join([chunk async for chunk in response.streaming_content])

    body = asyncio.run(collect()).decode()
    events = [block.split("\n") for block in body.strip().split("\n\n")]
    kinds = [lines[0].removeprefix("event: ") for lines in events]
    assert kinds[0] == "stream_start" and kinds[-1] == "done"
    tokens = [
        json.loads(lines[1].removeprefix("data: "))["text"]
        for lines in events
        if lines[0] == "event: token"
    ]
    assert "".join(tokens).strip() == "Streaming words arrive one by one."
    done = json.loads(events[-1][1].removeprefix("data: "))
    assert done["turns"][1]["text"] == "Streaming words arrive one by one."


def test_a_busy_chat_answers_409(client, scripted):

    chat = make_chat()
    with turnlock.held(chat.pk, turnlock.TAB) as run:
        run.phase = "streaming"
        response = post(client, f"/api/chats/{chat.pk}/turns", {"text": "hello?"})
    assert response.status_code == 409
    assert response.json()["detail"] == ChatBusy.MESSAGE
