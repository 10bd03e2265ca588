"""World Info activation (worlds.lore), each rule from a book in SillyTavern's export format."""

from __future__ import annotations

import json

import pytest

from tests.worlds.lore_helpers import (
    book,
    import_book,
    messages,
    run,
    st_entry,
    uids,
    world_info_json,
)
from worlds.cards import read_card_file
from worlds.lore import ScanMessage, Speaker, activate, book_of, lore_for_prompt
from worlds.models import Lorebook, LoreEntry
from worlds.services_cards import lorebook_export
from worlds.tokens import estimate

pytestmark = pytest.mark.django_db


def words(text: str) -> int:
    return len(text.split())


# -- keys -----------------------------------------------------------------------------------------


def test_a_key_fires_the_entry_with_its_reason_place_cost_and_triggering_messages():
    lighthouse = book(st_entry(7, key=["lighthouse"], comment="The light", content="It burns."))
    [fired] = run(lighthouse, ["We walked.", "Look, the lighthouse!", "It is late."]).fired
    assert (fired.uid, fired.reason, fired.position) == (7, "key", "before_char")
    assert fired.lorebook == lighthouse.id
    assert fired.why == 'key "lighthouse" in the last 4 messages'
    assert fired.content == "It burns." and fired.tokens == estimate("It burns.")
    assert fired.triggers == (2,)
    assert (fired.depth, fired.role) == (None, None)


def test_no_key_in_the_messages_fires_nothing():
    assert run(book(st_entry(1, key=["lighthouse"])), ["The gulls cried."]).fired == []


def test_the_triggers_are_every_scanned_message_holding_a_matching_key():
    light = book(st_entry(1, key=["lighthouse", "beacon"]))
    [fired] = run(light, ["a beacon", "nothing", "the lighthouse", "no"]).fired
    assert fired.triggers == (1, 3)


def test_keys_are_case_insensitive_unless_the_entry_or_its_book_says_otherwise():
    loose = book(st_entry(1, key=["Mara"]))
    assert uids(run(loose, ["mara waved"])) == [1]
    strict = book(st_entry(1, key=["Mara"], caseSensitive=True))
    assert run(strict, ["mara waved"]).fired == []
    by_book = book(st_entry(1, key=["Mara"]), case_sensitive=True)
    assert run(by_book, ["mara waved"]).fired == []
    assert uids(run(by_book, ["Mara waved"])) == [1]
    entry_wins = book(st_entry(1, key=["Mara"], caseSensitive=False), case_sensitive=True)
    assert uids(run(entry_wins, ["mara waved"])) == [1]


def test_whole_words_follow_the_entry_else_the_book():
    inherit = book(st_entry(1, key=["cat"]))  # matchWholeWords null: the book's default (on)
    assert run(inherit, ["Concatenate it."]).fired == []
    off_by_book = book(st_entry(1, key=["cat"]), match_whole_words=False)
    assert uids(run(off_by_book, ["Concatenate it."])) == [1]
    off_by_entry = book(st_entry(1, key=["cat"], matchWholeWords=False))
    assert uids(run(off_by_entry, ["Concatenate it."])) == [1]


def test_regex_keys_with_flags_and_a_broken_regex_is_skipped():
    regexes = book(
        st_entry(1, key=["/light(house)?s?/i"]),
        st_entry(2, key=["/^anchor/m"]),
        st_entry(3, key=["/([unclosed/", "beacon"]),
    )
    assert uids(run(regexes, ["LIGHTS out."])) == [1]
    assert uids(run(regexes, ["We drop\nanchor here."])) == [2]
    assert run(regexes, ["([unclosed"]).fired == []
    assert uids(run(regexes, ["a beacon"])) == [3]


def test_keys_never_match_across_two_messages():
    phrase = book(st_entry(1, key=["old lighthouse"]))
    assert run(phrase, ["It is old", "lighthouse keepers know"]).fired == []
    assert uids(run(phrase, ["The old  lighthouse"])) == [1]


def test_speaker_names_are_scanned_with_their_messages():
    named = book(st_entry(1, key=["Theo"]))
    said = [ScanMessage(id=4, text="Hello there.", name="Theo")]
    [fired] = activate([named], said).fired
    assert fired.triggers == (4,)


