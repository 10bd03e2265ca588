"""Character cards and lorebooks in SillyTavern's formats, to and from plain dicts. No database.

Cards: V1 (flat JSON), V2 (``chara_card_v2``) and V3 (``chara_card_v3``) as JSON, as PNG (base64
JSON in the tEXt chunks ``chara`` and ``ccv3``) or as CHARX (a zip holding ``card.json``).
Lorebooks: the ``character_book`` inside cards, ``lorebook_v3`` files and SillyTavern World Info.

Import turns a file into dicts of model column values (``CardData`` / ``BookData``); export turns
such dicts back into a file. Round trips are lossless: whatever a column cannot hold exactly (an
unknown key, or a known key spelled in a way the column would change, like ``null`` for ``""``)
stays in the row's extra JSON and is written back as it came while the column still agrees.

Extra JSON layouts:
  ``Character.card_extra``  ``{"root": {top-level keys}, "data": {keys inside "data"}}``
  ``Lorebook.extra`` and ``LoreEntry.extra``  ``{"character_book": {...}}`` or
  ``{"world_info": {...}}``, by the format the row came from; a book read from a ``lorebook_v3``
  file also keeps that file's unknown top-level keys under ``"lorebook_v3"``.
"""

from __future__ import annotations

import base64
import binascii
import copy
import dataclasses
import hashlib
import io
import json
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from django.utils.text import slugify
from PIL import Image

MAX_CARD_BYTES = 20 * 1024 * 1024
MAX_FIELD_CHARS = 1024 * 1024
MAX_CHARX_BYTES = 50 * 1024 * 1024
MAX_CHARX_MEMBERS = 1000
MAX_CHARX_RATIO = 100
# Small members can compress absurdly well (a file of spaces) and still be harmless.
_RATIO_CHECK_FROM = 1024 * 1024
_INT_RANGE = (-(2**31), 2**31 - 1)

SPEC_V2 = "chara_card_v2"
SPEC_V3 = "chara_card_v3"
SPEC_LOREBOOK_V3 = "lorebook_v3"
SPEC_VERSIONS = {SPEC_V2: "2.0", SPEC_V3: "3.0"}
V3_ONLY_DATA_KEYS = (
    "nickname",
    "creator_notes_multilingual",
    "source",
    "group_only_greetings",
    "creation_date",
    "modification_date",
    "assets",
)
# SillyTavern repeats these at the top of V2/V3 cards for V1-only readers.
V1_MIRROR_KEYS = ("name", "description", "personality", "scenario", "first_mes", "mes_example")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_TEXT_TYPES = (b"tEXt", b"zTXt", b"iTXt")
CARD_CHUNK_KEYWORDS = ("ccv3", "chara")  # in order of preference
_ASSET_CHUNK_PREFIX = "chara-ext-asset_"
_EMBEDDED_SCHEMES = ("embeded://", "embedded://")  # the V3 spec spells it "embeded"
_IMAGE_EXTENSIONS = {"png", "jpg", "jpeg", "webp", "gif", "avif", "bmp"}
_PILLOW_EXTENSIONS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp", "GIF": "gif", "BMP": "bmp"}

# SillyTavern's selectiveLogic numbers, in order.
ST_LOGIC = ("and_any", "not_all", "not_any", "and_all")
# World Info entry key -> character_book entry extensions key, as SillyTavern converts them.
ST_EXTENSION_KEYS = {
    "position": "position",
    "excludeRecursion": "exclude_recursion",
    "preventRecursion": "prevent_recursion",
    "delayUntilRecursion": "delay_until_recursion",
    "displayIndex": "display_index",
    "probability": "probability",
    "useProbability": "useProbability",
    "depth": "depth",
    "selectiveLogic": "selectiveLogic",
    "outletName": "outlet_name",
    "group": "group",
    "groupOverride": "group_override",
    "groupWeight": "group_weight",
    "scanDepth": "scan_depth",
    "caseSensitive": "case_sensitive",
    "matchWholeWords": "match_whole_words",
    "useGroupScoring": "use_group_scoring",
    "automationId": "automation_id",
    "role": "role",
    "vectorized": "vectorized",
    "sticky": "sticky",
    "cooldown": "cooldown",
    "delay": "delay",
}


class CardError(ValueError):
    """A card or lorebook that cannot be imported or exported; the message says what is wrong."""


@dataclass
class BookData:
    """A lorebook as ``Lorebook`` column values and its entries as ``LoreEntry`` column values."""

    fields: dict[str, Any]
    entries: list[dict[str, Any]]


@dataclass
class CardData:
    """A character as ``Character`` column values, its lorebook, its avatar image and (from a
    CHARX) every other file of the archive, by path."""

    fields: dict[str, Any]
    book: BookData | None = None
    avatar: bytes | None = None
    avatar_ext: str = "png"
    assets: dict[str, bytes] = dataclasses.field(default_factory=dict)


# -- field mapping --------------------------------------------------------------------------------

