"""Page data for the play screen: avatars on turns, scene dividers, the analysis notice,
what this turn changed on each edge, and the memory panel (pinned + search)."""

import json
import re

import pytest
from django.core.files.base import ContentFile

from eventstore.services import append
from memory.models import Memory
from play.engine.inference import InferenceError
from play.models import Turn
from play.web import presenters
from tests.factories import make_character, make_chat
from worlds.cards import placeholder_png

pytestmark = pytest.mark.django_db


def post(client, url, data=None):
    response = client.post(url, json.dumps(data or {}), content_type="application/json")
    assert response.status_code in (200, 201), response.content
    return response.json()


def test_an_imported_avatar_shows_on_turns_cast_and_graph(client, scripted):
    chat = make_chat()
    chat.character.avatar.save("mara.png", ContentFile(placeholder_png("Mara")), save=True)
    url = chat.character.avatar.url
    rows = presenters.turn_rows(chat, list(Turn.objects.filter(chat=chat)))
    assert rows[0]["avatar"] == url and rows[0]["bot"]
    page = client.get(f"/chats/{chat.pk}/").content.decode()
    assert f'<img src="{url}"' in page
    graph = presenters.relationship_graph(chat.pk)
    assert {n["role"]: n["avatar"] for n in graph["nodes"]} == {"you": "", "host": url}
    assert [c["avatar"] for c in presenters.cast(chat.pk) if c["role"] == "host"] == [url]


def test_a_scene_change_puts_a_divider_before_the_first_turn_of_the_new_scene(client, scripted):
    chat = make_chat()
    scripted.narrative.append("See you at dawn.")
    scripted.structured_replies.append({"scene": {"minutes_passed": 600}})
    post(client, f"/api/chats/{chat.pk}/turns", {"text": "Good night, Mara."})
    scripted.narrative.append("Morning!")
    post(client, f"/api/chats/{chat.pk}/turns", {"text": "Morning, Mara."})
    rows = presenters.turn_rows(chat, list(Turn.objects.filter(chat=chat).order_by("id")))
    dividers = [r for r in rows if r["divider"]]
    assert [r["turn"].text for r in dividers] == ["Morning, Mara."]
    assert (
        dividers[0]["turn"].scene == 2 and dividers[0]["when"] == "Sun 13 Oct, 00:00"
    )  # 180 minutes at most
    page = client.get(f"/chats/{chat.pk}/").content.decode()
    assert page.count('class="divider scene-divider"') == 1


def test_a_failed_analysis_shows_on_its_turn_and_a_good_one_marks_its_changes(client, scripted):
    chat = make_chat()
    scripted.narrative.append("Hm.")
    scripted.structured_replies.append(InferenceError("no JSON object"))
    turns = post(client, f"/api/chats/{chat.pk}/turns", {"text": "Mara?"})["turns"]
    bot = turns[-1]["id"]
    failures = presenters.analysis_failures(chat.pk, {bot})
    assert "no JSON" in failures[bot]
    row = presenters.turn_row(chat, Turn.objects.get(pk=bot))
    assert row["retry_url"] == f"/chats/{chat.pk}/turns/{bot}/analysis/retry/"
    html = client.get(f"/chats/{chat.pk}/").content.decode()
    assert "State not updated: no JSON" in html
    assert presenters.recent_analysis(chat.pk)["failed"][0]["turn_id"] == bot
    # a turn whose analysis worked: no notice, and its deltas marked on the edges
    scripted.narrative.append("Fine.")
    scripted.structured_replies.append(
        {"edges": [{"source": "host", "target": "you", "affinity_delta": -3, "trust_delta": 2}]}
    )
    post(client, f"/api/chats/{chat.pk}/turns", {"text": "Mara, really?"})
    graph = presenters.relationship_graph(chat.pk)
    marks = {(e["source_role"], e["target_role"]): e["marks"] for e in graph["edges"]}
    assert marks[("host", "you")] == [
        {"what": "affinity", "up": False, "by": 3},
        {"what": "trust", "up": True, "by": 2},
    ]
    assert marks[("you", "host")] == []


def test_memories_show_pinned_ones_once_per_thing_and_a_search(client, scripted):
    chat = make_chat()
    scripted.narrative.append("*Mara laughs.* The **lighthouse** keeper? Gone.")
    post(client, f"/api/chats/{chat.pk}/turns", {"text": "Who keeps the lighthouse?"})
    assert presenters.memory_groups(chat.pk) == []  # nothing pinned yet
    memory = Memory.objects.filter(chat=chat, text__contains="lighthouse").first()
    append(stream=chat, kind="memory_pinned", payload={"memory_id": memory.pk, "pinned": True})
    pinned = presenters.memory_groups(chat.pk)
    assert len(pinned) == 1 and pinned[0]["copies"][0]["pinned"]
    found = client.get(f"/chats/{chat.pk}/memories/?q=lighthouse").content.decode()
    shown = re.sub(r"<textarea.*?</textarea>", "", found, flags=re.S)  # the editor's raw words
    assert "<em>Mara laughs.</em>" in shown and "*Mara" not in shown  # markdown, not asterisks
    assert "*Mara laughs.*" in found  # the words to edit are the words as written
    assert found.count('class="memory"') == len(
        {
            (m.turn_id, m.text)
            for m in Memory.objects.filter(chat=chat, text__icontains="lighthouse")
        }
    )
    assert "mention “lighthouse”" in found
    nothing = client.get(f"/chats/{chat.pk}/memories/?q=zeppelin").content.decode()
    assert "0 memories mention" in nothing


def test_a_guest_who_left_is_faded_with_their_edges(client, scripted):
    chat = make_chat()
    theo = make_character("Theo")
    scripted.structured_replies.append({"met": False})
    post(client, f"/api/chats/{chat.pk}/guest", {"character": theo.pk})
    graph = presenters.relationship_graph(chat.pk)
    assert len(graph["edges"]) == 6 and all(e["present"] for e in graph["edges"])
    assert graph["group"] is not None and graph["group"]["present"]
    assert client.delete(f"/api/chats/{chat.pk}/guest").status_code == 200
    graph = presenters.relationship_graph(chat.pk)
    nodes = {n["role"]: n["present"] for n in graph["nodes"]}
    assert nodes == {"you": True, "host": True, "guest": False}
    away = {(e["source_role"], e["target_role"]) for e in graph["edges"] if not e["present"]}
    assert away == {("you", "guest"), ("guest", "you"), ("host", "guest"), ("guest", "host")}
    assert not graph["group"]["present"]
    page = client.get(f"/chats/{chat.pk}/").content.decode()
    assert 'class="entity absent" data-role="guest"' in page
