"""Character card import/export: V1/V2/V3 JSON, PNG chunks, CHARX, and malformed files."""

from __future__ import annotations

import base64
import io
import json
import struct
import zipfile
import zlib
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.base import ContentFile
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from worlds import cards
from worlds.cards import CardError
from worlds.models import Character, Lorebook, LoreEntry
from worlds.services_cards import card_to_dict, character_export, character_import

# -- fixtures built in code ---------------------------------------------------------------------


def png_image(
    size: tuple[int, int] = (8, 12), colour: tuple[int, int, int] = (10, 20, 30)
) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def split_chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    chunks, pos = [], 8
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        chunks.append((png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]))
        pos += 12 + length
    return chunks


def with_chunks(png: bytes, *extra: bytes) -> bytes:
    """``png`` with raw chunks inserted just before IEND."""
    iend = png.rindex(b"IEND") - 4
    return png[:iend] + b"".join(extra) + png[iend:]


def b64(card: Any) -> bytes:
    return base64.b64encode(json.dumps(card).encode("utf-8"))


def text(keyword: str, payload: bytes) -> bytes:
    return chunk(b"tEXt", keyword.encode("latin-1") + b"\0" + payload)


def card_png(image: bytes | None = None, **cards_by_keyword: Any) -> bytes:
    chunks = [text(keyword, b64(card)) for keyword, card in cards_by_keyword.items()]
    return with_chunks(image or png_image(), *chunks)


def text_chunks(png: bytes) -> dict[str, list[Any]]:
    """Decoded JSON of every tEXt chunk, by keyword (a list, to catch duplicates)."""
    found: dict[str, list[Any]] = {}
    for kind, body in split_chunks(png):
        if kind == b"tEXt":
            keyword, _, payload = body.partition(b"\0")
            found.setdefault(keyword.decode(), []).append(json.loads(base64.b64decode(payload)))
    return found


