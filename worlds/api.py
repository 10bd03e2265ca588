"""Authoring API: characters (list, create; import/export of cards; CHARX assets)."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import File, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile
from pydantic import Field

from worlds.cards import MAX_CARD_BYTES, CardError, export_filename
from worlds.models import Character, CharacterAsset, Lorebook
from worlds.services_cards import (
    character_export,
    character_import,
    lorebook_export,
    lorebook_import,
)

router = Router(tags=["worlds"])

# Served inline with their own type; any other file of an archive (HTML and SVG included) is
# a download: a card is untrusted input and must not run script on this origin.
MEDIA_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "gif": "image/gif",
    "avif": "image/avif",
    "bmp": "image/bmp",
    "mp3": "audio/mpeg",
    "ogg": "audio/ogg",
    "wav": "audio/wav",
    "mp4": "video/mp4",
    "webm": "video/webm",
}


class CharacterIn(Schema):
    name: str
    description: str = ""
    personality: str = ""
    scenario: str = ""
    first_mes: str = ""
    mes_example: str = ""
    creator_notes: str = ""
    system_prompt: str = ""
    post_history_instructions: str = ""
    alternate_greetings: list[str] = []
    tags: list[str] = []
    creator: str = ""
    character_version: str = ""
    extensions: dict[str, Any] = {}
    reply_tokens: int | None = Field(None, ge=1, le=100_000)  # empty: the default length


def character_out(c: Character) -> dict[str, Any]:
    return {
        "id": c.pk,
        "name": c.name,
        "description": c.description,
        "personality": c.personality,
        "scenario": c.scenario,
        "first_mes": c.first_mes,
        "mes_example": c.mes_example,
        "creator_notes": c.creator_notes,
        "system_prompt": c.system_prompt,
        "post_history_instructions": c.post_history_instructions,
        "alternate_greetings": c.alternate_greetings,
        "tags": c.tags,
        "creator": c.creator,
        "character_version": c.character_version,
        "extensions": c.extensions,
        "reply_tokens": c.reply_tokens,
        "avatar": c.avatar.url if c.avatar else None,
    }


@router.get("/characters")
def list_characters(request):
    return {"characters": [character_out(c) for c in Character.objects.all()]}


@router.post("/characters", response={201: dict})
def create_character(request, body: CharacterIn):
    name = body.name.strip()
    if not name:
        raise HttpError(400, "a character needs a name")
    character = Character.objects.create(**{**body.dict(), "name": name})
    return Status(201, character_out(character))


@router.post("/characters/import", response={201: dict})
def import_character(request, file: UploadedFile = File(...)):
    """A SillyTavern card (PNG, JSON or CHARX; V1, V2 or V3). Bad files create nothing."""

    if file.size and file.size > MAX_CARD_BYTES:
        raise HttpError(
            413, f"the file is {file.size} bytes; cards are limited to {MAX_CARD_BYTES} bytes"
        )
    try:
        character = character_import(data=file.read(MAX_CARD_BYTES + 1), filename=file.name)
    except CardError as exc:
        raise HttpError(400, f"{file.name}: {exc}") from exc
    return Status(201, character_out(character))


@router.get("/characters/{character_id}/export")
def export_character(request, character_id: int, format: str = "png"):

    if format not in ("png", "json", "charx"):
        raise HttpError(400, "format is png, json or charx")
    character = get_object_or_404(Character, pk=character_id)
    data, content_type, filename = character_export(character, fmt=format)
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@router.get("/characters/{character_id}")
def get_character(request, character_id: int):
    return character_out(get_object_or_404(Character, pk=character_id))


@router.post("/lorebooks/import", response={201: dict})
def import_lorebook(request, file: UploadedFile = File(...)):
    """SillyTavern World Info (``{"entries": {...}}``) or ``lorebook_v3`` JSON."""

    if file.size and file.size > MAX_CARD_BYTES:
        raise HttpError(413, f"the file is {file.size} bytes; the limit is {MAX_CARD_BYTES}")
    try:
        book = lorebook_import(data=file.read(MAX_CARD_BYTES + 1), filename=file.name)
    except CardError as exc:
        raise HttpError(400, f"{file.name}: {exc}") from exc
    return Status(201, {"id": book.pk, "name": book.name, "entries": book.entries.count()})


@router.get("/lorebooks/{lorebook_id}/export")
def export_lorebook(request, lorebook_id: int, format: str = "sillytavern"):

    if format not in ("sillytavern", "lorebook_v3"):
        raise HttpError(400, "format is sillytavern or lorebook_v3")
    data, content_type, filename = lorebook_export(
        get_object_or_404(Lorebook, pk=lorebook_id), fmt=format
    )
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def asset_out(asset: CharacterAsset) -> dict[str, Any]:
    return {
        "id": asset.pk,
        "path": asset.path,
        "size": asset.size,
        "sha256": asset.sha256,
        "url": f"/api/characters/{asset.character_id}/assets/{asset.pk}",
    }


@router.get("/characters/{character_id}/assets")
def list_assets(request, character_id: int):
    """Every file of the character's CHARX archive (icons, expressions, backgrounds, …)."""
    character = get_object_or_404(Character, pk=character_id)
    return {"assets": [asset_out(a) for a in character.assets.defer("data").order_by("pk")]}


@router.get("/characters/{character_id}/assets/{asset_id}")
def get_asset(request, character_id: int, asset_id: int):
    asset = get_object_or_404(CharacterAsset, character_id=character_id, pk=asset_id)
    path = PurePosixPath(asset.path)
    ext = path.suffix.lstrip(".").lower()
    content_type = MEDIA_TYPES.get(ext, "application/octet-stream")
    response = HttpResponse(bytes(asset.data), content_type=content_type)
    name = export_filename(path.stem, ext or "bin", fallback="asset")
    disposition = "inline" if ext in MEDIA_TYPES else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response
