"""What a turn shows and offers: a failed analysis ("state not updated: …" with a retry),
narrator lines (skips) with only the actions that work, the greeting's inspector."""

import asyncio
import json
from io import StringIO

import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command

from eventstore.models import Branch
from play.engine import turnlock
from play.engine.inference import EndpointTimeout
from play.engine.inference.registry import override_backend
from play.engine.inference.scripted import ScriptedBackend
from play.models import Chat, Turn
from tests.factories import edge_of, make_chat
from tests.play.web.test_consumer import communicator, receive_until

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "scratch"])


def post(client, path, data=None):
    return client.post(path, json.dumps(data or {}), content_type="application/json")


def send(client, chat, text="Hello there"):
    response = post(client, f"/api/chats/{chat.pk}/turns", {"text": text})
    assert response.status_code == 200, response.content
    return response.json()["turns"]


def transcript(client, chat):
    return {t["id"]: t for t in client.get(f"/api/chats/{chat.pk}/transcript").json()["turns"]}


def row(client, chat, turn_id) -> str:
    page = client.get(f"/chats/{chat.pk}/").content.decode()
    start = page.index(f'id="turn-{turn_id}"')
    return page[start : page.index("</article>", start)]


def verify_clean(chat):
    out = StringIO()
    call_command("replay", "--verify", "--chat", str(chat.pk), stdout=out, stderr=StringIO())
    assert "replay matches live state" in out.getvalue()


def test_a_failed_analysis_shows_on_its_turn_and_a_retry_lands_it(client, scripted):
    chat = make_chat()
    scripted.structured_replies.append(EndpointTimeout("timed out after 10 s"))
    bot = send(client, chat)[1]
    assert transcript(client, chat)[bot["id"]]["analysis_error"] == "timed out after 10 s"
    html = row(client, chat, bot["id"])
    assert "State not updated: timed out after 10 s" in html
    assert f"/chats/{chat.pk}/turns/{bot['id']}/analysis/retry/" in html
    assert edge_of(chat, "host", "you").affinity == 0

    scripted.structured_replies.append(
        {"significance": 2, "edges": [{"source": "host", "target": "you", "affinity_delta": 5}]}
    )
    retried = post(client, f"/api/chats/{chat.pk}/turns/{bot['id']}/analysis/retry")
    assert retried.json() == {"turn_id": bot["id"], "analysis": "ok", "reason": ""}
    assert edge_of(chat, "host", "you").affinity == 5
    assert Turn.objects.get(pk=bot["id"]).significance == 2
    assert "analysis_error" not in transcript(client, chat)[bot["id"]]
    assert "State not updated" not in row(client, chat, bot["id"])
    verify_clean(chat)

    # nothing left to retry: refused, nothing applied twice
    again = post(client, f"/api/chats/{chat.pk}/turns/{bot['id']}/analysis/retry")
    assert again.status_code == 400 and "nothing to retry" in again.json()["detail"]
    assert edge_of(chat, "host", "you").affinity == 5


def test_a_retry_that_fails_again_says_why(client, scripted):
    chat = make_chat()
    scripted.structured_replies.append(EndpointTimeout("timed out after 10 s"))
    bot = send(client, chat)[1]
    scripted.structured_replies.append(EndpointTimeout("the model endpoint did not answer"))
    retried = post(client, f"/api/chats/{chat.pk}/turns/{bot['id']}/analysis/retry").json()
    assert retried["analysis"] == "failed" and "did not answer" in retried["reason"]
    assert "did not answer" in transcript(client, chat)[bot["id"]]["analysis_error"]


def test_the_failure_belongs_to_the_branch_it_happened_on(client, scripted):
    chat = make_chat()
    scripted.structured_replies.append(EndpointTimeout("timed out after 10 s"))
    first = send(client, chat)[1]
    second = send(client, chat, "And now?")[1]
    post(client, f"/api/chats/{chat.pk}/turns/{first['id']}/analysis/retry")
    assert "analysis_error" not in transcript(client, chat)[first["id"]]
    # on a branch that ends before the retry, the analysis still failed
    post(client, f"/api/chats/{chat.pk}/turns/{second['id']}/rewind")
    rewound = Chat.objects.get(pk=chat.pk)
    assert Branch.objects.get(pk=rewound.active_branch_id).kind == "rewind"
    assert transcript(client, chat)[first["id"]]["analysis_error"] == "timed out after 10 s"


def skip_to_morning(client, chat):
    response = post(
        client, f"/api/chats/{chat.pk}/skip", {"mode": "jump", "to": "the next morning"}
    )
    assert response.status_code == 200, response.content
    return next(t for t in transcript(client, chat).values() if t["speaker"] == "narrator")


def test_a_narrator_line_offers_only_the_actions_that_work(client, scripted):
    chat = make_chat()
    send(client, chat)
    narrator = skip_to_morning(client, chat)
    html = row(client, chat, narrator["id"])
    assert "Regenerate" not in html and "Prompt" not in html and "Delete" not in html
    assert "Rewind to here" in html and "Branch from here" in html and "Hide" in html

    branch = Chat.objects.get(pk=chat.pk).active_branch_id
    refused = post(client, f"/api/chats/{chat.pk}/turns/{narrator['id']}/regenerate")
    assert refused.status_code == 400 and "only a bot's turn" in refused.json()["detail"]
    assert Chat.objects.get(pk=chat.pk).active_branch_id == branch  # no silent switch
    assert client.get(f"/chats/{chat.pk}/turns/{narrator['id']}/regenerate/").status_code == 405

    hidden = client.post(f"/chats/{chat.pk}/turns/{narrator['id']}/hide/")
    assert hidden.status_code in (200, 204)
    assert transcript(client, chat)[narrator["id"]]["hidden"] is True
    rewound = post(client, f"/api/chats/{chat.pk}/turns/{narrator['id']}/rewind")
    assert rewound.status_code == 200
    assert narrator["id"] in transcript(client, chat)
    verify_clean(chat)


def test_the_greeting_has_no_prompt_link_and_its_inspector_says_what_it_is(client, scripted):
    chat = make_chat()
    greeting = next(iter(transcript(client, chat).values()))
    html = row(client, chat, greeting["id"])
    assert "Prompt</a>" not in html and "Regenerate" in html
    page = client.get(f"/chats/{chat.pk}/turns/{greeting['id']}/prompt/").content.decode()
    assert "greeting" in page and "no prompt to show" in page
    assert "model: ?" not in page

    bot = send(client, chat)[1]
    assert "Prompt</a>" in row(client, chat, bot["id"])


async def test_an_open_tab_gets_the_failed_analysis_notice_at_once():
    chat = await sync_to_async(make_chat)()
    backend = ScriptedBackend(structured=[EndpointTimeout("timed out after 10 s")])
    with override_backend(backend):
        comm = communicator(chat.pk)
        assert (await comm.connect())[0]
        await receive_until(comm, 'id="transcript"')
        await comm.send_json_to({"action": "send", "text": "Hello?"})
        # (the first turn of a process loads the query embedder: a generous wait)
        seen = await receive_until(comm, "State not updated: timed out after 10 s", timeout=60)
        bot = await sync_to_async(
            lambda: Turn.objects.filter(chat=chat, speaker="host").order_by("-id").first()
        )()
        # the redrawn drawer carries the notice; the page puts it on the turn
        assert f'data-for-turn="{bot.id}"' in seen
        await comm.disconnect()
        while turnlock.current(chat.pk):
            await asyncio.sleep(0.05)
