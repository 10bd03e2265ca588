"""World Info books for the activation tests, written the way SillyTavern exports them."""

from __future__ import annotations

import copy
import json
from typing import Any

from worlds.lore import Activation, Book, ScanMessage, activate, book_of
from worlds.models import Lorebook
from worlds.services_cards import lorebook_import

# An entry as SillyTavern 1.12 writes it in a World Info export (world_info.json).
ST_ENTRY: dict[str, Any] = {
    "key": [],
    "keysecondary": [],
    "comment": "",
    "content": "",
    "constant": False,
    "vectorized": False,
    "selective": True,
    "selectiveLogic": 0,
    "addMemo": True,
    "order": 100,
    "position": 0,
    "disable": False,
    "excludeRecursion": False,
    "preventRecursion": False,
    "delayUntilRecursion": False,
    "probability": 100,
    "useProbability": True,
    "depth": 4,
    "group": "",
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
    "displayIndex": 0,
    "characterFilter": {"isExclude": False, "names": [], "tags": []},
}


def st_entry(uid: int, **fields: Any) -> dict[str, Any]:
    entry = copy.deepcopy(ST_ENTRY)
    entry.update(uid=uid, displayIndex=uid, content=f"Lore {uid}.")
    entry.update(fields)
    return entry


def world_info_json(*entries: dict[str, Any]) -> bytes:
    return json.dumps({"entries": {str(e["uid"]): e for e in entries}}).encode("utf-8")


def import_book(*entries: dict[str, Any], name: str = "World", **settings: Any) -> Lorebook:
    """Import World Info JSON the way a user does, then set the book's activation settings."""
    lorebook = lorebook_import(data=world_info_json(*entries), filename=f"{name}.json")
    if settings:
        Lorebook.objects.filter(pk=lorebook.pk).update(**settings)
        lorebook.refresh_from_db()
    return lorebook


def book(*entries: dict[str, Any], **settings: Any) -> Book:
    return book_of(import_book(*entries, **settings))


def messages(*texts: str, first_id: int = 1) -> list[ScanMessage]:
    return [ScanMessage(id=first_id + n, text=text) for n, text in enumerate(texts)]


def run(books: Book | list[Book], texts: list[str] | tuple[str, ...], **options: Any) -> Activation:
    books = books if isinstance(books, list) else [books]
    return activate(books, messages(*texts), **options)


def uids(activation: Activation) -> list[int]:
    return [item.uid for item in activation.fired]
