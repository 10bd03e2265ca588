"""One error table: the JSON API and the pages answer the same error with the same status,
and bad input is a 400, never a 500."""

import json

import pytest

from play.engine import turnlock
from play.engine.errors import ChatBusy
from play.models import Turn
from tests.factories import make_chat

pytestmark = pytest.mark.django_db


def api_post(client, url, data=None):
    return client.post(url, json.dumps(data or {}), content_type="application/json")


def test_an_unknown_turn_is_404_through_the_api_and_the_page(client):
    chat = make_chat()
    api = api_post(client, f"/api/chats/{chat.pk}/turns/999999/rewind")
    page = client.post(f"/chats/{chat.pk}/turns/999999/fork/rewind/", HTTP_HX_REQUEST="true")
    assert (api.status_code, page.status_code) == (404, 404)
    assert "no turn 999999" in api.json()["detail"]
    assert b"no turn 999999" in page.content


def test_a_busy_chat_is_409_through_the_api_and_the_page(client):
    chat = make_chat()
    greeting = Turn.objects.filter(chat=chat).first()
    with turnlock.held(chat.pk, "test"):
        api = api_post(client, f"/api/chats/{chat.pk}/turns/{greeting.pk}/rewind")
        page = client.post(f"/chats/{chat.pk}/turns/{greeting.pk}/fork/rewind/")
        api_remove = client.delete(f"/api/chats/{chat.pk}/guest")
        page_remove = client.post(f"/chats/{chat.pk}/guest/remove/")
    assert (api.status_code, page.status_code) == (409, 409)
    assert api.json()["detail"] == ChatBusy.MESSAGE
    assert ChatBusy.MESSAGE.encode() in page.content
    assert api_remove.status_code == page_remove.status_code == 409


def test_a_guest_that_is_not_there_is_the_same_conflict_everywhere(client):
    chat = make_chat()
    api = client.delete(f"/api/chats/{chat.pk}/guest")
    page = client.post(f"/chats/{chat.pk}/guest/remove/")
    assert (api.status_code, page.status_code) == (409, 409)
    assert "no guest" in api.json()["detail"] and b"no guest" in page.content


@pytest.mark.parametrize(
    "url, data",
    [
        ("significance/", {"turn": "abc", "significance": "1"}),
        ("significance/", {"turn": "{greeting}", "significance": "lots"}),
        ("meanwhile/", {"action": "continue", "exchanges": "many"}),
        ("guest/", {"character": "someone"}),
    ],
)
def test_malformed_form_numbers_are_a_clear_400_never_a_500(client, url, data):
    chat = make_chat()
    greeting = str(Turn.objects.filter(chat=chat).first().pk)
    data = {k: v.replace("{greeting}", greeting) for k, v in data.items()}
    response = client.post(f"/chats/{chat.pk}/{url}", data, HTTP_HX_REQUEST="true")
    assert response.status_code == 400, response.content
    assert b"notice error" in response.content