# -- secondary keys -------------------------------------------------------------------------------

LOGIC = {"and_any": 0, "not_all": 1, "not_any": 2, "and_all": 3}


@pytest.mark.parametrize(
    ("logic", "message", "fires"),
    [
        ("and_any", "lighthouse in the storm", True),
        ("and_any", "lighthouse, calm sea", False),
        ("and_all", "lighthouse, storm and fog", True),
        ("and_all", "lighthouse in the storm", False),
        ("not_any", "lighthouse, calm sea", True),
        ("not_any", "lighthouse in the fog", False),
        ("not_all", "lighthouse in the storm", True),
        ("not_all", "lighthouse, calm sea", True),
        ("not_all", "lighthouse, storm and fog", False),
    ],
)
def test_secondary_key_logic(logic, message, fires):
    selective = book(
        st_entry(1, key=["lighthouse"], keysecondary=["storm", "fog"], selectiveLogic=LOGIC[logic])
    )
    fired = run(selective, [message]).fired
    assert uids(run(selective, [message])) == ([1] if fires else [])
    if fires:
        assert fired[0].reason == "secondary"


def test_not_all_blocks_only_when_every_secondary_key_is_present():
    guarded = book(
        st_entry(1, key=["vault"], keysecondary=["key", "code"], selectiveLogic=1, content="Open")
    )
    assert uids(run(guarded, ["the vault", "a key"])) == [1]
    assert run(guarded, ["the vault", "a key", "the code"]).fired == []
    [fired] = run(guarded, ["the vault", "the code"]).fired
    assert fired.why == 'key "vault" + secondary "key" absent in the last 4 messages'


def test_and_secondary_keys_add_their_messages_to_the_triggers():
    both = book(st_entry(1, key=["lighthouse"], keysecondary=["storm"], selectiveLogic=0))
    [fired] = run(both, ["the lighthouse", "calm", "a storm"]).fired
    assert fired.triggers == (1, 3)


def test_secondary_keys_alone_never_fire_and_are_ignored_unless_selective():
    selective = book(st_entry(1, key=["lighthouse"], keysecondary=["storm"], selectiveLogic=2))
    assert run(selective, ["A storm."]).fired == []
    plain = book(st_entry(1, key=["lighthouse"], keysecondary=["storm"], selective=False))
    [fired] = run(plain, ["the lighthouse"]).fired
    assert fired.reason == "key"


# -- scan depth, constant, disabled ---------------------------------------------------------------


def test_scan_depth_comes_from_the_entry_else_the_book():
    texts = ["The lighthouse.", "two", "three", "four", "five"]
    assert run(book(st_entry(1, key=["lighthouse"])), texts).fired == []
    assert uids(run(book(st_entry(1, key=["lighthouse"]), scan_depth=5), texts)) == [1]
    deep = book(st_entry(1, key=["lighthouse"], scanDepth=5))
    assert run(deep, texts).fired[0].why == 'key "lighthouse" in the last 5 messages'
    blind = book(st_entry(1, key=["five"], scanDepth=0))
    assert run(blind, texts).fired == []


def test_constant_entries_always_fire_and_disabled_ones_never_do():
    entries = book(
        st_entry(1, constant=True, content="Always."),
        st_entry(2, key=["lighthouse"], disable=True),
        st_entry(3, constant=True, disable=True),
    )
    [fired] = run(entries, ["the lighthouse"]).fired
    assert (fired.uid, fired.reason, fired.triggers) == (1, "constant", ())


def test_decorators_force_or_forbid_activation_and_leave_the_content():
    decorated = book(
        st_entry(1, content="@@activate\nForced in."),
        st_entry(2, key=["lighthouse"], content="@@dont_activate\nNever."),
    )
    [fired] = run(decorated, ["the lighthouse"]).fired
    assert (fired.uid, fired.content, fired.reason) == (1, "Forced in.", "constant")


# -- positions ------------------------------------------------------------------------------------