Decoder = Callable[[Any, str], Any]


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    return "null" if value is None else names.get(type(value), "a number")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _same(a: Any, b: Any) -> bool:
    """Equal as JSON: ``1`` differs from ``1.0`` and ``true``."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def _check_length(text: str, where: str) -> None:
    if len(text) > MAX_FIELD_CHARS:
        raise CardError(
            f"{where} is {len(text):,} characters long; the limit is {MAX_FIELD_CHARS:,}"
        )


def _text(max_chars: int | None = None) -> Decoder:
    def decode(value: Any, where: str) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            raise CardError(f"{where} must be a string, not {_kind(value)}")
        _check_length(value, where)
        # Too long for the column: it keeps the start, the whole text survives in extra.
        return value[:max_chars] if max_chars else value

    return decode


def _version_text(max_chars: int) -> Decoder:
    text = _text(max_chars)

    def decode(value: Any, where: str) -> str:
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        return text(value, where)

    return decode


def _str_list(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise CardError(f"{where} must be a list of strings, not {_kind(value)}")
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise CardError(f"{where}[{index}] must be a string, not {_kind(item)}")
        _check_length(item, f"{where}[{index}]")
    return list(value)


def _object(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise CardError(f"{where} must be an object, not {_kind(value)}")
    return value


def _flag(default: bool) -> Decoder:
    def decode(value: Any, where: str) -> bool:
        if value is None:
            return default
        if not isinstance(value, bool):
            raise CardError(f"{where} must be true or false, not {_show(value)}")
        return value

    return decode


def _integer(default: int | None, *, minimum: int = _INT_RANGE[0]) -> Decoder:
    def decode(value: Any, where: str) -> int | None:
        if value is None:
            return default
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise CardError(f"{where} must be a whole number, not {_show(value)}")
        if not minimum <= value <= _INT_RANGE[1]:
            raise CardError(f"{where} must be between {minimum} and {_INT_RANGE[1]}, not {value}")
        return value

    return decode


def _logic(value: Any, where: str) -> str:
    if value is None:
        return ST_LOGIC[0]
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < len(ST_LOGIC):
        raise CardError(
            f"{where} must be 0 (AND ANY), 1 (NOT ALL), 2 (NOT ANY) or 3 (AND ALL), "
            f"not {_show(value)}"
        )
    return ST_LOGIC[value]


def _logic_number(value: str) -> int:
    return ST_LOGIC.index(value) if value in ST_LOGIC else 0


def _not_disabled(value: Any, where: str) -> bool:
    return not _flag(False)(value, where)


def _as_is(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class _Field:
    """One key of a file format and the model column that holds it."""

    key: str
    column: str
    decode: Decoder
    default: Any = None
    encode: Callable[[Any], Any] = _as_is
    # Written only when the source had it or the column left its default.
    optional: bool = False


def _read_fields(
    raw: dict[str, Any], fields: Iterable[_Field], where: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split ``raw`` into column values and extra: unknown keys plus known ones the columns
    would not write back identically."""
    columns: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    known = set()
    for field in fields:
        known.add(field.key)
        if field.key not in raw:
            columns[field.column] = copy.deepcopy(field.default)
            continue
        value = field.decode(raw[field.key], f"{where}.{field.key}")
        columns[field.column] = value
        kept_for_presence = field.optional and _same(value, field.default)
        if kept_for_presence or not _same(field.encode(value), raw[field.key]):
            extra[field.key] = raw[field.key]
    extra.update((key, value) for key, value in raw.items() if key not in known)
    return columns, extra


def _decodes_to(field: _Field, raw: Any, value: Any) -> bool:
    try:
        return field.decode(raw, field.key) == value
    except CardError:
        return False


def _write_fields(
    columns: dict[str, Any], extra: dict[str, Any], fields: Iterable[_Field]
) -> dict[str, Any]:
    """The inverse of ``_read_fields``; a kept original wins while the column still agrees."""
    out: dict[str, Any] = {}
    known = set()
    for field in fields:
        known.add(field.key)
        value = columns[field.column]
        if field.key in extra and _decodes_to(field, extra[field.key], value):
            out[field.key] = copy.deepcopy(extra[field.key])
        elif field.optional and field.key not in extra and _same(value, field.default):
            continue
        else:
            out[field.key] = field.encode(copy.deepcopy(value))
    out.update((key, copy.deepcopy(value)) for key, value in extra.items() if key not in known)
    return out


def _derive(extensions: dict[str, Any], field: _Field) -> Any:
    """A column value read leniently from ``extensions``, which belong to other apps."""
    try:
        return field.decode(extensions.get(field.key), field.key)
    except CardError:
        return copy.deepcopy(field.default)


def _section(extra: Any, name: str) -> dict[str, Any]:
    value = extra.get(name) if isinstance(extra, dict) else None
    return dict(value) if isinstance(value, dict) else {}


def _sections(**sections: dict[str, Any]) -> dict[str, Any]:
    return {name: section for name, section in sections.items() if section}


# -- character card fields ------------------------------------------------------------------------

_LONG_TEXT = _text()

