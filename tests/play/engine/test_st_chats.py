"""SillyTavern chats: import (swipes as sibling branches), play on, export."""

import json

import pytest
from asgiref.sync import async_to_sync
from django.core.files.uploadedfile import SimpleUploadedFile

from eventstore.replay import verify
from eventstore.services import append
from play.engine.lore import authors_note_state, lorebooks_for
from play.engine.recovery import progress, recover
from play.engine.services.st_chats import ChatImportError, chat_export, chat_import
from play.models import Chat, Turn
from tests.factories import make_character, make_persona
from worlds.models import Character, Lorebook, Persona

pytestmark = pytest.mark.django_db(databases=["default", "scratch"])


def jsonl(*rows) -> bytes:
    return "\n".join(json.dumps(r) for r in rows).encode()


META = {"user_name": "Sam", "character_name": "Mara", "create_date": "2024-10-12 @21h 00m"}
CHAT = jsonl(
    META,
    {
        "name": "Mara",
        "is_user": False,
        "send_date": "October 12, 2024 9:00pm",
        "mes": "*waves* Hi there.",
        "swipes": ["*waves* Hi there."],
        "swipe_id": 0,
    },
    {
        "name": "Sam",
        "is_user": True,
        "send_date": "October 12, 2024 9:01pm",
        "mes": "Where is the lighthouse keeper?",
    },
    {
        "name": "Mara",
        "is_user": False,
        "send_date": "October 12, 2024 9:02pm",
        "mes": "He went to the mainland.",
        "swipes": ["Nobody knows.", "He went to the mainland.", "Ask Theo."],
        "swipe_id": 1,
    },
    {"name": "Sam", "is_user": True, "mes": "Then we wait for the ferry."},
    {"name": "Mara", "is_user": False, "mes": "The ferry comes at dawn."},
)


def test_an_imported_chat_plays_on_with_its_history_and_swipes(client, scripted):
    make_character("Mara")
    upload = SimpleUploadedFile("chat.jsonl", CHAT, content_type="application/jsonl")
    response = client.post("/api/chats/import", {"file": upload})
    assert response.status_code == 201, response.content
    chat = Chat.objects.get(pk=response.json()["id"])
    assert response.json()["messages"] == 5 and response.json()["swipes"] == 2
    transcript = client.get(f"/api/chats/{chat.pk}/transcript").json()["turns"]
    assert [t["text"] for t in transcript] == [
        "*waves* Hi there.",
        "Where is the lighthouse keeper?",
        "He went to the mainland.",
        "Then we wait for the ferry.",
        "The ferry comes at dawn.",
    ]
    swiped = transcript[2]
    assert swiped["swipe"] == {"index": 2, "total": 3}  # SillyTavern's order kept
    page = client.get(f"/chats/{chat.pk}/").content.decode()
    assert '<span class="swipe-pos">2/3</span>' in page
    # it plays on: the next prompt holds the imported history
    scripted.narrative.append("At dawn, then.")
    reply = client.post(
        f"/api/chats/{chat.pk}/turns",
        json.dumps({"text": "Dawn it is."}),
        content_type="application/json",
    ).json()["turns"][1]
    prompt = client.get(f"/api/chats/{chat.pk}/turns/{reply['id']}/prompt").json()
    sent = json.dumps(prompt["messages"])
    assert "The ferry comes at dawn." in sent and "Where is the lighthouse keeper?" in sent
    assert verify(chat) == []
    # and the other swipes are the other branches
    client.post(f"/api/chats/{chat.pk}/turns/{swiped['id']}/swipe?direction=-1")
    texts = [t["text"] for t in client.get(f"/api/chats/{chat.pk}/transcript").json()["turns"]]
    assert texts[-1] == "Nobody knows."


