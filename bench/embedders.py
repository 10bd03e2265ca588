"""The local embedding models side by side: one question's embedding (p50/p95 over 200
questions of the dev set, one at a time as a turn asks them), a batch of 256 memories, and the
resident memory of a process with Django and the model loaded (each model in a process of
its own, so one's memory does not count for the other; the embedded Gemma model runs in a
worker process of its own, see bench/rss.py for the server's).

    python bench/embedders.py
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, summary, table, write  # noqa: E402

DEVSET = ROOT / "memory/fixtures/devset_c.json.gz"


def one(name: str) -> dict:
    """Measured in this process: ``name``'s query latency, batch time and RSS."""
    from bench.common import setup_django

    setup_django()
    from memory.embeddings import LOCAL_EMBEDDERS

    data = json.loads(gzip.decompress(DEVSET.read_bytes()))
    questions = [q["question"] for c in data["conversations"] for q in c["questions"]][:200]
    memories = [t["text"] for s in data["conversations"][0]["sessions"] for t in s["turns"]]
    model = LOCAL_EMBEDDERS[name]()
    model.embed_query(["warm up"])
    times = []
    for text in questions:
        started = time.perf_counter()
        model.embed_query([text])
        times.append((time.perf_counter() - started) * 1000)
    started = time.perf_counter()
    model.embed(memories[:256])
    batch = time.perf_counter() - started
    rss = 0.0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
    return {"query_ms": summary(times), "batch_256_s": round(batch, 2), "rss_mb": round(rss)}


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--one":
        print(json.dumps(one(sys.argv[2])))
        return
    from bench.common import setup_django

    setup_django()
    from memory.embeddings import LOCAL_EMBEDDERS

    results, rows = {}, []
    for name in LOCAL_EMBEDDERS:
        out = subprocess.run(
            [sys.executable, __file__, "--one", name], capture_output=True, text=True, check=True
        )
        found = results[name] = json.loads(out.stdout.strip().splitlines()[-1])
        q = found["query_ms"]
        rows.append((name, q["p50"], q["p95"], found["batch_256_s"], found["rss_mb"]))
    print(table(rows, ("model", "query p50 ms", "query p95 ms", "256 memories s", "RSS MB")))
    print(f"written {write('embedders', results)}")


if __name__ == "__main__":
    main()
