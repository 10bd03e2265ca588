"""Snapshots and backups in the UI; the delete preview and hide controls on the page."""

import pytest

from eventstore import snapshots
from eventstore.models import Branch
from eventstore.services import append
from play.models import Turn
from tests.factories import edge_of, make_chat

pytestmark = pytest.mark.django_db


def test_take_list_and_restore_a_snapshot_with_preview_and_hard_confirm(client):
    chat = make_chat()
    client.post(f"/chats/{chat.pk}/snapshots/")
    (info,) = snapshots.list_snapshots(chat.pk)
    page = client.get(f"/chats/{chat.pk}/snapshots/").content.decode()
    assert info.name in page
    append(stream=chat, kind="user_turn", payload={"text": "a later line", "witnesses": {}})
    append(
        stream=chat,
        kind="edge_update",
        payload={"edges": [{"source": "host", "target": "you", "affinity_delta": 6}]},
    )
    preview = client.get(f"/chats/{chat.pk}/snapshots/{info.name}/restore/").content.decode()
    assert "2</b> event(s) after this snapshot" in preview
    assert "Mara → Sam: affinity 6 → 0" in preview  # the characters, by name
    refused = client.post(
        f"/chats/{chat.pk}/snapshots/{info.name}/restore/", {"confirm": "yes"}, follow=True
    )
    assert "Type" in refused.content.decode()
    assert edge_of(chat, "host", "you").affinity == 6
    done = client.post(f"/chats/{chat.pk}/snapshots/{info.name}/restore/", {"confirm": "restore"})
    assert done.status_code == 302
    assert edge_of(chat, "host", "you").affinity == 0
    assert not Turn.objects.filter(chat=chat, text="a later line").exists()
    assert any(i.kind == "pre_restore" for i in snapshots.list_snapshots(chat.pk))
    assert Branch.objects.filter(stream=chat, kind="restore").exists()


@pytest.mark.django_db(transaction=True)
def test_back_up_and_download_a_backup(client):
    make_chat()
    client.post("/backups/")
    page = client.get("/backups/").content.decode()
    name = page.split('href="/backups/')[1].split("/")[0]
    response = client.get(f"/backups/{name}/")
    data = b"".join(response.streaming_content)
    assert data[:16] == b"SQLite format 3\x00"
    assert client.get("/backups/..%2Fchat.db/").status_code == 404
    assert client.get("/backups/chat-20990101T000000000000.db/").status_code == 404


def test_the_play_page_offers_delete_with_preview_and_hide(client):
    chat = make_chat()
    event = append(
        stream=chat,
        kind="user_turn",
        payload={"text": "regrettable words", "witnesses": {"host": True}},
    )
    page = client.get(f"/chats/{chat.pk}/").content.decode()
    assert f"/chats/{chat.pk}/turns/{event.id}/delete/preview/" in page
    preview = client.get(f"/chats/{chat.pk}/turns/{event.id}/delete/preview/").content.decode()
    assert "regrettable words" in preview and "Delete it" in preview
    client.post(f"/chats/{chat.pk}/turns/{event.id}/hide/")
    assert Turn.objects.get(pk=event.id).hidden
    client.post(f"/chats/{chat.pk}/turns/{event.id}/delete/")
    assert not Turn.objects.filter(chat=chat, text="regrettable words").exists()