CARD_FIELDS = (
    _Field("name", "name", _text(200), ""),
    _Field("description", "description", _LONG_TEXT, ""),
    _Field("personality", "personality", _LONG_TEXT, ""),
    _Field("scenario", "scenario", _LONG_TEXT, ""),
    _Field("first_mes", "first_mes", _LONG_TEXT, ""),
    _Field("mes_example", "mes_example", _LONG_TEXT, ""),
    _Field("creator_notes", "creator_notes", _LONG_TEXT, ""),
    _Field("system_prompt", "system_prompt", _LONG_TEXT, ""),
    _Field("post_history_instructions", "post_history_instructions", _LONG_TEXT, ""),
    _Field("alternate_greetings", "alternate_greetings", _str_list, []),
    _Field("tags", "tags", _str_list, []),
    _Field("creator", "creator", _text(200), ""),
    _Field("character_version", "character_version", _version_text(100), ""),
    _Field("extensions", "extensions", _object, {}),
)
_CARD_KEYS = {field.key for field in CARD_FIELDS}
ROOT_FIELDS = (_Field("spec_version", "spec_version", _version_text(16), ""),)


def parse_card(card: Any) -> CardData:
    """A decoded card JSON (V1, V2 or V3) as ``Character`` columns plus its lorebook."""
    if not isinstance(card, dict):
        raise CardError(f"a card must be a JSON object, not {_kind(card)}")
    if "spec" not in card:
        if not isinstance(card.get("data"), dict):
            return _parse_v1(card)
        card = {"spec": SPEC_V2, **card}  # a V2 card whose exporter forgot the spec
    spec = card["spec"]
    if spec not in SPEC_VERSIONS:
        raise CardError(
            f"unknown card spec {_show(spec)}; expected {SPEC_V2!r} or {SPEC_V3!r} (or a V1 card)"
        )
    data = card.get("data")
    if not isinstance(data, dict):
        raise CardError(f"a {spec} card needs a 'data' object, not {_kind(data)}")
    root = {key: value for key, value in card.items() if key not in ("spec", "data")}
    root_columns, root_extra = _read_fields(root, ROOT_FIELDS, "card")
    body = {key: value for key, value in data.items() if key != "character_book"}
    columns, data_extra = _read_fields(body, CARD_FIELDS, "data")
    _require_name(body, columns, "data")
    book = None
    if "character_book" in data:
        if data["character_book"] is None:
            data_extra["character_book"] = None
        else:
            book = parse_character_book(
                data["character_book"], "data.character_book", _book_name(columns["name"])
            )
    columns.update(
        spec=spec,
        spec_version=root_columns["spec_version"] or SPEC_VERSIONS[spec],
        card_extra=_sections(root=root_extra, data=data_extra),
    )
    return CardData(fields=columns, book=book)


def _parse_v1(card: dict[str, Any]) -> CardData:
    # V1 has only the first six fields, but reading them all upgrades V1-with-extras cards too.
    columns, extra = _read_fields(card, CARD_FIELDS, "card")
    _require_name(card, columns, "card")
    data_extra = {key: value for key, value in extra.items() if key in _CARD_KEYS}
    root_extra = {key: value for key, value in extra.items() if key not in _CARD_KEYS}
    columns.update(
        spec=SPEC_V2,
        spec_version=SPEC_VERSIONS[SPEC_V2],
        card_extra=_sections(root=root_extra, data=data_extra),
    )
    return CardData(fields=columns)


def _require_name(raw: dict[str, Any], columns: dict[str, Any], where: str) -> None:
    if "name" not in raw:
        raise CardError(f"the card has no name ({where}.name is missing)")
    if not columns["name"].strip():
        raise CardError(f"the card has no name ({where}.name is empty)")


def _book_name(character_name: str) -> str:
    return f"{character_name} lorebook"[:200]


def build_card(fields: dict[str, Any], book: BookData | None, *, spec: str | None = None) -> dict:
    """The card JSON for ``Character`` column values, in ``spec`` (default: the card's own)."""
    own = fields.get("spec") if fields.get("spec") in SPEC_VERSIONS else SPEC_V2
    spec = spec or own
    if spec not in SPEC_VERSIONS:
        raise CardError(f"cannot write a card as {spec!r}; use {SPEC_V2!r} or {SPEC_V3!r}")
    root_extra = _section(fields.get("card_extra"), "root")
    data_extra = _section(fields.get("card_extra"), "data")
    version = fields.get("spec_version") or SPEC_VERSIONS[spec]
    if spec != own:
        version = SPEC_VERSIONS[spec]
        root_extra.pop("spec_version", None)
        if spec == SPEC_V2:
            for key in V3_ONLY_DATA_KEYS:
                data_extra.pop(key, None)
    data = _write_fields(fields, data_extra, CARD_FIELDS)
    if book is not None:
        data["character_book"] = build_character_book(book, v3=spec == SPEC_V3)
    if spec == SPEC_V3:
        data.setdefault("group_only_greetings", [])
    root = _write_fields({"spec_version": version}, root_extra, ROOT_FIELDS)
    for key in V1_MIRROR_KEYS:
        if key in root:
            root[key] = data[key]  # never let the mirror go stale after an edit
    rest = {
        key: value for key, value in root.items() if key not in ("spec", "spec_version", "data")
    }
    return {"spec": spec, "spec_version": root["spec_version"], "data": data, **rest}


