"""`make bench`: every benchmark, each printing its table and writing bench/results/*.json."""

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
]

if __name__ == "__main__":
    failed = []
    for script in sys.argv[1:] or SCRIPTS:
        print(f"\n=== {script} ===", flush=True)
        if subprocess.run([sys.executable, str(HERE / script)]).returncode:
            failed.append(script)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")
