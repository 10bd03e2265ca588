"""Lorebook import/export: SillyTavern World Info and lorebook_v3, both ways and across."""

from __future__ import annotations

import json
from typing import Any

import pytest

from worlds.cards import CardError
from worlds.models import Character, Lorebook, LoreEntry
from worlds.services_cards import (
    card_to_dict,
    character_import,
    lorebook_export,
    lorebook_import,
)


def wi_entry(uid: int, **overrides: Any) -> dict[str, Any]:
    """A World Info entry shaped like SillyTavern writes them."""
    entry = {
        "uid": uid,
        "key": [f"tower{uid}", "lamp"],
        "keysecondary": ["night"],
        "comment": f"Tower {uid}",
        "content": f"The tower has {uid} floors.",
        "constant": False,
        "vectorized": False,
        "selective": True,
        "selectiveLogic": 0,
        "addMemo": True,
        "order": 100 - uid,
        "position": 0,
        "disable": False,
        "excludeRecursion": False,
        "preventRecursion": True,
        "delayUntilRecursion": False,
        "probability": 80,
        "useProbability": True,
        "depth": 4,
        "group": "towers",
        "groupOverride": False,
        "groupWeight": 100,
        "scanDepth": None,
        "caseSensitive": None,
        "matchWholeWords": None,
        "useGroupScoring": None,
        "automationId": "",
        "role": None,
        "sticky": 0,
        "cooldown": 0,
        "delay": 0,
        "displayIndex": uid,
    }
    entry.update(overrides)
    return entry


def world_info() -> dict[str, Any]:
    entries = [
        wi_entry(0),
        wi_entry(1, selectiveLogic=1, disable=True, caseSensitive=True, position=1),
        wi_entry(2, selectiveLogic=2, matchWholeWords=False, scanDepth=5),
        wi_entry(7, selectiveLogic=3, constant=True, extensions={"app": 1}),
    ]
    return {
        "entries": {str(entry["uid"]): entry for entry in entries},
        "originalData": {"name": "from an older card"},
    }


def lorebook_v3() -> dict[str, Any]:
    """A lorebook_v3 file in exactly the form export writes."""
    entry = {
        "keys": ["harbour"],
        "content": "Boats come and go.",
        "extensions": {"selectiveLogic": 1, "position": 4, "depth": 2, "app": {"k": "v"}},
        "enabled": True,
        "insertion_order": 5,
        "case_sensitive": True,
        "id": 11,
        "comment": "harbour",
        "selective": True,
        "secondary_keys": ["fog"],
        "constant": False,
        "use_regex": False,
        "priority": 10,
        "position": "before_char",
        "name": "Harbour",
    }
    return {
        "spec": "lorebook_v3",
        "data": {
            "name": "Port",
            "description": "The port town.",
            "scan_depth": 2,
            "token_budget": 300,
            "recursive_scanning": False,
            "extensions": {},
            "entries": [entry, {**entry, "id": 3, "keys": ["pier"], "insertion_order": 1}],
        },
        "unknown_root": True,
    }


def import_book(raw: Any, filename: str = "towers.json") -> Lorebook:
    return lorebook_import(data=json.dumps(raw).encode("utf-8"), filename=filename)


def export_book(lorebook: Lorebook, fmt: str) -> dict[str, Any]:
    data, content_type, _ = lorebook_export(lorebook, fmt=fmt)
    assert content_type == "application/json"
    return json.loads(data)


def entries_by_uid(lorebook: Lorebook) -> dict[int, LoreEntry]:
    return {entry.uid: entry for entry in lorebook.entries.all()}


COLUMNS = (
    "uid",
    "comment",
    "keys",
    "secondary_keys",
    "selective",
    "selective_logic",
    "content",
    "constant",
    "enabled",
    "insertion_order",
    "case_sensitive",
    "match_whole_words",
    "scan_depth",
)


def columns(lorebook: Lorebook) -> list[dict[str, Any]]:
    return [
        {column: getattr(entry, column) for column in COLUMNS}
        for entry in lorebook.entries.order_by("pk")
    ]


# -- SillyTavern World Info ---------------------------------------------------------------------


