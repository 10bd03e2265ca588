"""Issue 14's five repros, through the HTTP JSON API, and the analysis witness rule.

What a bot may know is enforced once, at the prompt boundary (play/engine/gate.py): a thread
opened where a character was not is not theirs; a closed event's props leave every sentence
that names them (and only those sentences); a deleted turn leaves no fact behind; the analysis
reads only the lines everyone present witnessed, marked with who heard them; and an analysis
that teaches a character something it did not witness is refused by the projector.

The model is scripted. Its structured replies are queued per schema (``Model.replies``) and
scene summaries apart (``Model.summaries``), so that each reply goes to the call it is for
whatever else the flow asks on the way.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict

import pytest

from eventstore.replay import verify
from eventstore.services import append
from play.models import Turn
from tests.factories import edge_of, make_character, make_chat

pytestmark = pytest.mark.django_db(databases=["default", "scratch"])

CODE = "AZURE-FALCON-77"
VAULT = {"action": "open", "title": "The vault code", "notes": f"The code {CODE} must not get out"}


class Model:
    """The scripted backend with its structured replies queued by schema name (an empty queue
    gives the schema's default) and the scene summaries (plain ``generate`` calls) apart from
    the narrative replies."""

    def __init__(self, scripted) -> None:
        self.scripted = scripted
        self.replies: dict[str, list] = defaultdict(list)
        self.summaries: list[str] = []
        self.narrative = scripted.narrative  # the same list: the bots' streamed replies
        structured, generate = scripted.structured, scripted.generate

        async def routed_structured(messages, schema, params):
            queue = self.replies[schema.__name__]
            scripted.structured_replies.insert(0, queue.pop(0) if queue else None)
            return await structured(messages, schema, params)

        async def routed_generate(messages, params):
            scripted.narrative.insert(0, self.summaries.pop(0) if self.summaries else None)
            return await generate(messages, params)

        scripted.structured = routed_structured
        scripted.generate = routed_generate

    def prompts(self, schema: str) -> list[str]:
        """The user messages of every structured call of ``schema``, in order."""
        return [
            "\n".join(m["content"] for m in c["messages"] if m["role"] == "user")
            for c in self.scripted.calls
            if c.get("schema") == schema
        ]

    def summary_prompts(self) -> list[str]:
        return [
            "\n".join(m["content"] for m in c["messages"])
            for c in self.scripted.calls
            if c["kind"] == "generate"
        ]


@pytest.fixture
def model(scripted):
    return Model(scripted)


# -- the API, as a client uses it -----------------------------------------------------------


def post(client, url, data=None):
    return client.post(url, json.dumps(data or {}), content_type="application/json")


def ok(response):
    assert response.status_code == 200, response.content
    return response.json()


def send(client, chat, text) -> list[dict]:
    return ok(post(client, f"/api/chats/{chat.pk}/turns", {"text": text}))["turns"]


def reply_of(turns: list[dict], speaker: str) -> dict:
    found = [t for t in turns if t["speaker"] == speaker]
    assert found, f"no {speaker} reply in {turns}"
    return found[0]


def prompt_of(client, chat, turn_id) -> dict:
    return ok(client.get(f"/api/chats/{chat.pk}/turns/{turn_id}/prompt"))


def everything(prompt: dict) -> str:
    """All a prompt holds: its messages, its sections' lines, its memories and lore."""
    return json.dumps(prompt, ensure_ascii=False)


def section(prompt: dict, name: str) -> str:
    found = [s for s in prompt["sections"] if s["name"] == name and s["included"]]
    return "\n".join(line["text"] for s in found for line in s["lines"])


def state(client, chat) -> dict:
    return ok(client.get(f"/api/chats/{chat.pk}/state"))


def add_guest(client, chat, name="Theo"):
    guest = make_character(name)
    body = ok(post(client, f"/api/chats/{chat.pk}/guest", {"character": guest.pk}))
    assert body["chat"]["guest"] == name
    return guest


# -- 1. threads respect witnesses -----------------------------------------------------------


def test_a_thread_opened_by_api_before_the_guest_came_stays_out_of_the_guests_prompt(client, model):
    chat = make_chat()  # Mara (host) and Sam (you)
    ok(post(client, f"/api/chats/{chat.pk}/threads", VAULT))
    add_guest(client, chat)
    model.narrative += ["Theo shrugs.", "Mara nods."]

    guest_turn = reply_of(send(client, chat, "Theo, what brings you here?"), "guest")
    guest_prompt = prompt_of(client, chat, guest_turn["id"])
    assert CODE not in everything(guest_prompt)
    assert "The vault code" not in everything(guest_prompt)
    assert "Theo, what brings you here?" in everything(guest_prompt)  # the prompt is real
    # nor is it in the analysis of that exchange, which everyone present reads
    assert CODE not in model.prompts("TurnAnalysis")[-1]

    host_turn = reply_of(send(client, chat, "Mara, any news?"), "host")
    host_threads = section(prompt_of(client, chat, host_turn["id"]), "active threads")
    assert "The vault code" in host_threads and CODE in host_threads
    assert verify(chat) == []


def test_a_thread_the_analysis_opened_while_the_guest_was_away_is_not_the_guests(client, model):
    chat = make_chat()
    add_guest(client, chat)
    model.narrative += ["Theo waves.", "Mara leans in.", "Theo smiles.", "Mara nods."]
    send(client, chat, "Theo, good to see you.")
    assert client.delete(f"/api/chats/{chat.pk}/guest").status_code == 200

    # with Theo gone, Sam tells Mara the code; the analysis opens a thread from those lines
    model.replies["TurnAnalysis"].append({"threads": [VAULT]})
    send(client, chat, f"The code is {CODE}. Keep it between us.")
    assert any(t["title"] == "The vault code" for t in state(client, chat)["threads"])

    add_guest(client, chat)  # Theo is back (the same character: the edges stay)
    guest_turn = reply_of(send(client, chat, "Theo, welcome back."), "guest")
    guest_prompt = prompt_of(client, chat, guest_turn["id"])
    assert CODE not in everything(guest_prompt)
    assert "The vault code" not in everything(guest_prompt)
    assert "Theo, welcome back." in everything(guest_prompt)

    host_turn = reply_of(send(client, chat, "Mara, do you remember it?"), "host")
    host_threads = section(prompt_of(client, chat, host_turn["id"]), "active threads")
    assert "The vault code" in host_threads and CODE in host_threads
    assert verify(chat) == []


# -- 2. props of a closed event survive nowhere ---------------------------------------------


def test_the_props_of_a_closed_event_survive_nowhere_in_the_next_prompt(client, model):
    chat = make_chat()
    picnic = {
        "action": "plan",
        "key": "river-picnic",
        "title": "River picnic",
        "props": ["wicker hamper", "striped parasol"],
    }
    model.replies["TurnAnalysis"] += [
        {"story_events": [picnic]},
        {
            "story_events": [{"action": "start", "key": "river-picnic"}],
            "activities": [{"role": "host", "holding": ["wicker hamper"]}],
            "edges": [
                {
                    "source": "host",
                    "target": "you",
                    "knowledge_facts": ["brought a wicker hamper full of plums"],
                    "last_interaction": "unpacked the wicker hamper together",
                }
            ],
        },
        {},
        {
            "story_events": [
                {
                    "action": "complete",
                    "key": "river-picnic",
                    "gist": "We had a lazy afternoon by the river.",
                }
            ],
            "scene": {"moved_to": "Sofia's flat", "minutes_passed": 60},
        },
    ]
    # the model follows the summary instructions badly: it names the prop anyway
    model.summaries.append("I set down the wicker hamper by the water. We laughed about the rain.")
    model.narrative += ["A picnic!", "Here, plums.", "Sweet ones.", "Home then.", "Cosy."]

    send(client, chat, "Let's have a picnic by the river.")
    send(client, chat, "*we spread out on the bank and open the wicker hamper*")
    during = reply_of(send(client, chat, "These plums are wonderful."), "host")
    active = prompt_of(client, chat, during["id"])  # while it runs, the props are in play
    assert "wicker hamper" in section(active, "activity")
    assert "wicker hamper" in section(active, "edge to you")
    assert "wicker hamper" in section(active, "story events")

    send(client, chat, "Let's head back to your flat.")
    assert {e["key"]: e["status"] for e in state(client, chat)["story_events"]} == {
        "river-picnic": "completed"
    }
    after = reply_of(send(client, chat, "Nice place you have."), "host")
    prompt = prompt_of(client, chat, after["id"])
    text = everything(prompt).lower()
    assert "hamper" not in text and "parasol" not in text
    assert "We laughed about the rain." in section(prompt, "earlier scenes")
    assert "plums" not in section(prompt, "edge to you")  # the fact named the prop: gone
    assert "Last interaction" not in section(prompt, "edge to you")
    assert "Sofia's flat" in section(prompt, "world")
    # the summary was written after the seal: its input did not hold the prop either
    assert "hamper" not in model.summary_prompts()[-1].lower()
    assert "hamper" not in model.prompts("TurnAnalysis")[-1].lower()
    assert verify(chat) == []


# -- 3. the skip path seals sentence by sentence --------------------------------------------


def test_a_jump_that_closes_an_event_seals_the_earlier_summary_by_sentence_and_promotes(
    client, model
):
    chat = make_chat()
    # an unplanned start through the API, with its effect on completion
    ok(
        post(
            client,
            f"/api/chats/{chat.pk}/story_events",
            {
                "action": "start",
                "title": "Jam making",
                "props": ["copper pot"],
                "on_complete": {"inventory": [{"role": "host", "item": "a jar of plum jam"}]},
            },
        )
    )
    model.replies["TurnAnalysis"].append({"scene": {"moved_to": "the pantry"}})
    model.summaries += [
        "I stirred the copper pot until my arm ached. Sam told me about the lighthouse keeper.",
        "We sat in the pantry and waited for the jam to set.",
    ]
    model.narrative += ["It bubbles.", "Morning already?"]
    send(client, chat, "Careful, the copper pot is hot. Let's wait in the pantry.")
    summaries = [m for m in state(client, chat)["memories"] if m["kind"] == "summary"]
    assert [m["text"] for m in summaries if m["scene"] == 1] == [
        "I stirred the copper pot until my arm ached. Sam told me about the lighthouse keeper."
    ]

    model.replies["SkipOutcome"].append(
        {"events": [{"key": "jam-making", "outcome": "completed", "gist": "We made jam."}]}
    )
    skipped = ok(
        post(client, f"/api/chats/{chat.pk}/skip", {"mode": "jump", "to": "the next morning"})
    )
    assert skipped["closed_events"] == [{"key": "jam-making", "outcome": "completed"}]

    after = state(client, chat)
    scene_one = [m for m in after["memories"] if m["kind"] == "summary" and m["scene"] == 1]
    assert [m["text"] for m in scene_one] == ["Sam told me about the lighthouse keeper."]
    host = next(e for e in after["entities"] if e["role"] == "host")
    assert "a jar of plum jam" in host["inventory"]  # the on_complete effect landed

    turn = reply_of(send(client, chat, "Good morning!"), "host")
    prompt = prompt_of(client, chat, turn["id"])
    assert "copper pot" not in everything(prompt)
    assert "lighthouse keeper" in section(prompt, "earlier scenes")
    assert "a jar of plum jam" in section(prompt, "state")
    assert verify(chat) == []


def test_an_unplanned_start_by_api_keeps_its_on_start_and_on_complete(client, model):
    chat = make_chat()
    started = post(
        client,
        f"/api/chats/{chat.pk}/story_events",
        {
            "action": "start",
            "title": "Candlelit dinner",
            "props": ["silver candlesticks"],
            "on_start": {"activities": [{"role": "host", "verb": "laying the table"}]},
            "on_complete": {"inventory": [{"role": "you", "item": "a handwritten recipe"}]},
        },
    )
    body = ok(started)
    event = next(e for e in body["state"]["story_events"] if e["key"] == "candlelit-dinner")
    assert event["status"] == "active"
    host = next(a for a in body["state"]["activity"] if a["role"] == "host")
    assert host["verb"] == "laying the table"  # on_start applied

    done = ok(
        post(
            client,
            f"/api/chats/{chat.pk}/story_events",
            {"action": "complete", "key": "candlelit-dinner"},
        )
    )
    you = next(e for e in done["state"]["entities"] if e["role"] == "you")
    assert "a handwritten recipe" in you["inventory"]  # on_complete applied
    assert verify(chat) == []


# -- 4. surgical delete leaves no fact ------------------------------------------------------


def test_a_surgical_delete_leaves_the_fact_in_no_summary_and_no_prompt(client, model):
    chat = make_chat()
    model.narrative += ["What a story.", "After you.", "Of course.", "Hm?"]
    fact = send(client, chat, "My grandmother buried her diary under the oak at Brannoch Hollow.")
    model.replies["TurnAnalysis"].append({"scene": {"moved_to": "the kitchen"}})
    model.summaries.append(
        "Sam told me his grandmother buried her diary under the oak at Brannoch Hollow. "
        "We drove through the rain together."
    )
    send(client, chat, "Let's go inside.")
    summary = next(m for m in state(client, chat)["memories"] if m["kind"] == "summary")
    assert "Brannoch" in summary["text"]

    preview = ok(client.get(f"/api/chats/{chat.pk}/turns/{fact[0]['id']}/delete-preview"))
    changes = preview["summaries_rewritten"]
    assert [(c["owner"], c["scene"]) for c in changes] == [("host", 1)]
    assert changes[0]["now"] == summary["text"]
    assert "Brannoch" not in changes[0]["after"] and changes[0]["after"].strip()

    assert client.delete(f"/api/chats/{chat.pk}/turns/{fact[0]['id']}").status_code == 200
    after = state(client, chat)
    assert "Brannoch" not in json.dumps(after)
    (rewritten,) = [m for m in after["memories"] if m["kind"] == "summary"]
    assert rewritten["text"] == changes[0]["after"]  # the preview said exactly this
    assert "Let's go inside." in rewritten["text"]  # an extract of the remaining lines

    turn = reply_of(send(client, chat, "What were we talking about?"), "host")
    prompt = prompt_of(client, chat, turn["id"])
    assert "Brannoch" not in everything(prompt)
    assert "Let's go inside." in section(prompt, "earlier scenes")
    assert verify(chat) == []


def test_the_delete_keeps_what_later_analyses_found_in_other_lines(client, model):
    """Deleting a turn drops what came only from it, not what a later analysis read from
    other lines too (here: the move to the kitchen, said in a later line)."""
    chat = make_chat()
    model.narrative += ["What a story.", "After you."]
    fact = send(client, chat, "My grandmother buried her diary under the oak at Brannoch Hollow.")
    model.replies["TurnAnalysis"].append({"scene": {"moved_to": "the kitchen"}})
    send(client, chat, "Let's go inside.")
    assert state(client, chat)["world"]["location"] == "the_kitchen"
    assert client.delete(f"/api/chats/{chat.pk}/turns/{fact[0]['id']}").status_code == 200
    assert state(client, chat)["world"]["location"] == "the_kitchen"
    assert verify(chat) == []


# -- 5. the analysis prompt has witness marks and only common ground ------------------------


def test_the_analysis_and_interjection_prompts_hold_only_lines_their_readers_heard(client, model):
    chat = make_chat()
    model.narrative += ["Under the blue flowerpot, got it.", "Loud, isn't it?", "Thanks, Sam."]
    send(client, chat, "The spare key is under the blue flowerpot.")
    add_guest(client, chat)

    send(client, chat, "Mara, did you hear the rain?")  # the host answers; Theo may interject
    host_analysis = model.prompts("TurnAnalysis")[-1]
    theo_interjection = model.prompts("InterjectionDecision")[-1]
    for prompt in (host_analysis, theo_interjection):
        assert "flowerpot" not in prompt
        assert "did you hear the rain?" in prompt

    send(client, chat, "Theo, welcome! Coffee?")  # Theo's first turn
    analysis = model.prompts("TurnAnalysis")[-1]
    assert "flowerpot" not in analysis and "spare key" not in analysis
    marks = re.findall(r"^(.*?): (.*) \[heard by ([^\]]*)\]$", analysis, re.MULTILINE)
    assert marks, analysis
    heard = {line: set(by.split(", ")) for _, line, by in marks}
    assert heard["Theo, welcome! Coffee?"] == {"Sam", "Mara", "Theo"}
    assert heard["Thanks, Sam."] == {"Sam", "Mara", "Theo"}

    model.replies["AddresseeDecision"].append({"addressee": "host", "confidence": "high"})
    send(client, chat, "Who wants cake?")  # named neither: the addressee is classified
    addressee = model.prompts("AddresseeDecision")[-1]
    assert "flowerpot" not in addressee and "Who wants cake?" in addressee
    # Mara, who heard it, still reads it in her own prompt
    host_prompt = prompt_of(client, chat, Turn.objects.filter(chat=chat, speaker="host").last().id)
    assert "flowerpot" in everything(host_prompt)
    assert verify(chat) == []


# -- 6. the projector refuses what a character did not witness ------------------------------


def test_an_edge_update_from_lines_its_source_did_not_witness_is_refused_and_logged(client, model):
    chat = make_chat()
    model.narrative += ["Under the flowerpot, got it."]
    secret = send(client, chat, "I hid the spare key under the flowerpot.")
    add_guest(client, chat)
    before = edge_of(chat, "guest", "you")
    host_before = edge_of(chat, "host", "you")

    append(
        stream=chat,
        kind="edge_update",
        caused_by=secret[1]["id"],
        payload={
            "edges": [
                {
                    "source": "guest",
                    "target": "you",
                    "affinity_delta": 5,
                    "knowledge_facts": ["Sam hid the spare key under the flowerpot"],
                },
                {
                    "source": "host",
                    "target": "you",
                    "affinity_delta": 3,
                    "knowledge_facts": ["Sam hid the spare key under the flowerpot"],
                },
            ],
            "sources": [secret[0]["id"], secret[1]["id"]],
        },
    )
    after = state(client, chat)
    seats = {(e["source_role"], e["target_role"]): e for e in after["edges"]}
    guest_edge = seats[("guest", "you")]
    assert guest_edge["knowledge"] == before.knowledge
    assert guest_edge["affinity"] == before.affinity
    host_edge = seats[("host", "you")]
    assert "Sam hid the spare key under the flowerpot" in host_edge["knowledge"]
    assert host_edge["affinity"] == host_before.affinity + 3
    refused = [f for f in after["classifier_failures"] if "did not witness" in f["error"]]
    assert len(refused) == 1 and refused[0]["error"].startswith("guest cannot learn")
    assert refused[0]["prompt_kind"] == "turn_analysis"

    turn = reply_of(send(client, chat, "Theo, hello."), "guest")
    assert "flowerpot" not in everything(prompt_of(client, chat, turn["id"]))
    assert verify(chat) == []
