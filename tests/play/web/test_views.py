"""The pages a user clicks through: new story with the confirm screen, list, archive, delete,
settings with a connection test, the prompt inspector."""

import json

import pytest

from eventstore.models import Event
from eventstore.services import append
from memory.models import VectorIndexState
from play.models import Chat
from play.web.views import PAGE_TURNS
from rpsite.config import load_config
from tests.factories import make_character, make_chat, make_persona, make_scenario
from tests.fakeopenai import FakeOpenAI
from worlds.models import Container, Persona

pytestmark = pytest.mark.django_db


def test_a_new_story_goes_through_the_kickoff_parse_and_the_confirm_screen(client, scripted):
    character, persona, scenario = make_character(), make_persona(), make_scenario()
    scripted.structured_replies.append(
        {
            "containers": [
                {
                    "key": "car",
                    "name": "Mara's car",
                    "slots": ["driver", "passenger"],
                    "moving": True,
                }
            ],
            "location": "car",
            "activities": [
                {
                    "role": "host",
                    "slot": "driver",
                    "verb": "driving",
                    "holding": ["steering wheel"],
                },
                {"role": "you", "slot": "passenger", "verb": "watching the rain"},
            ],
            "story_time": "2024-10-12T21:15",
            "weather": "storm",
        }
    )
    page = client.post(
        "/chats/setup/", {"character": character.pk, "persona": persona.pk, "scenario": scenario.pk}
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "Confirm the opening" in html and "driving" in html
    # the parse fills gaps only: the scenario's own clock stands (issue 17)
    assert "2024-10-12T21:00" in html and "2024-10-12T21:15" not in html
    setup = json.loads(page.context["setup_json"])
    setup["activities"][0]["verb"] = "parking"  # the user corrects the parse
    response = client.post(
        "/chats/create/",
        {
            "character": character.pk,
            "persona": persona.pk,
            "scenario": scenario.pk,
            "setup_json": json.dumps(setup),
            "story_time": "2024-10-12T21:20",
            "weather": "storm",
            "location": "car",
            "greeting": 0,
            "title": "Night drive",
        },
    )
    chat = Chat.objects.get(title="Night drive")
    assert response.status_code == 302 and response["Location"] == f"/chats/{chat.pk}/"
    started = Event.objects.get(stream=chat, kind="chat_started").payload
    assert started["story_time"] == "2024-10-12T21:20"
    assert started["activities"][0]["verb"] == "parking"
    assert Container.objects.get(chat=chat, key="car").moving
    play = client.get(f"/chats/{chat.pk}/").content.decode()
    assert "Night drive" in play and 'ws-connect="/ws/chats/' in play


def test_a_broken_edited_state_is_refused_and_creates_nothing(client):
    character, persona = make_character(), make_persona()
    before = Chat.objects.count()
    response = client.post(
        "/chats/create/",
        {"character": character.pk, "persona": persona.pk, "setup_json": "{nope"},
        follow=True,
    )
    assert "not valid JSON" in response.content.decode()
    assert Chat.objects.count() == before


def test_the_chat_list_archive_and_delete(client):
    chat = make_chat()
    shown = f'href="/chats/{chat.pk}/">'
    assert shown in client.get("/").content.decode()
    client.post(f"/chats/{chat.pk}/remove/", {"action": "archive"})
    assert shown not in client.get("/").content.decode()
    assert shown in client.get("/?archived=1").content.decode()
    client.post(f"/chats/{chat.pk}/remove/", {"action": "delete", "confirm": "wrong"})
    assert Chat.objects.filter(pk=chat.pk).exists()
    client.post(f"/chats/{chat.pk}/remove/", {"action": "delete", "confirm": chat.title})
    assert not Chat.objects.filter(pk=chat.pk).exists()
    assert not Event.objects.filter(stream_id=chat.pk).exists()


def test_the_home_page_shows_character_blurbs_with_their_macros_expanded(client):
    make_character("Iris", description="{{char}} keeps the lighthouse; <USER> visits her.")
    Persona.objects.create(name="Sam", is_default=True)
    html = client.get("/").content.decode()
    assert "{{char}}" not in html and "&lt;USER&gt;" not in html
    assert "Iris keeps the lighthouse; Sam visits her." in html


def _settings_form(**overrides):
    config = load_config()
    form = {}
    for section, values in config.items():
        for key, value in values.items():
            form[f"{section}.{key}"] = ", ".join(value) if isinstance(value, list) else value
    form.update(overrides)
    return form


def test_settings_are_saved_to_config_toml(client, data_dir):
    response = client.post(
        "/settings/",
        _settings_form(
            **{
                "inference.base_url": "http://127.0.0.1:11434/v1",
                "inference.narrative_model": "llama3.1:8b",
                "inference.classifier_fallbacks": "a, b",
                "play.ooc_marker": "[[",
            }
        ),
    )
    assert response.status_code == 302
    config = load_config()
    assert config["inference"]["base_url"] == "http://127.0.0.1:11434/v1"
    assert config["inference"]["classifier_fallbacks"] == ["a", "b"]
    assert 'narrative_model = "llama3.1:8b"' in (data_dir / "config.toml").read_text()


def test_bad_settings_are_refused_with_a_message(client):
    response = client.post(
        "/settings/", _settings_form(**{"budgets.narrative_soft": "9000"}), follow=True
    )
    assert "cannot exceed" in response.content.decode()
    assert load_config()["budgets"]["narrative_soft"] == 6144


@pytest.mark.django_db(transaction=True)
def test_test_connection_reports_what_the_endpoint_answered(client):
    with FakeOpenAI(default_text="Hello from the fake model.") as fake:
        ok = client.post("/settings/test/", _settings_form(**{"inference.base_url": fake.url}))
        body = ok.content.decode()
        assert "Hello from the fake model." in body and "fake-narrative" in body
        fake.push(("status", 503))
        bad = client.post("/settings/test/", _settings_form(**{"inference.base_url": fake.url}))
        assert "Failed" in bad.content.decode() and "503" in bad.content.decode()


def test_a_changed_embedding_model_is_offered_a_re_embed(client, data_dir):

    VectorIndexState.objects.create(model="old-embedder", dims=384)
    page = client.get("/settings/").content.decode()
    assert "old-embedder" in page and "Re-embed now" in page


def test_a_long_chat_page_shows_the_newest_turns_and_loads_earlier_ones(client):

    chat = make_chat()
    ids = [
        append(
            stream=chat,
            kind="user_turn",
            payload={"text": f"line {i:03d}", "witnesses": {"host": True}},
        ).id
        for i in range(PAGE_TURNS + 30)
    ]
    page = client.get(f"/chats/{chat.pk}/").content.decode()
    assert f"line {PAGE_TURNS + 29:03d}" in page and "line 000" not in page
    assert "Show earlier turns" in page
    first_shown = ids[-PAGE_TURNS]
    earlier = client.get(f"/chats/{chat.pk}/transcript/?before={first_shown}").content.decode()
    assert "line 000" in earlier and f"line {PAGE_TURNS + 29:03d}" not in earlier