def test_depth_4_as_a_system_message_is_reported_at_depth_4_with_the_system_role():
    placed = book(st_entry(1, key=["lighthouse"], position=4, depth=4, role=0))
    [fired] = run(placed, ["the lighthouse"]).fired
    assert (fired.position, fired.depth, fired.role) == ("at_depth", 4, "system")


@pytest.mark.parametrize(
    ("position", "expected"),
    [
        (0, "before_char"),
        (1, "after_char"),
        (2, "an_top"),
        (3, "an_bottom"),
        (5, "before_examples"),
        (6, "after_examples"),
    ],
)
def test_every_sillytavern_position_is_reported_by_name(position, expected):
    [fired] = run(book(st_entry(1, constant=True, position=position)), []).fired
    assert fired.position == expected and fired.depth is None


@pytest.mark.parametrize(("role", "expected"), [(None, "system"), (1, "user"), (2, "assistant")])
def test_depth_entries_carry_their_role(role, expected):
    [fired] = run(book(st_entry(1, constant=True, position=4, depth=2, role=role)), []).fired
    assert (fired.depth, fired.role) == (2, expected)


def test_an_outlet_entry_is_not_placed_anywhere():
    assert run(book(st_entry(1, constant=True, position=7)), []).fired == []


# -- probability ----------------------------------------------------------------------------------


def test_probability_0_never_fires_and_100_always_does():
    never = book(st_entry(1, key=["lighthouse"], probability=0, useProbability=True))
    always = book(st_entry(2, key=["lighthouse"], probability=100, useProbability=True))
    for turn in range(200):
        assert run(never, ["the lighthouse"], seed=f"chat:{turn}").fired == []
        assert uids(run(always, ["the lighthouse"], seed=f"chat:{turn}")) == [2]


def test_probability_is_ignored_when_not_used_and_rolls_the_same_for_the_same_seed():
    unused = book(st_entry(1, key=["lighthouse"], probability=0, useProbability=False))
    assert uids(run(unused, ["the lighthouse"])) == [1]
    coin = book(st_entry(1, key=["lighthouse"], probability=50))
    outcomes = [bool(run(coin, ["the lighthouse"], seed=f"7:{turn}").fired) for turn in range(400)]
    assert 150 < sum(outcomes) < 250
    again = [bool(run(coin, ["the lighthouse"], seed=f"7:{turn}").fired) for turn in range(400)]
    assert again == outcomes


# -- inclusion groups -----------------------------------------------------------------------------


def weather(extra=None):
    extra = extra or {}
    return [
        st_entry(1, key=["sky"], group="weather", content="Sun.", **extra.get(1, {})),
        st_entry(2, key=["sky"], group="weather", content="Rain.", **extra.get(2, {})),
        st_entry(3, key=["sky"], group="weather", content="Snow.", **extra.get(3, {})),
    ]


def test_a_group_fires_exactly_one_member_picked_by_weight():
    group = book(*weather({1: {"groupWeight": 80}, 2: {"groupWeight": 20}, 3: {"groupWeight": 0}}))
    winners = []
    for turn in range(300):
        fired = run(group, ["the sky"], seed=f"c:{turn}").fired
        assert len(fired) == 1
        winners.append(fired[0].uid)
    assert 3 not in winners
    assert 180 < winners.count(1) < 270
    assert [run(group, ["the sky"], seed=f"c:{n}").fired[0].uid for n in range(300)] == winners


def test_a_prioritised_member_wins_its_group_by_order():
    group = book(
        *weather(
            {
                1: {"groupOverride": True, "order": 10},
                2: {"groupOverride": True, "order": 50},
            }
        )
    )
    for turn in range(20):
        assert uids(run(group, ["the sky"], seed=str(turn))) == [2]


def test_group_scoring_keeps_the_members_matching_the_most_keys():
    songs = book(
        st_entry(1, key=["song", "sing", "Black Cat"], group="songs", useGroupScoring=True),
        st_entry(2, key=["song", "sing", "Ghosts"], group="songs", useGroupScoring=True),
    )
    for turn in range(20):
        assert uids(run(songs, ["sing me a song about Ghosts"], seed=str(turn))) == [2]
    picked = {run(songs, ["sing me a song"], seed=str(turn)).fired[0].uid for turn in range(40)}
    assert picked == {1, 2}


