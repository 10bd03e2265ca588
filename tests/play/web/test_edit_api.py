"""Edit, continue and impersonate through the JSON API (issue 26), as a client uses them."""

from __future__ import annotations

import json
import threading

import pytest

from eventstore.models import Event
from eventstore.replay import verify
from play.engine import turnlock
from play.engine.turnlock import TAB
from play.models import Turn
from tests.factories import make_character, make_chat
from tests.play.engine.test_gate_repros import Model, ok, post, prompt_of, reply_of, send, state

pytestmark = pytest.mark.django_db(databases=["default", "scratch"])


@pytest.fixture
def model(scripted):
    return Model(scripted)


def put(client, url, data):
    return client.put(url, json.dumps(data), content_type="application/json")


def edit(client, chat, turn_id, text, mode="save"):
    return put(client, f"/api/chats/{chat.pk}/turns/{turn_id}", {"text": text, "mode": mode})


def everything(client, chat) -> str:
    return json.dumps(state(client, chat))


def test_edit_your_line_keeps_what_followed_and_the_world_follows_the_words(client, model):
    chat = make_chat()
    model.narrative += ["A cellar, then.", "Mm."]
    model.replies["TurnAnalysis"].append(
        {"threads": [{"action": "open", "title": "The Quarrow cellar", "notes": "by the docks"}]}
    )
    first = send(client, chat, "Let's hide the crate in the Quarrow cellar.")
    send(client, chat, "Shall we go?")
    assert "Quarrow" in everything(client, chat)

    model.replies["TurnAnalysis"].append(
        {"threads": [{"action": "open", "title": "The Velm attic", "notes": "up the stairs"}]}
    )
    body = ok(edit(client, chat, first[0]["id"], "Let's hide the crate in the Velm attic."))
    assert body["reanalysed"] and body["turn"]["text"] == "Let's hide the crate in the Velm attic."
    after = everything(client, chat)
    assert "Quarrow" not in after and "Velm" in after
    lines = [t["text"] for t in ok(client.get(f"/api/chats/{chat.pk}/transcript"))["turns"]]
    assert lines[-4:] == [
        "Let's hide the crate in the Velm attic.",
        "A cellar, then.",
        "Shall we go?",
        "Mm.",
    ]
    # a later prompt has the new words, not the old ones
    model.narrative.append("To the attic.")
    later = reply_of(send(client, chat, "Mara?"), "host")
    prompt = json.dumps(prompt_of(client, chat, later["id"]))
    assert "Velm" in prompt and "Quarrow" not in prompt
    assert verify(chat) == []


def test_edit_a_bot_line_and_a_narrator_line(client, model):
    chat = make_chat()
    model.narrative += ["My name is Marra."]
    reply = reply_of(send(client, chat, "Who are you?"), "host")
    body = ok(edit(client, chat, reply["id"], "My name is Mara."))
    assert body["turn"]["speaker"] == "host" and body["turn"]["text"] == "My name is Mara."
    assert not body["reanalysed"]  # a spelling fix: the analysis stands
    skipped = ok(
        post(client, f"/api/chats/{chat.pk}/skip", {"mode": "jump", "to": "the next morning"})
    )
    assert skipped
    line = Turn.objects.filter(chat=chat, speaker="narrator").last()
    body = ok(edit(client, chat, line.pk, "Morning, grey and cold."))
    assert body["turn"]["text"] == "Morning, grey and cold."
    assert verify(chat) == []


def test_save_and_branch_forks_at_the_line(client, model):
    chat = make_chat()
    model.narrative += ["Yes.", "Indeed."]
    first = send(client, chat, "Is it raining?")
    send(client, chat, "Still?")
    body = ok(edit(client, chat, first[0]["id"], "Is it snowing?", mode="branch"))
    lines = [t["text"] for t in ok(client.get(f"/api/chats/{chat.pk}/transcript"))["turns"]]
    assert lines[-1] == "Is it snowing?" and "Still?" not in lines
    branches = ok(client.get(f"/api/chats/{chat.pk}/branches"))["branches"]
    assert any(b["kind"] == "edit" and b["active"] for b in branches)
    assert body["branch"] == next(b["id"] for b in branches if b["active"])


