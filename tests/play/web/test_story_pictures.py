"""The story as pictures: the relationship timeline, the story strip and the branch tree are
folded from the active branch's log, and agree with the live projections."""

import json

import pytest

from play.models import Turn
from tests.factories import edge_of, make_character, make_chat

pytestmark = pytest.mark.django_db(databases=["default", "scratch"])


def post(client, url, data=None):
    response = client.post(url, json.dumps(data or {}), content_type="application/json")
    assert response.status_code in (200, 201), response.content
    return response.json()


@pytest.fixture
def story(client, scripted):
    """A chat with a guest, two analysed turns, a story event and a time skip."""
    chat = make_chat()
    theo = make_character("Theo")
    scripted.structured_replies.append(
        {
            "met": True,
            "host_to_guest": {"affinity": 60, "trust": 40, "summary": "Mara adores Theo"},
            "guest_to_host": {"affinity": 20, "trust": -10, "summary": "Theo worries"},
        }
    )
    post(client, f"/api/chats/{chat.pk}/guest", {"character": theo.pk, "met": "Old friends."})
    scripted.narrative.append("Mara laughs at the lighthouse joke.")
    scripted.structured_replies += [
        {
            "edges": [
                {"source": "host", "target": "you", "affinity_delta": 5, "trust_delta": 2},
                {"source": "guest", "target": "you", "affinity_delta": -3},
            ],
            "story_events": [{"action": "start", "title": "The lighthouse walk"}],
        },
        {"interject": False},
    ]
    post(client, f"/api/chats/{chat.pk}/turns", {"text": "Mara, tell me about the lighthouse."})
    post(client, f"/api/chats/{chat.pk}/skip", {"mode": "jump", "minutes": 600})
    scripted.narrative.append("Good morning, both of you.")
    scripted.structured_replies += [
        {"edges": [{"source": "host", "target": "you", "affinity_delta": 7}]},
        {"interject": False},
    ]
    post(client, f"/api/chats/{chat.pk}/turns", {"text": "Morning, Mara."})
    return chat


def test_the_timeline_follows_each_directed_edge_and_ends_where_the_projection_is(client, story):
    timeline = client.get(f"/api/chats/{story.pk}/timeline").json()
    lines = {(e["source_role"], e["target_role"]): e for e in timeline["edges"]}
    assert set(lines) == {
        ("you", "host"),
        ("host", "you"),
        ("you", "guest"),
        ("guest", "you"),
        ("host", "guest"),
        ("guest", "host"),
    }
    host_you = [p["affinity"] for p in lines[("host", "you")]["points"]]
    assert host_you[-2:] == [5, 12]  # +5, then +7: a point wherever it changed
    assert [p["trust"] for p in lines[("guest", "host")]["points"]] == [-10]
    assert (
        lines[("host", "guest")]["source"] == "Mara"
        and lines[("host", "guest")]["target"] == "Theo"
    )
    for (source, target), line in lines.items():  # the last point is the live edge
        edge = edge_of(story, source, target)
        assert (line["points"][-1]["affinity"], line["points"][-1]["trust"]) == (
            edge.affinity,
            edge.trust,
        )
    seqs = [p["seq"] for p in lines[("host", "you")]["points"]]
    assert seqs == sorted(seqs)
    kinds = [m["kind"] for m in timeline["marks"]]
    assert "skip" in kinds and "story_event" in kinds
    skip = next(m for m in timeline["marks"] if m["kind"] == "skip")
    assert skip["story_time"].startswith("2024-10-13T07:0")  # 21:0x + 600 minutes
    later = lines[("host", "you")]["points"][-1]
    assert later["seq"] > skip["seq"] and later["story_time"] >= skip["story_time"]


def test_the_story_strip_holds_scenes_events_and_skips_in_story_order(client, story):
    strip = client.get(f"/api/chats/{story.pk}/story-strip").json()
    assert strip["scenes"][0]["label"] == "Scene 1" and strip["scenes"][0]["start"]["seq"] == 1
    walk = next(e for e in strip["story_events"] if e["label"] == "The lighthouse walk")
    assert walk["status"] in ("active", "completed", "expired")
    assert [s["to"][:15] for s in strip["skips"]] == ["2024-10-13T07:0"]  # each exchange: minutes
    assert strip["last_seq"] >= strip["skips"][0]["seq"]


def test_the_branch_tree_shows_swipes_and_rewinds_with_the_shown_line_marked(
    client, scripted, story
):
    last = Turn.objects.filter(chat=story).order_by("-id").first()
    scripted.narrative.append("A different good morning.")
    scripted.structured_replies += [{}, {"interject": False}]
    post(client, f"/api/chats/{story.pk}/turns/{last.pk}/regenerate")
    first_reply = Turn.objects.filter(chat=story, speaker="host").order_by("id").first()
    post(client, f"/api/chats/{story.pk}/turns/{first_reply.pk}/rewind")
    tree = client.get(f"/api/chats/{story.pk}/branch-tree").json()
    nodes = {n["id"]: n for n in tree["nodes"]}
    kinds = sorted(n["kind"] for n in nodes.values())
    assert kinds == ["main", "rewind", "swipe"]
    main = next(n for n in nodes.values() if n["kind"] == "main")
    swipe = next(n for n in nodes.values() if n["kind"] == "swipe")
    rewind = next(n for n in nodes.values() if n["kind"] == "rewind")
    assert swipe["parent"] == main["id"] and rewind["parent"] == main["id"]
    assert swipe["first_words"] == "A different good morning."
    assert swipe["story_time"].startswith("2024-10-13T07:0")
    assert swipe["fork_line"] >= 1 and rewind["fork_line"] >= 1
    assert main["first_words"].startswith("Mara waves. Hello")  # markdown marks dropped
    assert tree["active"] == rewind["id"] and rewind["active"]
    assert rewind["on_active_path"] and main["on_active_path"] and not swipe["on_active_path"]
    assert swipe["fork_seq"] > rewind["fork_seq"]
