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
