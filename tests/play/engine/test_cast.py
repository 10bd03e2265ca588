"""Three in a scene: the guest, six directed edges, addressee and interjection, meanwhile."""

import json

import pytest

from eventstore.models import Event
from eventstore.replay import verify
from memory.models import Memory
from memory.selectors import visible_to
from play.engine.inference.base import InvalidOutput
from play.models import Turn
from tests.factories import edge_of, make_character, make_chat
from worlds.models import Edge, EntityState, GroupNode

pytestmark = pytest.mark.django_db(databases=["default", "scratch"])


def post(client, url, data=None):
    return client.post(url, json.dumps(data or {}), content_type="application/json")


def edge(chat, a, b):
    return edge_of(chat, a, b)


@pytest.fixture
def trio(client, scripted):
    chat = make_chat()
    theo = make_character("Theo")
    scripted.structured_replies.append(
        {
            "met": True,
            "host_to_guest": {"affinity": 60, "trust": 40, "summary": "Mara adores her old mentor"},
            "guest_to_host": {"affinity": 20, "trust": -10, "summary": "Theo worries about Mara"},
        }
    )
    response = post(
        client,
        f"/api/chats/{chat.pk}/guest",
        {"character": theo.pk, "met": "Theo taught Mara card tricks."},
    )
    assert response.status_code == 200, response.content
    assert response.json()["chat"]["guest"] == "Theo"
    return chat, theo


def test_adding_a_guest_seeds_two_independent_edges_from_the_prose(trio):
    chat, theo = trio
    assert (edge(chat, "host", "guest").affinity, edge(chat, "guest", "host").affinity) == (60, 20)
    assert edge(chat, "guest", "host").trust == -10
    assert edge(chat, "host", "guest").summary == "Mara adores her old mentor"
    assert Edge.objects.filter(chat=chat).count() == 6  # every directed pair of three
    members = sorted([f"c{theo.pk}", f"c{chat.character_id}", "you"])  # characters, not seats
    assert GroupNode.objects.get(chat=chat).members == members


def test_a_returning_guest_keeps_the_edges_the_story_gave_them(client, scripted, trio):
    chat, theo = trio
    post(client, f"/api/chats/{chat.pk}/turns", {"text": "hi both"})
    assert client.delete(f"/api/chats/{chat.pk}/guest").status_code == 200
    calls = len(scripted.calls)
    response = post(
        client, f"/api/chats/{chat.pk}/guest", {"character": theo.pk, "met": "They are strangers."}
    )
    assert response.json()["met_before"] is True
    assert len(scripted.calls) == calls  # the first-meeting gate: nothing re-parsed
    assert edge(chat, "host", "guest").affinity == 60


def test_another_character_in_the_guest_role_inherits_no_edges_or_memories(client, scripted, trio):
    chat, theo = trio
    post(client, f"/api/chats/{chat.pk}/turns", {"text": "Theo, remember the lighthouse?"})
    client.delete(f"/api/chats/{chat.pk}/guest")
    iris = make_character("Iris")
    post(client, f"/api/chats/{chat.pk}/guest", {"character": iris.pk})
    assert edge(chat, "host", "guest").affinity == 0
    assert edge(chat, "host", f"c{theo.pk}").affinity == 60  # Theo's own edge waits for him

    assert not visible_to(chat.pk, "guest").filter(text__icontains="lighthouse").exists()
    assert Memory.objects.filter(chat=chat, owner="guest", text__icontains="lighthouse").exists()


def test_bookkeeping_that_raises_host_to_guest_leaves_guest_to_host_alone(client, scripted, trio):
    chat, _ = trio
    scripted.structured_replies.append(
        {"edges": [{"source": "host", "target": "guest", "affinity_delta": 7}]}
    )
    post(client, f"/api/chats/{chat.pk}/turns", {"text": "Mara, say something nice to Theo."})
    assert edge(chat, "host", "guest").affinity == 67
    assert edge(chat, "guest", "host").affinity == 20
    assert verify(chat) == []  # and so it stays through replay


def test_the_addressee_is_found_by_whole_word_name(client, scripted, trio):
    chat, _ = trio
    turns = post(client, f"/api/chats/{chat.pk}/turns", {"text": "Theo, more coffee?"}).json()
    assert turns["turns"][1]["speaker"] == "guest"
    turns = post(client, f"/api/chats/{chat.pk}/turns", {"text": "Theodore? Mara?"}).json()
    assert turns["turns"][1]["speaker"] == "host"  # "Theodore" is not "Theo"; Mara is named


def test_both_or_neither_named_the_host_speaks_and_ambiguity_asks_a_classifier(
    client, scripted, trio
):
    chat, _ = trio
    both = post(client, f"/api/chats/{chat.pk}/turns", {"text": "Mara and Theo, sit down."})
    assert both.json()["turns"][1]["speaker"] == "host"
    scripted.structured_replies.append({"addressee": "guest", "confidence": "high"})
    neither = post(client, f"/api/chats/{chat.pk}/turns", {"text": "Who made this pie?"})
    assert neither.json()["turns"][1]["speaker"] == "guest"
    assert any(c.get("schema") == "AddresseeDecision" for c in scripted.calls)


def test_an_interjection_follows_when_the_classifier_says_so(client, scripted, trio):
    chat, _ = trio
    scripted.narrative += ["Mara answers.", "Theo cuts in!"]
    scripted.structured_replies += [{}, {"interject": True, "reason": "named"}, {}]
    turns = post(client, f"/api/chats/{chat.pk}/turns", {"text": "Mara, is Theo lying?"}).json()
    speakers = [t["speaker"] for t in turns["turns"]]
    assert speakers == ["you", "host", "guest"]
    assert Turn.objects.get(pk=turns["turns"][2]["id"]).interjection


