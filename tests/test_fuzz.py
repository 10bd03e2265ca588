"""Property-based fuzzing of the JSON API from its own OpenAPI schema: no input gives a 5xx."""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import urlencode

import pytest
import schemathesis
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from hypothesis import HealthCheck, settings

from eventstore.services import append
from play.engine.inference.registry import override_backend
from play.engine.inference.scripted import ScriptedBackend
from tests.factories import make_chat

schema = schemathesis.openapi.from_dict(
    Client(HTTP_HOST="127.0.0.1").get("/api/openapi.json").json()
)
EXAMPLES = int(os.environ.get("RP_FUZZ_EXAMPLES", "15"))
_cases = {"run": 0}


@pytest.fixture
def world(db):
    """A chat with a few turns, so chat and turn ids in generated paths can hit real rows."""

    chat = make_chat()
    append(stream=chat, kind="user_turn", payload={"text": "hello", "witnesses": {"host": True}})
    return chat


def send(client: Client, case):
    """The generated request, through Django's test client (the test's own connection)."""
    path = case.formatted_path
    if case.query:
        path += "?" + urlencode(case.query, doseq=True)
    headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "content-type"}
    media = case.media_type or "application/json"
    if case.body is None or case.body is schemathesis.core.NOT_SET:
        return client.generic(case.method, path, headers=headers)
    if media.startswith("multipart/") and isinstance(case.body, dict):
        fields = {
            k: SimpleUploadedFile("upload.bin", v if isinstance(v, bytes) else str(v).encode())
            for k, v in (case.body or {}).items()
        }
        return client.post(path, fields, headers=headers)
    body = case.body if isinstance(case.body, bytes | str) else json.dumps(case.body)
    return client.generic(case.method, path, body, content_type=media, headers=headers)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_generated_request_gets_a_server_error(case, world, client):
    with override_backend(ScriptedBackend()):
        response = send(client, case)
    _cases["run"] += 1
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.content[:300]!r}"
    )


def test_fuzz_cases_were_counted():
    """For the README's Reliability table (runs after the parametrized test)."""

    results = Path(__file__).resolve().parent.parent / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "fuzz.json").write_text(json.dumps({"cases": _cases["run"]}))
    assert _cases["run"] > 0