def test_an_entry_in_several_groups_and_a_group_that_already_fired():
    shared = book(
        st_entry(1, key=["storm"], group="weather", groupOverride=True, content="Thunder."),
        st_entry(2, key=["storm"], group="weather,mood", content="Gloom."),
        st_entry(3, key=["storm"], group="mood", content="Dread."),
    )
    # uid 1 wins "weather", so uid 2 is out of both its groups and uid 3 is left in "mood"
    assert uids(run(shared, ["a storm"])) == [1, 3]


# -- recursion ------------------------------------------------------------------------------------


def test_recursion_fires_an_entry_named_in_fired_content_and_inherits_its_triggers():
    chain = book(
        st_entry(1, key=["lighthouse"], comment="Light", content="Its keeper is Tom."),
        st_entry(2, key=["keeper"], content="Tom drinks."),
        recursive_scanning=True,
    )
    fired = run(chain, ["hello", "the lighthouse"]).fired
    assert uids(run(chain, ["hello", "the lighthouse"])) == [1, 2]
    assert (fired[1].reason, fired[1].triggers) == ("recursion", (2,))
    assert fired[1].why == 'key "keeper" in the content of "Light"'
    flat = book(st_entry(1, key=["lighthouse"], content="keeper"), st_entry(2, key=["keeper"]))
    assert uids(run(flat, ["the lighthouse"])) == [1]


def test_recursion_scans_constants_and_chains_until_nothing_new_fires():
    chain = book(
        st_entry(1, constant=True, content="alpha"),
        st_entry(2, key=["alpha"], content="bravo"),
        st_entry(3, key=["bravo"], content="charlie"),
        st_entry(4, key=["charlie"], content="delta"),
        st_entry(5, key=["delta"], content="alpha bravo"),
        recursive_scanning=True,
    )
    assert sorted(uids(run(chain, []))) == [1, 2, 3, 4, 5]


def test_max_recursion_steps_bounds_the_passes():
    chain = book(
        st_entry(1, key=["alpha"], content="bravo"),
        st_entry(2, key=["bravo"], content="charlie"),
        st_entry(3, key=["charlie"], content="delta"),
        recursive_scanning=True,
        max_recursion_steps=2,
    )
    assert uids(run(chain, ["alpha"])) == [1, 2]


def test_non_recursable_prevent_recursion_and_delay_until_recursion():
    entries = book(
        st_entry(1, key=["lighthouse"], content="keeper gull tide"),
        st_entry(2, key=["keeper"], excludeRecursion=True),  # never by lore
        st_entry(3, key=["gull"], preventRecursion=True, content="fish"),  # fires, stops there
        st_entry(4, key=["fish"]),
        st_entry(5, key=["tide"], delayUntilRecursion=True),  # only from lore
        recursive_scanning=True,
    )
    assert sorted(uids(run(entries, ["the lighthouse"]))) == [1, 3, 5]
    assert uids(run(entries, ["tide"])) == []  # in a message: not until recursion


def test_delay_until_recursion_levels_open_one_after_the_other():
    def levels(second: int):
        return book(
            st_entry(1, constant=True, content="moon"),
            st_entry(2, key=["moon"], delayUntilRecursion=second, content="level two fired"),
            st_entry(3, key=["moon"], delayUntilRecursion=1, content="star"),
            st_entry(
                4, key=["star"], delayUntilRecursion=2, keysecondary=["two"], selectiveLogic=2
            ),
            recursive_scanning=True,
        )

    # level 1 (uid 3) first, then level 2: uid 2 and uid 4 in the same pass, before "two" is seen
    fired = run(levels(2), []).fired
    assert {f.uid: f.reason for f in fired} == {
        1: "constant",
        2: "recursion",
        3: "recursion",
        4: "recursion",
    }
    # with uid 2 on level 1, its "two" is in the lore by the time level 2 opens: uid 4 stays out
    assert sorted(uids(run(levels(1), []))) == [1, 2, 3]


# -- character filter -----------------------------------------------------------------------------


