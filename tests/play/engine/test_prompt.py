"""Prompt assembly: section order, speaker's view only, tiers and budgets, quality-decay guards."""

import json

import pytest

from eventstore.services import append
from play.engine.inference.registry import override_backend
from play.engine.inference.scripted import ScriptedBackend
from play.engine.prompt import build_prompt
from rpsite.config import load_config, save_config
from tests.factories import make_chat
from worlds.models import Character, Lorebook, LoreEntry, WorldState

pytestmark = pytest.mark.django_db

# By volatility: what rarely changes, the history, then what changes every turn.
SPEC_ORDER = [
    "lore before the character",
    "identity",
    "lore after the character",
    "lore before the examples",
    "example messages",
    "lore after the examples",
    "pinned memories",
    "earlier scenes",
    "earlier dialogue",
    "recent dialogue",
    "state",
    "edge to you",
    "edge to other bot",
    "group",
    "world",
    "active scene",
    "activity",
    "active threads",
    "story events",
    "while you were away",
    "retrieved memories",
    "lore before the note",
    "author's note",
    "lore after the note",
    "closing instructions",
]


def say(chat, text, speaker="you", witnesses=None):
    kind = "user_turn" if speaker == "you" else "assistant_turn"
    return append(
        stream=chat,
        kind=kind,
        payload={
            "speaker": speaker,
            "name": "Sam" if speaker == "you" else "Mara",
            "text": text,
            "bot_text": text,
            "witnesses": witnesses or {"you": True, "host": True},
            "scene": WorldState.objects.get(chat=chat).scene,
        },
    )


def test_sections_come_in_order_of_volatility():
    chat = make_chat()
    say(chat, "hello")
    names = [s["name"] for s in build_prompt(chat, "host").sections]
    assert names == [n for n in SPEC_ORDER if n in names]
    assert {"identity", "edge to you", "world", "activity", "recent dialogue"} <= set(names)


def test_ooc_text_never_reaches_a_bot(client):

    chat = make_chat()
    with override_backend(ScriptedBackend()) as backend:
        client.post(
            f"/api/chats/{chat.pk}/turns",
            json.dumps({"text": "I wave. ((brb, making tea)) Hello!"}),
            content_type="application/json",
        )
    sent = json.dumps(backend.calls[0]["messages"])
    assert "making tea" not in sent and "Hello!" in sent


def test_the_closing_message_carries_post_history_instructions_and_length():
    chat = make_chat(
        Character.objects.create(
            name="Mara",
            post_history_instructions="Write as {{char}}, wry and brief.",
            reply_tokens=120,
        )
    )
    say(chat, "hi")
    prompt = build_prompt(chat, "host")
    assert prompt.messages[-1]["role"] == "user"
    assert "Write as Mara, wry and brief." in prompt.messages[-1]["content"]
    assert "about 90 words" in prompt.messages[-1]["content"]
    assert prompt.max_tokens == 192


def test_the_history_fills_the_budget_across_scenes_and_keeps_their_summaries():
    chat = make_chat()
    for i in range(30):
        say(chat, f"line number {i}")
    append(
        stream=chat,
        kind="scene_closed",
        payload={
            "scene": 1,
            "reason": "moved",
            "summaries": [
                {
                    "owner": "host",
                    "text": "We drove to the diner in the rain.",
                    "witnesses": {"you": True, "host": True},
                }
            ],
        },
    )
    say(chat, "a new scene begins")
    prompt = build_prompt(chat, "host")
    text = json.dumps(prompt.messages)
    assert "line number 29" in text and "line number 0" in text  # the budget holds them all
    assert "[Later: a new scene.]" in text
    assert "We drove to the diner in the rain." in text
    assert "a new scene begins" in text
    # a closed scene's summary changes no more until another closes: it is part of the
    # reused beginning (the system message), not of the note after the newest line
    assert "We drove to the diner in the rain." in prompt.messages[0]["content"]
    assert "We drove to the diner" not in prompt.messages[-1]["content"]


def test_a_small_budget_drops_old_history_in_whole_blocks_and_keeps_the_newest():
    chat = make_chat()
    config = load_config()
    config["budgets"].update(narrative_soft=900, narrative_hard=2000)
    config["play"].update(dialogue_window=8)
    save_config(config)
    for i in range(60):
        say(chat, f"turn {i:02d} " + "word " * 20)
    prompt = build_prompt(chat, "host")
    held = [s for s in prompt.sections if s["name"] in ("earlier dialogue", "recent dialogue")]
    numbers = [int(line["text"].split("turn ")[1][:2]) for s in held for line in s["lines"]]
    assert numbers[-1] == 59 and numbers == list(range(numbers[0], 60))
    # it starts on a block boundary (the greeting is the first witnessed turn)
    assert (numbers[0] + 1) % 8 == 0 and numbers[0] > 0


