"""CHARX assets: every file of the archive is kept, served and written back byte for byte."""

from __future__ import annotations

import io
import json
import os
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.worlds.test_cards import charx, png_image, v3_card
from worlds.models import Character, CharacterAsset

pytestmark = pytest.mark.django_db

MAIN = "assets/icon/images/main.png"
FILES = {
    MAIN: png_image((12, 34), (200, 10, 10)),
    "assets/icon/images/alt.png": png_image((6, 6), (0, 90, 0)),
    "assets/emotion/images/happy.png": png_image((20, 20), (250, 250, 0)),
    "assets/emotion/images/sad.webp": b"RIFF\x10\x00\x00\x00WEBPVP8 " + os.urandom(64),
    "assets/background/images/forest.jpg": b"\xff\xd8\xff\xe0" + os.urandom(300),
    "assets/other/audio/theme.mp3": b"ID3" + os.urandom(200),
    "assets/other/notes.html": b"<script>alert(1)</script>",
    "x_meta/1.json": b'{"unlisted": true}',
}


def assets_card() -> dict:
    def embedded(kind: str, path: str, name: str) -> dict:
        ext = path.rsplit(".", 1)[1]
        return {"type": kind, "uri": f"embeded://{path}", "name": name, "ext": ext}

    return v3_card(
        assets=[
            embedded("icon", MAIN, "main"),
            embedded("icon", "assets/icon/images/alt.png", "alt"),
            embedded("emotion", "assets/emotion/images/happy.png", "happy"),
            embedded("emotion", "assets/emotion/images/sad.webp", "sad"),
            embedded("background", "assets/background/images/forest.jpg", "forest"),
            embedded("other", "assets/other/audio/theme.mp3", "theme"),
            embedded("other", "assets/other/notes.html", "notes"),
            {"type": "background", "uri": "https://example.invalid/sky.png", "name": "sky"},
        ]
    )


def upload(client, data: bytes, name: str = "mira.charx") -> dict:
    response = client.post("/api/characters/import", {"file": SimpleUploadedFile(name, data)})
    assert response.status_code == 201, response.content
    return response.json()


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_a_charx_with_several_assets_round_trips_byte_identical(client):
    imported = upload(client, charx(assets_card(), FILES))

    exported = client.get(f"/api/characters/{imported['id']}/export?format=charx")
    assert exported.status_code == 200
    files = unzip(exported.content)
    card = json.loads(files.pop("card.json"))
    assert files == FILES  # every file, same path, same bytes
    assert card["data"]["assets"] == assets_card()["data"]["assets"]
    embedded = {a["uri"].removeprefix("embeded://") for a in card["data"]["assets"]}
    assert {p for p in embedded if not p.startswith("https:")} <= set(files)

    again = upload(client, exported.content, "again.charx")
    second = client.get(f"/api/characters/{again['id']}/export?format=charx")
    assert unzip(second.content) == unzip(exported.content)


def test_assets_are_listed_and_served_each_at_its_own_url(client):
    imported = upload(client, charx(assets_card(), FILES))
    listed = client.get(f"/api/characters/{imported['id']}/assets").json()["assets"]
    assert [a["path"] for a in listed] == list(FILES)
    by_path = {a["path"]: a for a in listed}
    for path, content in FILES.items():
        served = client.get(by_path[path]["url"])
        assert served.status_code == 200 and served.content == content
        assert by_path[path]["size"] == len(content)
    happy = client.get(by_path["assets/emotion/images/happy.png"]["url"])
    assert happy["Content-Type"] == "image/png" and happy["Content-Disposition"].startswith(
        "inline"
    )
    html = client.get(by_path["assets/other/notes.html"]["url"])
    assert html["Content-Type"] == "application/octet-stream"
    assert html["Content-Disposition"].startswith("attachment")
    assert (
        html["X-Content-Type-Options"] == "nosniff" and "sandbox" in html["Content-Security-Policy"]
    )
    other = Character.objects.create(name="Other")
    asset_id = by_path[MAIN]["id"]
    assert client.get(f"/api/characters/{other.pk}/assets/{asset_id}").status_code == 404


def test_a_new_avatar_replaces_only_the_main_icon_on_export(client):
    imported = upload(client, charx(assets_card(), FILES))
    character = Character.objects.get(pk=imported["id"])
    new_icon = png_image((40, 40), (1, 2, 3))
    character.avatar.save("new.png", ContentFile(new_icon), save=True)

    files = unzip(client.get(f"/api/characters/{character.pk}/export?format=charx").content)
    card = json.loads(files.pop("card.json"))
    assert files[MAIN] == new_icon
    assert {p: c for p, c in files.items() if p != MAIN} == {
        p: c for p, c in FILES.items() if p != MAIN
    }
    assert card["data"]["assets"] == assets_card()["data"]["assets"]


def test_a_broken_charx_creates_no_character_and_no_assets(client):
    broken = charx(assets_card(), {**FILES, MAIN: b"not an image"})
    response = client.post(
        "/api/characters/import", {"file": SimpleUploadedFile("b.charx", broken)}
    )
    assert response.status_code == 400 and "icon" in response.json()["detail"]
    assert not Character.objects.exists() and not CharacterAsset.objects.exists()