# -- lorebooks ------------------------------------------------------------------------------------

BOOK_FIELDS = (
    _Field("name", "name", _text(200), ""),
    _Field("description", "description", _LONG_TEXT, ""),
    _Field("scan_depth", "scan_depth", _integer(4, minimum=0), 4),
    _Field("token_budget", "token_budget", _integer(512, minimum=0), 512),
    _Field("recursive_scanning", "recursive_scanning", _flag(False), False),
    _Field("extensions", "extensions", _object, {}),
)
BOOK_DEFAULTS = {field.column: field.default for field in BOOK_FIELDS}

CB_ENTRY_FIELDS = (
    _Field("keys", "keys", _str_list, []),
    _Field("content", "content", _LONG_TEXT, ""),
    _Field("extensions", "extensions", _object, {}),
    _Field("enabled", "enabled", _flag(True), True),
    _Field("insertion_order", "insertion_order", _integer(100), 100),
    _Field("case_sensitive", "case_sensitive", _flag(False), False),
    _Field("id", "uid", _integer(0), 0),
    _Field("comment", "comment", _text(300), ""),
    _Field("selective", "selective", _flag(False), False),
    _Field("secondary_keys", "secondary_keys", _str_list, []),
    _Field("constant", "constant", _flag(False), False),
)
# Settings the character_book spec has no field for; SillyTavern keeps them in extensions.
CB_EXTENSION_FIELDS = (
    _Field("selectiveLogic", "selective_logic", _logic, ST_LOGIC[0], encode=_logic_number),
    _Field("match_whole_words", "match_whole_words", _flag(True), True),
    _Field("scan_depth", "scan_depth", _integer(None, minimum=0), None),
    _Field("case_sensitive", "case_sensitive", _flag(False), False),
)

WI_BOOK_FIELDS = (_Field("name", "name", _text(200), ""),)
WI_ENTRY_FIELDS = (
    _Field("uid", "uid", _integer(0), 0),
    _Field("key", "keys", _str_list, []),
    _Field("keysecondary", "secondary_keys", _str_list, []),
    _Field("comment", "comment", _text(300), ""),
    _Field("content", "content", _LONG_TEXT, ""),
    _Field("constant", "constant", _flag(False), False),
    _Field("selective", "selective", _flag(False), False),
    _Field("selectiveLogic", "selective_logic", _logic, ST_LOGIC[0], encode=_logic_number),
    _Field("order", "insertion_order", _integer(100), 100),
    _Field("disable", "enabled", _not_disabled, True, encode=lambda enabled: not enabled),
    _Field("caseSensitive", "case_sensitive", _flag(False), False),
    _Field("matchWholeWords", "match_whole_words", _flag(True), True),
    _Field("scanDepth", "scan_depth", _integer(None, minimum=0), None),
    _Field("extensions", "extensions", _object, {}, optional=True),
)


def parse_character_book(raw: Any, where: str, default_name: str) -> BookData:
    """A ``character_book`` object (V2/V3 card lorebook) as ``Lorebook``/``LoreEntry`` columns."""
    if not isinstance(raw, dict):
        raise CardError(f"{where} must be an object, not {_kind(raw)}")
    entries = raw.get("entries", [])
    if not isinstance(entries, list):
        raise CardError(f"{where}.entries must be a list, not {_kind(entries)}")
    body = {key: value for key, value in raw.items() if key != "entries"}
    columns, extra = _read_fields(body, BOOK_FIELDS, where)
    columns["name"] = columns["name"] or default_name
    columns["extra"] = _sections(character_book=extra)
    return BookData(
        fields=columns,
        entries=[
            _parse_cb_entry(entry, f"{where}.entries[{index}]", index)
            for index, entry in enumerate(entries)
        ],
    )


def _parse_cb_entry(raw: Any, where: str, index: int) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise CardError(f"{where} must be an object, not {_kind(raw)}")
    columns, extra = _read_fields(raw, CB_ENTRY_FIELDS, where)
    if "id" not in raw:
        columns["uid"] = index
    for field in CB_EXTENSION_FIELDS:
        if field.column == "case_sensitive" and "case_sensitive" in raw:
            continue  # the spec's own field wins over SillyTavern's copy
        columns[field.column] = _derive(columns["extensions"], field)
    columns["extra"] = _sections(character_book=extra)
    return columns


