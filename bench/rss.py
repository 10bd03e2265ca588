"""Server memory: resident set size of the running server with the embedder and the local
model loaded, and without the local model (a remote endpoint), against the bare server.

    python bench/rss.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import post_json, table, write  # noqa: E402


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def children(pid: int) -> list[int]:
    """Every process below ``pid`` (the embedded model's worker runs in one)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found += [int(child), *children(int(child))]
    return found


def measure(config: str, env: dict) -> dict:
    from tests.servers import manage, served

    data = Path(tempfile.mkdtemp(prefix="rp-bench-rss-")) / "data"
    manage(data, "migrate", "--noinput", env=env)
    manage(data, "setup_local", env=env)
    (data / "config.toml").write_text(config)
    with served(data, prepare=False, env=env) as (url, proc):
        time.sleep(2)
        bare = rss_mb(proc.pid)
        chat = post_json(url, "/api/chats", {"character": 1, "parse_kickoff": False}, timeout=300)
        for i in range(3):  # turns load the model; indexing loads the embedder
            post_json(
                url, f"/api/chats/{chat['id']}/turns", {"text": f"Hello there, {i}."}, timeout=300
            )
        time.sleep(20)  # the embedder warms up in the background
        post_json(
            url, f"/api/chats/{chat['id']}/turns", {"text": "And the lighthouse?"}, timeout=300
        )
        workers = sum(rss_mb(child) for child in children(proc.pid))
        return {
            "bare_mb": round(bare),
            "loaded_mb": round(rss_mb(proc.pid)),
            "workers_mb": round(workers),
            "total_mb": round(rss_mb(proc.pid) + workers),
        }


def main() -> None:
    from tests.fakeopenai import FakeOpenAI

    embeddings_on = {"RP_EMBEDDINGS": "on"}
    local = measure("", embeddings_on)
    with FakeOpenAI() as fake:
        remote = measure(f'[inference]\nbase_url = "{fake.url}"\n', embeddings_on)
    rows = [
        ("embedder + local Gemma model", *(local[k] for k in ("bare_mb", "loaded_mb"))),
        ("embedder, remote model", *(remote[k] for k in ("bare_mb", "loaded_mb"))),
    ]
    rows = [
        (*row, r["workers_mb"], r["total_mb"]) for row, r in zip(rows, (local, remote), strict=True)
    ]
    print(table(rows, ("server", "at start MB", "after turns MB", "workers MB", "total MB")))
    path = write(
        "rss",
        {
            "local_model": local,
            "remote_model": remote,
            "target": "<= 1.5 GB with embedder and local model",
        },
    )
    print(f"written {path}")


if __name__ == "__main__":
    main()