def charx(card: Any, files: dict[str, bytes] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        if card is not None:
            archive.writestr("card.json", json.dumps(card))
        for path, content in (files or {}).items():
            archive.writestr(path, content)
    return out.getvalue()


def book_entry(uid: int, **overrides: Any) -> dict[str, Any]:
    """A character_book entry with every field export writes, in canonical form."""
    entry = {
        "keys": [f"key{uid}", f"alias{uid}"],
        "content": f"Lore number {uid}.",
        "extensions": {
            "position": 1,
            "depth": 4,
            "selectiveLogic": 3,
            "match_whole_words": False,
            "scan_depth": 6,
            "probability": 100,
            "custom_app": {"weight": 0.5},
        },
        "enabled": True,
        "insertion_order": 10 * uid,
        "case_sensitive": False,
        "id": uid,
        "comment": f"entry {uid}",
        "selective": True,
        "secondary_keys": ["storm"],
        "constant": False,
        "name": f"Entry {uid}",
        "priority": 5,
        "position": "after_char",
        "unknown_entry_field": [uid],
    }
    entry.update(overrides)
    return entry


def character_book(**overrides: Any) -> dict[str, Any]:
    book = {
        "name": "Coast lore",
        "description": "Things about the coast.",
        "scan_depth": 3,
        "token_budget": 900,
        "recursive_scanning": True,
        "extensions": {"app": {"x": 1}},
        "unknown_book_field": "kept",
        "entries": [book_entry(2), book_entry(1, enabled=False, constant=True)],
    }
    book.update(overrides)
    return book


def v2_card(**data_overrides: Any) -> dict[str, Any]:
    """A V2 card in exactly the form export writes, so export must reproduce it."""
    data = {
        "name": "Mira",
        "description": "A lighthouse keeper.",
        "personality": "dry, patient",
        "scenario": "A storm rolls in.",
        "first_mes": "*looks up* Hello, {{user}}.",
        "mes_example": "<START>\n{{char}}: Hi.",
        "creator_notes": "Be kind.",
        "system_prompt": "You are {{char}}.",
        "post_history_instructions": "Stay in character.",
        "alternate_greetings": ["The lamp flickers.", "Fog everywhere."],
        "tags": ["sea", "mystery"],
        "creator": "anon",
        "character_version": "1.2",
        "extensions": {
            "talkativeness": "0.5",
            "fav": False,
            "world": "Coast",
            "depth_prompt": {"prompt": "Remember the storm.", "depth": 4, "role": "system"},
        },
        "character_book": character_book(),
        "unknown_data_field": {"nested": [1, 2, {"deep": None}]},
    }
    data.update(data_overrides)
    return {
        "spec": "chara_card_v2",
        "spec_version": "2.0",
        "data": data,
        "name": data["name"],
        "unknown_root_field": 42,
    }


def v3_card(**data_overrides: Any) -> dict[str, Any]:
    card = v2_card()
    card["spec"], card["spec_version"] = "chara_card_v3", "3.0"
    card["data"].update(
        nickname="Mi",
        creator_notes_multilingual={"fr": "Soyez gentil."},
        source=["https://example.invalid/mira"],
        group_only_greetings=["Hello, everyone."],
        creation_date=1700000000,
        modification_date=1700000500,
        assets=[{"type": "icon", "uri": "ccdefault:", "name": "main", "ext": "png"}],
    )
    for entry in card["data"]["character_book"]["entries"]:
        entry["use_regex"] = False
    card["data"].update(data_overrides)
    return card


def v1_card() -> dict[str, Any]:
    return {
        "name": "Old Tom",
        "description": "A sailor.",
        "personality": "gruff",
        "scenario": "The docks.",
        "first_mes": "Arr.",
        "mes_example": "",
        "chat": "Old Tom - 2023-1-1",
        "create_date": "2023-1-1",
        "avatar": "none",
    }


def import_json(card: Any) -> Character:
    return character_import(data=json.dumps(card).encode("utf-8"), filename="card.json")


def export_json(character: Character) -> dict[str, Any]:
    data, content_type, filename = character_export(character, fmt="json")
    assert content_type == "application/json"
    assert filename.endswith(".json")
    return json.loads(data)


def reimport(character: Character, fmt: str) -> Character:
    data, _, filename = character_export(character, fmt=fmt)
    return character_import(data=data, filename=filename)


def counts() -> tuple[int, int, int]:
    return Character.objects.count(), Lorebook.objects.count(), LoreEntry.objects.count()


# -- JSON -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_v2_import_maps_card_fields_to_columns():
    character = import_json(v2_card())

    assert character.name == "Mira"
    assert character.first_mes == "*looks up* Hello, {{user}}."
    assert character.alternate_greetings == ["The lamp flickers.", "Fog everywhere."]
    assert character.tags == ["sea", "mystery"]
    assert character.character_version == "1.2"
    assert character.extensions["depth_prompt"]["depth"] == 4
    assert (character.spec, character.spec_version) == ("chara_card_v2", "2.0")
    assert character.card_extra == {
        "root": {"name": "Mira", "unknown_root_field": 42},
        "data": {"unknown_data_field": {"nested": [1, 2, {"deep": None}]}},
    }


@pytest.mark.django_db
def test_embedded_character_book_becomes_lorebook_rows():
    character = import_json(v2_card())

    book = character.lorebook
    assert (book.name, book.scan_depth, book.token_budget, book.recursive_scanning) == (
        "Coast lore",
        3,
        900,
        True,
    )
    assert book.extra == {"character_book": {"unknown_book_field": "kept"}}
    first, second = book.entries.order_by("pk")
    assert (first.uid, first.keys, first.secondary_keys, first.insertion_order) == (
        2,
        ["key2", "alias2"],
        ["storm"],
        20,
    )
    # SillyTavern keeps these in extensions; the columns read them from there.
    assert (first.selective_logic, first.match_whole_words, first.scan_depth) == (
        "and_all",
        False,
        6,
    )
    assert first.extensions["custom_app"] == {"weight": 0.5}
    assert first.extra["character_book"]["priority"] == 5
    assert (second.enabled, second.constant) == (False, True)


@pytest.mark.django_db
@pytest.mark.parametrize("make_card", [v2_card, v3_card], ids=["v2", "v3"])
def test_json_export_reproduces_the_imported_card(make_card: Callable[[], dict]):
    card = make_card()
    character = import_json(card)

    assert export_json(character) == card
    assert card_to_dict(character) == card


@pytest.mark.django_db
def test_v3_fields_without_columns_are_kept_in_card_extra():
    character = import_json(v3_card())

    assert character.spec == "chara_card_v3"
    extra = character.card_extra["data"]
    assert extra["nickname"] == "Mi"
    assert extra["group_only_greetings"] == ["Hello, everyone."]
    assert extra["creator_notes_multilingual"] == {"fr": "Soyez gentil."}
    assert extra["assets"][0]["uri"] == "ccdefault:"


@pytest.mark.django_db
def test_v1_card_is_upgraded_to_v2_and_round_trips():
    first = import_json(v1_card())

    assert (first.name, first.personality, first.spec) == ("Old Tom", "gruff", "chara_card_v2")
    assert first.card_extra == {
        "root": {"chat": "Old Tom - 2023-1-1", "create_date": "2023-1-1", "avatar": "none"}
    }
    exported = export_json(first)
    assert exported["spec"] == "chara_card_v2"
    assert exported["data"]["description"] == "A sailor."
    assert exported["create_date"] == "2023-1-1"

    second = import_json(exported)
    assert card_to_dict(second) == card_to_dict(first)


@pytest.mark.django_db
def test_card_with_data_but_no_spec_is_read_as_v2():
    card = v2_card()
    del card["spec"]

    character = import_json(card)

    assert (character.name, character.spec) == ("Mira", "chara_card_v2")
    assert export_json(character) == v2_card()


@pytest.mark.django_db
def test_values_the_columns_would_change_are_written_back_as_they_came():
    long_name = "N" * 250
    card = v2_card(name=long_name, description=None, character_version=1.5, creator=None)
    card["name"] = long_name
    character = import_json(card)

    assert character.name == long_name[:200]
    assert (character.description, character.character_version, character.creator) == (
        "",
        "1.5",
        "",
    )
    assert export_json(character) == card


@pytest.mark.django_db
def test_edited_columns_win_over_kept_originals():
    character = import_json(v2_card(description=None))
    character.description = "Now described."
    character.name = "Mira Vale"
    character.save()
    entry = character.lorebook.entries.order_by("pk").first()
    entry.selective_logic = "not_any"
    entry.scan_depth = None
    entry.save()

    exported = export_json(character)

    assert exported["data"]["description"] == "Now described."
    assert exported["name"] == "Mira Vale"  # the V1 mirror follows the edit
    ext = exported["data"]["character_book"]["entries"][0]["extensions"]
    assert (ext["selectiveLogic"], ext["scan_depth"]) == (2, None)
    assert ext["custom_app"] == {"weight": 0.5}


@pytest.mark.django_db
def test_json_export_keeps_the_imported_spec_and_defaults_to_v2():
    assert export_json(import_json(v3_card()))["spec"] == "chara_card_v3"
    assert export_json(import_json(v2_card()))["spec"] == "chara_card_v2"

    hand_made = Character.objects.create(name="Hand made", spec="")
    exported = export_json(hand_made)
    assert exported["spec"] == "chara_card_v2"
    assert exported["data"]["name"] == "Hand made"
    assert "character_book" not in exported["data"]


@pytest.mark.django_db
def test_alternate_greetings_stay_a_list_through_every_format():
    character = import_json(v2_card())
    for fmt in ("json", "png", "charx"):
        again = reimport(character, fmt)
        assert again.alternate_greetings == ["The lamp flickers.", "Fog everywhere."]


# -- PNG ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_png_import_reads_chara_chunk_and_keeps_a_clean_avatar():
    character = character_import(
        data=card_png(png_image((30, 40)), chara=v2_card()), filename="m.png"
    )

    assert character.name == "Mira"
    assert character.lorebook.entries.count() == 2
    avatar = character.avatar.read()
    assert "chara" not in text_chunks(avatar)
    with Image.open(io.BytesIO(avatar)) as image:
        assert image.size == (30, 40)


@pytest.mark.django_db
def test_png_import_prefers_ccv3_over_chara():
    old = v2_card(name="Old Name")
    new = v3_card(name="New Name")
    png = card_png(chara=old, ccv3=new)

    character = character_import(data=png, filename="card.png")

    assert character.name == "New Name"
    assert character.spec == "chara_card_v3"


@pytest.mark.django_db
def test_png_export_writes_both_chunks_on_the_avatar():
    character = import_json(v3_card())
    character.avatar.save("mira.png", ContentFile(png_image((20, 30))), save=True)

    data, content_type, filename = character_export(character, fmt="png")

    assert (content_type, filename) == ("image/png", "mira.png")
    chunks = text_chunks(data)
    assert len(chunks["chara"]) == 1 and len(chunks["ccv3"]) == 1
    chara, ccv3 = chunks["chara"][0], chunks["ccv3"][0]
    assert (chara["spec"], chara["spec_version"]) == ("chara_card_v2", "2.0")
    assert (ccv3["spec"], ccv3["spec_version"]) == ("chara_card_v3", "3.0")
    assert ccv3 == v3_card()
    assert "nickname" not in chara["data"]  # V3-only fields stay out of the V2 form
    assert chara["data"]["extensions"] == ccv3["data"]["extensions"]
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (20, 30)


@pytest.mark.django_db
def test_png_export_replaces_stale_card_chunks_in_the_avatar():
    character = import_json(v2_card())
    stale = card_png(chara={"name": "Stale"}, ccv3={"name": "Stale"})
    character.avatar.save("mira.png", ContentFile(stale), save=True)

    data, _, _ = character_export(character, fmt="png")

    chunks = text_chunks(data)
    assert [card["data"]["name"] for card in chunks["chara"]] == ["Mira"]
    assert [card["data"]["name"] for card in chunks["ccv3"]] == ["Mira"]
    assert split_chunks(data)[-1][0] == b"IEND"


@pytest.mark.django_db
def test_png_export_without_avatar_uses_a_placeholder_image():
    character = import_json(v1_card())

    data, _, _ = character_export(character, fmt="png")

    with Image.open(io.BytesIO(data)) as image:
        image.verify()
    assert text_chunks(data)["chara"][0]["data"]["name"] == "Old Tom"


@pytest.mark.django_db
def test_png_export_converts_a_jpeg_avatar():
    character = import_json(v1_card())
    jpeg = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 0, 0)).save(jpeg, "JPEG")
    character.avatar.save("tom.jpg", ContentFile(jpeg.getvalue()), save=True)

    data, _, _ = character_export(character, fmt="png")

    with Image.open(io.BytesIO(data)) as image:
        assert (image.format, image.size) == ("PNG", (16, 16))


