"""The prompt inspector traces every line of a prompt to the events it came from."""

import json

import pytest

from tests.factories import make_chat

pytestmark = pytest.mark.django_db


def test_each_prompt_line_names_its_sources_in_the_json_and_on_the_page(client, scripted):
    chat = make_chat()
    scripted.narrative += ["First reply.", "Second reply."]
    scripted.structured_replies += [
        {
            "edges": [{"source": "host", "target": "you", "knowledge_facts": ["Sam keeps bees"]}],
            "threads": [{"action": "open", "title": "The missing hive", "notes": "who took it"}],
        }
    ]
    url = f"/api/chats/{chat.pk}/turns"
    first = client.post(url, json.dumps({"text": "I keep bees."}), content_type="application/json")
    said = first.json()["turns"][0]["id"]
    second = client.post(url, json.dumps({"text": "A hive went missing."}), "application/json")
    reply = second.json()["turns"][-1]["id"]
    prompt = client.get(f"/api/chats/{chat.pk}/turns/{reply}/prompt").json()
    lines = {s["name"]: s["lines"] for s in prompt["sections"]}
    knows = next(x for x in lines["edge to you"] if "Sam keeps bees" in x["text"])
    assert said in knows["sources"]  # the fact came from lines that include the user's
    thread = next(x for x in lines["active threads"] if "missing hive" in x["text"])
    assert thread["sources"]
    dialogue = [x for x in lines["recent dialogue"] if "A hive went missing." in x["text"]]
    assert dialogue and dialogue[0]["sources"] == [second.json()["turns"][0]["id"]]
    assert all(x["sources"] == [] for x in lines["world"])  # perceivable, not derived
    page = client.get(f"/chats/{chat.pk}/turns/{reply}/prompt/").content.decode()
    assert f'href="/chats/{chat.pk}/#turn-{said}"' in page
    assert "Sam keeps bees" in page