def _sync_extensions(extensions: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    """Write edited columns back into extensions; values that still agree stay untouched."""
    out = dict(extensions)
    for field in CB_EXTENSION_FIELDS:
        if field.column == "case_sensitive" and field.key not in extensions:
            continue  # the spec's top-level field carries it
        if _derive(extensions, field) != entry[field.column]:
            out[field.key] = field.encode(entry[field.column])
    return out


def build_character_book(book: BookData, *, v3: bool = False) -> dict[str, Any]:
    """The ``character_book`` object for a lorebook (V3 entries carry ``use_regex``)."""
    out = _write_fields(
        book.fields, _section(book.fields.get("extra"), "character_book"), BOOK_FIELDS
    )
    out["entries"] = [_entry_to_character_book(entry, v3=v3) for entry in book.entries]
    return out


def _entry_to_character_book(entry: dict[str, Any], *, v3: bool) -> dict[str, Any]:
    own = _section(entry.get("extra"), "character_book")
    extensions = dict(entry.get("extensions") or {})
    world_info = _section(entry.get("extra"), "world_info")
    if not own and world_info:
        own, extensions = _world_info_as_character_book(world_info, extensions)
    extensions = _sync_extensions(extensions, entry)
    out = _write_fields({**entry, "extensions": extensions}, own, CB_ENTRY_FIELDS)
    if v3:
        out.setdefault("use_regex", False)
    return out


def _world_info_as_character_book(
    world_info: dict[str, Any], extensions: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """SillyTavern-only entry settings moved where SillyTavern puts them in a character_book."""
    moved = {ext: world_info[key] for key, ext in ST_EXTENSION_KEYS.items() if key in world_info}
    own: dict[str, Any] = {"use_regex": True}  # SillyTavern keys may be /regex/
    if "position" in world_info:
        own["position"] = "before_char" if world_info["position"] == 0 else "after_char"
    return own, {**extensions, **moved}


def parse_world_info(raw: dict[str, Any], default_name: str) -> BookData:
    """SillyTavern World Info JSON (``{"entries": {"<uid>": {...}}}``) as lorebook columns."""
    entries = raw.get("entries")
    if not isinstance(entries, dict):
        raise CardError(
            f"World Info 'entries' must be an object keyed by uid, not {_kind(entries)}"
        )
    body = {key: value for key, value in raw.items() if key != "entries"}
    columns, extra = _read_fields(body, WI_BOOK_FIELDS, "world info")
    fields = {
        **copy.deepcopy(BOOK_DEFAULTS),
        "name": columns["name"] or default_name,
        "extra": _sections(world_info=extra),
    }
    parsed = []
    for index, (key, entry) in enumerate(entries.items()):
        where = f"entries[{key!r}]"
        if not isinstance(entry, dict):
            raise CardError(f"{where} must be an object, not {_kind(entry)}")
        entry_columns, entry_extra = _read_fields(entry, WI_ENTRY_FIELDS, where)
        if "uid" not in entry:
            entry_columns["uid"] = int(key) if key.isdigit() and len(key) < 10 else index
        entry_columns["extra"] = _sections(world_info=entry_extra)
        parsed.append(entry_columns)
    return BookData(fields=fields, entries=parsed)


def build_world_info(book: BookData) -> dict[str, Any]:
    """SillyTavern World Info JSON for a lorebook."""
    rest = _write_fields(
        book.fields, _section(book.fields.get("extra"), "world_info"), WI_BOOK_FIELDS
    )
    entries: dict[str, Any] = {}
    for entry in book.entries:
        out = _entry_to_world_info(entry)
        uid = entry["uid"]
        if str(uid) in entries:  # World Info keys entries by uid, so they must be unique
            uid = max(int(key) for key in entries) + 1
            out["uid"] = uid
        entries[str(uid)] = out
    return {"entries": entries, **{k: v for k, v in rest.items() if k != "entries"}}


def _entry_to_world_info(entry: dict[str, Any]) -> dict[str, Any]:
    own = _section(entry.get("extra"), "world_info")
    if not own:
        extensions = entry.get("extensions") or {}
        own = {key: extensions[ext] for key, ext in ST_EXTENSION_KEYS.items() if ext in extensions}
        position = _section(entry.get("extra"), "character_book").get("position")
        if "position" not in own and position in ("before_char", "after_char"):
            own["position"] = 0 if position == "before_char" else 1
    return _write_fields(entry, own, WI_ENTRY_FIELDS)


def parse_lorebook(raw: Any, default_name: str) -> BookData:
    """A lorebook file: ``lorebook_v3``, SillyTavern World Info or a bare ``character_book``."""
    if not isinstance(raw, dict):
        raise CardError(f"a lorebook must be a JSON object, not {_kind(raw)}")
    spec = raw.get("spec")
    if spec == SPEC_LOREBOOK_V3:
        book = parse_character_book(raw.get("data"), "data", default_name)
        root = {key: value for key, value in raw.items() if key not in ("spec", "data")}
        book.fields["extra"].update(_sections(lorebook_v3=root))
        return book
    if spec in SPEC_VERSIONS:
        raise CardError(
            f"this is a character card ({spec}), not a lorebook; import it as a character"
        )
    if "spec" in raw:
        raise CardError(
            f"unknown lorebook spec {_show(spec)}; expected {SPEC_LOREBOOK_V3!r} or "
            "SillyTavern World Info"
        )
    entries = raw.get("entries")
    if isinstance(entries, dict):
        return parse_world_info(raw, default_name)
    if isinstance(entries, list):
        return parse_character_book(raw, "lorebook", default_name)
    raise CardError(
        "not a lorebook: expected a lorebook_v3 file or SillyTavern World Info with an "
        f"'entries' object (entries is {_kind(entries)})"
    )


def build_lorebook_v3(book: BookData) -> dict[str, Any]:
    root = _section(book.fields.get("extra"), "lorebook_v3")
    rest = {key: value for key, value in root.items() if key not in ("spec", "data")}
    return {"spec": SPEC_LOREBOOK_V3, "data": build_character_book(book, v3=True), **rest}


# -- files ----------------------------------------------------------------------------------------


def _check_file_size(data: bytes) -> None:
    if not data:
        raise CardError("the file is empty")
    if len(data) > MAX_CARD_BYTES:
        raise CardError(f"the file is {len(data):,} bytes; the limit is {MAX_CARD_BYTES:,}")


def _reject_constant(name: str) -> None:
    raise CardError(f"JSON contains {name}, which is not a valid JSON number")


def load_json(data: bytes, what: str) -> Any:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CardError(f"{what} is not UTF-8 text (bad byte at offset {exc.start})") from None
    if not text.strip():
        raise CardError(f"{what} is empty")
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise CardError(
            f"{what} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise CardError(f"{what} is nested too deeply") from None


def dump_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2).encode("utf-8")


def read_card_file(data: bytes) -> CardData:
    """A character card file, its format told by content: PNG, CHARX (zip) or JSON."""
    _check_file_size(data)
    if data.startswith(PNG_SIGNATURE[:4]):
        return read_png_card(data)
    if data.startswith(b"PK"):
        return read_charx(data)
    return parse_card(load_json(data, "the card file"))


def read_lorebook_file(data: bytes, filename: str) -> BookData:
    _check_file_size(data)
    if data.startswith((PNG_SIGNATURE[:4], b"PK")):
        raise CardError(
            "lorebooks are JSON files; import character cards (PNG, CHARX) as characters"
        )
    name = PurePosixPath(filename.replace("\\", "/")).stem if filename else ""
    return parse_lorebook(load_json(data, "the lorebook file"), name[:200] or "Imported lorebook")


def export_filename(name: str, ext: str, *, fallback: str = "character") -> str:
    """An ASCII file name, safe inside a Content-Disposition header."""
    return f"{slugify(name)[:80] or fallback}.{ext}"


def _image_ext(data: bytes, what: str) -> str:
    """The file extension for image bytes; a clear error when they are not an image."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format or ""
            image.verify()
    except Exception as exc:  # Pillow reports bad data through many exception types
        raise CardError(f"{what} is not a readable image ({exc})") from None
    return _PILLOW_EXTENSIONS.get(kind, kind.lower() or "png")


# -- PNG ------------------------------------------------------------------------------------------


def read_png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, data) for every chunk up to and including IEND, CRCs checked."""
    if not data.startswith(PNG_SIGNATURE):
        raise CardError("not a PNG file (bad or truncated signature)")
    chunks = []
    pos = len(PNG_SIGNATURE)
    while True:
        if pos + 8 > len(data):
            raise CardError(f"truncated PNG: the file ends at byte {len(data):,} before IEND")
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        name = kind.decode("latin-1")
        end = pos + 12 + length
        if end > len(data):
            raise CardError(
                f"truncated PNG: the {name} chunk at byte {pos:,} needs {length:,} bytes "
                f"but the file ends at byte {len(data):,}"
            )
        body = data[pos + 8 : end - 4]
        (crc,) = struct.unpack(">I", data[end - 4 : end])
        if zlib.crc32(kind + body) != crc:
            raise CardError(f"corrupt PNG: bad CRC in the {name} chunk at byte {pos:,}")
        chunks.append((kind, body))
        if kind == b"IEND":
            return chunks
        pos = end


def write_png_chunks(chunks: Iterable[tuple[bytes, bytes]]) -> bytes:
    out = [PNG_SIGNATURE]
    for kind, body in chunks:
        crc = zlib.crc32(kind + body)
        out.append(struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc))
    return b"".join(out)


def text_chunk(keyword: str, text: str) -> tuple[bytes, bytes]:
    return b"tEXt", keyword.encode("latin-1") + b"\0" + text.encode("latin-1")


def _chunk_keyword(kind: bytes, body: bytes) -> str | None:
    if kind not in _PNG_TEXT_TYPES:
        return None
    return body.partition(b"\0")[0].decode("latin-1").lower()


def _is_card_chunk(chunk: tuple[bytes, bytes]) -> bool:
    keyword = _chunk_keyword(*chunk)
    return keyword is not None and (
        keyword in CARD_CHUNK_KEYWORDS or keyword.startswith(_ASSET_CHUNK_PREFIX)
    )


def _inflate(data: bytes, what: str) -> bytes:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, MAX_CARD_BYTES + 1)
    except zlib.error as exc:
        raise CardError(f"{what} is not valid compressed data ({exc})") from None
    if len(out) > MAX_CARD_BYTES or inflater.unconsumed_tail:
        raise CardError(f"{what} expands past {MAX_CARD_BYTES:,} bytes")
    return out