@pytest.mark.django_db
def test_world_info_import_maps_entry_fields():
    lorebook = import_book(world_info())

    assert lorebook.name == "towers"  # World Info files are named by their file name
    entries = entries_by_uid(lorebook)
    assert [entries[uid].selective_logic for uid in (0, 1, 2, 7)] == [
        "and_any",
        "not_all",
        "not_any",
        "and_all",
    ]
    assert (entries[0].keys, entries[0].secondary_keys) == (["tower0", "lamp"], ["night"])
    assert (entries[0].insertion_order, entries[0].comment) == (100, "Tower 0")
    assert (entries[1].enabled, entries[0].enabled) == (False, True)
    assert (entries[1].case_sensitive, entries[0].case_sensitive) == (True, False)
    assert (entries[2].match_whole_words, entries[0].match_whole_words) == (False, True)
    assert (entries[2].scan_depth, entries[0].scan_depth) == (5, None)
    assert entries[7].constant is True
    assert entries[7].extensions == {"app": 1}
    assert entries[0].extra["world_info"]["probability"] == 80
    assert lorebook.extra == {"world_info": {"originalData": {"name": "from an older card"}}}


@pytest.mark.django_db
def test_world_info_round_trip_is_exact():
    raw = world_info()
    lorebook = import_book(raw)

    exported = export_book(lorebook, "sillytavern")

    assert exported.pop("name") == "towers"
    assert exported == raw  # nulls stay null: SillyTavern reads them as "use the global setting"
    again = import_book({**exported, "name": "towers"})
    assert columns(again) == columns(lorebook)


@pytest.mark.django_db
def test_world_info_uid_comes_from_the_key_when_missing():
    entry = wi_entry(0)
    del entry["uid"]
    lorebook = import_book({"entries": {"42": entry}})

    assert lorebook.entries.get().uid == 42
    assert list(export_book(lorebook, "sillytavern")["entries"]) == ["42"]


@pytest.mark.django_db
def test_edited_entry_replaces_the_kept_null():
    lorebook = import_book(world_info())
    entry = lorebook.entries.get(uid=0)
    entry.case_sensitive = True
    entry.enabled = False
    entry.selective_logic = "and_all"
    entry.save()

    exported = export_book(lorebook, "sillytavern")["entries"]["0"]

    assert (exported["caseSensitive"], exported["disable"], exported["selectiveLogic"]) == (
        True,
        True,
        3,
    )
    assert exported["matchWholeWords"] is None  # untouched fields keep their original


# -- lorebook_v3 --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_lorebook_v3_round_trip_is_exact():
    raw = lorebook_v3()
    lorebook = import_book(raw, filename="port.lorebook.json")

    assert (lorebook.name, lorebook.scan_depth, lorebook.token_budget) == ("Port", 2, 300)
    first = lorebook.entries.order_by("pk").first()
    assert (first.uid, first.selective_logic, first.case_sensitive) == (11, "not_all", True)
    assert first.extra == {
        "character_book": {
            "use_regex": False,
            "priority": 10,
            "position": "before_char",
            "name": "Harbour",
        }
    }
    assert export_book(lorebook, "lorebook_v3") == raw


@pytest.mark.django_db
def test_entry_order_follows_the_file_not_insertion_order():
    lorebook = import_book(lorebook_v3())

    exported = export_book(lorebook, "lorebook_v3")

    assert [entry["id"] for entry in exported["data"]["entries"]] == [11, 3]


@pytest.mark.django_db
def test_bare_character_book_is_accepted():
    lorebook = import_book(lorebook_v3()["data"])

    assert lorebook.name == "Port"
    assert lorebook.entries.count() == 2


# -- across formats -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_world_info_exports_as_lorebook_v3_the_way_sillytavern_converts():
    lorebook = import_book(world_info())

    exported = export_book(lorebook, "lorebook_v3")

    assert exported["spec"] == "lorebook_v3"
    by_id = {entry["id"]: entry for entry in exported["data"]["entries"]}
    one = by_id[1]
    assert (one["enabled"], one["case_sensitive"], one["position"]) == (False, True, "after_char")
    assert by_id[0]["position"] == "before_char"
    ext = one["extensions"]
    assert (ext["position"], ext["probability"], ext["group"], ext["prevent_recursion"]) == (
        1,
        80,
        "towers",
        True,
    )
    assert ext["selectiveLogic"] == 1
    assert by_id[2]["extensions"]["scan_depth"] == 5
    assert by_id[7]["extensions"]["app"] == 1

    again = import_book(exported)
    assert columns(again) == columns(lorebook)


