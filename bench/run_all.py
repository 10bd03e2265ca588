"""`make bench`: every benchmark, each printing its table and writing bench/results/*.json.
``RP_BENCH_NO_EMBEDDED=1 make bench`` leaves out the embedded model's time-to-first-token run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = [
    "calls.py",
    "replay_speed.py",
    "page_open.py",
    "relay.py",
    "overhead.py",
    "send_to_request.py",
    "retrieval.py",
    "rss.py",
    "edit.py",
    "prefix.py",
    "ttft_embedded.py",  # tens of minutes with the embedded model: RP_BENCH_NO_EMBEDDED=1 skips
]

if __name__ == "__main__":
    failed = []
    for script in sys.argv[1:] or SCRIPTS:
        print(f"\n=== {script} ===", flush=True)
        if subprocess.run([sys.executable, str(HERE / script)]).returncode:
            failed.append(script)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")
