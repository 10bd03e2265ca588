"""The orchestration overhead end to end, through the real server: a tab sends a line over its
websocket → the fake OpenAI-compatible model receives the narrative request. Everything is in
it: the websocket, the consumer, the append, speaker pick, the query embedding (all-MiniLM,
measured on its own by overhead.py), retrieval, the prompt build and the HTTP client. The
baseline in the same run is the fake model's time-to-first-token it is set to answer with.

    python bench/send_to_request.py [--memories 10000] [--events 4000] [--turns 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import setup_django, summary, table, write  # noqa: E402

TTFT_S = 0.3


class Stamped(list):
    """The fake model's request log, with the arrival time of each request."""

    def append(self, item):
        item["at"] = time.time()
        super().append(item)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--memories", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=4_000)
    parser.add_argument("--turns", type=int, default=20)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="rp-bench-e2e-")) / "data"
    data.mkdir(parents=True)
    setup_django(str(data))
    from django.db import connections

    from bench.build import add_memories, add_turns
    from bench.retrieval import store_random_vectors
    from memory.vectors import pending_ids
    from tests.factories import make_chat
    from tests.fakeopenai import FakeOpenAI
    from tests.servers import served

    rng = random.Random(3)
    chat = make_chat()
    add_memories(chat, args.memories, rng)
    add_turns(chat, args.events, rng)
    store_random_vectors(pending_ids(chat.pk), seed=5)  # nothing left to embed at start-up
    connections.close_all()
    fake = FakeOpenAI(default_text="Fine, then.", ttft=TTFT_S)
    fake.requests = Stamped()
    with fake:
        (data / "config.toml").write_text(f'[inference]\nbase_url = "{fake.url}"\n')
        with served(data, prepare=False, env={"RP_EMBEDDINGS": "on"}) as (url, _proc):
            waits = asyncio.run(_send_turns(url, chat.pk, args.turns, fake))
    result = summary(waits[2:])  # the first two warm the server up
    print(
        table(
            [("send → narrative request", result["p50"], result["p95"], result["n"])],
            ("end to end, incl. query embedding", "p50 ms", "p95 ms", "n"),
        )
    )
    share = result["p95"] / (TTFT_S * 1000)
    print(f"\np95 is {share:.1%} of the fake model's {TTFT_S * 1000:.0f} ms time-to-first-token")
    path = write(
        "send_to_request",
        {
            "memories": args.memories,
            "events": args.events,
            "send_to_request_ms": result,
            "ttft_ms": TTFT_S * 1000,
            "p95_share_of_ttft": round(share, 3),
            "note": "includes the websocket, the query embedding and the HTTP client",
            "target": "overhead p95 <= 30 ms without the query embedding (overhead.py measures "
            "that in process); this is the same path end to end, for reference",
        },
    )
    print(f"written {path}")


async def _send_turns(url: str, chat_id: int, turns: int, fake) -> list[float]:
    import websockets

    ws_url = url.replace("http://", "ws://") + f"/ws/chats/{chat_id}/"
    waits = []
    async with websockets.connect(ws_url, additional_headers={"Origin": url}) as ws:
        await ws.recv()  # the re-sync on connect
        drain = asyncio.create_task(_drain(ws))
        for i in range(turns + 2):
            seen = len(fake.requests)
            sent = time.time()
            await ws.send(json.dumps({"action": "send", "text": f"and the harbour {i}?"}))
            narrative = await _request(fake, seen, streamed=True)
            waits.append((narrative["at"] - sent) * 1000)
            await _request(fake, seen, streamed=False)  # the turn's analysis call
            await asyncio.sleep(1.5)  # its bookkeeping commits before the next send
        drain.cancel()
    return waits


async def _drain(ws) -> None:
    while True:
        await ws.recv()


async def _request(fake, after: int, *, streamed: bool, timeout: float = 60) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        for request in fake.requests[after:]:
            body = request.get("body") or {}
            if request["path"].endswith("/chat/completions") and bool(body.get("stream")) == (
                streamed
            ):
                return request
        await asyncio.sleep(0.001)
    raise TimeoutError("the fake model never received the request")


if __name__ == "__main__":
    main()