def _chunk_text(kind: bytes, body: bytes, what: str) -> str:
    """The text of a tEXt, zTXt or iTXt chunk."""
    rest = body.partition(b"\0")[2]
    if kind == b"tEXt":
        return rest.decode("latin-1")
    if kind == b"zTXt":
        return _inflate(rest[1:], what).decode("latin-1")
    if len(rest) < 2:
        raise CardError(f"{what} is a malformed iTXt chunk")
    compressed, rest = rest[0], rest[2:]
    text = rest.split(b"\0", 2)[-1]  # after the language tag and the translated keyword
    if compressed:
        text = _inflate(text, what)
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError:
        raise CardError(f"{what} is not UTF-8 text") from None


def _decode_base64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise CardError(f"{what} is not valid base64") from None


def read_png_card(data: bytes) -> CardData:
    """The card in a PNG's ``ccv3`` chunk, else its ``chara`` chunk; the image is the avatar."""
    chunks = read_png_chunks(data)
    found: dict[str, tuple[bytes, bytes]] = {}
    for chunk in chunks:
        keyword = _chunk_keyword(*chunk)
        if keyword in CARD_CHUNK_KEYWORDS:
            found.setdefault(keyword, chunk)
    keyword = next((name for name in CARD_CHUNK_KEYWORDS if name in found), None)
    if keyword is None:
        raise CardError("the PNG holds no character card (no 'chara' or 'ccv3' text chunk)")
    what = f"the PNG's {keyword!r} chunk"
    payload = _decode_base64(_chunk_text(*found[keyword], what), what)
    card = parse_card(load_json(payload, what))
    card.avatar = write_png_chunks(chunk for chunk in chunks if not _is_card_chunk(chunk))
    card.avatar_ext = "png"
    _image_ext(card.avatar, "the PNG's image")
    return card