def test_export_writes_sillytavern_jsonl_that_imports_again():
    make_character("Mara")
    first = chat_import(data=CHAT).chat
    data, filename = chat_export(first)
    lines = [json.loads(line) for line in data.decode().splitlines()]
    assert lines[0]["user_name"] == "Sam" and lines[0]["character_name"] == "Mara"
    assert lines[3]["swipes"] == ["Nobody knows.", "He went to the mainland.", "Ask Theo."]
    assert lines[3]["swipe_id"] == 1 and lines[2]["is_user"] is True
    again = chat_import(data=data).chat
    assert [t.text for t in Turn.objects.filter(chat=again).order_by("id")] == [
        t.text for t in Turn.objects.filter(chat=first).order_by("id")
    ]


CURRENT = jsonl(
    {
        "user_name": "unused",
        "character_name": "unused",
        "create_date": "2025-06-01@12h00m00s",
        "chat_metadata": {
            "world_info": "Harbor Lore",
            "note_prompt": "[Mara is tired after the storm.]",
            "note_interval": 2,
            "note_position": 1,
            "note_depth": 3,
            "note_role": 2,
            "integrity": "0f1e2d",
        },
    },
    {"name": "Mara", "is_user": False, "mes": "*waves* Hi there.", "swipes": ["*waves* Hi there."]},
    {"name": "Sam", "is_user": True, "mes": "Where is the lighthouse keeper?"},
    {"name": "Mara", "is_user": False, "mes": "He went to the mainland."},
)


def test_a_current_sillytavern_chat_imports_as_who_it_is_with_its_lorebook_and_note(client):
    harbor = Lorebook.objects.create(name="Harbor Lore")
    upload = SimpleUploadedFile("chat.jsonl", CURRENT, content_type="application/jsonl")
    response = client.post("/api/chats/import", {"file": upload})
    assert response.status_code == 201, response.content
    assert response.json()["warnings"] == []
    chat = Chat.objects.get(pk=response.json()["id"])
    assert (chat.character.name, chat.persona.name) == ("Mara", "Sam")
    assert not Character.objects.filter(name__iexact="unused").exists()
    assert not Persona.objects.filter(name__iexact="unused").exists()
    assert [(b.lorebook.pk, b.source) for b in lorebooks_for(chat.pk)] == [(harbor.pk, "chat")]
    note = authors_note_state(chat.pk)
    assert note == {
        "text": "[Mara is tired after the storm.]",
        "position": "at_depth",
        "depth": 3,
        "role": "assistant",
        "frequency": 2,
        "source": "chat",
    }
    assert verify(chat) == []
    # and export writes them back where SillyTavern reads them
    header = json.loads(chat_export(chat)[0].decode().splitlines()[0])
    metadata = header["chat_metadata"]
    assert metadata["world_info"] == "Harbor Lore"
    assert {k: v for k, v in metadata.items() if k.startswith("note_")} == {
        "note_prompt": "[Mara is tired after the storm.]",
        "note_interval": 2,
        "note_position": 1,
        "note_depth": 3,
        "note_role": 2,
    }


def test_sillytavern_note_positions_and_roles_map_to_ours():
    for st_position, st_role, position, role in (
        (0, 0, "after_scenario", "system"),
        (2, 1, "before_scenario", "user"),
    ):
        rows = [json.loads(line) for line in CURRENT.decode().splitlines()]
        rows[0]["chat_metadata"].update(note_position=st_position, note_role=st_role)
        chat = chat_import(data=jsonl(*rows)).chat
        note = authors_note_state(chat.pk)
        assert (note["position"], note["role"]) == (position, role)
        header = json.loads(chat_export(chat)[0].decode().splitlines()[0])
        assert (header["chat_metadata"]["note_position"], header["chat_metadata"]["note_role"]) == (
            st_position,
            st_role,
        )


def test_a_missing_lorebook_and_an_empty_note_are_not_carried_over():
    make_character("Mara", authors_note="[the character's own note]")
    rows = [json.loads(line) for line in CURRENT.decode().splitlines()]
    rows[0]["chat_metadata"].update(world_info="Nowhere", note_prompt="")
    result = chat_import(data=jsonl(*rows))
    assert lorebooks_for(result.chat.pk) == []
    assert result.warnings == [
        "The chat's lorebook 'Nowhere' is not here: import it, then attach it on the chat page."
    ]
    # SillyTavern writes an empty note into every chat: the character's note stays in force
    note = authors_note_state(result.chat.pk)
    assert (note["text"], note["source"]) == ("[the character's own note]", "character")