@pytest.mark.django_db
@pytest.mark.parametrize("make_card", [v2_card, v3_card], ids=["v2", "v3"])
def test_png_round_trip(make_card: Callable[[], dict]):
    first = character_import(data=card_png(chara=make_card()), filename="card.png")

    second = reimport(first, "png")

    # Export writes ccv3, which wins on import: the card comes back as V3.
    assert second.spec == "chara_card_v3"
    assert card_to_dict(second) == card_to_dict(first, spec="chara_card_v3")
    assert (
        card_to_dict(second, spec="chara_card_v2")["data"]["extensions"]
        == (make_card()["data"]["extensions"])
    )


@pytest.mark.django_db
def test_png_accepts_ztxt_and_itxt_chunks():
    card = v2_card(name="Zed")
    ztxt = chunk(b"zTXt", b"chara\0\0" + zlib.compress(b64(card)))
    character = character_import(data=with_chunks(png_image(), ztxt), filename="z.png")
    assert character.name == "Zed"

    card = v3_card(name="Ita")
    itxt = chunk(b"iTXt", b"ccv3\0\x01\0en\0\0" + zlib.compress(b64(card)))
    character = character_import(data=with_chunks(png_image(), itxt), filename="i.png")
    assert character.name == "Ita"


@settings(max_examples=25, deadline=None)
@given(
    name=st.text(min_size=1, max_size=40).filter(str.strip),
    description=st.text(max_size=200),
    tags=st.lists(st.text(max_size=20), max_size=5),
    extensions=st.dictionaries(st.text(max_size=10), st.integers() | st.text(max_size=10)),
)
def test_png_chunks_carry_any_text(name, description, tags, extensions):
    parsed = cards.parse_card(v3_card(name=name, description=description, tags=tags))
    parsed.fields["extensions"] = extensions
    v2 = cards.build_card(parsed.fields, parsed.book, spec="chara_card_v2")
    v3 = cards.build_card(parsed.fields, parsed.book, spec="chara_card_v3")

    again = cards.read_card_file(cards.write_png_card(v2, v3, None, seed=name))

    assert cards.build_card(again.fields, again.book) == v3


