"""A page on localhost must not be a door: host checks, origin checks, CSRF, login."""

import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

# the site's websocket stack as rpsite/asgi.py serves it; importing rpsite.asgi itself would
# start the server's start-up work (recovery, warm-up, the nightly backup) inside the test
# run, in threads that raced pytest's collection (CPython 3.11's "AST constructor recursion
# depth mismatch")
from play.web.routing import websocket_application as application
from tests.factories import make_chat

pytestmark = pytest.mark.django_db


def test_a_foreign_host_header_is_refused(client):
    """DNS rebinding: evil.example resolving to 127.0.0.1 still sends its own Host."""
    assert client.get("/", HTTP_HOST="evil.example").status_code == 400
    assert client.get("/api/health", HTTP_HOST="evil.example").status_code == 400
    assert client.get("/", HTTP_HOST="127.0.0.1:8000").status_code == 200
    assert client.get("/", HTTP_HOST="localhost:8000").status_code == 200


def test_the_api_refuses_state_changes_from_a_foreign_origin(client):
    chat = make_chat()
    body = json.dumps({"text": "hello"})
    refused = client.post(
        f"/api/chats/{chat.pk}/turns",
        body,
        content_type="application/json",
        HTTP_ORIGIN="http://evil.example",
    )
    assert refused.status_code == 403
    deleted = client.delete(f"/api/chats/{chat.pk}", HTTP_ORIGIN="https://evil.example")
    assert deleted.status_code == 403
    # reads are fine, and the app's own origin is fine
    assert (
        client.get(f"/api/chats/{chat.pk}/state", HTTP_ORIGIN="http://evil.example").status_code
        == 200
    )


def test_forms_and_htmx_posts_need_the_csrf_token():
    strict = Client(enforce_csrf_checks=True)
    chat = make_chat()
    for url in (
        "/settings/",
        f"/chats/{chat.pk}/remove/",
        "/chats/create/",
        f"/chats/{chat.pk}/edges/",
        f"/chats/{chat.pk}/snapshots/",
        "/backups/",
        f"/chats/{chat.pk}/guest/",
        f"/chats/{chat.pk}/skip/",
        f"/chats/{chat.pk}/story-events/",
    ):
        assert strict.post(url, {}).status_code == 403, url
    page = strict.get(f"/chats/{chat.pk}/")
    token = page.cookies["csrftoken"].value
    assert '"X-CSRFToken"' in page.content.decode()  # HTMX sends it on every request
    ok = strict.post(
        f"/chats/{chat.pk}/edges/",
        {"source": "host", "target": "you", "affinity": "5"},
        HTTP_X_CSRFTOKEN=token,
    )
    assert ok.status_code in (200, 204)


def test_the_admin_needs_a_login(client):
    for url in ("/admin/", "/admin/eventstore/event/", "/admin/worlds/edge/"):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.django_db(transaction=True)
async def test_a_websocket_from_a_foreign_origin_is_refused():

    chat = await sync_to_async(make_chat)()
    foreign = WebsocketCommunicator(
        application,
        f"/ws/chats/{chat.pk}/",
        headers=[(b"origin", b"http://evil.example"), (b"host", b"127.0.0.1:8000")],
    )
    connected, _ = await foreign.connect()
    assert not connected
    local = WebsocketCommunicator(
        application,
        f"/ws/chats/{chat.pk}/",
        headers=[(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1:8000")],
    )
    connected, _ = await local.connect()
    assert connected
    await local.disconnect()
