"""The gate reads the words, not only the sources (issue 24, part 1), through the JSON API.

A scripted analysis that is shown only the lines a guest heard writes a secret said before the
guest arrived into every guest-owned field anyway — as a model that copies from an earlier
request would. Its sources say the guest may know it; its words say otherwise. None of it may
reach the guest's prompts, nor the guest's fields in the API's state; the host, who heard it,
keeps it. The mirror: words only the guest's own card holds, written into the host's fields.
"""

from __future__ import annotations

import json

import pytest

from eventstore.replay import verify
from tests.factories import make_character, make_chat
from tests.play.engine.test_gate_repros import (
    Model,
    add_guest,
    everything,
    ok,
    post,
    prompt_of,
    reply_of,
    section,
    send,
    state,
)

pytestmark = pytest.mark.django_db(databases=["default", "scratch"])

CODE = "4417"
NAME = "Halvorsen"
SECRET = f"The safe code is {CODE}, and only {NAME} knows where the safe is."


@pytest.fixture
def model(scripted):
    return Model(scripted)


def leaky_analysis(role: str, other: str) -> dict:
    """An analysis that writes the secret into every free-text field owned by ``role``."""
    leak = f"intrigued by the safe code {CODE} that {NAME} guards"
    return {
        "entities": [
            {
                "role": role,
                "mood": f"tense. {leak}",
                "goals": f"find the safe. Ask {NAME} about {CODE}",
                "status": f"thinking of {CODE}",
                "inventory_add": [f"a note reading {CODE}", "a cup of tea"],
            }
        ],
        "activities": [
            {
                "role": role,
                "verb": f"whispering {CODE}",
                "attention": f"{NAME}'s safe",
                "posture": "sitting",
                "holding": [f"{NAME}'s key"],
                "status": "listening",
            }
        ],
        "edges": [
            {
                "source": role,
                "target": "you",
                "affinity_delta": 2,
                "knowledge_facts": [f"Sam knows the safe code {CODE}", "Sam likes tea"],
                "last_interaction": f"Sam whispered {CODE} to {NAME}",
            },
            {
                "source": role,
                "target": other,
                "knowledge_facts": [f"{NAME} guards the safe"],
                "last_interaction": f"talked about {NAME}",
            },
        ],
        "threads": [{"action": "open", "title": "Tea time", "notes": f"{NAME} and code {CODE}"}],
        "memory_keys": [f"the safe code is {CODE}"],
        "significance": 1,
    }


def guest_fields(body: dict, role: str) -> str:
    """Everything the state shows as ``role``'s own."""
    owned = [e for e in body["entities"] if e["role"] == role]
    owned += [a for a in body["activity"] if a["role"] == role]
    owned += [e for e in body["edges"] if e["source_role"] == role]
    return json.dumps(owned, ensure_ascii=False)


def test_a_secret_said_before_the_guest_came_never_reaches_the_guest_through_any_field(
    client, model
):
    chat = make_chat()  # Mara (host) and Sam (you)
    model.narrative += ["Mara nods slowly.", "Theo smiles.", "Theo sips.", "Theo hums."]
    send(client, chat, SECRET)  # only Mara and Sam hear it
    add_guest(client, chat)

    model.replies["TurnAnalysis"].append(leaky_analysis("guest", "host"))
    first = reply_of(send(client, chat, "Theo, what brings you here?"), "guest")
    assert CODE not in everything(prompt_of(client, chat, first["id"]))  # (the witness rule)

    # the analysis believed the guest may know it: its sources were lines the guest heard
    body = state(client, chat)
    guest = guest_fields(body, "guest")
    assert CODE not in guest and NAME not in guest, guest
    theo = next(e for e in body["entities"] if e["role"] == "guest")
    assert theo["mood"] == "tense."  # the sentence without the secret stays
    assert "a cup of tea" in theo["inventory"]
    assert set(theo["withheld"]) >= {"mood", "goals", "status", "inventory"}
    guest_edge = next(
        e for e in body["edges"] if (e["source_role"], e["target_role"]) == ("guest", "you")
    )
    assert guest_edge["knowledge"] == ["Sam likes tea"]

    for text in ("Theo, tea?", "Theo, more tea?"):
        turn = reply_of(send(client, chat, text), "guest")
        prompt = prompt_of(client, chat, turn["id"])
        assert CODE not in everything(prompt) and NAME not in everything(prompt)
        assert "tense." in section(prompt, "state")  # the rest of the field is there
        assert "Sam likes tea" in section(prompt, "edge to you")
        assert prompt["withheld"], "the inspector says something was withheld"
        assert all(set(w) == {"reader", "sentences", "sources"} for w in prompt["withheld"])

    # the host heard the secret: a field of hers that says it reaches her
    model.replies["TurnAnalysis"].append(leaky_analysis("host", "guest"))
    send(client, chat, "Mara, anything on your mind?")
    turn = reply_of(send(client, chat, "Mara?"), "host")
    host_prompt = prompt_of(client, chat, turn["id"])
    assert CODE in section(host_prompt, "state") and NAME in section(host_prompt, "activity")
    assert CODE in guest_fields(state(client, chat), "host")
    # and what she alone holds stays out of the guest's next prompt
    turn = reply_of(send(client, chat, "Theo, and you?"), "guest")
    assert CODE not in everything(prompt_of(client, chat, turn["id"]))
    assert verify(chat) == []