def test_the_character_filter_by_name_and_tag_and_its_exclude_mode():
    filtered = book(
        st_entry(1, constant=True, characterFilter={"isExclude": False, "names": ["Mara"]}),
        st_entry(2, constant=True, characterFilter={"isExclude": True, "names": ["Mara"]}),
        st_entry(3, constant=True, characterFilter={"isExclude": False, "tags": ["sea"]}),
    )
    mara = Speaker("Mara", ("sea",))
    theo = Speaker("Theo", ())
    assert uids(activate([filtered], [], speaker=mara)) == [1, 3]
    assert uids(activate([filtered], [], speaker=theo)) == [2]


# -- min activations ------------------------------------------------------------------------------


def test_min_activations_scan_deeper_until_enough_entries_fire():
    texts = ["the harbor", "the lighthouse", "a", "b", "c", "d"]
    entries = [st_entry(1, key=["harbor"]), st_entry(2, key=["lighthouse"])]
    assert run(book(*entries), texts).fired == []
    one = book(*entries, min_activations=1)
    assert uids(run(one, texts)) == [2]
    two = book(*entries, min_activations=2)
    assert sorted(uids(run(two, texts))) == [1, 2]
    bounded = book(*entries, min_activations=2, min_activations_depth_max=5)
    assert uids(run(bounded, texts)) == [2]


# -- budget ---------------------------------------------------------------------------------------


def test_the_budget_takes_constants_first_then_higher_order_and_stops_at_the_first_misfit():
    entries = book(
        st_entry(1, key=["sea"], order=300, content="one two three four"),
        st_entry(2, key=["sea"], order=200, content="one two three four five six"),
        st_entry(3, key=["sea"], order=100, content="one"),
        st_entry(4, constant=True, order=1, content="a b c"),
        token_budget=10,
    )
    result = run(entries, ["the sea"], estimate=words)
    assert sorted(uids(result)) == [1, 4]  # 3 + 4 fit; 6 more does not; nothing after it
    assert [item.insertion_order for item in result.fired] == [1, 300]


def test_a_budget_as_a_share_of_the_context_capped_by_the_token_budget():
    entries = book(
        st_entry(1, key=["sea"], order=2, content=" ".join(["w"] * 40)),
        st_entry(2, key=["sea"], order=1, content=" ".join(["w"] * 40)),
        budget_percent=10,
        token_budget=0,
    )
    assert sorted(uids(run(entries, ["sea"], estimate=words, context_tokens=800))) == [1, 2]
    assert uids(run(entries, ["sea"], estimate=words, context_tokens=500)) == [1]
    capped = book(
        st_entry(1, key=["sea"], content=" ".join(["w"] * 40)), budget_percent=10, token_budget=30
    )
    assert run(capped, ["sea"], estimate=words, context_tokens=800).fired == []


# -- timed effects --------------------------------------------------------------------------------


class Chat:
    """A chat's activations in turn, carrying the timed state like the event log does."""

    def __init__(self, lore):
        self.book, self.timed, self.log = lore, {}, []

    def say(self, text: str):
        self.log.append(text)
        result = activate(
            [self.book],
            messages(*self.log),
            timed=self.timed,
            seed=f"chat:{len(self.log)}",
        )
        self.timed = result.timed
        return {item.uid: item.reason for item in result.fired}


def test_sticky_keeps_an_entry_for_n_messages_after_its_key_stops():
    chat = Chat(book(st_entry(1, key=["storm"], sticky=3, scanDepth=1)))
    assert chat.say("a storm comes") == {1: "key"}  # 1 message: sticky until 1 + 3
    assert chat.say("calm") == {1: "sticky"}
    assert chat.say("calm") == {1: "sticky"}
    assert chat.say("calm") == {}
    assert chat.say("a storm again") == {1: "key"}


def test_a_sticky_entry_keeps_the_triggers_that_set_it():
    chat = Chat(book(st_entry(1, key=["storm"], sticky=2, scanDepth=1)))
    chat.say("calm")
    chat.say("a storm")
    result = activate([chat.book], messages("calm", "a storm", "calm"), timed=chat.timed)
    assert [(f.reason, f.triggers) for f in result.fired] == [("sticky", (2,))]


