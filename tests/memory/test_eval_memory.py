"""`manage.py eval_memory` on the example file, with the real MiniLM embeddings."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from eventstore.models import Event, Stream
from memory.models import Memory

pytestmark = [pytest.mark.django_db, pytest.mark.model]

EXAMPLE = Path(__file__).resolve().parents[2] / "memory/fixtures/memory_eval_example.json"


def test_eval_memory_reports_all_modes_and_hybrid_beats_each_alone():
    out = StringIO()
    call_command("eval_memory", str(EXAMPLE), "--json", "--k", "5,10", stdout=out)
    result = json.loads(out.getvalue())["modes"]
    assert set(result) == {"hybrid", "lexical", "vector", "recent"}
    for name, mode in result.items():
        assert mode["questions"] == 50 and mode["ms_per_query"] > 0
        full, bare = mode["latency_ms"]["with_embedding"], mode["latency_ms"]["without_embedding"]
        assert 0 < full["p50"] <= full["p95"] and 0 < bare["p50"] <= bare["p95"]
        if name in ("hybrid", "vector"):  # the query embedding is billed to these two only
            assert full["p50"] > bare["p50"]
        else:
            assert full == bare
        assert {"recall@5", "recall@10"} <= set(mode)
        assert {"single-hop", "multi-hop", "temporal", "lexical", "adjacent"} <= set(
            mode["by_category"]
        )
    for k in (5, 10):
        hybrid = result["hybrid"][f"recall@{k}"]
        assert hybrid > result["recent"][f"recall@{k}"]
        assert hybrid > result["lexical"][f"recall@{k}"]
        assert hybrid > result["vector"][f"recall@{k}"]
    # it cleans up after itself
    assert not Stream.objects.exists() and not Event.objects.exists()
    assert not Memory.objects.exists()


def test_the_table_output_names_every_mode():
    out = StringIO()
    call_command("eval_memory", str(EXAMPLE), "--mode", "lexical", "--k", "5", stdout=out)
    assert "lexical" in out.getvalue() and "R@5" in out.getvalue()


def test_a_bad_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(
        '{"conversations": [{"speakers": ["A", "B"], "sessions": [], '
        '"questions": [{"question": "?", "evidence": ["nope"]}]}]}'
    )
    with pytest.raises(CommandError, match="not in the turns"):
        call_command("eval_memory", str(bad), stdout=StringIO())
