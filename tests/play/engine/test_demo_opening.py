"""The demo opens where its prose says (Mara's station wagon); a kickoff parse fills gaps only;
the New story form preselects the demo and keeps the JSON editor behind Advanced."""

import json

import pytest

from play.engine.inference import EndpointTimeout
from worlds.demo import load_demo
from worlds.models import Activity, Character, Container, Scenario, WorldState

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo():
    load_demo()
    return Scenario.objects.get(name="Night drive to Harrow Point")


def start(client, scenario, parse=True):
    response = client.post(
        "/api/chats",
        json.dumps(
            {"character": scenario.character_id, "scenario": scenario.pk, "parse_kickoff": parse}
        ),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


def where(chat_id):
    world = WorldState.objects.get(chat_id=chat_id)
    return Container.objects.get(chat_id=chat_id, key=world.location).name


def test_the_demo_scenario_names_its_starting_place(demo):
    assert demo.start_place.name == "Mara's station wagon"
    assert demo.containers.order_by("name").first().name == "Diner booth"  # the old pick


def test_without_a_parse_the_story_opens_in_the_station_wagon(client, scripted, demo):
    chat_id = start(client, demo, parse=False)
    assert where(chat_id) == "Mara's station wagon"
    slots = dict(Activity.objects.filter(chat_id=chat_id).values_list("role", "slot"))
    assert slots == {"host": "driver", "you": "front passenger"}


def test_a_failed_parse_still_opens_in_the_station_wagon(client, scripted, demo):
    scripted.structured_replies.append(EndpointTimeout("timed out after 10 s"))
    assert where(start(client, demo)) == "Mara's station wagon"


def test_the_parse_fills_gaps_and_never_moves_the_authored_start(client, scripted, demo):
    scripted.structured_replies.append(
        {
            "location": "booth",
            "containers": [
                {"key": "booth", "name": "Diner booth", "kind": "booth"},
                {"key": "car", "name": "Mara's station wagon", "kind": "hatchback"},
            ],
            "activities": [
                {"role": "host", "slot": "driver", "verb": "driving", "holding": ["wheel"]},
                {"role": "you", "slot": "roof", "verb": "holding the camera bag"},
            ],
            "story_time": "2031-01-01T08:00",
            "weather": "sunny",
        }
    )
    chat_id = start(client, demo)
    world = WorldState.objects.get(chat_id=chat_id)
    assert where(chat_id) == "Mara's station wagon"
    assert (world.story_time, world.weather) == ("2024-10-12T21:10", "heavy rain, wind off the sea")
    car = Container.objects.get(chat_id=chat_id, key=world.location)
    assert car.kind == "car"  # authored, not the parse's "hatchback"
    acts = {a.role: a for a in Activity.objects.filter(chat_id=chat_id)}
    assert (acts["host"].verb, acts["host"].holding) == ("driving", ["wheel"])
    assert acts["you"].verb == "holding the camera bag"
    assert acts["you"].slot == "front passenger"  # "roof" is not a seat of the car


def test_the_new_story_form_preselects_the_demo_scenario(client, scripted, demo):
    page = client.get("/chats/new/").content.decode()
    assert f'<option value="{demo.pk}" selected>' in page
    other = Character.objects.create(name="Nobody", first_mes="Hi.")
    assert (
        f'<option value="{demo.pk}" selected>'
        in client.get(f"/chats/new/?character={other.pk}").content.decode()
    )


def test_the_json_editor_is_behind_advanced(client, scripted, demo):
    page = client.post(
        "/chats/setup/",
        {"character": demo.character_id, "persona": demo.persona_id, "scenario": demo.pk},
    ).content.decode()
    assert '<details class="advanced"><summary>Advanced' in page
    assert "<details open" not in page
    assert 'name="location"' in page and "Mara&#x27;s station wagon</option>" in page