def test_consecutive_prompts_keep_their_start_until_a_whole_block_goes():
    chat = make_chat()
    config = load_config()
    # room for more than a block of history beside the note's and the recollections' shares
    config["budgets"].update(narrative_soft=1200, narrative_hard=2000)
    config["play"].update(dialogue_window=8)
    save_config(config)
    for i in range(40):
        say(chat, f"turn {i:02d} " + "word " * 20)
    starts = []
    for i in range(40, 56):
        say(chat, f"turn {i:02d} " + "word " * 20)
        lines = next(
            s for s in build_prompt(chat, "host").sections if s["lines"] and "dialogue" in s["name"]
        )
        starts.append(lines["lines"][0]["text"].split("turn ")[1][:2])
    changes = sum(a != b for a, b in zip(starts, starts[1:], strict=False))
    assert changes <= 3  # the start moves by blocks, not with every turn
    assert all((int(x) + 1) % 8 == 0 for x in starts)


def test_over_budget_nice_then_should_sections_are_trimmed_never_must():
    chat = make_chat(Character.objects.create(name="Mara", mes_example="word " * 3000))
    for i in range(16):
        say(chat, "x " * 200 + f"turn {i}")
    config = load_config()
    config["budgets"].update(narrative_soft=1500, narrative_hard=2500)
    save_config(config)
    prompt = build_prompt(chat, "host")
    sections = {s["name"]: s for s in prompt.sections}
    assert sections["example messages"]["included"] is False  # nice
    earlier = sections["earlier dialogue"]  # sized to what the budget leaves: none, or trimmed
    assert not earlier["included"] or not earlier["lines"]
    assert all(s["included"] for s in prompt.sections if s["tier"] == "must")
    assert prompt.total_tokens <= 2500 or all(
        not s["included"] for s in prompt.sections if s["tier"] != "must"
    )


def test_a_speaker_never_sees_turns_it_did_not_witness():
    chat = make_chat()
    say(chat, "a secret said while Mara was away", witnesses={"you": True, "host": False})
    say(chat, "something Mara heard")
    text = json.dumps(build_prompt(chat, "host").messages)
    assert "secret said while Mara was away" not in text
    assert "something Mara heard" in text


def test_retrieved_memories_are_listed_with_why_the_speaker_may_see_them():
    chat = make_chat()
    config = load_config()
    config["budgets"].update(narrative_soft=1500)  # the old line leaves the history…
    save_config(config)
    say(chat, "The lighthouse keeper's name was Elsbeth Morrow.")
    for i in range(40):
        say(chat, f"small talk {i} " + "about the weather " * 8)
    append(stream=chat, kind="scene_closed", payload={"scene": 1, "reason": "time"})
    say(chat, "Who was the lighthouse keeper again?")
    prompt = build_prompt(chat, "host", query="Who was the lighthouse keeper again?")
    found = [m for m in prompt.memories if m["section"] == "retrieved memories"]
    assert any("Elsbeth Morrow" in m["text"] for m in found)
    assert all("host's witness bit is set" in m["why"] for m in found)


def test_lorebook_entries_whose_keys_appear_reach_the_prompt_with_the_reason(client):

    book = Lorebook.objects.create(name="Harrow Point")
    LoreEntry.objects.create(
        lorebook=book,
        uid=1,
        comment="the lighthouse",
        keys=["lighthouse"],
        content="{{char}} knows the lighthouse has been dark since 1994.",
    )
    LoreEntry.objects.create(
        lorebook=book, uid=2, comment="unrelated", keys=["volcano"], content="A volcano note."
    )
    chat = make_chat(Character.objects.create(name="Mara", lorebook=book))
    with override_backend(ScriptedBackend()):
        turns = client.post(
            f"/api/chats/{chat.pk}/turns",
            json.dumps({"text": "Tell me about the lighthouse."}),
            content_type="application/json",
        ).json()["turns"]
    prompt = client.get(f"/api/chats/{chat.pk}/turns/{turns[1]['id']}/prompt").json()
    sent = json.dumps(prompt["messages"])
    assert "Mara knows the lighthouse has been dark since 1994." in sent
    assert "volcano" not in sent.lower()
    assert prompt["lore"][0]["comment"] == "the lighthouse"
    assert prompt["lore"][0]["reason"] == "key"  # issue 20: one of key, secondary, sticky, …
    assert any(s["name"].startswith("lore") and s["tier"] == "should" for s in prompt["sections"])