def placeholder_png(seed: str) -> bytes:
    """A plain portrait-shaped PNG for a character without an avatar."""
    digest = hashlib.sha256(seed.encode("utf-8")).digest()
    colour = tuple(64 + byte // 2 for byte in digest[:3])
    out = io.BytesIO()
    Image.new("RGB", (400, 600), colour).save(out, "PNG")
    return out.getvalue()


def _png_or_none(image: bytes) -> bytes | None:
    if image.startswith(PNG_SIGNATURE):
        try:
            read_png_chunks(image)
        except CardError:
            pass
        else:
            return image
    try:
        with Image.open(io.BytesIO(image)) as source:
            source.load()
            picture = source
            if picture.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"):
                picture = picture.convert("RGBA")
            out = io.BytesIO()
            picture.save(out, "PNG")
            return out.getvalue()
    except Exception:  # an unreadable avatar must not stop the card's text from exporting
        return None


def _base64_json(card: dict[str, Any]) -> str:
    text = json.dumps(card, ensure_ascii=False, separators=(",", ":"))
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def write_png_card(
    v2: dict[str, Any], v3: dict[str, Any], image: bytes | None, *, seed: str = ""
) -> bytes:
    """``image`` (or a placeholder) with the card in both chunks: ``chara`` = V2, ``ccv3`` = V3."""
    base = (_png_or_none(image) if image else None) or placeholder_png(seed)
    chunks = [chunk for chunk in read_png_chunks(base) if not _is_card_chunk(chunk)]
    card_chunks = [text_chunk("chara", _base64_json(v2)), text_chunk("ccv3", _base64_json(v3))]
    return write_png_chunks([*chunks[:-1], *card_chunks, chunks[-1]])


# -- CHARX ----------------------------------------------------------------------------------------


def _embedded_path(asset: Any) -> str | None:
    uri = asset.get("uri") if isinstance(asset, dict) else None
    if isinstance(uri, str):
        for scheme in _EMBEDDED_SCHEMES:
            if uri.startswith(scheme):
                return uri[len(scheme) :]
    return None


def _check_zip_sizes(archive: zipfile.ZipFile) -> None:
    """Refuse zip bombs from the declared sizes, before anything is decompressed."""
    members = archive.infolist()
    if len(members) > MAX_CHARX_MEMBERS:
        raise CardError(
            f"the CHARX archive has {len(members):,} files; the limit is {MAX_CHARX_MEMBERS:,}"
        )
    total = sum(member.file_size for member in members)
    if total > MAX_CHARX_BYTES:
        raise CardError(
            f"the CHARX archive would unpack to {total:,} bytes; the limit is "
            f"{MAX_CHARX_BYTES:,} (possible zip bomb)"
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > _RATIO_CHECK_FROM and ratio > MAX_CHARX_RATIO:
            raise CardError(
                f"CHARX member {member.filename!r} expands {ratio:,.0f}x; the limit is "
                f"{MAX_CHARX_RATIO}x (possible zip bomb)"
            )


def _read_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> bytes:
    if member.file_size > MAX_CARD_BYTES:
        raise CardError(
            f"CHARX member {member.filename!r} is {member.file_size:,} bytes; "
            f"the limit is {MAX_CARD_BYTES:,}"
        )
    try:
        with archive.open(member) as handle:
            content = handle.read(MAX_CARD_BYTES + 1)
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, zlib.error, OSError) as exc:
        raise CardError(f"cannot read {member.filename!r} from the CHARX archive ({exc})") from None
    if len(content) > MAX_CARD_BYTES:
        raise CardError(f"CHARX member {member.filename!r} is larger than it declares")
    return content


def _charx_icon(assets: list[Any], names: Iterable[str]) -> str | None:
    """The archive path of the main icon: from ``assets``, else the first file in assets/icon/."""
    names = set(names)
    icons = [a for a in assets if isinstance(a, dict) and a.get("type") == "icon"]
    icons.sort(key=lambda asset: asset.get("name") != "main")
    for asset in icons:
        path = _embedded_path(asset)
        if path in names:
            return path
    files = sorted(name for name in names if name.startswith("assets/icon/") and name[-1] != "/")
    return files[0] if files else None


def _card_assets(raw: Any) -> list[Any]:
    data = raw.get("data") if isinstance(raw, dict) else None
    assets = data.get("assets") if isinstance(data, dict) else None
    return assets if isinstance(assets, list) else []


def read_charx(data: bytes) -> CardData:
    """A CHARX archive: ``card.json`` (V3), its main icon as the avatar, and every file of the
    archive but card.json kept in ``assets`` (the icon too) so export can write them back."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise CardError(f"not a valid CHARX (zip) file ({exc})") from None
    with archive:
        _check_zip_sizes(archive)
        members = {member.filename: member for member in archive.infolist()}
        if "card.json" not in members:
            raise CardError("the CHARX archive has no card.json")
        raw = load_json(_read_member(archive, members["card.json"]), "the CHARX card.json")
        card = parse_card(raw)
        card.assets = {
            name: _read_member(archive, member)
            for name, member in members.items()
            if name != "card.json" and not member.is_dir()
        }
        icon = _charx_icon(_card_assets(raw), card.assets)
        if icon is not None:
            card.avatar = card.assets[icon]
            kind = _image_ext(card.avatar, f"the CHARX icon {icon!r}")
            suffix = PurePosixPath(icon).suffix.lstrip(".").lower()
            card.avatar_ext = suffix if suffix in _IMAGE_EXTENSIONS else kind
    return card


def _charx_assets(
    assets: list[Any], icon_ext: str | None, kept: set[str]
) -> tuple[list[Any], str | None]:
    """The assets list for an archive holding ``kept`` files plus the avatar, and the avatar's
    path in it. Embedded entries whose file is not kept go (cards imported before assets were
    kept, or a replaced icon)."""
    icons = [a for a in assets if _embedded_path(a) and a.get("type") == "icon"]
    main = next((a for a in icons if a.get("name") == "main"), icons[0] if icons else None)
    path = _embedded_path(main) if main else None
    new_main = main
    if icon_ext is not None and (
        path is None or PurePosixPath(path).suffix.lstrip(".").lower() != icon_ext
    ):
        path = f"assets/icon/images/main.{icon_ext}"
        new_main = {"type": "icon", "uri": f"embeded://{path}", "name": "main", "ext": icon_ext}
    out = []
    for asset in assets:
        if asset is main and icon_ext is not None:
            out.append(new_main)
        elif not _embedded_path(asset) or _embedded_path(asset) in kept:
            out.append(asset)
    if icon_ext is None:
        return out, None
    if main is None:
        out.insert(0, new_main)
    return out, path


def write_charx(
    card: dict[str, Any],
    icon: bytes | None,
    icon_ext: str = "png",
    assets: dict[str, bytes] | None = None,
) -> bytes:
    """A CHARX archive: ``card`` (V3) as card.json, ``assets`` at their paths, and the avatar
    as the main icon. While the avatar is the imported icon (or there is none), the archive's
    files and the card's assets list are written back exactly as they came."""
    card = copy.deepcopy(card)
    data = card["data"]
    files = dict(assets or {})
    listed = data.get("assets")
    main = _charx_icon(listed if isinstance(listed, list) else [], files)
    unchanged = icon is None or (main is not None and files.get(main) == icon)
    if not unchanged:
        if isinstance(listed, list) or listed is None:
            kept = set(files) - ({main} if main else set())
            data["assets"], path = _charx_assets(listed or [], icon_ext, kept)
        else:
            path = f"assets/icon/images/main.{icon_ext}"
        if main is not None:
            files.pop(main)
        files[path] = icon
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("card.json", dump_json(card))
        for path, content in files.items():
            archive.writestr(path, content, compress_type=zipfile.ZIP_STORED)
    return out.getvalue()
