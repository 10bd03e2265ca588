"""World Info activation (worlds.lore): keys, secondary logic, depth, budget, recursion, macros."""

from __future__ import annotations

from typing import Any

import pytest

from worlds.lore import MAX_PASSES, Fired, activate, lore_for_prompt
from worlds.models import Lorebook, LoreEntry
from worlds.tokens import estimate as default_estimate

pytestmark = pytest.mark.django_db


def words(text: str) -> int:
    return len(text.split())


@pytest.fixture
def book() -> Lorebook:
    return Lorebook.objects.create(name="Harbor")


def entry(book: Lorebook, uid: int = 1, **fields: Any) -> LoreEntry:
    fields.setdefault("keys", ["lighthouse"])
    fields.setdefault("content", f"Lore number {uid}.")
    return LoreEntry.objects.create(lorebook=book, uid=uid, **fields)


def run(entries: list[LoreEntry], messages: list[str], **options: Any) -> list[Fired]:
    options.setdefault("scan_depth", 4)
    options.setdefault("token_budget", 1000)
    return activate(entries, messages, **options)


def uids(fired: list[Fired]) -> list[int]:
    return [item.uid for item in fired]


# -- keys -----------------------------------------------------------------------------------------


def test_a_key_in_the_messages_fires_the_entry_and_the_reason_names_it(book):
    lighthouse = entry(book, comment="The light", content="It burns all night.")
    fired = run([lighthouse], ["We walked.", "Look, the lighthouse!"])
    assert fired == [
        Fired(
            entry_id=lighthouse.pk,
            uid=1,
            comment="The light",
            content="It burns all night.",
            insertion_order=100,
            reason='key "lighthouse" in the last 4 messages',
            tokens=default_estimate("It burns all night."),
        )
    ]


def test_no_key_in_the_messages_fires_nothing(book):
    assert run([entry(book)], ["We walked along the pier.", "The gulls cried."]) == []


def test_any_primary_key_is_enough_and_the_reason_names_the_one_that_matched(book):
    lamp = entry(book, keys=["lighthouse", "beacon"])
    [fired] = run([lamp], ["A beacon blinked."], scan_depth=1)
    assert fired.reason == 'key "beacon" in the last message'


def test_keys_match_case_insensitively_by_default(book):
    assert uids(run([entry(book)], ["THE LIGHTHOUSE loomed."])) == [1]


def test_case_sensitive_keys_need_the_exact_case(book):
    named = entry(book, keys=["Mara"], case_sensitive=True)
    assert run([named], ["mara is a word in some language"]) == []
    assert uids(run([named], ["Mara waved."])) == [1]


def test_whole_words_do_not_match_inside_other_words_but_substrings_do(book):
    whole = entry(book, uid=1, keys=["cat"])
    loose = entry(book, uid=2, keys=["cat"], match_whole_words=False)
    assert uids(run([whole, loose], ["Concatenate the strings."])) == [2]
    assert uids(run([whole, loose], ["The cat, asleep."])) == [1, 2]


def test_whole_words_work_for_non_ascii_words(book):
    cafe = entry(book, keys=["café"])
    assert uids(run([cafe], ["Meet me at the CAFÉ."])) == [1]
    assert run([cafe], ["Two cafés on the corner."]) == []
    assert run([cafe], ["Grandcafé Lux."]) == []
    snow = entry(book, uid=2, keys=["снег"])
    assert uids(run([snow], ["Идёт снег."])) == [2]
    assert run([snow], ["Снеговик."]) == []


def test_a_key_with_spaces_matches_as_a_phrase(book):
    phrase = entry(book, keys=["old lighthouse"])
    assert uids(run([phrase], ["The Old\n  Lighthouse stood."])) == [1]
    assert run([phrase], ["The old, tall lighthouse."]) == []
    assert run([phrase], ["A bold lighthouse."]) == []
    assert run([phrase], ["The old lighthouses."]) == []


def test_regex_keys_with_flags(book):
    lights = entry(book, uid=1, keys=["/light(house)?s?/i"])
    shouting = entry(book, uid=2, keys=["/Storm/"])
    line_start = entry(book, uid=3, keys=["/^anchor/m"])
    across = entry(book, uid=4, keys=["/rope.knot/s"])
    entries = [lights, shouting, line_start, across]
    assert uids(run(entries, ["LIGHTS out."])) == [1]
    assert uids(run(entries, ["A storm.", "Storm!"])) == [2]
    assert uids(run(entries, ["We drop\nanchor here."])) == [3]
    assert run(entries, ["We drop anchor here."]) == []
    assert uids(run(entries, ["rope\nknot"])) == [4]


def test_regex_keys_ignore_whole_word_matching(book):
    prefix = entry(book, keys=["/light/"])
    assert uids(run([prefix], ["lighthouse"])) == [1]


def test_a_bad_regex_is_skipped_without_crashing(book):
    broken = entry(book, uid=1, keys=["/([unclosed/", "beacon"])
    only_broken = entry(book, uid=2, keys=["/(?P<x/i"])
    assert run([broken, only_broken], ["([unclosed"]) == []
    assert uids(run([broken, only_broken], ["The beacon."])) == [1]