def test_cooldown_blocks_an_entry_for_n_messages_after_it_fired():
    chat = Chat(book(st_entry(1, key=["storm"], cooldown=2)))
    assert chat.say("a storm") == {1: "key"}
    assert chat.say("the storm again") == {}
    assert chat.say("still the storm") == {1: "key"}


def test_cooldown_starts_when_sticky_ends():
    chat = Chat(book(st_entry(1, key=["storm"], sticky=2, cooldown=2, scanDepth=1)))
    assert chat.say("a storm") == {1: "key"}
    assert chat.say("storm") == {1: "sticky"}
    assert chat.say("storm") == {}  # sticky over: cooldown from here
    assert chat.say("storm") == {}
    assert chat.say("storm") == {1: "key"}


def test_delay_waits_until_the_chat_holds_that_many_messages():
    chat = Chat(book(st_entry(1, key=["storm"], delay=3)))
    assert chat.say("storm") == {}
    assert chat.say("storm") == {}
    assert chat.say("storm") == {1: "key"}


def test_sticky_entries_skip_the_probability_roll():
    lore = book(st_entry(1, key=["storm"], sticky=5, probability=0, scanDepth=1))
    assert run(lore, ["storm"]).fired == []  # probability 0: never by key
    rule = lore.rules[0]
    sticky = {"sticky": {rule.key: {"hash": rule.hash, "start": 0, "end": 5}}, "cooldown": {}}
    result = activate([lore], messages("calm"), timed=sticky, chat_length=1)
    assert [f.reason for f in result.fired] == ["sticky"]


def test_an_effect_from_a_chat_that_did_not_advance_is_dropped():
    """A swipe rebuilds the prompt at the same chat length: the old effect does not count."""
    lore = book(st_entry(1, key=["storm"], sticky=3, scanDepth=1))
    rule = lore.rules[0]
    stale = {"sticky": {rule.key: {"hash": rule.hash, "start": 4, "end": 7}}, "cooldown": {}}
    result = activate([lore], messages("calm", "calm", "calm", "calm"), timed=stale)
    assert result.fired == [] and result.timed["sticky"] == {}


def test_editing_an_entry_drops_its_effect_and_a_missing_entry_keeps_it_until_it_ends():
    lore = import_book(st_entry(1, key=["storm"], sticky=3, scanDepth=1))
    chat = Chat(book_of(lore))
    chat.say("storm")
    LoreEntry.objects.filter(lorebook=lore).update(content="Edited.")
    chat.book = book_of(lore)
    assert chat.say("calm") == {}
    other = book(st_entry(9, constant=True))
    kept = activate([other], messages("a", "b"), timed={"sticky": {"99.1": {"start": 1, "end": 3}}})
    assert "99.1" in kept.timed["sticky"]
    gone = activate(
        [other], messages("a", "b", "c"), timed={"sticky": {"99.1": {"start": 1, "end": 3}}}
    )
    assert gone.timed["sticky"] == {}


def test_a_sticky_group_member_wins_its_group():
    group = book(
        *weather({1: {"sticky": 3, "scanDepth": 1}, 2: {"scanDepth": 1}, 3: {"scanDepth": 1}})
    )
    chat = Chat(group)
    first = None
    for attempt in range(50):
        chat = Chat(group)
        chat.log = ["x"] * attempt
        if chat.say("the sky") == {1: "key"}:
            first = chat
            break
    assert first is not None
    for _ in range(2):
        assert first.say("the sky") == {1: "sticky"}


# -- macros, several books, determinism ----------------------------------------------------------


def test_macros_are_expanded_in_content_and_keys():
    lore = book(st_entry(1, key=["{{char}}"], content="{{char}} fears {{user}}."))
    result = activate(
        [lore],
        messages("Mara waves."),
        render=lambda text: text.replace("{{char}}", "Mara").replace("{{user}}", "Sam"),
    )
    assert [f.content for f in result.fired] == ["Mara fears Sam."]