def test_the_earlier_words_are_one_swipe_away(client, model):
    chat = make_chat()
    model.narrative += ["Yes.", "Indeed."]
    first = send(client, chat, "Is it raining?")
    send(client, chat, "Still?")
    body = ok(edit(client, chat, first[0]["id"], "Is it snowing?"))
    turns = ok(client.get(f"/api/chats/{chat.pk}/transcript"))["turns"]
    edited = next(t for t in turns if t["id"] == body["turn_id"])
    assert edited["swipe"] == {"index": 2, "total": 2}
    ok(post(client, f"/api/chats/{chat.pk}/turns/{body['turn_id']}/swipe?direction=-1"))
    lines = [t["text"] for t in ok(client.get(f"/api/chats/{chat.pk}/transcript"))["turns"]]
    assert "Is it raining?" in lines and "Is it snowing?" not in lines
    assert "Still?" in lines  # what followed the old words is there with them
    assert verify(chat) == []


def test_the_edit_preview_names_what_the_old_words_take(client, model):
    chat = make_chat()
    model.narrative += ["A cellar, then.", "Mm."]
    model.replies["TurnAnalysis"].append(
        {"threads": [{"action": "open", "title": "The Quarrow cellar", "notes": "by the docks"}]}
    )
    first = send(client, chat, "Let's hide the crate in the Quarrow cellar.")
    send(client, chat, "Shall we go?")
    preview = ok(
        post(
            client,
            f"/api/chats/{chat.pk}/turns/{first[0]['id']}/edit-preview",
            {"text": "Let's hide the crate at home."},
        )
    )
    named = [e for e in preview["changes"] if "Quarrow" in json.dumps(e["now"])]
    assert {"threads", "transcript"} <= {e["kind"] for e in named}
    assert "Quarrow" in everything(client, chat)  # nothing changed yet


def test_bad_edits_change_nothing(client, model):
    chat = make_chat()
    other = make_chat()
    model.narrative += ["Yes."]
    first = send(client, chat, "Is it raining?")
    before = everything(client, chat)
    assert edit(client, chat, first[0]["id"], "").status_code == 400
    assert edit(client, chat, first[0]["id"], "   ").status_code == 400
    assert edit(client, other, first[0]["id"], "Hello").status_code == 404
    assert edit(client, chat, 999999, "Hello").status_code == 404
    assert edit(client, chat, first[0]["id"], "x" * 100_000).status_code == 400
    assert edit(client, chat, first[0]["id"], "Hi", mode="sideways").status_code == 400
    assert everything(client, chat) == before


def test_an_edit_while_a_turn_streams_is_busy(client, model):
    chat = make_chat()
    model.narrative += ["Yes."]
    first = send(client, chat, "Is it raining?")
    before = everything(client, chat)
    with turnlock.held(chat.pk, TAB) as run:
        run.phase = "streaming"
        response = edit(client, chat, first[0]["id"], "Is it snowing?")
        assert response.status_code == 409
        assert "busy" in response.json()["detail"]
        assert (
            post(client, f"/api/chats/{chat.pk}/turns/{first[1]['id']}/continue").status_code == 409
        )
        assert post(client, f"/api/chats/{chat.pk}/impersonate").status_code == 409
    assert everything(client, chat) == before