# -- CHARX ----------------------------------------------------------------------------------------


def icon_card() -> dict[str, Any]:
    return v3_card(
        assets=[
            {
                "type": "icon",
                "uri": "embeded://assets/icon/images/main.png",
                "name": "main",
                "ext": "png",
            },
            {
                "type": "background",
                "uri": "https://example.invalid/bg.png",
                "name": "bg",
                "ext": "png",
            },
        ]
    )


@pytest.mark.django_db
def test_charx_import_reads_card_json_and_icon():
    icon = png_image((12, 34))
    archive = charx(icon_card(), {"assets/icon/images/main.png": icon})

    character = character_import(data=archive, filename="mira.charx")

    assert character.name == "Mira"
    assert character.spec == "chara_card_v3"
    assert character.lorebook.entries.count() == 2
    assert character.avatar.read() == icon


@pytest.mark.django_db
def test_charx_import_falls_back_to_the_first_icon_file():
    icon = png_image((5, 5))
    archive = charx(v3_card(), {"assets/icon/images/zz.png": icon})

    character = character_import(data=archive, filename="mira.charx")

    assert character.avatar.read() == icon


@pytest.mark.django_db
def test_charx_round_trip_keeps_card_and_icon():
    icon = png_image((12, 34))
    first = character_import(
        data=charx(icon_card(), {"assets/icon/images/main.png": icon}), filename="m.charx"
    )

    data, content_type, filename = character_export(first, fmt="charx")

    assert (content_type, filename) == ("application/zip", "mira.charx")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert json.loads(archive.read("card.json")) == icon_card()
        assert archive.read("assets/icon/images/main.png") == icon
    second = character_import(data=data, filename=filename)
    assert card_to_dict(second) == card_to_dict(first)
    assert second.avatar.read() == icon


