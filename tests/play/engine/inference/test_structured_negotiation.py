"""Structured output negotiated per endpoint: servers that each refuse one or more formats
(as real ones do), and the analysis lands every time; what worked is remembered."""

import json

import pytest

from play.engine.inference import formats
from play.models import ClassifierFailure, Turn
from tests.factories import edge_of, make_chat
from tests.fakeopenai import FakeOpenAI, point_config_at
from tests.play.web.test_views import _settings_form

pytestmark = pytest.mark.django_db(transaction=True)

ANALYSIS = {
    "significance": 2,
    "edges": [{"source": "host", "target": "you", "affinity_delta": 3, "trust_delta": 1}],
}


@pytest.fixture
def fake():
    with FakeOpenAI() as server:
        point_config_at(server, timeout_s=5.0, classifier_timeout_s=5.0)
        yield server


def send(client, chat, text="Hello there"):
    response = client.post(
        f"/api/chats/{chat.pk}/turns", json.dumps({"text": text}), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    return response.json()["turns"]


def analysis_modes(fake) -> list[str]:
    """The structured-output mode of every analysis request, in order."""
    modes = []
    for call in fake.completions():
        body = call["body"]
        if body.get("stream"):
            continue
        if body.get("tools"):
            modes.append("tools")
        else:
            modes.append((body.get("response_format") or {}).get("type") or "instructions")
    return modes


@pytest.mark.parametrize(
    ("rejects", "lands_in"),
    [
        (set(), "json_schema"),
        ({"json_schema"}, "json_object"),
        ({"json_schema", "json_object"}, "tools"),
        ({"json_schema", "json_object", "tools"}, "instructions"),
    ],
)
def test_the_analysis_lands_whatever_formats_the_server_refuses(client, fake, rejects, lands_in):
    fake.rejects = rejects
    chat = make_chat()
    fake.push(("text", "*Mara grins.* Good to see you."), ("json", ANALYSIS))
    bot = send(client, chat)[1]
    assert edge_of(chat, "host", "you").affinity == 3
    assert Turn.objects.get(pk=bot["id"]).significance == 2
    assert not ClassifierFailure.objects.filter(chat=chat).exists()  # a step down is no failure
    tried = analysis_modes(fake)
    assert tried[-1] == lands_in and len(tried) == formats.MODES.index(lands_in) + 1

    # remembered: the next analysis goes straight to the mode that worked
    fake.push(("text", "Again."), ("json", ANALYSIS))
    send(client, chat, "Once more")
    assert analysis_modes(fake)[len(tried) :] == [lands_in]
    assert edge_of(chat, "host", "you").affinity == 6


def test_what_worked_is_kept_in_the_data_directory_across_a_restart(client, fake, data_dir):
    fake.rejects = {"json_schema", "json_object"}
    chat = make_chat()
    fake.push(("text", "Hi."), ("json", ANALYSIS))
    send(client, chat)
    saved = json.loads((data_dir / "structured_output.json").read_text())
    assert saved == {f"{fake.url} fake-classifier": "tools"}

    formats._known.clear()  # a new process: nothing in memory
    fake.requests.clear()
    fake.push(("text", "Hi again."), ("json", ANALYSIS))
    send(client, chat, "And again")
    assert analysis_modes(fake) == ["tools"]  # no probing from the top


def test_the_instructions_mode_repairs_json_cut_off_by_the_token_limit(client, fake):
    fake.rejects = {"json_schema", "json_object", "tools"}
    chat = make_chat()
    cut = json.dumps(ANALYSIS)[:-12]  # '..."trust_delta": 1}]}' loses its end
    fake.push(("text", "Hm."), ("text", "Here it is: " + cut))
    bot = send(client, chat)[1]
    assert Turn.objects.get(pk=bot["id"]).significance == 2
    prompt = fake.completions()[-1]["body"]["messages"][-1]["content"]
    assert "JSON Schema" in prompt and '"edges"' in prompt


def test_a_server_error_that_does_not_name_the_format_fails_the_analysis(client, fake):
    chat = make_chat()
    fake.push(("text", "Hello."), ("status", 503))
    bot = send(client, chat)[1]
    assert analysis_modes(fake) == ["json_schema"]  # no stepping down on a plain outage
    failure = ClassifierFailure.objects.get(chat=chat)
    assert "HTTP 503" in failure.error and failure.turn_id == bot["id"]


def test_the_schema_sent_has_no_length_bounds_and_pydantic_still_enforces_them(client, fake):
    chat = make_chat()
    too_long = "x" * 400  # last_interaction is at most 300 characters
    fake.push(
        ("text", "Hello."),
        ("json", {"edges": [{"source": "host", "target": "you", "last_interaction": too_long}]}),
    )
    send(client, chat)
    sent = json.dumps(fake.completions()[-1]["body"]["response_format"])
    assert "maxLength" not in sent and "maxItems" not in sent
    edge = edge_of(chat, "host", "you")
    assert edge.last_interaction == "x" * 300  # cut to the bound, not refused


def test_test_connection_reports_the_structured_output_mode(client, fake):
    fake.rejects = {"json_schema"}
    response = client.post("/settings/test/", _settings_form(**{"inference.base_url": fake.url}))
    assert (
        "<dt>Structured output</dt><dd>response_format json_object with the schema</dd>"
        in response.text
    )
    assert 'class="notice test-result ok"' in response.text