def test_continue_stop_and_swipe_back(client, model, scripted):
    chat = make_chat()
    model.narrative.append("The harbour was quiet until")
    reply = reply_of(send(client, chat, "Tell me."), "host")
    model.narrative.append("the ferry came in at dawn.")
    out = ok(post(client, f"/api/chats/{chat.pk}/turns/{reply['id']}/continue"))["turns"]
    assert out[0]["text"] == "The harbour was quiet until the ferry came in at dawn."
    turns = ok(client.get(f"/api/chats/{chat.pk}/transcript"))["turns"]
    assert turns[-1]["swipe"] == {"index": 2, "total": 2}

    # Stop during a continue keeps what came, marked truncated
    scripted.token_delay = 0.05
    model.narrative.append("And then the bells rang over the whole town for an hour or more.")
    stopper = threading.Timer(0.4, lambda: turnlock.request_stop(chat.pk))
    stopper.start()
    out = ok(post(client, f"/api/chats/{chat.pk}/turns/{out[0]['id']}/continue"))["turns"]
    stopper.join()
    scripted.token_delay = 0
    assert out[0]["truncated"]
    assert out[0]["text"].startswith("The harbour was quiet until the ferry came in at dawn. And")
    assert "for an hour or more." not in out[0]["text"]

    ok(post(client, f"/api/chats/{chat.pk}/turns/{out[0]['id']}/swipe?direction=-1"))
    last = ok(client.get(f"/api/chats/{chat.pk}/transcript"))["turns"][-1]
    assert last["text"] == "The harbour was quiet until the ferry came in at dawn."
    assert verify(chat) == []


def test_impersonate_sees_only_what_your_persona_witnessed(client, model, scripted):
    chat = make_chat()
    guest = make_character("Theo")
    ok(post(client, f"/api/chats/{chat.pk}/guest", {"character": guest.pk}))
    ok(post(client, f"/api/chats/{chat.pk}/meanwhile", {"action": "start"}))
    model.narrative += ["The ledger is in the Orrin vault.", "Right."]
    ok(post(client, f"/api/chats/{chat.pk}/meanwhile", {"action": "continue", "exchanges": 1}))
    ok(post(client, f"/api/chats/{chat.pk}/meanwhile", {"action": "end"}))
    assert "Orrin" in everything(client, chat)
    before = Event.objects.filter(stream=chat).count()
    model.narrative.append("Sam: Good evening, both of you.")
    draft = ok(post(client, f"/api/chats/{chat.pk}/impersonate"))
    assert draft["text"] == "Good evening, both of you."
    request = json.dumps(scripted.calls[-1]["messages"])
    assert "Orrin" not in request
    assert Event.objects.filter(stream=chat).count() == before  # nothing stored
    # sent as your line, it is a turn like any other
    model.narrative.append("Evening.")
    turns = send(client, chat, draft["text"])
    assert turns[0]["speaker"] == "you" and turns[0]["text"] == "Good evening, both of you."


def test_hand_edits_of_the_world_through_the_api(client, model):
    chat = make_chat()
    model.narrative += ["Hello."]
    send(client, chat, "Hi.")
    body = ok(
        post(
            client,
            f"/api/chats/{chat.pk}/edits",
            {
                "target": "edge",
                "key": {"source": "host", "target": "you"},
                "knowledge_add": ["Sam keeps bees"],
            },
        )
    )
    edge = next(
        e for e in body["state"]["edges"] if (e["source_role"], e["target_role"]) == ("host", "you")
    )
    assert edge["knowledge"] == ["Sam keeps bees"]
    body = ok(
        post(
            client,
            f"/api/chats/{chat.pk}/edits",
            {
                "target": "entity",
                "key": {"role": "host"},
                "changes": {"mood": "wary", "goals": "find the key"},
            },
        )
    )
    host = next(e for e in body["state"]["entities"] if e["role"] == "host")
    assert (host["mood"], host["goals"]) == ("wary", "find the key")
    ok(
        post(
            client,
            f"/api/chats/{chat.pk}/edits",
            {"target": "world", "changes": {"weather": "hail"}},
        )
    )
    assert state(client, chat)["world"]["weather"] == "hail"
    bad = post(
        client,
        f"/api/chats/{chat.pk}/edits",
        {"target": "entity", "key": {"role": "host"}, "changes": {"nose": "long"}},
    )
    assert bad.status_code == 400
    assert verify(chat) == []