def test_words_from_the_guests_own_card_never_reach_the_hosts_fields(client, model):
    chat = make_chat()
    guest = make_character(
        "Theo", description="Theo smuggles amber for the Vellacourt syndicate. He hides it well."
    )
    ok(post(client, f"/api/chats/{chat.pk}/guest", {"character": guest.pk}))
    model.narrative += ["Theo shrugs.", "Mara frowns.", "Mara sighs."]
    model.replies["TurnAnalysis"].append(
        {
            "entities": [{"role": "host", "mood": "uneasy. She suspects the Vellacourt syndicate"}],
            "edges": [
                {
                    "source": "host",
                    "target": "guest",
                    "knowledge_facts": ["Theo works for Vellacourt", "Theo is quiet"],
                }
            ],
        }
    )
    send(client, chat, "Theo, what do you do for a living?")
    body = state(client, chat)
    assert "Vellacourt" not in guest_fields(body, "host")
    mara = next(e for e in body["entities"] if e["role"] == "host")
    assert mara["mood"] == "uneasy." and mara["withheld"] == ["knowledge", "mood"]

    turn = reply_of(send(client, chat, "Mara, what do you think?"), "host")
    prompt = prompt_of(client, chat, turn["id"])
    assert "Vellacourt" not in everything(prompt)
    assert "Theo is quiet" in section(prompt, "edge to other bot")
    # the guest's own card is the guest's: his prompt still carries it
    turn = reply_of(send(client, chat, "Theo?"), "guest")
    assert "Vellacourt" in section(prompt_of(client, chat, turn["id"]), "identity")
    assert verify(chat) == []


def test_what_the_reader_heard_and_common_words_pass(client, model):
    chat = make_chat()
    model.narrative += ["Mara nods.", "Theo nods.", "Theo laughs."]
    send(client, chat, "The lighthouse keeper is called Ondine.")
    add_guest(client, chat)
    send(client, chat, "Theo, the lighthouse keeper is called Ondine, by the way.")
    # now Theo has heard both words; and "tired", "kitchen" are anyone's
    model.replies["TurnAnalysis"].append(
        {"entities": [{"role": "guest", "mood": "tired, curious about Ondine in the kitchen"}]}
    )
    turn = reply_of(send(client, chat, "Theo, how are you?"), "guest")
    theo = next(e for e in state(client, chat)["entities"] if e["role"] == "guest")
    assert theo["mood"] == "tired, curious about Ondine in the kitchen"
    assert theo["withheld"] == []
    model.narrative.append("Theo yawns.")
    turn = reply_of(send(client, chat, "Theo?"), "guest")
    assert "curious about Ondine" in section(prompt_of(client, chat, turn["id"]), "state")


def test_a_surviving_turns_stored_prompt_loses_the_deleted_words(client, model):
    """A turn after a deleted line is copied onto the new branch; the prompt it was written
    from (the inspector shows it) held the deleted line, and holds it no more."""
    chat = make_chat()
    model.narrative += ["Noted.", "Sure.", "Hm."]
    fact = send(client, chat, "My grandmother buried her diary under the oak at Brannoch Hollow.")
    later = reply_of(send(client, chat, "Shall we drive on?"), "host")
    assert "Brannoch" in everything(prompt_of(client, chat, later["id"]))
    assert client.delete(f"/api/chats/{chat.pk}/turns/{fact[0]['id']}").status_code == 200

    copy = next(t for t in state(client, chat)["memories"] if t["text"].endswith("Sure."))
    prompt = prompt_of(client, chat, copy["turn_id"])
    assert "Brannoch" not in everything(prompt)
    assert "Shall we drive on?" in everything(prompt)
    page = client.get(f"/chats/{chat.pk}/turns/{copy['turn_id']}/prompt/")
    assert page.status_code == 200 and "Brannoch" not in page.content.decode()
    assert verify(chat) == []
