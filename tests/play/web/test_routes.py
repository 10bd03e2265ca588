"""Every route the site offers is reached by a test: the page actions and API calls no other
test file posts to, and a check that names any route added without one."""

import json
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver

from eventstore.models import Branch, Event
from memory.models import Memory
from play.models import Chat, Turn
from play.web.views import _done
from tests.factories import make_character, make_chat, make_persona
from tests.play.web.test_turn_actions import post, send
from worlds.models import EntityState, StoryEvent, Thread

pytestmark = pytest.mark.django_db(databases=["default", "scratch"])

TESTS = Path(__file__).resolve().parents[2]  # tests/


def routes(resolver=None, prefix=""):
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            yield from routes(pattern, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.name


def route_pattern(route: str) -> str:
    """A regex for the route as tests write it: each parameter any value (or an f-string's
    ``{…}``), and any leading part of it may be a ``{…}`` that holds it (``f"{api}/stop"``)."""
    literal = route.removeprefix("^").removesuffix("$")
    literal = re.sub(r"\(\?P<[^>]+>[^)]*\)", "<*>", literal)  # a path: slashes too
    parts = literal.strip("/").split("/")
    value = {"<*>": r"[^\s\"']+"}
    segments = [value.get(p, r"[^\s\"'/]+") if "<" in p else re.escape(p) for p in parts]
    end = "/" if literal.endswith("/") else r"(?![\w/])"  # a page's slash, or the API's end
    ways = ["/" + "/".join(segments)]
    for k in range(1, len(parts)):
        if any("<" not in p for p in parts[k:]):
            ways.append(r"\{[^}]+\}/" + "/".join(segments[k:]))
    return "(?:" + "|".join(ways) + ")" + end


def test_every_route_is_reached_by_some_test():
    source = "\n".join(p.read_text() for p in TESTS.rglob("test_*.py"))
    missing = [
        f"{route} ({name})"
        for route, name in routes()
        if not route.startswith("admin/")  # Django's own
        and not re.search(route_pattern(route), source)
    ]
    assert missing == []


# -- pages ------------------------------------------------------------------------------------


def test_a_sillytavern_chat_is_imported_from_the_home_page(client):
    make_character("Mara")
    rows = [
        {"user_name": "Sam", "character_name": "Mara"},
        {"name": "Mara", "is_user": False, "mes": "*waves* Hi there."},
        {"name": "Sam", "is_user": True, "mes": "Where is the keeper?"},
        {"name": "Mara", "is_user": False, "mes": "He went to the mainland."},
    ]
    data = "\n".join(json.dumps(r) for r in rows).encode()
    upload = SimpleUploadedFile("chat.jsonl", data, content_type="application/jsonl")
    response = client.post("/chats/import/", {"file": upload})
    chat = Chat.objects.latest("pk")
    assert response.status_code == 302 and response["Location"] == f"/chats/{chat.pk}/"
    texts = list(Turn.objects.filter(chat=chat).order_by("id").values_list("text", flat=True))
    assert texts[-1] == "He went to the mainland." and len(texts) == 3
    refused = client.post("/chats/import/", {}, follow=True)
    assert "Choose a SillyTavern chat file" in refused.content.decode()


def test_a_thread_and_a_story_event_are_opened_from_the_drawer(client):
    chat = make_chat()
    opened = client.post(f"/chats/{chat.pk}/threads/", {"action": "open", "title": "The map"})
    assert opened.status_code == 204
    assert Thread.objects.get(chat=chat).title == "The map"
    again = client.post(f"/chats/{chat.pk}/threads/", {"action": "resolve", "key": "nothing"})
    assert again.status_code == 400 and b"does not apply" in again.content
    planned = client.post(
        f"/chats/{chat.pk}/story-events/", {"action": "plan", "title": "Picnic", "props": "rug"}
    )
    assert planned.status_code == 204
    assert StoryEvent.objects.get(chat=chat).props == ["rug"]


def test_a_swipe_and_a_branch_are_chosen_from_the_page(client, scripted):
    chat = make_chat()
    scripted.narrative += ["First answer.", "Second answer."]
    bot = send(client, chat)[1]
    assert post(client, f"/api/chats/{chat.pk}/turns/{bot['id']}/regenerate").status_code == 200
    second = Turn.objects.filter(chat=chat).last()
    assert second.text == "Second answer."
    assert client.post(f"/chats/{chat.pk}/turns/{second.pk}/swipe/0/").status_code == 204
    assert Turn.objects.filter(chat=chat).last().text == "First answer."
    beyond = client.post(f"/chats/{chat.pk}/turns/{bot['id']}/swipe/0/")
    assert beyond.status_code == 400 and b"no swipe in that direction" in beyond.content

    shown = Chat.objects.get(pk=chat.pk).active_branch_id
    other = Branch.objects.filter(stream=chat).exclude(pk=shown).latest("pk")
    assert client.post(f"/chats/{chat.pk}/branches/{other.pk}/activate/").status_code == 204
    assert Chat.objects.get(pk=chat.pk).active_branch_id == other.pk
    assert Turn.objects.filter(chat=chat).last().text == "Second answer."
    missing = client.post(f"/chats/{chat.pk}/branches/999999/activate/")
    assert missing.status_code == 404


def test_who_witnessed_a_memory_is_set_from_the_drawer(client, scripted):
    chat = make_chat()
    send(client, chat)
    memory = Memory.objects.filter(chat=chat, w_host=True, w_you=True).first()
    url = f"/chats/{chat.pk}/memories/{memory.pk}/witnesses/"
    assert client.post(url, {"you": "on"}).status_code == 204
    memory.refresh_from_db()
    assert (memory.w_you, memory.w_host, memory.w_guest) == (True, False, False)
    edits = Event.objects.filter(stream=chat, kind="manual_edit").count()
    assert client.post(url, {"you": "on"}).status_code == 204  # nothing changed: no event
    assert Event.objects.filter(stream=chat, kind="manual_edit").count() == edits == 1


def test_an_unknown_meanwhile_action_is_refused(client):
    chat = make_chat()
    response = client.post(f"/chats/{chat.pk}/meanwhile/", {"action": "dance"})
    assert response.status_code == 400 and b"unknown meanwhile action" in response.content


def test_bad_numbers_in_a_page_request_are_a_400(client):
    chat = make_chat()
    earlier = client.get(f"/chats/{chat.pk}/transcript/?before=soon")
    assert earlier.status_code == 400 and b"before must be a whole number" in earlier.content
    setup = json.dumps({"containers": [{"key": "car"}], "location": "car"})
    form = {"character": make_character().pk, "persona": make_persona().pk}
    created = client.post("/chats/create/", {**form, "setup_json": setup, "greeting": "first"})
    assert created.status_code == 400


def test_a_notice_escapes_its_message(rf):
    assert (
        _done(rf.post("/"), "<b>5 > 3</b>").content
        == b'<p class="notice">&lt;b&gt;5 &gt; 3&lt;/b&gt;</p>'
    )


# -- the API ----------------------------------------------------------------------------------


def test_stop_archive_and_snapshots_through_the_api(client):
    chat = make_chat()
    api = f"/api/chats/{chat.pk}"
    assert post(client, f"{api}/stop").json() == {"stopping": False}  # nothing is writing
    assert post(client, f"{api}/archive").json()["archived"] is True
    assert [c["id"] for c in client.get("/api/chats?archived=true").json()["chats"]] == [chat.pk]
    assert post(client, f"{api}/archive?archived=false").json()["archived"] is False
    made = post(client, f"{api}/snapshots")
    assert made.status_code == 201
    listed = client.get(f"{api}/snapshots").json()["snapshots"]
    assert [s["name"] for s in listed] == [made.json()["name"]]


def test_a_turn_is_rerated_hidden_and_its_analysis_retried_through_the_api(client, scripted):
    chat = make_chat()
    bot = send(client, chat)[1]
    api = f"/api/chats/{chat.pk}/turns"
    rerated = post(client, f"{api}/{bot['id']}/significance", {"significance": 3})
    assert rerated.json()["turn"]["significance"] == 3
    assert Memory.objects.filter(chat=chat, pinned=True).exists()  # pivotal: pinned
    too_high = post(client, f"{api}/{bot['id']}/significance", {"significance": 4})
    assert too_high.status_code == 400
    assert too_high.json()["detail"] == "significance is 0 (routine) to 3 (pivotal)"
    assert post(client, f"{api}/999999/significance", {"significance": 1}).status_code == 404
    hidden = post(client, f"{api}/{bot['id']}/hide", {"hidden": True})
    assert hidden.json()["turn"]["hidden"] is True
    retry = post(client, f"{api}/{bot['id']}/analysis/retry")
    assert retry.status_code == 400 and "nothing to retry" in retry.json()["detail"]


def test_the_drawer_hand_edits_a_mood_and_refuses_an_unknown_target(client, scripted):
    chat = make_chat()
    done = client.post(
        f"/chats/{chat.pk}/state/", {"target": "entity", "role": "host", "mood": "wistful"}
    )
    assert done.status_code in (200, 204), done.content
    assert EntityState.objects.get(chat=chat, role="host").mood == "wistful"
    refused = client.post(f"/chats/{chat.pk}/state/", {"target": "edges"}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 400


def test_a_line_is_edited_and_its_preview_read_from_the_page(client, scripted):
    chat = make_chat()
    mine = send(client, chat, "We left the keys on the boat.")[0]
    preview = client.post(
        f"/chats/{chat.pk}/turns/{mine['id']}/edit/preview/", {"text": "We left the map."}
    )
    assert preview.status_code == 200, preview.content
    saved = client.post(
        f"/chats/{chat.pk}/turns/{mine['id']}/edit/", {"text": "We left the map on the boat."}
    )
    assert saved.status_code == 200, saved.content
    edited = Turn.objects.get(pk=saved.json()["turn_id"])
    assert edited.text == "We left the map on the boat."


def test_continue_from_the_page_answers_at_once_and_refuses_a_missing_chat(client, scripted):
    chat = make_chat()
    bot = send(client, chat, "Tell me.")[-1]
    assert client.post(f"/chats/{chat.pk + 999}/turns/{bot['id']}/continue/").status_code == 404
    answered = client.post(f"/chats/{chat.pk}/turns/{bot['id']}/continue/")
    assert answered.status_code == 202