def test_an_older_chat_file_with_names_in_its_header_and_no_metadata():
    sam = make_persona("Sam")
    chat = chat_import(data=CHAT).chat
    assert (chat.character.name, chat.persona) == ("Mara", sam)
    assert Character.objects.count() == 1 and Persona.objects.count() == 1
    assert lorebooks_for(chat.pk) == [] and authors_note_state(chat.pk)["source"] == "default"
    # a file whose lines name nobody takes the header's names
    nameless = jsonl(
        {"user_name": "Sam", "character_name": "Theo"},
        {"is_user": False, "mes": "Morning."},
        {"is_user": True, "mes": "Morning, Theo."},
    )
    other = chat_import(data=nameless).chat
    assert (other.character.name, other.persona) == ("Theo", sam)
    assert [t.name for t in Turn.objects.filter(chat=other).order_by("id")] == ["Theo", "Sam"]


def test_the_bot_is_matched_to_an_existing_character_of_that_name_in_any_case():
    mara = make_character("MARA")
    chat = chat_import(data=CURRENT).chat
    assert chat.character == mara
    assert Character.objects.count() == 1


def test_imported_replies_can_be_bookkept_in_the_background_resumably(scripted):

    chat = chat_import(data=CHAT, bookkeep=True).chat
    assert progress(chat.pk) == (0, 3)
    scripted.structured_replies += [{"significance": 2}, {"significance": 1}, {}]
    async_to_sync(recover)(chat.pk)
    assert progress(chat.pk) == (3, 3)
    assert Turn.objects.get(chat=chat, text="He went to the mainland.").significance == 1


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "empty"),
        (b"not json", "line 1 is not JSON"),
        (jsonl({"name": "Mara", "mes": "hi"}), "metadata"),
        (jsonl(META, {"name": "Mara", "mes": 5}), "'mes' must be text"),
        (jsonl(META, {"name": "Mara", "mes": "hi", "swipes": "nope"}), "'swipes'"),
        (b"\xff\xfe\x00", "UTF-8"),
    ],
)
def test_malformed_chats_are_refused_and_create_nothing(data, message):
    before = Chat.objects.count()
    with pytest.raises(ChatImportError, match=message):
        chat_import(data=data)
    assert Chat.objects.count() == before


def test_the_api_refuses_a_bad_file_with_a_clear_400(client):
    upload = SimpleUploadedFile("bad.jsonl", b"{oops", content_type="application/jsonl")
    response = client.post("/api/chats/import", {"file": upload})
    assert response.status_code == 400 and "bad.jsonl" in response.json()["detail"]


def test_transcript_and_scene_exports_download_and_land_in_exports(client, data_dir):

    make_character("Mara")
    chat = chat_import(data=CHAT).chat
    append(
        stream=chat,
        kind="scene_closed",
        payload={
            "scene": 1,
            "reason": "dawn",
            "summaries": [
                {
                    "owner": "host",
                    "text": "I told Sam the keeper left.",
                    "witnesses": {"host": True},
                }
            ],
        },
    )
    md = client.get(f"/api/chats/{chat.pk}/export?format=md")
    assert md.status_code == 200 and b"remembers" in md.content
    scene = client.get(f"/api/chats/{chat.pk}/export?format=json&scene=1")
    body = json.loads(scene.content)
    assert body["scenes"][0]["summaries"][0]["text"] == "I told Sam the keeper left."
    assert all(t["scene"] == 1 for t in body["turns"])
    assert client.get(f"/api/chats/{chat.pk}/export?format=json&scene=2").status_code == 400
    assert client.get(f"/api/chats/{chat.pk}/export?format=json&scene=9").status_code == 404
    assert client.get(f"/api/chats/{chat.pk}/export?format=doc").status_code == 400
    st = client.get(f"/api/chats/{chat.pk}/export?format=st")
    assert st["Content-Disposition"].endswith('.jsonl"')
    assert len(list((data_dir / "exports").iterdir())) == 2
