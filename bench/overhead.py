"""Orchestration overhead: a user's send arriving → the first byte of the model request
(append, speaker pick, retrieval, prompt build), in a chat of 10k events and 100k memories,
with the query embedding reported on its own; and how it grows with 1k, 10k, 100k memories.

    python bench/overhead.py [--memories 1000,10000,100000] [--events 10000] [--turns 40]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import setup_django, summary, table, timed, write  # noqa: E402

TTFT_MS = 300.0


class FirstByte:
    """A backend that notes when the model request would leave, then answers at once."""

    name = "first-byte"

    def __init__(self):
        self.sent_at: float | None = None

    def describe(self):
        return {"backend": self.name}

    async def generate(self, messages, params):
        return "A summary."

    async def stream(self, messages, params):
        if self.sent_at is None:
            self.sent_at = time.perf_counter()
        yield "Fine. "

    async def structured(self, messages, schema, params):
        return schema()


class GateClock:
    """Time spent inside the gate (``Gate.admit``, the word check included) per turn; and
    whether the word check runs at all (off: the same run's baseline)."""

    def __init__(self):
        from play.engine.gate import Gate

        self.gate = Gate
        self.admit, self.heard = Gate.admit, Gate.heard
        self.spent = 0.0
        clock = self

        def admit(gate, line):
            started = time.perf_counter()
            try:
                return clock.admit(gate, line)
            finally:
                clock.spent += time.perf_counter() - started

        Gate.admit = admit

    def words(self, on: bool) -> None:
        self.gate.heard = self.heard if on else (lambda gate, text, origin=(): text)


def measure(chat, turns: int, qvec, clock: GateClock | None = None) -> dict[str, list[float]]:
    """Per turn: send → model request, and the gate's share of it; with a ``clock``, turns
    alternate with and without the word check (the baseline measured in the same run)."""
    from play.engine import pipeline
    from play.engine.inference.registry import override_backend

    async def fixed_vector(chat_id, query):
        return qvec  # the query embedding is measured on its own

    pipeline.query_vector_for = fixed_vector

    async def turns_in_one_loop() -> dict[str, list[float]]:  # one event loop, as in the server
        times: dict[str, list[float]] = {"with": [], "without": [], "gate": []}
        for i in range(turns):
            words = i % 2 == 0 or clock is None
            if clock is not None:
                clock.words(words)
                clock.spent = 0.0
            backend = FirstByte()
            with override_backend(backend):
                started = time.perf_counter()
                await pipeline.run_turn(chat.pk, f"what about the harbour {i}?")
            times["with" if words else "without"].append((backend.sent_at - started) * 1000)
            if clock is not None and words:
                times["gate"].append(clock.spent * 1000)
        if clock is not None:
            clock.words(True)
        return times

    return asyncio.run(turns_in_one_loop())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--memories", default="1000,10000,100000")
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--turns", type=int, default=40)
    args = parser.parse_args()
    setup_django()
    from bench.build import add_derived, add_memories, add_turns, random_vector
    from memory.retrieval import retrieve
    from tests.factories import make_chat
    from worlds import lexicon

    rows, results, gate_rows = [], {}, []
    qvec = random_vector()
    clock = GateClock()
    for n in [int(x) for x in args.memories.split(",")]:
        rng = random.Random(n)
        chat = make_chat()
        ms_fill, _ = timed(add_memories, chat, n, rng)
        add_turns(chat, max(0, args.events - n // 64), rng)
        add_derived(chat, rng)
        lexicon.forget()
        fold_ms, _ = timed(lexicon.chat_words, chat.pk)  # the first prompt after a start
        measure(chat, 3, qvec)  # warm up
        paired = measure(chat, args.turns * 2, qvec, clock)
        overhead = summary(paired["with"])
        baseline = summary(paired["without"])
        gate = summary(paired["gate"])
        gate_rows.append(
            (
                n,
                overhead["p95"],
                baseline["p95"],
                f"{overhead['p95'] / baseline['p95']:.2f}x",
                gate["p50"],
                gate["p95"],
                round(fold_ms, 1),
            )
        )
        retrieval = summary(
            [
                timed(retrieve, chat.pk, "host", f"the harbour {i}", k=6, query_vector=qvec)[0]
                for i in range(args.turns)
            ]
        )
        results[n] = {
            "overhead_ms": overhead,
            "overhead_without_word_check_ms": baseline,
            "gate_ms": gate,
            "word_fold_ms": fold_ms,
            "retrieval_ms": retrieval,
        }
        rows.append(
            (
                n,
                overhead["p50"],
                overhead["p95"],
                retrieval["p50"],
                retrieval["p95"],
                f"{overhead['p95'] / TTFT_MS:.1%}",
            )
        )
    embed = None
    try:
        from memory.embeddings import LocalMiniLM

        model = LocalMiniLM()
        model.embed(["warm up"])
        embed = summary(
            [timed(model.embed, [f"Did you see the lighthouse, {i}?"])[0] for i in range(30)]
        )
    except Exception as exc:  # no model installed: say so
        print(f"query embedding not measured: {exc}")
    print(
        table(
            rows,
            (
                "memories",
                "overhead p50",
                "overhead p95",
                "retrieval p50",
                "retrieval p95",
                f"p95 / {TTFT_MS:.0f} ms TTFT",
            ),
        )
    )
    print("\nthe gate's word check, same run (turns alternate with and without it):")
    print(
        table(
            gate_rows,
            (
                "memories",
                "p95 with",
                "p95 without",
                "ratio",
                "gate p50",
                "gate p95",
                "first fold ms",
            ),
        )
    )
    if embed:
        print(
            f"\nquery embedding (all-MiniLM-L6-v2, 2 cores): p50 {embed['p50']} ms, "
            f"p95 {embed['p95']} ms"
        )
    path = write(
        "overhead",
        {
            "events": args.events,
            "results": results,
            "ttft_ms": TTFT_MS,
            "query_embedding_ms": embed,
            "target": "overhead p95 <= 30 ms (embedding apart, <= 15 ms)",
        },
    )
    print(f"written {path}")


if __name__ == "__main__":
    main()
