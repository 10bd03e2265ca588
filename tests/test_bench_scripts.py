"""The benchmark scripts run end to end at small sizes (their figures are not asserted: tests
never time anything). They write into a temporary results directory, not bench/results."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

CASES = [
    ("retrieval", ["--memories", "300", "--queries", "5", "--scan-queries", "1"]),
    ("replay_speed", ["--events", "120"]),
    ("overhead", ["--memories", "200", "--events", "200", "--turns", "3"]),
    ("send_to_request", ["--memories", "200", "--events", "100", "--turns", "1"]),
    ("prefix", ["--turns", "6"]),
    ("edit", ["--turns", "40", "--edits", "1"]),
]
# the embedded model's, at its smallest (a minute or two of the model)
MODEL_CASES = [("ttft_embedded", ["--turns", "2", "--grow", "4"])]


@pytest.mark.parametrize(
    ("script", "args"),
    [pytest.param(*c, id=c[0]) for c in CASES]
    + [pytest.param(*c, id=c[0], marks=pytest.mark.model) for c in MODEL_CASES],
)
def test_bench_script_runs_and_writes_its_results(script, args, tmp_path):
    env = {**os.environ, "RP_BENCH_RESULTS": str(tmp_path), "RP_DATA_DIR": str(tmp_path / "d")}
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / f"{script}.py"), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    name = {"replay_speed": "replay"}.get(script, script)
    result = json.loads((tmp_path / f"{name}.json").read_text())
    assert result["machine"]["cpus"] >= 1 and "target" in result
    assert "---" in done.stdout  # the printed table


def test_the_embedded_ttft_bench_can_be_skipped(tmp_path):
    env = {**os.environ, "RP_BENCH_RESULTS": str(tmp_path), "RP_BENCH_NO_EMBEDDED": "1"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "ttft_embedded.py")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0 and "skipped" in done.stdout
    assert not (tmp_path / "ttft_embedded.json").exists()