def test_each_book_uses_its_own_settings_and_a_book_listed_twice_is_used_once():
    shallow = book(st_entry(1, key=["harbor"], order=30), scan_depth=1, name="A")
    deep = book(st_entry(1, key=["harbor"], order=20), scan_depth=3, name="B")
    result = run([shallow, deep, shallow], ["the harbor", "a", "b"])
    assert [(f.lorebook, f.uid) for f in result.fired] == [(deep.id, 1)]


def test_lore_for_prompt_still_serves_the_current_prompt_builder():
    lorebook = import_book(st_entry(1, key=["Mara"], content="{{char}} is here, <USER>."))
    [fired] = lore_for_prompt([lorebook, None], ["Mara waves."], char="Mara", user="Sam")
    assert (fired.content, fired.reason) == ("Mara is here, Sam.", "key")


# -- settings from character books and the admin -------------------------------------------------


def test_a_character_books_sillytavern_settings_come_from_its_extensions():
    card = {
        "spec": "chara_card_v2",
        "data": {
            "name": "Mara",
            "character_book": {
                "entries": [
                    {
                        "id": 3,
                        "keys": ["storm"],
                        "content": "Thunder.",
                        "enabled": True,
                        "insertion_order": 10,
                        "position": "after_char",
                        "extensions": {
                            "position": 4,
                            "depth": 2,
                            "role": 1,
                            "sticky": 2,
                            "group": "weather",
                            "probability": 100,
                        },
                    },
                    {"id": 4, "keys": ["sun"], "content": "Sun.", "position": "after_char"},
                ]
            },
        },
    }
    parsed = read_card_file(json.dumps(card).encode())
    lorebook = Lorebook.objects.create(**parsed.book.fields)
    for entry in parsed.book.entries:
        LoreEntry.objects.create(lorebook=lorebook, **entry)
    storm, sun = sorted(book_of(lorebook).rules, key=lambda r: r.uid)
    assert (storm.position, storm.depth, storm.role) == ("at_depth", 2, "user")
    assert (storm.sticky, storm.groups) == (2, ("weather",))
    assert sun.position == "after_char"


def test_an_entry_made_in_the_admin_takes_its_settings_from_extensions():
    lorebook = Lorebook.objects.create(name="Hand made")
    LoreEntry.objects.create(
        lorebook=lorebook,
        uid=1,
        keys=["storm"],
        content="Thunder.",
        extensions={"position": 4, "depth": 0, "role": 2, "cooldown": 3},
    )
    [rule] = book_of(lorebook).rules
    assert (rule.position, rule.depth, rule.role, rule.cooldown) == ("at_depth", 0, "assistant", 3)


def test_world_info_with_every_activation_setting_exports_back_as_it_came():
    full = st_entry(
        5,
        key=["storm", "/thunder/i"],
        keysecondary=["night"],
        selectiveLogic=1,
        probability=35,
        group="weather,mood",
        groupOverride=True,
        groupWeight=7,
        useGroupScoring=True,
        sticky=2,
        cooldown=3,
        delay=4,
        excludeRecursion=True,
        preventRecursion=True,
        delayUntilRecursion=2,
        position=4,
        depth=6,
        role=2,
        scanDepth=9,
        caseSensitive=True,
        matchWholeWords=False,
        characterFilter={"isExclude": True, "names": ["Theo"], "tags": ["sea"]},
    )
    lorebook = import_book(full, st_entry(6))
    exported, _, _ = lorebook_export(lorebook, fmt="sillytavern")
    assert (
        json.loads(exported)["entries"] == json.loads(world_info_json(full, st_entry(6)))["entries"]
    )
    [rule] = [r for r in book_of(lorebook).rules if r.uid == 5]
    assert (rule.sticky, rule.cooldown, rule.delay, rule.groups) == (2, 3, 4, ("weather", "mood"))
    assert (rule.position, rule.depth, rule.role, rule.scan_depth) == (
        "at_depth",
        6,
        "assistant",
        9,
    )
    assert (rule.case_sensitive, rule.whole_words, rule.delay_until_recursion) == (True, False, 2)
    assert (rule.filter_names, rule.filter_exclude, rule.probability) == (("Theo",), True, 35)
