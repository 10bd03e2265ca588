"""Recollections that stay put (issue 28): what a prompt recalled stays beside its line, a
block gone from the history leaves its recollections in the stable beginning, a memory in the
prompt is not recalled again, and so each prompt begins with the whole of the one before it up
to that one's changing note — outside a block move."""

from __future__ import annotations

import json
import re

import pytest
from asgiref.sync import async_to_sync

from eventstore.models import Event
from play.engine import pipeline
from play.engine.inference.registry import get_backend
from rpsite.config import load_config, save_config
from tests.factories import make_character, make_chat

pytestmark = pytest.mark.django_db

WORDS = ["harbour", "lantern", "ledger", "causeway", "compass", "anchor", "kettle", "shutter"]


def letters(n: int) -> str:
    """A made-up word of its own for each number (the repetition guard reads letters only)."""
    out = ""
    while True:
        n, d = divmod(n, 26)
        out += "bcdfghjklmnpqrstvwxzaeiouy"[d]
        if not n:
            return out + "o"


def rendered(messages: list[dict]) -> str:
    return "".join(f"<{m['role']}>{m['content']}" for m in messages)


def stable_part(messages: list[dict]) -> str:
    """The prompt up to its changing note (the bracketed blocks after the newest line)."""
    last = messages[-1]["content"]
    cut = last.find("\n\n[") if not last.startswith("[") else 0
    return rendered(messages[:-1]) + f"<{messages[-1]['role']}>" + last[: max(cut, 0)]


def first_line(prompt: dict) -> str:
    held = [s for s in prompt["sections"] if "dialogue" in s["name"] and s["lines"]]
    return held[0]["lines"][0]["text"] if held else ""


def play(chat, turns: int, pad: int = 0) -> list[dict]:
    prompts = []
    for i in range(turns):
        filler = "".join(f" {letters(i * 100 + j)}" for j in range(pad * 3))
        word = WORDS[i % len(WORDS)]
        get_backend().narrative.append(f"The {word} again, number {i}{filler}.")
        outs = async_to_sync(pipeline.run_turn)(chat.pk, f"Do you remember the {word}? ({i})")
        prompts.append(Event.objects.get(pk=outs[-1].id).payload["prompt"])
    return prompts


@pytest.fixture
def small_budget():
    config = load_config()
    config["budgets"].update(narrative_soft=1400, narrative_hard=2400)
    config["play"].update(dialogue_window=6, retrieval_k=2)
    save_config(config)


@pytest.mark.parametrize("pad", [0, 12])  # short lines; long ones (the history moves often)
def test_each_prompt_begins_with_the_one_before_up_to_its_note(scripted, small_budget, pad):
    chat = make_chat()
    prompts = play(chat, 40, pad=pad)
    moves = kept = 0
    for before, after in zip(prompts, prompts[1:], strict=False):
        if first_line(before) != first_line(after):
            moves += 1  # the history's start moved on by a block: that one may differ
            continue
        assert rendered(after["messages"]).startswith(stable_part(before["messages"]))
        kept += 1
    assert moves >= 1 and kept >= 20


def test_a_prompt_recalls_at_most_k_new_and_never_what_it_holds(scripted, small_budget):
    chat = make_chat()
    prompts = play(chat, 45, pad=12)  # long lines: the history holds a few blocks only
    recalled_total = 0
    for prompt in prompts:
        new = [m for m in prompt["memories"] if m["section"] == "retrieved memories"]
        assert len(new) <= 2
        recalled_total += len(new)
        others = [m["id"] for m in prompt["memories"] if m["section"] != "retrieved memories"]
        assert len(others) == len(set(others))  # nothing twice
        assert not {m["id"] for m in new} & set(others)  # nothing recalled that it holds
    assert recalled_total >= 4  # it did recall
    last = prompts[-1]
    sections = {m["section"] for m in last["memories"]}
    # beside their lines in the history, and in the stable beginning for the blocks gone
    assert {"recollections"} <= sections
    assert any("recalls:" in m["content"] for m in last["messages"])


def test_the_model_reads_feelings_in_words(scripted):
    chat = make_chat()
    prompt = play(chat, 1)[0]
    text = json.dumps(prompt["messages"])
    assert "/100" not in text
    assert re.search(r"Mara (feels nothing much either way about|likes|is fond of) Sam", text)


def test_the_example_messages_stay_or_go_with_the_stable_part_alone(scripted, small_budget):
    """Left to the trim, the card's examples came and went with the size of the note, and the
    reused beginning broke right after the identity (bench/prefix.py's worst turns)."""
    examples = "<START>\n{{user}}: Do you ever get lost?\n{{char}}: *snorts* " + "Never. " * 40
    chat = make_chat(make_character(name="Mara", mes_example=examples))
    prompts = play(chat, 36, pad=12)
    shown = [
        next(s["included"] for s in p["sections"] if s["name"] == "example messages")
        for p in prompts
    ]
    assert all(shown), shown  # the stable part leaves room: in every prompt
    for before, after in zip(prompts, prompts[1:], strict=False):
        if first_line(before) == first_line(after):
            assert rendered(after["messages"]).startswith(stable_part(before["messages"]))