def test_empty_keys_are_ignored(book):
    blank = entry(book, keys=["", "   ", None, 7])
    assert run([blank], ["anything at all", " "]) == []


# -- scan depth -----------------------------------------------------------------------------------


def test_a_key_only_in_an_older_message_does_not_fire(book):
    messages = ["The lighthouse.", "two", "three", "four", "five"]
    assert run([entry(book)], messages, scan_depth=4) == []
    assert uids(run([entry(book, uid=2)], messages, scan_depth=5)) == [2]


def test_scan_depth_zero_scans_no_messages(book):
    assert run([entry(book)], ["lighthouse"], scan_depth=0) == []


def test_an_entry_scan_depth_overrides_the_books(book):
    messages = ["The lighthouse.", "two", "three", "four", "five"]
    deep = entry(book, uid=1, scan_depth=5)
    shallow = entry(book, uid=2, scan_depth=1, keys=["four"])
    blind = entry(book, uid=3, scan_depth=0, keys=["five"])
    fired = run([deep, shallow, blind], messages, scan_depth=4)
    assert uids(fired) == [1]
    assert fired[0].reason == 'key "lighthouse" in the last 5 messages'


def test_messages_are_not_joined_into_a_phrase(book):
    phrase = entry(book, keys=["old lighthouse"])
    assert run([phrase], ["It is old", "lighthouse keepers know"]) == []


# -- secondary keys -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("logic", "message", "fires", "reason"),
    [
        ("and_any", "lighthouse in the storm", True, 'key "lighthouse" + secondary "storm"'),
        ("and_any", "lighthouse, calm sea", False, None),
        (
            "and_all",
            "lighthouse, storm and fog",
            True,
            'key "lighthouse" + all secondary keys ("storm", "fog")',
        ),
        ("and_all", "lighthouse in the storm", False, None),
        (
            "not_any",
            "lighthouse, calm sea",
            True,
            'key "lighthouse" + none of the secondary keys ("storm", "fog")',
        ),
        ("not_any", "lighthouse in the fog", False, None),
        ("not_all", "lighthouse in the storm", True, 'key "lighthouse" + secondary "fog" absent'),
        ("not_all", "lighthouse, calm sea", True, 'key "lighthouse" + secondary "storm" absent'),
        ("not_all", "lighthouse, storm and fog", False, None),
    ],
)
def test_selective_logic(book, logic, message, fires, reason):
    selective = entry(book, selective=True, secondary_keys=["storm", "fog"], selective_logic=logic)
    fired = run([selective], [message], scan_depth=1)
    assert uids(fired) == ([1] if fires else [])
    if fires:
        assert fired[0].reason == f"{reason} in the last message"


def test_secondary_keys_alone_never_fire(book):
    selective = entry(book, selective=True, secondary_keys=["storm"], selective_logic="not_any")
    assert run([selective], ["A storm."]) == []
    assert run([selective], ["Calm."]) == []


def test_secondary_keys_are_ignored_unless_selective(book):
    plain = entry(book, selective=False, secondary_keys=["storm"], selective_logic="and_all")
    assert uids(run([plain], ["The lighthouse."])) == [1]


def test_selective_without_secondary_keys_needs_only_a_primary_key(book):
    selective = entry(book, selective=True, secondary_keys=["", " "], selective_logic="and_all")
    assert uids(run([selective], ["The lighthouse."])) == [1]


# -- constant, disabled, order --------------------------------------------------------------------


def test_constant_entries_always_fire(book):
    always = entry(book, keys=[], constant=True)
    fired = run([always], [])
    assert uids(fired) == [1]
    assert fired[0].reason == "constant"


def test_disabled_entries_never_fire(book):
    off = entry(book, uid=1, enabled=False)
    off_constant = entry(book, uid=2, enabled=False, constant=True)
    assert run([off, off_constant], ["The lighthouse."]) == []


def test_fired_entries_are_ordered_by_insertion_order_then_uid(book):
    entries = [
        entry(book, uid=5, insertion_order=300),
        entry(book, uid=4, insertion_order=100),
        entry(book, uid=2, insertion_order=200),
        entry(book, uid=1, insertion_order=200),
        entry(book, uid=3, insertion_order=50, constant=True),
    ]
    assert uids(run(entries, ["lighthouse"])) == [3, 4, 1, 2, 5]


# -- token budget ---------------------------------------------------------------------------------


def test_the_budget_skips_an_entry_that_does_not_fit_and_keeps_a_later_small_one(book):
    first = entry(book, uid=1, insertion_order=1, content="one two three four five")
    big = entry(book, uid=2, insertion_order=2, content=" ".join(["word"] * 20))
    small = entry(book, uid=3, insertion_order=3, content="six seven eight")
    too_much = entry(book, uid=4, insertion_order=4, content="nine ten eleven")
    fired = run([first, big, small, too_much], ["lighthouse"], token_budget=10, estimate=words)
    assert uids(fired) == [1, 3]
    assert [item.tokens for item in fired] == [5, 3]


