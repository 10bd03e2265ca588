"""Token relay: the fake model emits a token → both tabs' websockets receive it. Sustained
tokens per second and the added latency (receipt minus emission), against the fake model's
own emission rate in the same run.

    python bench/relay.py [--tokens 1500] [--rate 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import post_json, summary, table, write  # noqa: E402

TOKEN = re.compile(r'hx-swap-oob="beforeend">\s*t(\d+)\s*</span>')


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=650.0, help="fake model tokens/s")
    args = parser.parse_args()
    from tests.fakeopenai import FakeOpenAI
    from tests.servers import manage, served

    data = Path(tempfile.mkdtemp(prefix="rp-bench-relay-")) / "data"
    fake = FakeOpenAI(
        default_text=" ".join(f"t{i}" for i in range(args.tokens)), token_delay=1 / args.rate
    )
    emitted: dict[int, float] = {}
    original = fake._handler

    def handler_factory():  # note when each token leaves the fake model
        handler = original()
        write_chunk = handler._stream

        def _stream(self, *args, **kwargs):  # whatever the fake's stream takes
            self.wfile = _Stamp(self.wfile, emitted)
            return write_chunk(self, *args, **kwargs)

        handler._stream = _stream
        return handler

    fake._handler = handler_factory
    fake.server.RequestHandlerClass = handler_factory()
    with fake:
        manage(data, "migrate", "--noinput")
        manage(data, "setup_local")
        (data / "config.toml").write_text(
            f'[inference]\nbase_url = "{fake.url}"\ntimeout_s = 120\n[play]\nreply_tokens = 5000\n'
        )
        with served(data, prepare=False) as (url, _proc):
            chat = post_json(
                url, "/api/chats", {"character": 1, "parse_kickoff": False}, timeout=60
            )
            results = asyncio.run(_tabs(url, chat["id"], args.tokens, emitted))
    rows = [
        (
            name,
            r["tokens"],
            round(r["tokens_per_s"]),
            r["latency_ms"]["p50"],
            r["latency_ms"]["p95"],
        )
        for name, r in results.items()
    ]
    if not emitted:
        raise SystemExit("the fake model stamped no token: nothing to measure against")
    model_rate = args.tokens / max(1e-9, (max(emitted.values()) - min(emitted.values())))
    print(table(rows, ("receiver", "tokens", "tokens/s", "added p50 ms", "added p95 ms")))
    print(
        f"\nthe fake model emitted {model_rate:.0f} tokens/s (baseline); each tab received "
        f"{min(r['tokens_per_s'] for r in results.values()) / model_rate:.2f}x of it"
    )
    path = write(
        "relay",
        {
            "tokens": args.tokens,
            "model_tokens_per_s": round(model_rate),
            "tabs": results,
            "target": ">= 500 tokens/s, p95 added latency <= 5 ms",
        },
    )
    print(f"written {path}")


class _Stamp:
    """Wraps the fake model's socket file: records when each token is written."""

    def __init__(self, inner, emitted):
        self.inner, self.emitted = inner, emitted

    def write(self, data):
        result = self.inner.write(data)
        self.inner.flush()
        for match in re.finditer(rb'"content": " ?t(\d+)"', data):
            self.emitted[int(match.group(1))] = time.time()
        return result

    def __getattr__(self, name):
        return getattr(self.inner, name)


async def _tabs(url, chat_id, tokens, emitted):
    import websockets

    ws_url = url.replace("http://", "ws://") + f"/ws/chats/{chat_id}/"
    headers = {"Origin": url}
    received: dict[str, dict[int, float]] = {"tab 1": {}, "tab 2": {}}

    async def tab(name, sender):
        async with websockets.connect(ws_url, additional_headers=headers, max_size=None) as ws:
            await ws.recv()  # the re-sync on connect
            if sender:
                await asyncio.sleep(0.3)
                await ws.send(json.dumps({"action": "send", "text": "Tell me everything."}))
            deadline = time.time() + 120
            while len(received[name]) < tokens and time.time() < deadline:
                try:
                    frame = await asyncio.wait_for(ws.recv(), timeout=10)
                except TimeoutError:
                    break
                now = time.time()
                for match in TOKEN.finditer(frame):
                    received[name].setdefault(int(match.group(1)), now)

    await asyncio.gather(tab("tab 1", True), tab("tab 2", False))
    out = {}
    for name, got in received.items():
        common = [i for i in got if i in emitted]
        latencies = [(got[i] - emitted[i]) * 1000 for i in common]
        span = (max(got.values()) - min(got.values())) if len(got) > 1 else 1e-9
        out[name] = {
            "tokens": len(got),
            "tokens_per_s": len(got) / span,
            "latency_ms": summary(latencies),
        }
    return out


if __name__ == "__main__":
    main()
