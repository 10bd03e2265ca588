import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from worlds.models import Character

pytestmark = pytest.mark.django_db


def card(name="Iris", **data):
    return json.dumps(
        {
            "spec": "chara_card_v2",
            "spec_version": "2.0",
            "data": {
                "name": name,
                "description": "a botanist",
                "extensions": {"depth_prompt": {"prompt": "x", "depth": 4}},
                **data,
            },
        }
    ).encode()


def test_import_then_export_a_card_through_the_api(client):
    upload = SimpleUploadedFile("iris.json", card(), content_type="application/json")
    response = client.post("/api/characters/import", {"file": upload})
    assert response.status_code == 201, response.content
    character_id = response.json()["id"]
    exported = client.get(f"/api/characters/{character_id}/export?format=json")
    assert exported.status_code == 200
    data = json.loads(exported.content)
    assert data["data"]["name"] == "Iris"
    assert data["data"]["extensions"] == {"depth_prompt": {"prompt": "x", "depth": 4}}
    png = client.get(f"/api/characters/{character_id}/export?format=png")
    assert png.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_malformed_card_is_a_clear_400_and_creates_nothing(client):
    before = Character.objects.count()
    upload = SimpleUploadedFile("broken.json", b"{not json", content_type="application/json")
    response = client.post("/api/characters/import", {"file": upload})
    assert response.status_code == 400
    assert "broken.json" in response.json()["detail"]
    assert Character.objects.count() == before


def test_an_unknown_export_format_is_refused(client):
    upload = SimpleUploadedFile("iris.json", card(), content_type="application/json")
    character_id = client.post("/api/characters/import", {"file": upload}).json()["id"]
    assert client.get(f"/api/characters/{character_id}/export?format=gif").status_code == 400


def test_a_lorebook_imports_and_exports_through_the_api(client):
    world_info = {
        "entries": {
            "0": {
                "uid": 0,
                "key": ["lighthouse"],
                "keysecondary": [],
                "comment": "light",
                "content": "It is dark.",
                "constant": False,
                "selective": False,
                "order": 100,
                "disable": False,
            }
        }
    }
    upload = SimpleUploadedFile("wi.json", json.dumps(world_info).encode())
    response = client.post("/api/lorebooks/import", {"file": upload})
    assert response.status_code == 201 and response.json()["entries"] == 1
    book_id = response.json()["id"]
    exported = json.loads(client.get(f"/api/lorebooks/{book_id}/export").content)
    assert exported["entries"]["0"]["key"] == ["lighthouse"]
    v3 = json.loads(client.get(f"/api/lorebooks/{book_id}/export?format=lorebook_v3").content)
    assert v3["spec"] == "lorebook_v3"
    bad = client.post("/api/lorebooks/import", {"file": SimpleUploadedFile("x.json", b"[]")})
    assert bad.status_code == 400


def test_the_admin_exports_charx_and_imports_lorebooks(admin_client):
    upload = SimpleUploadedFile("iris.json", card(), content_type="application/json")
    character = Character.objects.get(
        pk=admin_client.post("/api/characters/import", {"file": upload}).json()["id"]
    )
    response = admin_client.post(
        "/admin/worlds/character/", {"action": "export_charx", "_selected_action": [character.pk]}
    )
    assert response.status_code == 200 and response.content[:2] == b"PK"
    page = admin_client.get("/admin/worlds/lorebook/import/")
    assert page.status_code == 200


@pytest.mark.parametrize("tokens", [-5, 0, 10**30])
def test_an_out_of_range_reply_length_is_refused_and_creates_nothing(client, tokens):
    """Found by the schema fuzzer: a negative reply_tokens broke the column's CHECK (500)."""
    response = client.post(
        "/api/characters",
        data=json.dumps({"name": "Iris", "reply_tokens": tokens}),
        content_type="application/json",
    )
    assert response.status_code in (400, 422), response.content
    assert not Character.objects.filter(name="Iris").exists()


def test_an_id_beyond_64_bits_is_a_400_not_a_server_error(client):
    response = client.get(f"/api/characters/{2**70}")
    assert response.status_code in (400, 404), response.content
