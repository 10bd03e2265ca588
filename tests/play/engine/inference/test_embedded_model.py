"""One end-to-end turn on the embedded Gemma model: no key, no network, no scripted backend."""

import asyncio
import json

import pytest

from play.engine.inference import GenParams, get_backend
from play.engine.inference.local import LocalLlama
from play.engine.schemas import TurnAnalysis
from play.models import Turn
from tests.factories import make_chat

pytestmark = [pytest.mark.model, pytest.mark.django_db(transaction=True)]


def test_with_no_endpoint_configured_the_embedded_model_serves():
    assert isinstance(get_backend(), LocalLlama)


def test_a_turn_on_the_embedded_model_end_to_end(client):
    chat = make_chat()
    response = client.post(
        f"/api/chats/{chat.pk}/turns",
        json.dumps({"text": "Do you ever get lost on the coast road?"}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    bot = response.json()["turns"][1]
    assert bot["speaker"] == "host" and bot["text"].strip()
    turn = Turn.objects.get(pk=bot["id"])
    assert turn.model == "gemma-3-270m (embedded)"
    assert turn.bookkept  # the analysis ran (or fell back and was recorded)
    prompt = client.get(f"/api/chats/{chat.pk}/turns/{bot['id']}/prompt").json()
    assert "Do you ever get lost" in prompt["messages"][-1]["content"]


def test_structured_output_from_the_embedded_model_validates():
    backend = LocalLlama()
    messages = [
        {"role": "system", "content": "Analyse the exchange."},
        {"role": "user", "content": "Sam: I brought you coffee.\nMara: Thank you!"},
    ]
    try:
        result = asyncio.run(
            backend.structured(
                messages,
                TurnAnalysis,
                GenParams(purpose="classifier", max_tokens=200, temperature=0.1),
            )
        )
    except Exception as exc:  # grammar keeps it JSON; pydantic may still reject a range
        assert type(exc).__name__ in ("InvalidOutput", "EmptyCompletion")
    else:
        assert isinstance(result, TurnAnalysis) and 0 <= result.significance <= 3


LINES = [
    "Mara, thank you for picking me up. I missed you.",
    "*I hand her a coffee.* I brought this for you, it's still warm.",
    "You're the only one I trust with this, you know.",
    "I'm sorry I snapped at you last week. That was unfair.",
    "*I laugh.* You always know how to cheer me up.",
    "Can I tell you a secret? I'm scared of the lighthouse.",
    "Thank you for listening. It means a lot to me.",
    "*I squeeze her hand.* I'm glad we're doing this together.",
    "You're a good friend, Mara. The best.",
    "Let's stop for a minute and look at the sea.",
]


def test_ten_turns_on_the_default_model_move_the_world(client):
    """The default model shows the engine: a scripted ten-turn conversation moves the clock,
    and at least nine of the ten analyses land."""
    from eventstore.models import Event  # noqa: PLC0415
    from worlds import clock  # noqa: PLC0415
    from worlds.models import Edge, WorldState  # noqa: PLC0415

    chat = make_chat()
    start = clock.parse(WorldState.objects.get(chat=chat).story_time)
    for text in LINES:
        response = client.post(
            f"/api/chats/{chat.pk}/turns",
            json.dumps({"text": text}),
            content_type="application/json",
        )
        assert response.status_code == 200, response.content
    marks = [
        e.payload
        for e in Event.objects.filter(stream_id=chat.pk, kind="turn_bookkept").order_by("id")
    ]
    landed = [m for m in marks if m.get("analysis") == "ok"]
    assert len(marks) >= 10 and len(landed) >= 9, [m.get("reason") for m in marks]
    # Gemma 270M reports no edge change on its own; made to (a grammar that requires both
    # directions) it writes ±10 at random in 10-20 s: noise, not feelings. Issue 27's "moves
    # an edge" is left open for the default model (the note on the issue); what it reports is
    # printed for the record.
    print("edges:", [(e.affinity, e.trust) for e in Edge.objects.filter(chat=chat)])
    assert clock.parse(WorldState.objects.get(chat=chat).story_time) > start