def test_constant_entries_claim_the_budget_first(book):
    keyed = entry(book, uid=1, insertion_order=1, content="one two three four five")
    always = entry(book, uid=2, insertion_order=900, constant=True, content="a b c d e f g h")
    fired = run([keyed, always], ["lighthouse"], token_budget=10, estimate=words)
    assert uids(fired) == [2]


def test_the_default_estimate_is_play_tokens(book):
    text = "The keeper, old and patient, trims the wick every evening."
    [fired] = run([entry(book, content=text)], ["lighthouse"])
    assert fired.tokens == default_estimate(text)
    assert run([entry(book, uid=2, content=text)], ["lighthouse"], token_budget=3) == []


# -- recursion ------------------------------------------------------------------------------------


def test_recursion_fires_an_entry_named_only_in_another_entrys_content(book):
    light = entry(book, uid=1, comment="Light", content="Its keeper is Old Tom.")
    keeper = entry(book, uid=2, keys=["keeper"], content="Tom drinks.")
    assert uids(run([light, keeper], ["The lighthouse."])) == [1]
    fired = run([light, keeper], ["The lighthouse."], recursive=True)
    assert uids(fired) == [1, 2]
    assert fired[1].reason == 'key "keeper" in the content of "Light"'


def test_recursion_scans_constant_content(book):
    always = entry(book, uid=1, keys=[], constant=True, content="The harbor has a keeper.")
    keeper = entry(book, uid=2, keys=["keeper"])
    assert uids(run([always, keeper], [], recursive=True)) == [1, 2]
    assert uids(run([always, keeper], [], recursive=False)) == [1]


def test_recursion_never_fires_an_entry_twice_or_loops(book):
    light = entry(book, uid=1, content="The keeper lives in the lighthouse.")
    keeper = entry(book, uid=2, keys=["keeper"], content="The keeper tends the lighthouse.")
    fired = run([light, keeper], ["lighthouse"], recursive=True)
    assert uids(fired) == [1, 2]


def test_recursion_is_bounded(book):
    chain = [
        entry(book, uid=1, keys=["alpha"], content="bravo"),
        entry(book, uid=2, keys=["bravo"], content="charlie"),
        entry(book, uid=3, keys=["charlie"], content="delta"),
        entry(book, uid=4, keys=["delta"], content="echo"),
    ]
    assert MAX_PASSES == 3
    assert uids(run(chain, ["alpha"], recursive=True)) == [1, 2, 3]


def test_recursed_secondary_logic_sees_messages_and_lore_together(book):
    light = entry(book, uid=1, content="A storm is coming.")
    braced = entry(book, uid=2, keys=["keeper"], selective=True, secondary_keys=["storm"])
    assert uids(run([light, braced], ["lighthouse", "keeper"])) == [1]
    fired = run([light, braced], ["lighthouse", "keeper"], recursive=True)
    assert uids(fired) == [1, 2]
    assert fired[1].reason == 'key "keeper" + secondary "storm" in the last 4 messages'


# -- lore_for_prompt ------------------------------------------------------------------------------


def test_lore_for_prompt_merges_books_expands_macros_and_uses_each_books_settings(book):
    book.scan_depth = 1
    book.save()
    world = Lorebook.objects.create(name="World", scan_depth=3, recursive_scanning=True)
    entry(book, uid=1, insertion_order=30, content="{{char}} fears the lighthouse.")
    entry(book, uid=2, insertion_order=5, keys=["harbor"], content="Unused: too old.")
    entry(world, uid=1, insertion_order=20, keys=["harbor"], content="<USER> owns a boat.")
    entry(world, uid=2, insertion_order=10, keys=["boat"], content="{{User}} met {{char}}.")
    messages = ["The harbor.", "A gull.", "The lighthouse."]

    fired = lore_for_prompt([book, None, world, book], messages, char="Mara", user="Sam")

    assert [item.content for item in fired] == [
        "Sam met Mara.",
        "Sam owns a boat.",
        "Mara fears the lighthouse.",
    ]
    assert [item.insertion_order for item in fired] == [10, 20, 30]
    assert fired[0].reason == 'key "boat" in the content of "entry 1"'
    assert [item.tokens for item in fired] == [default_estimate(item.content) for item in fired]


def test_lore_for_prompt_matches_raw_text_not_expanded_macros(book):
    entry(book, keys=["Mara"], content="{{char}} is here.")
    assert lore_for_prompt([book], ["{{char}} waves."], char="Mara", user="Sam") == []
    [fired] = lore_for_prompt([book], ["Mara waves."], char="Mara", user="Sam")
    assert fired.content == "Mara is here."


def test_lore_for_prompt_applies_each_books_budget(book):
    book.token_budget = 3
    book.save()
    roomy = Lorebook.objects.create(name="Roomy")
    entry(book, content="A long lore entry that will not fit in three tokens.")
    entry(roomy, uid=2, content="A long lore entry that will fit here.")
    assert uids(lore_for_prompt([book, roomy], ["lighthouse"], char="c", user="u")) == [2]
