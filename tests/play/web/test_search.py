"""The author's top-bar search over every chat's active transcript (FTS5)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from eventstore.services import append
from play.engine import search as turn_search
from play.engine.services.branches import turn_fork
from play.models import Chat, Turn
from tests.factories import make_chat

pytestmark = pytest.mark.django_db

BOTH = {"you": True, "host": True}


def say(chat: Chat, text: str, witnesses: dict | None = None, name: str = "Sam") -> Turn:
    event = append(
        stream=chat,
        kind="user_turn",
        payload={"speaker": "you", "name": name, "text": text, "witnesses": witnesses or BOTH},
    )
    return Turn.objects.get(pk=event.id)


def page(client, q: str):
    response = client.get(reverse("play:search"), {"q": q})
    assert response.status_code == 200
    return response.content.decode()


def test_finds_a_word_across_chats_with_title_and_deep_link(client):
    a, b = make_chat(), make_chat()
    Chat.objects.filter(pk=a.pk).update(title="Harbour nights")
    Chat.objects.filter(pk=b.pk).update(title="Inland roads")
    ta = say(a, "The quorvane drifts over the harbour.")
    tb = say(b, "Nobody inland has heard of a quorvane.")
    say(b, "Something else entirely.")

    hits = turn_search.search("quorvane")
    assert {(h["chat_id"], h["turn_id"]) for h in hits} == {(a.pk, ta.pk), (b.pk, tb.pk)}
    assert {h["chat_title"] for h in hits} == {"Harbour nights", "Inland roads"}
    assert all(h["speaker"] == "you" and h["name"] == "Sam" for h in hits)

    html = page(client, "quorvane")
    assert "Harbour nights" in html and "Inland roads" in html
    assert f'href="{reverse("play:chat", args=[a.pk])}#turn-{ta.pk}"' in html
    assert f'href="{reverse("play:chat", args=[b.pk])}#turn-{tb.pk}"' in html
    assert "Something else entirely" not in html


def test_snippet_marks_the_match_and_escapes_turn_html(client):
    chat = make_chat()
    say(chat, "<script>alert(1)</script> lighthouse <b>beam</b>")

    (hit,) = turn_search.search("lighthouse")
    assert "<mark>lighthouse</mark>" in hit["snippet"]
    assert "&lt;script&gt;" in hit["snippet"]

    html = page(client, "lighthouse")
    assert "<mark>lighthouse</mark>" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;beam&lt;/b&gt;" in html
    assert "<script>alert" not in html
    assert "<b>beam" not in html


def test_stemming_finds_other_forms():
    chat = make_chat()
    turn = say(chat, "We walked to the old lighthouse at dusk.")
    assert [h["turn_id"] for h in turn_search.search("lighthouses")] == [turn.pk]
    assert [h["turn_id"] for h in turn_search.search("walking")] == [turn.pk]


def test_prefix_and_all_words_required():
    chat = make_chat()
    both = say(chat, "The marmalade jar rolled under the seat.")
    say(chat, "The marmalade is gone.")
    assert [h["turn_id"] for h in turn_search.search("marmalade seat")] == [both.pk]
    assert len(turn_search.search("marma*")) == 2


@pytest.mark.parametrize(
    "q", ['"', "*", "AND OR", "NEAR(", "NOT", "!!! ??? ...", '"unterminated', "a:b", "\x00", "-"]
)
def test_hostile_input_is_a_plain_page(client, q):
    chat = make_chat()
    say(chat, "Ordinary words, and or not, near the harbour.")
    html = page(client, q)
    assert "Search all stories" in html


@pytest.mark.parametrize("q", ['"', "*", '"*"', "!!! ??? ...", "(", "-", "  ", "\x00"])
def test_punctuation_only_gives_no_expression(q):
    assert turn_search.match_expression(q) == ""
    assert turn_search.search(q) == []


def test_operators_are_searched_as_words():
    chat = make_chat()
    turn = say(chat, "Near the pier, and or not.")
    assert turn_search.match_expression("NEAR(") == '"NEAR("'
    assert [h["turn_id"] for h in turn_search.search("NEAR(")] == [turn.pk]
    assert [h["turn_id"] for h in turn_search.search("AND OR")] == [turn.pk]


def test_quotes_inside_words_cannot_break_out():
    chat = make_chat()
    turn = say(chat, "He said ok then and left.")
    expr = turn_search.match_expression('said" OR "zzz')
    assert expr == '"said""" "OR" """zzz"'
    assert turn_search.search('said" OR "zzz') == []
    assert [h["turn_id"] for h in turn_search.search('"said"')] == [turn.pk]


def test_no_matches_and_empty_query(client):
    make_chat()
    html = page(client, "zebracornflake")
    assert "No matches" in html
    html = page(client, "")
    assert "No matches" not in html
    assert 'name="q"' in html


def test_rewind_reflects_the_active_branch():
    chat = make_chat()
    first = say(chat, "The ferry waits by the pier.")
    second = say(chat, "A xylophrase echoes across the water.")
    assert [h["turn_id"] for h in turn_search.search("xylophrase")] == [second.pk]

    turn_fork(chat_id=chat.pk, turn_id=first.pk, kind="rewind", origin="api")

    assert not Turn.objects.filter(pk=second.pk).exists()
    assert turn_search.search("xylophrase") == []
    assert [h["turn_id"] for h in turn_search.search("ferry")] == [first.pk]
    with connection.cursor() as cur:  # the external-content index agrees with its table
        cur.execute("INSERT INTO turn_fts(turn_fts, rank) VALUES ('integrity-check', 1)")


def test_not_witness_filtered():
    chat = make_chat()
    turn = say(chat, "A whispered glimmerstone secret.", witnesses={"you": True, "host": False})
    assert [h["turn_id"] for h in turn_search.search("glimmerstone")] == [turn.pk]


def test_archived_chats_are_optional():
    chat = make_chat()
    say(chat, "The brambleknot archive.")
    Chat.objects.filter(pk=chat.pk).update(archived=True)
    assert len(turn_search.search("brambleknot")) == 1
    assert turn_search.search("brambleknot", include_archived=False) == []


def test_name_is_indexed_and_text_edits_reindex():
    chat = make_chat()
    turn = say(chat, "Tarnwhistle there.", name="Quillomena")
    assert [h["turn_id"] for h in turn_search.search("quillomena")] == [turn.pk]
    Turn.objects.filter(pk=turn.pk).update(text="Goodbye now.")
    assert turn_search.search("tarnwhistle") == []
    assert [h["turn_id"] for h in turn_search.search("goodbye")] == [turn.pk]


def test_ensure_rebuilds_a_missing_index():
    chat = make_chat()
    turn = say(chat, "The periwinkle lantern.")
    with connection.cursor() as cur:
        for sql in turn_search.DROP:
            cur.execute(sql)
    turn_search.ensure(connection)
    assert [h["turn_id"] for h in turn_search.search("periwinkle")] == [turn.pk]
    later = say(chat, "Another periwinkle.")
    assert {h["turn_id"] for h in turn_search.search("periwinkle")} == {turn.pk, later.pk}


def test_topbar_has_the_search_form(client):
    html = client.get(reverse("play:home")).content.decode()
    assert f'action="{reverse("play:search")}"' in html
    assert 'placeholder="Search all stories"' in html
