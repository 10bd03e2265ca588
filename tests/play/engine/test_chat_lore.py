"""A chat's lore state over the API: lorebooks per chat/persona/character, the Author's Note,
World Info timed effects following turns, swipes and branches."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from eventstore import branches
from eventstore.models import Branch, Event
from eventstore.replay import verify
from play.engine.lore import authors_note_for, lore_scan
from play.engine.services.branches import turn_fork
from play.engine.services.chats import chat_start
from tests.factories import make_character, make_chat, make_persona
from tests.worlds.lore_helpers import import_book, st_entry
from worlds.models import LoreTimedState

pytestmark = pytest.mark.django_db(databases=["default", "scratch"])


def post(client, url, data=None):
    return client.post(url, json.dumps(data or {}), content_type="application/json")


def put(client, url, data):
    return client.put(url, json.dumps(data), content_type="application/json")


def say(client, chat, text: str) -> list[dict]:
    response = post(client, f"/api/chats/{chat.pk}/turns", {"text": text})
    assert response.status_code == 200, response.content
    return response.json()["turns"]


def kinds(chat) -> list[str]:
    return list(Event.objects.filter(stream=chat).values_list("kind", flat=True))


# -- lorebooks ------------------------------------------------------------------------------------


def test_lorebooks_attach_list_and_detach_over_the_api(client):
    harbor = import_book(st_entry(1, key=["harbor"]), st_entry(2, key=["gull"]), name="Harbor")
    persona = make_persona()
    persona_book = import_book(st_entry(1, constant=True), name="Sam's past")
    persona.lorebooks.add(persona_book)
    character = make_character(lorebook=import_book(st_entry(1, constant=True), name="Mara's"))
    chat = make_chat(character, persona)
    url = f"/api/chats/{chat.pk}/lorebooks"

    listed = client.get(url).json()["lorebooks"]
    assert [(b["name"], b["source"]) for b in listed] == [
        ("Sam's past", "persona"),
        ("Mara's", "character"),
    ]
    attached = post(client, url, {"lorebook": harbor.pk})
    assert attached.status_code == 201
    assert attached.json()["lorebooks"][0] == {
        "id": harbor.pk,
        "name": "Harbor",
        "source": "chat",
        "entries": 2,
    }
    assert kinds(chat).count("lorebook_attached") == 1
    again = post(client, url, {"lorebook": harbor.pk})
    assert again.status_code == 200 and kinds(chat).count("lorebook_attached") == 1

    assert post(client, url, {"lorebook": 999999}).status_code == 404
    assert client.delete(f"{url}/{persona_book.pk}").status_code == 409
    assert client.delete(f"{url}/999999").status_code == 404
    detached = client.delete(f"{url}/{harbor.pk}")
    assert detached.status_code == 200
    assert "Harbor" not in [b["name"] for b in detached.json()["lorebooks"]]
    assert verify(chat) == []


def test_several_lorebooks_at_once_each_with_its_own_settings(client, scripted):
    shallow = import_book(st_entry(1, key=["harbor"], content="Shallow."), name="A", scan_depth=1)
    deep = import_book(st_entry(1, key=["harbor"], content="Deep."), name="B", scan_depth=3)
    chat = make_chat()
    for book in (shallow, deep):
        post(client, f"/api/chats/{chat.pk}/lorebooks", {"lorebook": book.pk})
    say(client, chat, "We reached the harbor.")  # the reply comes after it
    fired = lore_scan(chat.pk, speaker="host").fired
    assert [(f.lorebook, f.content) for f in fired] == [(deep.pk, "Deep.")]


def test_attaching_a_lorebook_follows_the_branch(client, scripted):
    harbor = import_book(st_entry(1, key=["harbor"]), name="Harbor")
    chat = make_chat()
    first = say(client, chat, "Hello.")
    post(client, f"/api/chats/{chat.pk}/lorebooks", {"lorebook": harbor.pk})
    assert len(client.get(f"/api/chats/{chat.pk}/lorebooks").json()["lorebooks"]) == 1
    post(client, f"/api/chats/{chat.pk}/turns/{first[1]['id']}/rewind")
    assert client.get(f"/api/chats/{chat.pk}/lorebooks").json()["lorebooks"] == []


# -- the Author's Note ----------------------------------------------------------------------------


def test_the_authors_note_over_the_api_from_default_to_the_chats_own(client):
    character = make_character(
        authors_note="[{{char}} is tired.]", authors_note_frequency=2, authors_note_depth=2
    )
    chat = make_chat(character)
    url = f"/api/chats/{chat.pk}/authors-note"
    assert client.get(url).json() == {
        "text": "[{{char}} is tired.]",
        "position": "at_depth",
        "depth": 2,
        "role": "system",
        "frequency": 2,
        "source": "character",
    }
    changed = put(client, url, {"text": "Keep it short.", "position": "after_scenario"})
    assert changed.status_code == 200
    assert changed.json() == {
        "text": "Keep it short.",
        "position": "after_scenario",
        "depth": 2,
        "role": "system",
        "frequency": 2,
        "source": "chat",
    }
    assert kinds(chat).count("authors_note_set") == 1
    assert put(client, url, {"text": "Keep it short."}).status_code == 200
    assert kinds(chat).count("authors_note_set") == 1  # nothing changed: no event


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"position": "sideways"}, "position"),
        ({"role": "narrator"}, "role"),
        ({"depth": -1}, "depth"),
        ({"frequency": 5000}, "frequency"),
    ],
)
def test_a_bad_authors_note_is_a_clear_400_and_changes_nothing(client, change, message):
    chat = make_chat()
    response = put(client, f"/api/chats/{chat.pk}/authors-note", change)
    assert response.status_code == 400 and message in response.json()["detail"]
    assert "authors_note_set" not in kinds(chat)


def test_the_authors_note_applies_every_n_of_your_messages(client, scripted):
    chat = make_chat()
    put(client, f"/api/chats/{chat.pk}/authors-note", {"text": "Be brief.", "frequency": 2})
    assert authors_note_for(chat.pk, speaker="host") is None  # none of your messages yet
    say(client, chat, "One.")
    assert authors_note_for(chat.pk, speaker="host") is None
    say(client, chat, "Two.")
    note = authors_note_for(chat.pk, speaker="host")
    assert (note.text, note.position, note.depth, note.role) == (
        "Be brief.",
        "at_depth",
        4,
        "system",
    )
    say(client, chat, "Three.")
    assert authors_note_for(chat.pk, speaker="host") is None
    put(client, f"/api/chats/{chat.pk}/authors-note", {"frequency": 0})
    say(client, chat, "Four.")
    assert authors_note_for(chat.pk, speaker="host") is None


def test_the_empty_default_note_still_comes_every_prompt_for_lore_at_its_edges():
    chat = make_chat()
    note = authors_note_for(chat.pk, speaker="host")
    assert (note.text, note.source, note.frequency) == ("", "default", 1)


# -- timed effects through turns, swipes and branches ---------------------------------------------


def storm_chat(client, **entry):
    storm = import_book(st_entry(1, key=["storm"], scanDepth=1, **entry), name="Weather")
    chat = make_chat()
    post(client, f"/api/chats/{chat.pk}/lorebooks", {"lorebook": storm.pk})
    return chat


def timed_events(chat) -> list[Event]:
    chat.refresh_from_db()  # the active branch moves under the test's feet
    line = branches.events(Branch.objects.get(pk=chat.active_branch_id))
    return [Event.objects.get(pk=e.id) for e in line if e.kind == "lore_timed_state"]


def sticky_keys(chat) -> set[str]:
    row = LoreTimedState.objects.filter(chat=chat).first()
    return set(row.state["sticky"]) if row else set()


def test_each_bot_turn_records_the_timed_state_its_prompt_left(client, scripted):
    chat = storm_chat(client, sticky=3)
    first = say(client, chat, "A storm is coming.")
    [event] = timed_events(chat)
    assert event.caused_by_id == first[1]["id"]
    [(key, effect)] = event.payload["state"]["sticky"].items()
    # the prompt was built with 2 messages (greeting, your line): sticky until 2 + 3
    assert (effect["start"], effect["end"], effect["triggers"]) == (2, 5, [first[0]["id"]])
    say(client, chat, "Calm now.")  # 4 messages: still sticky, nothing changes
    assert len(timed_events(chat)) == 1
    say(client, chat, "Calm again.")  # 6 messages: the sticky ends
    assert len(timed_events(chat)) == 2 and sticky_keys(chat) == set()
    assert verify(chat) == []


def test_a_swipe_does_not_advance_the_timed_state(client, scripted):
    chat = storm_chat(client, cooldown=4)
    first = say(client, chat, "A storm!")
    original = first[1]["id"]
    assert [e.caused_by_id for e in timed_events(chat)] == [original]
    regenerated = post(client, f"/api/chats/{chat.pk}/turns/{original}/regenerate").json()
    swipe = regenerated["turns"][0]["id"]
    # the swipe's line holds only the state its own prompt left, from the parent's (none)
    assert [e.caused_by_id for e in timed_events(chat)] == [swipe]
    [effect] = LoreTimedState.objects.get(chat=chat).state["cooldown"].values()
    assert (effect["start"], effect["end"]) == (2, 6)
    # back on the first swipe, its own state comes back with it
    post(client, f"/api/chats/{chat.pk}/turns/{swipe}/swipe?direction=-1")
    assert [e.caused_by_id for e in timed_events(chat)] == [original]
    assert verify(chat) == []


def test_a_branch_inherits_its_parents_timed_state(client, scripted):
    chat = storm_chat(client, sticky=5)
    say(client, chat, "A storm!")
    second = say(client, chat, "Calm.")
    assert sticky_keys(chat)
    turn_fork(chat_id=chat.pk, turn_id=second[0]["id"], kind="branch", origin="api")
    chat.refresh_from_db()
    assert sticky_keys(chat)
    [fired] = lore_scan(chat.pk, speaker="host").fired
    assert fired.reason == "sticky"
    # and a cooldown set on the parent blocks the entry on the branch
    cooled = storm_chat(client, cooldown=10)
    storm = say(client, cooled, "A storm!")
    again = say(client, cooled, "The storm again!")
    turn_fork(chat_id=cooled.pk, turn_id=again[0]["id"], kind="branch", origin="api")
    assert lore_scan(cooled.pk, speaker="host").fired == []
    # forked before the first reply's state was recorded: the entry fires by key there
    turn_fork(chat_id=cooled.pk, turn_id=storm[0]["id"], kind="branch", origin="api")
    assert [f.reason for f in lore_scan(cooled.pk, speaker="host").fired] == ["key"]


# -- the drawer -----------------------------------------------------------------------------------


def test_the_drawer_attaches_detaches_and_edits_the_note(client):
    harbor = import_book(st_entry(1, key=["harbor"]), name="Harbor lore")
    chat = make_chat()
    drawer = client.get(f"/chats/{chat.pk}/drawer/").content.decode()
    assert 'class="lorebook-attach"' in drawer and "Harbor lore" in drawer
    assert client.post(f"/chats/{chat.pk}/lorebooks/", {"lorebook": harbor.pk}).status_code == 204
    drawer = client.get(f"/chats/{chat.pk}/drawer/").content.decode()
    assert f'data-lorebook="{harbor.pk}"' in drawer and "(chat)" in drawer
    detach = f"/chats/{chat.pk}/lorebooks/{harbor.pk}/detach/"
    assert client.post(detach).status_code == 204
    assert client.post(detach).status_code == 404
    note = {"text": "No <b>bold</b> moves.", "position": "before_scenario", "depth": "4"}
    saved = client.post(
        f"/chats/{chat.pk}/authors-note/", {**note, "role": "user", "frequency": "3"}
    )
    assert saved.status_code == 204
    drawer = client.get(f"/chats/{chat.pk}/drawer/").content.decode()
    assert "No &lt;b&gt;bold&lt;/b&gt; moves." in drawer
    assert '<option value="before_scenario" selected>' in drawer
    bad = client.post(f"/chats/{chat.pk}/authors-note/", {**note, "position": "nowhere"})
    assert bad.status_code == 400 and kinds(chat).count("authors_note_set") == 1


# -- macros in lore -------------------------------------------------------------------------------


def test_lore_content_gets_the_chats_macros_with_the_story_clock(client, scripted):
    clocked = import_book(
        st_entry(
            1,
            constant=True,
            content="{{time}} on {{weekday}}: {{user}} said {{lastUserMessage}} {{roll:d6}}",
        )
    )
    chat = make_chat()  # its scenario starts at 2024-10-12T21:00
    post(client, f"/api/chats/{chat.pk}/lorebooks", {"lorebook": clocked.pk})
    say(client, chat, "Is the road open?")
    [fired] = lore_scan(chat.pk, speaker="host").fired
    # the exchange took a minute: the clock moved on with it
    assert fired.content.startswith("9:01 PM on Saturday: Sam said Is the road open? ")
    assert fired.content == lore_scan(chat.pk, speaker="host").fired[0].content  # reproducible
    assert int(fired.content.rsplit(" ", 1)[1]) in range(1, 7)


def test_without_a_story_clock_time_macros_read_when_the_newest_turn_was_written(client):
    chat = chat_start(character=make_character(), persona=make_persona())
    post(
        client,
        f"/api/chats/{chat.pk}/lorebooks",
        {"lorebook": import_book(st_entry(1, constant=True, content="{{isodate}}")).pk},
    )
    greeting = Event.objects.filter(stream=chat, kind="assistant_turn").get()
    [fired] = lore_scan(chat.pk, speaker="host").fired
    assert fired.content == timezone.localtime(greeting.created_at).strftime("%Y-%m-%d")


# -- where World Info lands in the prompt -----------------------------------------------------


def test_world_info_at_depth_4_as_a_system_message_lands_4_messages_from_the_end(client, scripted):
    book = import_book(
        st_entry(
            7,
            key=["lighthouse"],
            position=4,
            depth=4,
            role=0,
            content="The lighthouse keeper vanished in 1994.",
        ),
        st_entry(8, key=["harbour"], position=0, content="The harbour froze last winter."),
    )
    chat = make_chat()
    assert post(client, f"/api/chats/{chat.pk}/lorebooks", {"lorebook": book.pk}).status_code < 300
    for text in ("Morning.", "The harbour looks grey.", "Still cold.", "Any news?"):
        say(client, chat, text)
    reply = say(client, chat, "Tell me about the lighthouse by the harbour.")[-1]
    prompt = client.get(f"/api/chats/{chat.pk}/turns/{reply['id']}/prompt").json()
    messages = prompt["messages"]
    at = next(i for i, m in enumerate(messages) if "keeper vanished in 1994" in m["content"])
    assert messages[at]["role"] == "system" and at > 0
    assert len(messages) - 1 - at == 4  # four messages after it: it sits at depth 4
    assert "The harbour froze last winter." in messages[0]["content"]  # before the character
    lore = {entry["uid"]: entry for entry in prompt["lore"]}
    assert {k: lore[7][k] for k in ("lorebook", "reason", "position", "depth")} == {
        "lorebook": book.pk,
        "reason": "key",
        "position": "at_depth",
        "depth": 4,
    }
    assert lore[8]["position"] == "before_char" and lore[7]["tokens"] > 0
