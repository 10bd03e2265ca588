"""The delete preview names every place a line's consequences live (issue 24, part 2).

Random play (the canary model of ``test_gate_canary`` writes what it sees into every field it
can), then a random line is deleted. The preview, folded in memory before the delete, must list
exactly the fields the delete then changes in the live tables: nothing missing, nothing extra.
Both sides are the same diff (``play.engine.impact.changes``) over every projected table; the
claim is that the state the preview folds is the state the delete leaves.
"""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from eventstore.models import Event
from eventstore.projection import dump_db
from play.engine.impact import changes
from play.engine.inference.registry import override_backend
from play.engine.pipeline import run_turn
from play.engine.services.delete import turn_delete, turn_delete_preview
from play.models import Turn
from tests.play.engine.test_gate_canary import OPS, CanaryModel, Story, apply

pytestmark = pytest.mark.django_db


def _entries(found: list[dict]) -> list[str]:
    return sorted(json.dumps(e, sort_keys=True, default=str) for e in found)


def delete_and_compare(chat, turn_id: int) -> list[dict]:
    before = dump_db(chat.pk)
    preview = turn_delete_preview(chat_id=chat.pk, turn_id=turn_id)
    branch = turn_delete(chat_id=chat.pk, turn_id=turn_id, origin="api")
    after = dump_db(chat.pk)
    ids = dict(
        Event.objects.filter(branch=branch, copied_from__isnull=False).values_list(
            "copied_from_id", "id"
        )
    )
    actual = changes(before, after, ids)
    assert _entries(preview["changes"]) == _entries(actual), (
        "preview and delete differ:\n"
        + "\n".join(sorted(set(_entries(preview["changes"])) ^ set(_entries(actual))))
    )
    return actual


def deletable(chat) -> list[int]:
    return [
        t.pk
        for t in Turn.objects.filter(chat=chat).order_by("id")
        if Event.objects.get(pk=t.pk).kind != "chat_started"
    ]


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(OPS, min_size=3, max_size=10), st.integers(0, 100))
def test_the_preview_lists_exactly_what_the_delete_changes(sequence, pick):
    note(f"ops {sequence}, pick {pick}")
    story = Story.begin()
    model = CanaryModel(story)
    with override_backend(model):
        for op in sequence:
            apply(story, model, op)
        turns = deletable(story.chat)
        if turns:
            delete_and_compare(story.chat, turns[pick % len(turns)])


def test_a_canary_in_one_line_is_in_every_place_the_preview_names(client):
    """The issue's count: a canary planted in one line reaches many places of the state; the
    preview names every one of them, grouped by kind, each with its value now and after."""
    story = Story.begin()
    model = CanaryModel(story)
    with override_backend(model):
        for op in [("join", 0, False), ("say", True, 4), ("move",), ("say", False, 4)]:
            apply(story, model, op)
        chat = story.chat
        canary = story.fresh()
        async_to_sync(run_turn)(chat.pk, f"Tobias, listen: {canary}.")
        async_to_sync(run_turn)(chat.pk, "Tobias, and then?")
        line = Turn.objects.get(chat=chat, text=f"Tobias, listen: {canary}.")
        assert json.dumps(dump_db(chat.pk)).count(canary) >= 10  # it spread

        page = client.get(f"/chats/{chat.pk}/turns/{line.pk}/delete/preview/")
        assert page.status_code == 200
        html = page.content.decode()
        for kind in ("Memories", "Relationships", "Characters", "What everyone is doing"):
            assert f"{kind} <small>" in html
        assert html.count('class="impact-entry"') >= 10

        preview = turn_delete_preview(chat_id=chat.pk, turn_id=line.pk)
        named = [e for e in preview["changes"] if canary in json.dumps(e["now"])]
        kinds = {e["kind"] for e in named}
        assert {"memories", "relationships", "characters", "what everyone is doing"} <= kinds
        assert {"transcript", "threads", "story events"} <= kinds
        delete_and_compare(chat, line.pk)
        assert canary not in json.dumps(dump_db(chat.pk))