@pytest.mark.django_db
def test_lorebook_v3_exports_as_world_info():
    lorebook = import_book(lorebook_v3())

    exported = export_book(lorebook, "sillytavern")

    assert exported["name"] == "Port"
    entry = exported["entries"]["11"]
    assert (entry["key"], entry["keysecondary"], entry["order"]) == (["harbour"], ["fog"], 5)
    assert (entry["selectiveLogic"], entry["caseSensitive"], entry["disable"]) == (1, True, False)
    assert (entry["position"], entry["depth"]) == (4, 2)

    again = import_book(exported)
    assert columns(again) == columns(lorebook)


@pytest.mark.django_db
def test_duplicate_uids_get_unique_world_info_keys():
    raw = lorebook_v3()
    for entry in raw["data"]["entries"]:
        entry["id"] = 5
    lorebook = import_book(raw)

    exported = export_book(lorebook, "sillytavern")

    assert sorted(exported["entries"]) == ["5", "6"]
    assert exported["entries"]["6"]["uid"] == 6


@pytest.mark.django_db
def test_character_linked_to_world_info_exports_it_as_character_book():
    character = character_import(data=b'{"name": "Keeper"}', filename="keeper.json")
    character.lorebook = import_book(world_info())
    character.save()

    book = card_to_dict(character)["data"]["character_book"]

    assert book["name"] == "towers"
    assert sorted(entry["id"] for entry in book["entries"]) == [0, 1, 2, 7]


# -- failures -----------------------------------------------------------------------------------


def _world_info_with(**entry_overrides: Any) -> bytes:
    return json.dumps({"entries": {"0": wi_entry(0, **entry_overrides)}}).encode()


MALFORMED: dict[str, tuple[bytes, str]] = {
    "invalid json": (b'{"entries": {', "lorebook file is not valid JSON"),
    "not an object": (b'"towers"', "must be a JSON object, not a string"),
    "unknown spec": (b'{"spec": "lorebook_v9", "data": {}}', "unknown lorebook spec 'lorebook_v9'"),
    "character card": (
        b'{"spec": "chara_card_v2", "data": {"name": "x"}}',
        "character card .* import it as a character",
    ),
    "no entries": (b'{"name": "x"}', "not a lorebook"),
    "v3 data not an object": (b'{"spec": "lorebook_v3", "data": []}', "data must be an object"),
    "entry not an object": (b'{"entries": {"0": "lamp"}}', r"entries\['0'\] must be an object"),
    "selective logic out of range": (
        _world_info_with(selectiveLogic=7),
        r"entries\['0'\].selectiveLogic must be 0 \(AND ANY\)",
    ),
    "keys not a list": (_world_info_with(key="lamp"), r"entries\['0'\].key must be a list"),
    "negative scan depth": (_world_info_with(scanDepth=-1), "scanDepth must be between 0"),
    "png": (b"\x89PNG\r\n\x1a\n" + b"\0" * 20, "lorebooks are JSON files"),
    "over the limit": (
        b'{"entries": {}, "x": "' + b"a" * (21 * 1024 * 1024) + b'"}',
        "the limit is 20,971,520",
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", MALFORMED, ids=list(MALFORMED))
def test_malformed_lorebook_raises_card_error_and_creates_nothing(case: str):
    data, message = MALFORMED[case]
    import_book(world_info())
    before = (Lorebook.objects.count(), LoreEntry.objects.count(), Character.objects.count())

    with pytest.raises(CardError, match=message):
        lorebook_import(data=data, filename="bad.json")

    assert (Lorebook.objects.count(), LoreEntry.objects.count(), Character.objects.count()) == (
        before
    )


@pytest.mark.django_db
def test_unknown_lorebook_format_is_refused():
    lorebook = import_book(world_info())
    with pytest.raises(CardError, match="unknown lorebook format 'yaml'"):
        lorebook_export(lorebook, fmt="yaml")