@pytest.mark.django_db
def test_charx_export_of_a_v2_character_adds_its_avatar_as_icon():
    character = character_import(
        data=card_png(png_image((7, 9)), chara=v2_card()), filename="m.png"
    )

    data, _, _ = character_export(character, fmt="charx")

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        card = json.loads(archive.read("card.json"))
        icon = archive.read("assets/icon/images/main.png")
    assert card["spec"] == "chara_card_v3"
    assert card["data"]["assets"] == [
        {
            "type": "icon",
            "uri": "embeded://assets/icon/images/main.png",
            "name": "main",
            "ext": "png",
        }
    ]
    assert card["data"]["group_only_greetings"] == []
    with Image.open(io.BytesIO(icon)) as image:
        assert image.size == (7, 9)


# -- failures -------------------------------------------------------------------------------------


def _valid_png() -> bytes:
    return card_png(chara=v2_card())


def _zeros_charx(size: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("card.json", json.dumps(v3_card()))
        archive.writestr("assets/other/blob.bin", bytes(size))
    return out.getvalue()


def _bad_crc_png() -> bytes:
    png = bytearray(_valid_png())
    png[png.index(b"IHDR") + 6] ^= 0xFF
    return bytes(png)


def _json(card: Any) -> bytes:
    return json.dumps(card).encode("utf-8")


def _without_name() -> dict:
    card = v2_card()
    del card["data"]["name"]
    return card


def _with_book_entries(entries: Any) -> dict:
    return v2_card(character_book=character_book(entries=entries))


MALFORMED: dict[str, tuple[Callable[[], bytes], str]] = {
    "empty": (lambda: b"", "file is empty"),
    "truncated png": (lambda: _valid_png()[:200], "truncated PNG"),
    "truncated signature": (lambda: b"\x89PNG\r\n", "not a PNG"),
    "png without card": (png_image, "no character card"),
    "png bad crc": (_bad_crc_png, "bad CRC in the IHDR chunk"),
    "bad base64": (
        lambda: with_chunks(png_image(), text("chara", b"!!not base64!!")),
        "'chara' chunk is not valid base64",
    ),
    "invalid json in chunk": (
        lambda: with_chunks(png_image(), text("ccv3", base64.b64encode(b'{"spec": '))),
        "'ccv3' chunk is not valid JSON",
    ),
    "invalid json file": (lambda: b'{"name": "x",', "not valid JSON: .* line 1"),
    "not utf-8": (lambda: b'{"name": "\xff"}', "not UTF-8"),
    "nan": (lambda: b'{"name": "x", "extensions": NaN}', "NaN"),
    "json array": (lambda: b"[1, 2]", "must be a JSON object, not a list"),
    "file over the limit": (
        lambda: b'{"name": "x", "description": "' + b"a" * (50 * 1024 * 1024) + b'"}',
        "the limit is 20,971,520",
    ),
    "field over the limit": (
        lambda: _json(v2_card(description="a" * 1_500_000)),
        "data.description is 1,500,000 characters long",
    ),
    "greeting over the limit": (
        lambda: _json(v2_card(alternate_greetings=["ok", "b" * 1_100_000])),
        r"data.alternate_greetings\[1\] is",
    ),
    "zip bomb total": (lambda: _zeros_charx(60 * 1024 * 1024), "would unpack to .* zip bomb"),
    "zip bomb ratio": (lambda: _zeros_charx(5 * 1024 * 1024), "expands .*x.* zip bomb"),
    "charx without card.json": (lambda: charx(None, {"readme.txt": b"hi"}), "no card.json"),
    "broken zip": (lambda: b"PK\x03\x04" + b"\0" * 40, "not a valid CHARX"),
    "charx icon not an image": (
        lambda: charx(icon_card(), {"assets/icon/images/main.png": b"not an image"}),
        "icon 'assets/icon/images/main.png' is not a readable image",
    ),
    "unknown spec": (
        lambda: _json({**v2_card(), "spec": "chara_card_v9"}),
        "unknown card spec 'chara_card_v9'",
    ),
    "data not an object": (
        lambda: _json({"spec": "chara_card_v2", "data": "Mira"}),
        "needs a 'data' object, not a string",
    ),
    "missing name": (lambda: _json(_without_name()), r"no name \(data.name is missing\)"),
    "empty name": (lambda: _json(v2_card(name="  ")), r"no name \(data.name is empty\)"),
    "v1 missing name": (lambda: _json({"description": "nameless"}), "card.name is missing"),
    "tags not a list": (lambda: _json(v2_card(tags="sea, mystery")), "data.tags must be a list"),
    "tag not a string": (
        lambda: _json(v2_card(tags=["sea", 3])),
        r"data.tags\[1\] must be a string",
    ),
    "extensions not an object": (
        lambda: _json(v2_card(extensions=[])),
        "data.extensions must be an object, not a list",
    ),
    "book entries not a list": (
        lambda: _json(_with_book_entries({"0": {}})),
        "data.character_book.entries must be a list",
    ),
    "book entry wrong type": (
        lambda: _json(_with_book_entries([book_entry(0, insertion_order="high")])),
        r"data.character_book.entries\[0\].insertion_order must be a whole number",
    ),
    "book entry flag wrong type": (
        lambda: _json(_with_book_entries([book_entry(0, enabled="yes")])),
        r"entries\[0\].enabled must be true or false",
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", MALFORMED, ids=list(MALFORMED))
def test_malformed_card_raises_card_error_and_creates_nothing(case: str):
    build, message = MALFORMED[case]
    import_json(v1_card())  # something already there must stay untouched
    before = counts()

    with pytest.raises(CardError, match=message):
        character_import(data=build(), filename="bad")

    assert counts() == before


@pytest.mark.django_db
def test_a_failure_while_saving_rolls_everything_back(monkeypatch):
    def broken_save(self, name, content, save=True):
        raise OSError("disk full")

    monkeypatch.setattr("django.db.models.fields.files.FieldFile.save", broken_save)

    with pytest.raises(OSError, match="disk full"):
        character_import(data=_valid_png(), filename="m.png")

    assert counts() == (0, 0, 0)


@pytest.mark.django_db
def test_unknown_export_format_is_refused():
    character = import_json(v1_card())
    with pytest.raises(CardError, match="unknown card format 'gif'"):
        character_export(character, fmt="gif")


def test_card_error_is_a_value_error():
    assert issubclass(CardError, ValueError)
