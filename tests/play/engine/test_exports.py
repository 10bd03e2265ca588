"""Transcript and scene exports (play.engine.exports)."""

from __future__ import annotations

import json

import pytest

from eventstore.services import append
from play.engine.exports import export_chat, write_export
from tests.factories import make_chat

pytestmark = pytest.mark.django_db

BOTH = {"you": True, "host": True}


def _turn(chat, kind: str, speaker: str, name: str, text: str, scene: int):
    payload = {"speaker": speaker, "name": name, "text": text, "witnesses": BOTH, "scene": scene}
    return append(stream=chat, kind=kind, payload=payload)


@pytest.fixture
def story():
    """Scene 1 (closed, with Mara's summary) and scene 2 (still open)."""
    chat = make_chat()
    chat.title = "Night drive: part 1/2"
    chat.save(update_fields=["title"])
    hello = _turn(chat, "user_turn", "you", "Sam", "hi", 1)
    key = _turn(chat, "assistant_turn", "host", "Mara", "The map is wrong.\n# not a heading", 1)
    append(
        stream=chat, kind="memory_significance_set", payload={"turn_id": key.id, "significance": 3}
    )
    secret = _turn(chat, "user_turn", "you", "Sam", "((ooc: delete me))", 1)
    append(stream=chat, kind="turn_hidden", payload={"turn_id": secret.id, "hidden": True})
    _turn(chat, "narration", "narrator", "", "The rain thickens.", 1)
    append(
        stream=chat,
        kind="scene_closed",
        payload={
            "scene": 1,
            "reason": "moved to the diner",
            "summaries": [
                {"owner": "host", "text": "Mara's view: Sam saw the map.", "witnesses": BOTH}
            ],
        },
    )
    later = _turn(chat, "user_turn", "you", "Sam", "coffee?", 2)
    return {"chat": chat, "hello": hello, "key": key, "secret": secret, "later": later}


def test_json_round_trips_with_significance_and_summaries(story):
    data, content_type, filename = export_chat(story["chat"], fmt="json")
    assert content_type == "application/json"
    assert filename.endswith(".json") and filename.startswith("night-drive-part-12-chat")
    doc = json.loads(data.decode("utf-8"))

    assert set(doc) == {
        "format",
        "version",
        "chat",
        "scene",
        "entities",
        "scenes",
        "turns",
        "story_events",
        "threads",
    }
    assert doc["format"] == "roleplay-engine-transcript" and doc["version"] == 1
    assert set(doc["chat"]) == {"id", "title", "exported_at"}
    assert doc["chat"]["id"] == story["chat"].pk
    assert doc["scene"] is None
    assert {"role": "host", "name": "Mara"} in doc["entities"]

    turns = {t["id"]: t for t in doc["turns"]}
    assert set(turns[story["key"].id]) == {
        "id",
        "speaker",
        "name",
        "text",
        "significance",
        "scene",
        "story_time",
        "truncated",
        "hidden",
        "interjection",
    }
    assert turns[story["key"].id]["significance"] == 3
    assert turns[story["hello"].id]["significance"] == 0
    assert turns[story["secret"].id]["hidden"] is True
    assert turns[story["later"].id]["scene"] == 2

    scenes = {s["number"]: s for s in doc["scenes"]}
    assert scenes[1]["close_reason"] == "moved to the diner"
    assert scenes[1]["closed_time"] is not None
    [summary] = scenes[1]["summaries"]
    assert summary["owner"] == "host"
    assert summary["name"] == "Mara"
    assert summary["text"] == "Mara's view: Sam saw the map."
    assert summary["witnesses"] == {"you": True, "host": True, "guest": False}
    assert scenes[2]["summaries"] == []


def test_scene_export_has_only_that_scene(story):
    data, _, filename = export_chat(story["chat"], fmt="json", scene=1)
    assert "-scene1-" in filename
    doc = json.loads(data)
    assert doc["scene"] == 1
    assert [s["number"] for s in doc["scenes"]] == [1]
    assert {t["scene"] for t in doc["turns"]} == {1}
    ids = [t["id"] for t in doc["turns"]]
    assert story["key"].id in ids and story["later"].id not in ids

    md = export_chat(story["chat"], fmt="md", scene=1)[0].decode()
    assert "coffee?" not in md
    assert "## Scene 2" not in md


def test_open_or_unknown_scene_is_refused(story):
    with pytest.raises(ValueError, match="scene 2 is not closed yet"):
        export_chat(story["chat"], fmt="md", scene=2)
    with pytest.raises(LookupError):
        export_chat(story["chat"], fmt="json", scene=99)
    with pytest.raises(ValueError):
        export_chat(story["chat"], fmt="pdf")


def test_markdown_summaries_stars_and_safe_text(story):
    data, content_type, filename = export_chat(story["chat"], fmt="md")
    assert content_type.startswith("text/markdown")
    assert filename.endswith(".md")
    md = data.decode("utf-8")
    lines = md.splitlines()

    assert lines[0] == "# Night drive: part 1/2"
    assert any(
        line.startswith("## Scene 1") and "closed: moved to the diner" in line for line in lines
    )
    assert any(line.startswith("## Scene 2") and "(open)" in line for line in lines)
    assert "> **Mara remembers:** Mara's view: Sam saw the map." in lines
    assert "★ **Mara:** The map is wrong.  " in lines  # a hard break before the next line
    assert any("★" in line and "significan" in line for line in lines)  # the legend
    assert "**Sam:** hi" in lines
    assert "_(hidden)_ **Sam:** ((ooc: delete me))" in lines
    assert "_The rain thickens._" in lines

    # The turn's "# not a heading" line stays text: the only headings are ours.
    headings = [line for line in lines if line.startswith("#")]
    assert headings[1:] == [h for h in headings if h.startswith("## Scene ")]
    assert len(headings) == 3
    assert "\\# not a heading" in lines


def test_markdown_neutralises_block_syntax():
    chat = make_chat()
    text = "one\n    indented\n> quote\n- item\n2. item\n```\n---\n\n\n\nlast"
    _turn(chat, "assistant_turn", "host", "Mara", text, 1)
    md = export_chat(chat, fmt="md")[0].decode()
    expected = ["one", "indented", "\\> quote", "\\- item", "2\\. item", "\\```", "\\---"]
    block = "**Mara:** " + "  \n".join(expected) + "\n\nlast\n"
    assert block in md


def test_write_export_puts_a_file_in_data_exports(story, settings):
    first = write_export(story["chat"], fmt="json", scene=1)
    assert first.parent == settings.DATA_DIR / "exports"
    assert first.name.endswith(".json")
    assert json.loads(first.read_bytes())["scene"] == 1

    md = write_export(story["chat"], fmt="md")
    again = write_export(story["chat"], fmt="md")
    assert md.parent == again.parent == settings.DATA_DIR / "exports"
    assert md != again  # never overwritten, even within the same second
    assert "**Sam:** hi" in md.read_text(encoding="utf-8")
