"""The development set generator: deterministic, the committed files are its output, and the
questions point at turns that say what they ask about."""

from __future__ import annotations

import gzip
import json
from datetime import date
from pathlib import Path

import pytest

from memory.dates import resolve
from memory.devset.generate import generate, main, relative_day
from memory.devset.generate_c import parse, write
from memory.devset.lives import PAIRS
from memory.evaluation import load

FIXTURES = Path(__file__).resolve().parents[2] / "memory/fixtures"


def test_the_committed_files_are_the_generators_output(tmp_path):
    main(["--out-dir", str(tmp_path)])
    for name in ("devset_a.json.gz", "devset_b.json.gz"):
        assert (tmp_path / name).read_bytes() == (FIXTURES / name).read_bytes()


def test_over_a_thousand_questions_in_four_categories_over_long_conversations():
    counts: dict[str, int] = {}
    for name in ("devset_a.json.gz", "devset_b.json.gz"):
        for conv in load(FIXTURES / name):  # load checks every evidence id is a turn
            assert 20 <= len(conv["sessions"]) <= 30
            assert sum(len(s["turns"]) for s in conv["sessions"]) >= 400
            for q in conv["questions"]:
                counts[q["category"]] = counts.get(q["category"], 0) + 1
    assert set(counts) == {"single-hop", "multi-hop", "temporal", "open-domain"}
    assert sum(counts.values()) >= 1000


def test_the_two_families_share_no_speaker_and_no_question():
    a, b = (generate(f, seed=16, conversations=6)["conversations"] for f in ("A", "B"))
    assert not {s for c in a for s in c["speakers"]} & {s for c in b for s in c["speakers"]}
    assert not {q["question"] for c in a for q in c["questions"]} & {
        q["question"] for c in b for q in c["questions"]
    }


def test_multi_hop_evidence_comes_from_two_sessions():
    data = json.loads(gzip.decompress((FIXTURES / "devset_a.json.gz").read_bytes()))
    for conv in data["conversations"]:
        for q in conv["questions"]:
            if q["category"] == "multi-hop":
                sessions = {e.split("-")[1] for e in q["evidence"]}
                assert len(q["evidence"]) == 2 and len(sessions) == 2


def test_relative_days_match_the_resolver_at_ingest():
    said = date(2023, 5, 17)  # a Wednesday
    assert resolve("on Saturday", said)[0][1] == relative_day(said, "sat")
    assert resolve("last Sunday", said)[0][1] == relative_day(said, "sun")
    assert resolve("two days ago", said)[0][1] == relative_day(said, 2)


def test_family_c_is_the_generators_output(tmp_path):
    pytest.importorskip("chitchat_dataset")  # the small talk's source (a test extra)
    write(tmp_path, seed=29)
    name = "devset_c.json.gz"
    assert (tmp_path / name).read_bytes() == (FIXTURES / name).read_bytes()


def test_family_c_asks_about_hand_written_lines_spread_over_long_conversations():
    written = {text for (_, a), (_, b) in PAIRS for text in _lines(a + "\n" + b)}
    counts: dict[str, int] = {}
    for conv in load(FIXTURES / "devset_c.json.gz"):  # load checks the evidence ids
        assert 27 <= len(conv["sessions"]) <= 31
        assert sum(len(s["turns"]) for s in conv["sessions"]) >= 500
        text = {t["id"]: t["text"] for s in conv["sessions"] for t in s["turns"]}
        dates = [s["date"] for s in conv["sessions"]]
        assert dates == sorted(dates) and len(set(dates)) == len(dates)
        for q in conv["questions"]:
            counts[q["category"]] = counts.get(q["category"], 0) + 1
            assert q["answerer"] in conv["speakers"]
            # never a small-talk line (though half are said with one, in passing)
            assert all(any(line in text[e] for line in written) for e in q["evidence"])
            if q["category"] == "multi-hop":
                assert len({e.split("-")[1] for e in q["evidence"]}) >= 2
        said = [text[e] for q in conv["questions"] for e in q["evidence"]]
        assert 0.3 < sum(t not in written for t in said) / len(said) < 0.7
    assert set(counts) == {"single-hop", "multi-hop", "temporal", "open-domain"}
    assert sum(counts.values()) >= 350 and min(counts.values()) >= 50


def test_a_life_script_with_a_dangling_key_is_refused():
    with pytest.raises(ValueError, match="unknown"):
        parse("X", "##\n>a| one line\n< a reply\n? single-hop | What? | b\n")


def _lines(script: str) -> list[str]:
    return [
        line.strip()[1:].split("|", 1)[-1].strip()
        for line in script.splitlines()
        if line.strip()[:1] in ("<", ">")
    ]
