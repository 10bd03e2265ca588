"""Character cards and lorebooks in and out of the database; the formats live in worlds.cards."""

from __future__ import annotations

import hashlib
from pathlib import PurePosixPath
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction

from worlds import cards
from worlds.cards import SPEC_V2, SPEC_V3, BookData, CardError
from worlds.models import Character, CharacterAsset, Lorebook, LoreEntry

CHARACTER_COLUMNS = (
    "name",
    "description",
    "personality",
    "scenario",
    "first_mes",
    "mes_example",
    "creator_notes",
    "system_prompt",
    "post_history_instructions",
    "alternate_greetings",
    "tags",
    "creator",
    "character_version",
    "extensions",
    "spec",
    "spec_version",
    "card_extra",
)
LOREBOOK_COLUMNS = (
    "name",
    "description",
    "scan_depth",
    "token_budget",
    "recursive_scanning",
    "extensions",
    "extra",
)
ENTRY_COLUMNS = (
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
    "extensions",
    "extra",
)
JSON_TYPE = "application/json"
CHARACTER_FORMATS = ("png", "json", "charx")
LOREBOOK_FORMATS = ("sillytavern", "lorebook_v3")


# -- characters -----------------------------------------------------------------------------------


def character_import(*, data: bytes, filename: str) -> Character:
    """Create a character (with its lorebook and avatar) from a PNG, CHARX or JSON card.

    The format is told by content, not by ``filename``. Raises ``CardError`` and creates
    nothing when the file is malformed.
    """
    card = cards.read_card_file(data)
    with transaction.atomic():
        lorebook = _lorebook_create(card.book) if card.book else None
        character = Character.objects.create(**card.fields, lorebook=lorebook)
        CharacterAsset.objects.bulk_create(
            CharacterAsset(
                character=character,
                path=path,
                data=content,
                size=len(content),
                sha256=hashlib.sha256(content).hexdigest(),
            )
            for path, content in card.assets.items()
        )
        if card.avatar is not None:
            name = cards.export_filename(character.name, card.avatar_ext)
            character.avatar.save(name, ContentFile(card.avatar), save=True)
    return character


def character_export(character: Character, *, fmt: str) -> tuple[bytes, str, str]:
    """(file bytes, content type, file name) for ``fmt`` "png", "json" or "charx".

    JSON is written in the spec the card came in as; PNG carries both a V2 ``chara`` and a V3
    ``ccv3`` chunk; CHARX is always V3, with every file the imported archive held.
    """
    fields, book = _card_parts(character)
    if fmt == "json":
        card = cards.build_card(fields, book)
        return cards.dump_json(card), JSON_TYPE, cards.export_filename(character.name, "json")
    if fmt == "png":
        data = cards.write_png_card(
            cards.build_card(fields, book, spec=SPEC_V2),
            cards.build_card(fields, book, spec=SPEC_V3),
            _avatar_bytes(character),
            seed=character.name,
        )
        return data, "image/png", cards.export_filename(character.name, "png")
    if fmt == "charx":
        data = cards.write_charx(
            cards.build_card(fields, book, spec=SPEC_V3),
            _avatar_bytes(character),
            _avatar_ext(character),
            assets={a.path: bytes(a.data) for a in character.assets.order_by("pk")},
        )
        return data, "application/zip", cards.export_filename(character.name, "charx")
    raise CardError(f"unknown card format {fmt!r}; use one of {', '.join(CHARACTER_FORMATS)}")


def card_to_dict(character: Character, *, spec: str | None = None) -> dict[str, Any]:
    """The character's card as JSON data, in ``spec`` (default: the spec it was imported as)."""
    fields, book = _card_parts(character)
    return cards.build_card(fields, book, spec=spec)


def _card_parts(character: Character) -> tuple[dict[str, Any], BookData | None]:
    fields = {column: getattr(character, column) for column in CHARACTER_COLUMNS}
    book = _book_data(character.lorebook) if character.lorebook_id else None
    return fields, book


def _avatar_bytes(character: Character) -> bytes | None:
    if not character.avatar:
        return None
    try:
        with character.avatar.open("rb") as handle:
            return handle.read()
    except OSError:  # a missing file must not stop the card's text from exporting
        return None


def _avatar_ext(character: Character) -> str:
    suffix = PurePosixPath(character.avatar.name or "").suffix.lstrip(".").lower()
    return suffix or "png"


# -- lorebooks ------------------------------------------------------------------------------------


def lorebook_import(*, data: bytes, filename: str) -> Lorebook:
    """Create a lorebook from SillyTavern World Info or ``lorebook_v3`` JSON.

    ``filename`` names the lorebook when the file does not. Raises ``CardError`` and creates
    nothing when the file is malformed.
    """
    book = cards.read_lorebook_file(data, filename)
    with transaction.atomic():
        return _lorebook_create(book)


def lorebook_export(lorebook: Lorebook, *, fmt: str) -> tuple[bytes, str, str]:
    """(file bytes, content type, file name) for ``fmt`` "sillytavern" or "lorebook_v3"."""
    book = _book_data(lorebook)
    if fmt == "sillytavern":
        data = cards.dump_json(cards.build_world_info(book))
        return data, JSON_TYPE, cards.export_filename(lorebook.name, "json", fallback="lorebook")
    if fmt == "lorebook_v3":
        data = cards.dump_json(cards.build_lorebook_v3(book))
        name = cards.export_filename(lorebook.name, "lorebook.json", fallback="lorebook")
        return data, JSON_TYPE, name
    raise CardError(f"unknown lorebook format {fmt!r}; use one of {', '.join(LOREBOOK_FORMATS)}")


def _lorebook_create(book: BookData) -> Lorebook:
    lorebook = Lorebook.objects.create(**book.fields)
    LoreEntry.objects.bulk_create(LoreEntry(lorebook=lorebook, **entry) for entry in book.entries)
    return lorebook


def _book_data(lorebook: Lorebook) -> BookData:
    fields = {column: getattr(lorebook, column) for column in LOREBOOK_COLUMNS}
    # File order is creation order; the model's default ordering (insertion_order) would
    # reshuffle the entries list on every round trip.
    entries = [
        {column: getattr(entry, column) for column in ENTRY_COLUMNS}
        for entry in lorebook.entries.order_by("pk")
    ]
    return BookData(fields=fields, entries=entries)
