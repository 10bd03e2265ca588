"""Card macros (worlds.macros): SillyTavern's common macros, reproducible from their seeds."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from worlds.macros import MacroContext, expand_macros


def x(text: str, **context) -> str:
    return expand_macros(text, char="Mara", user="Sam", context=MacroContext(**context))


def test_names_in_every_spelling_and_existing_callers_without_a_context():
    assert expand_macros("{{char}} & {{User}}, <BOT> <user>", char="Mara", user="Sam") == (
        "Mara & Sam, Mara Sam"
    )


def test_unknown_macros_and_values_the_context_lacks_are_left_as_written():
    assert x("{{getvar::mood}} {{lastMessage}} {{time}} {{idle_duration}}") == (
        "{{getvar::mood}} {{lastMessage}} {{time}} {{idle_duration}}"
    )


def test_context_values():
    text = (
        "{{persona}}|{{description}}|{{personality}}|{{scenario}}|{{mesExamples}}|"
        "{{lastMessage}}|{{lastUserMessage}}|{{lastCharMessage}}|{{input}}|{{model}}"
    )
    context = dict(
        persona="a photographer",
        description="a surveyor",
        personality="dry",
        scenario="a night drive",
        mes_examples="<START>",
        last_message="Go.",
        last_user_message="Go.",
        last_char_message="Wait.",
        input="Go.",
        model="m-24b",
    )
    assert x(text, **context) == (
        "a photographer|a surveyor|dry|a night drive|<START>|Go.|Go.|Wait.|Go.|m-24b"
    )


def test_newline_noop_comment_and_trim():
    assert x("a{{newline}}b{{noop}}c{{// not for the model }}d") == "a\nbcd"
    assert x("line one\n\n{{trim}}\nline two") == "line oneline two"


def test_time_macros_format_the_given_moment():
    now = datetime(2024, 10, 12, 21, 5)
    text = "{{time}}|{{date}}|{{weekday}}|{{isotime}}|{{isodate}}"
    assert x(text, now=now) == "9:05 PM|October 12, 2024|Saturday|21:05|2024-10-12"
    assert x("{{time}}", now=datetime(2024, 1, 1, 0, 30)) == "12:30 AM"


@pytest.mark.parametrize(
    ("span", "said"),
    [
        (timedelta(seconds=10), "a few seconds"),
        (timedelta(minutes=1), "a minute"),
        (timedelta(minutes=20), "20 minutes"),
        (timedelta(hours=1), "an hour"),
        (timedelta(hours=4), "4 hours"),
        (timedelta(days=1), "a day"),
        (timedelta(days=3), "3 days"),
        (timedelta(days=40), "a month"),
        (timedelta(days=800), "2 years"),
    ],
)
def test_idle_duration_is_said_the_way_sillytavern_says_it(span, said):
    assert x("{{idle_duration}}", idle=span) == said


def test_random_in_both_spellings_is_reproducible_from_the_seed():
    forms = ["{{random:red,green,blue}}", "{{random::red::green::blue}}"]
    for form in forms:
        seen = {x(form, seed=f"chat:{turn}") for turn in range(60)}
        assert seen == {"red", "green", "blue"}
        assert x(form, seed="chat:7") == x(form, seed="chat:7")
    assert x("{{random::a, b::c}}", seed="s") in ("a, b", "c")
    assert x(r"{{random:a\,b,c}}", seed="t") in ("a,b", "c")


def test_two_random_macros_in_one_text_draw_separately():
    pairs = {x("{{random:1,2,3,4,5,6}}{{random:1,2,3,4,5,6}}", seed=str(n)) for n in range(40)}
    assert any(pair[0] != pair[1] for pair in pairs)


def test_pick_stays_the_same_in_a_chat_whatever_the_turn():
    text = "The sign reads {{pick::OPEN::CLOSED::GONE FISHING}}."
    first = x(text, seed="turn:1", stable_seed="chat:3")
    assert all(x(text, seed=f"turn:{n}", stable_seed="chat:3") == first for n in range(30))
    chats = {x(text, stable_seed=f"chat:{n}") for n in range(40)}
    assert len(chats) == 3


@pytest.mark.parametrize(
    ("formula", "low", "high"), [("d20", 1, 20), ("2d6+1", 3, 13), ("6", 1, 6)]
)
def test_roll_stays_in_the_dice_range_and_covers_it(formula, low, high):
    rolls = {int(x(f"{{{{roll:{formula}}}}}", seed=str(n))) for n in range(400)}
    assert min(rolls) == low and max(rolls) == high
    assert x(f"{{{{roll {formula}}}}}", seed="a") == x(f"{{{{roll:{formula}}}}}", seed="a")


def test_a_roll_that_cannot_be_rolled_writes_nothing():
    assert x("[{{roll:banana}}] [{{roll:1000d6}}] [{{roll:2d6-1}}]", seed="z").startswith("[] [] [")