def test_an_interjection_decision_that_fails_means_no_interjection(client, scripted, trio):

    chat, _ = trio
    scripted.structured_replies += [
        {},
        InvalidOutput("bad", raw="x"),
        InvalidOutput("bad", raw="x"),
    ]
    turns = post(client, f"/api/chats/{chat.pk}/turns", {"text": "Mara?"}).json()["turns"]
    assert [t["speaker"] for t in turns] == ["you", "host"]


def test_regenerate_redoes_both_halves(client, scripted, trio):
    chat, _ = trio
    scripted.narrative += ["Mara answers.", "Theo cuts in!"]
    scripted.structured_replies += [{}, {"interject": True}, {}]
    turns = post(client, f"/api/chats/{chat.pk}/turns", {"text": "Mara?"}).json()["turns"]
    scripted.narrative += ["Mara answers differently.", "Theo cuts in again!"]
    scripted.structured_replies += [{}, {"interject": True}, {}]
    regen = post(client, f"/api/chats/{chat.pk}/turns/{turns[1]['id']}/regenerate").json()
    assert [t["text"] for t in regen["turns"]] == [
        "Mara answers differently.",
        "Theo cuts in again!",
    ]
    texts = [t["text"] for t in client.get(f"/api/chats/{chat.pk}/transcript").json()["turns"]]
    assert "Theo cuts in!" not in texts and texts[-1] == "Theo cuts in again!"


def test_every_present_pair_is_bookkept_including_silent_witnesses(client, scripted, trio):
    chat, _ = trio
    scripted.structured_replies.append(
        {
            "edges": [
                {"source": "guest", "target": "you", "affinity_delta": -3},
                {"source": "guest", "target": "host", "affinity_delta": 2},
                {"source": "you", "target": "host", "affinity_delta": 1},
            ]
        }
    )
    post(client, f"/api/chats/{chat.pk}/turns", {"text": "Mara, you look tired."})
    assert edge(chat, "guest", "you").affinity == -3  # Theo was silent but saw it
    assert edge(chat, "guest", "host").affinity == 22
    analysis = next(c for c in scripted.calls if c.get("schema") == "TurnAnalysis")
    assert "guest = Theo" in analysis["messages"][1]["content"]


def test_a_meanwhile_scene_is_hidden_from_you_and_surfaces_to_the_bots_as_a_digest(
    client, scripted, trio
):
    chat, _ = trio
    post(client, f"/api/chats/{chat.pk}/turns", {"text": "Goodnight, both of you."})
    response = post(
        client,
        f"/api/chats/{chat.pk}/meanwhile",
        {"action": "start", "setting": "Later, in the diner kitchen."},
    )
    assert response.status_code == 200, response.content
    assert not EntityState.objects.get(chat=chat, role="you").present
    scripted.narrative += [
        "We should tell Sam about the key to the lighthouse.",
        "No. Sam must never find the brass key.",
    ]
    turns = post(
        client, f"/api/chats/{chat.pk}/meanwhile", {"action": "continue", "exchanges": 1}
    ).json()["turns"]
    assert [t["speaker"] for t in turns] == ["host", "guest"]
    secret = Memory.objects.filter(chat=chat, turn_id=turns[1]["id"])
    assert secret.count() == 2 and not any(m.w_you for m in secret)
    scripted.narrative += ["Mara's memory: Theo and I argued about the brass key."] * 2
    post(client, f"/api/chats/{chat.pk}/meanwhile", {"action": "end"})
    assert EntityState.objects.get(chat=chat, role="you").present
    blocked = post(client, f"/api/chats/{chat.pk}/meanwhile", {"action": "end"})
    assert blocked.status_code == 409
    # the next scene with you: the raw meanwhile dialogue never reaches a you-facing prompt…
    scripted.narrative.append("Good morning!")
    reply = post(
        client,
        f"/api/chats/{chat.pk}/turns",
        {"text": "Morning, Mara. Any news about the brass key?"},
    ).json()["turns"][1]
    prompt = client.get(f"/api/chats/{chat.pk}/turns/{reply['id']}/prompt").json()
    text = json.dumps(prompt["messages"])
    assert "Sam must never find the brass key" not in text
    # …except through the bot's own digest of it
    assert "argued about the brass key" in text
    digest = [m for m in prompt["memories"] if m["section"] == "while you were away"]
    assert digest and "digest of a meanwhile scene" in digest[0]["why"]
    # the user saw the meanwhile scene in the transcript
    texts = [t["text"] for t in client.get(f"/api/chats/{chat.pk}/transcript").json()["turns"]]
    assert "No. Sam must never find the brass key." in texts
    assert verify(chat) == []


def test_you_cannot_speak_in_a_meanwhile_scene(client, scripted, trio):
    chat, _ = trio
    post(client, f"/api/chats/{chat.pk}/meanwhile", {"action": "start"})
    response = post(client, f"/api/chats/{chat.pk}/turns", {"text": "Hello?"})
    assert response.status_code == 400 and "meanwhile" in response.json()["detail"]


def test_meanwhile_needs_a_guest(client, scripted):
    chat = make_chat()
    response = post(client, f"/api/chats/{chat.pk}/meanwhile", {"action": "start"})
    assert response.status_code == 409 and "guest" in response.json()["detail"]
    assert not Event.objects.filter(stream=chat, kind="scene_closed").exists()
