"""Nothing lost: the real server, killed with SIGKILL at random points, over many rounds.

Each round sends a turn (streamed over server-sent events) to the app served by daphne against
a slow fake model, and kills the server mid-stream, mid-bookkeeping, mid-snapshot or between
turns; then restarts it and checks the database, the log and every turn the client was told
was complete. The figures go to the README's Reliability table.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

from tests.fakeopenai import FakeOpenAI
from tests.servers import BASE_ENV, ROOT, free_port, manage, wait_for

pytestmark = pytest.mark.slow

ROUNDS = int(os.environ.get("RP_CRASH_ROUNDS", "24"))
REPLY = " ".join(f"w{i}" for i in range(30))


class Server:
    def __init__(self, data, fake_url):
        self.data = data
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None
        (data / "config.toml").write_text(
            f'[inference]\nbase_url = "{fake_url}"\ntimeout_s = 20\nclassifier_timeout_s = 8\n'
        )

    def start(self):
        env = {**os.environ, **BASE_ENV, "RP_DATA_DIR": str(self.data)}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "manage.py"),
                "runserver",
                f"127.0.0.1:{self.port}",
                "--noreload",
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self.url + "/api/health", self.proc)

    def kill(self):
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)


def call(url, path, data=None, method=None, timeout=60):
    req = urllib.request.Request(
        url + path,
        method=method or ("POST" if data else "GET"),
        data=json.dumps(data).encode() if data is not None else None,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=timeout) as response:
        return json.loads(response.read() or b"{}")


def stream_turn(url, chat_id, text, on_event):
    """Send a turn with SSE; call on_event(kind, data) as events arrive."""
    req = urllib.request.Request(
        f"{url}/api/chats/{chat_id}/turns",
        method="POST",
        data=json.dumps({"text": text}).encode(),
        headers={"Content-Type": "application/json", "Accept": "text/event-stream"},
    )
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            kind = None
            for raw in response:
                line = raw.decode().rstrip("\n")
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: ") and kind:
                    on_event(kind, json.loads(line[6:]))
    except OSError:
        pass  # the server was killed under us


def test_kill_9_at_random_points_loses_nothing_the_client_was_told(tmp_path):
    rng = random.Random(int(os.environ.get("RP_CRASH_SEED", "2024")))
    data = tmp_path / "data"
    stats = {
        "rounds": 0,
        "killed": {"stream": 0, "bookkeeping": 0, "snapshot": 0, "idle": 0},
        "confirmed_turns": 0,
    }
    with FakeOpenAI(token_delay=0.03) as fake:
        manage(data, "migrate", "--noinput")
        manage(data, "setup_local")
        server = Server(data, fake.url)
        server.start()
        characters = call(server.url, "/api/characters")["characters"]
        chat = call(
            server.url, "/api/chats", {"character": characters[0]["id"], "parse_kickoff": False}
        )
        confirmed: set[int] = set()
        for round_no in range(ROUNDS):
            point = ("stream", "bookkeeping", "snapshot", "idle")[round_no % 4]
            fake.push(
                ("text", REPLY),
                (
                    "delay",
                    0.6,
                    (
                        "json",
                        {
                            "significance": rng.randint(0, 3),
                            "edges": [{"source": "host", "target": "you", "affinity_delta": 1}],
                        },
                    ),
                ),
            )
            killed = threading.Event()

            def on_event(kind, payload, point=point, killed=killed):
                if kind == "stream_end":
                    confirmed.add(payload["turn_id"])  # the client saw this turn committed
                if killed.is_set():
                    return
                if (point == "stream" and kind == "token") or (
                    point == "bookkeeping" and kind == "stream_end"
                ):
                    time.sleep(rng.uniform(0, 0.3))
                    killed.set()
                    server.kill()

            if point == "snapshot":
                threading.Timer(
                    rng.uniform(0.0, 0.05), lambda killed=killed: (killed.set(), server.kill())
                ).start()
                with contextlib.suppress(OSError):
                    call(server.url, f"/api/chats/{chat['id']}/snapshots", {}, timeout=10)
                time.sleep(0.2)
            else:
                stream_turn(server.url, chat["id"], f"round {round_no}", on_event)
                if point == "idle":
                    killed.set()
                    server.kill()
            stats["killed"][point] += 1
            if server.proc.poll() is None:
                server.kill()
            fake.script.clear()
            # after the crash: the file is sound, the log replays, nothing confirmed is lost
            db = data / "chat.db"
            conn = sqlite3.connect(db)
            try:
                assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
                turns = dict(
                    conn.execute(
                        "SELECT id, truncated FROM play_turn WHERE chat_id = ?", [chat["id"]]
                    )
                )
            finally:
                conn.close()
            missing = confirmed - set(turns)
            assert not missing, f"round {round_no} ({point}): lost turns {missing}"
            verify = manage(data, "replay", "--verify", check=False)
            assert verify.returncode == 0, f"round {round_no}: {verify.stdout}{verify.stderr}"
            server.start()
            deadline = time.time() + 30
            while time.time() < deadline:  # interrupted bookkeeping completes at start-up
                progress = call(server.url, f"/api/chats/{chat['id']}/bookkeeping")
                if progress["done"] == progress["total"]:
                    break
                time.sleep(0.2)
            assert progress["done"] == progress["total"], f"round {round_no}: {progress}"
            stats["rounds"] += 1
        server.kill()
        verify = manage(data, "replay", "--verify", check=False)
        assert verify.returncode == 0, verify.stdout + verify.stderr
        stats["confirmed_turns"] = len(confirmed)
    (ROOT / "bench" / "results").mkdir(parents=True, exist_ok=True)
    (ROOT / "bench" / "results" / "crash.json").write_text(json.dumps(stats, indent=2))
    assert stats["rounds"] == ROUNDS and confirmed
