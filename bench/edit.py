"""Editing an early line of a long chat, keeping what followed: the tail re-derived from the
log with no model call but the edited exchange's analysis (answered at once here, so the time
is the engine's own), beside a plain turn's send → reply in the same run.

    python bench/edit.py [--turns 1000] [--edits 5]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import setup_django, summary, table, write  # noqa: E402

GOAL_S = 2.0


class Instant:
    """A backend that answers every call at once: the edit's analysis, a turn's reply."""

    name = "instant"

    def describe(self):
        return {"backend": self.name}

    async def generate(self, messages, params):
        return "A summary."

    async def stream(self, messages, params):
        yield "Fine. "

    async def structured(self, messages, schema, params):
        return schema()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=1000)
    parser.add_argument("--edits", type=int, default=5)
    args = parser.parse_args()
    setup_django()
    from bench.build import add_turns
    from eventstore.models import Event
    from play.engine import pipeline
    from play.engine.inference.registry import override_backend
    from play.engine.services.edit import turn_edit
    from play.engine.turnlock import API
    from play.models import Turn
    from tests.factories import make_chat

    chat = make_chat()
    add_turns(chat, args.turns * 2, random.Random(7))  # a user line and a reply per turn
    events = Event.objects.filter(stream=chat).count()
    edits, turns = [], []
    with override_backend(Instant()):
        for i in range(args.edits):
            early = Turn.objects.filter(chat=chat, speaker="you").order_by("id")[min(5 + i, 9)]
            started = time.perf_counter()
            asyncio.run(
                turn_edit(
                    chat_id=chat.pk,
                    turn_id=early.pk,
                    text=f"Edited line {i}, quite new.",
                    origin=API,
                )
            )
            edits.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            asyncio.run(pipeline.run_turn(chat.pk, f"And what about the harbour {i}?"))
            turns.append((time.perf_counter() - started) * 1000)
    edit, turn = summary(edits), summary(turns)
    print(
        table(
            [
                ("edit of an early line (Save)", edit["p50"], edit["p95"]),
                ("a plain turn (send → analysed reply)", turn["p50"], turn["p95"]),
            ],
            (f"in a chat of {events} events", "p50 ms", "p95 ms"),
        )
    )
    print(f"goal: an edit under {GOAL_S:g} s on this machine, the model excluded")
    path = write(
        "edit",
        {
            "events": events,
            "edit_ms": edit,
            "turn_ms": turn,
            "target": f"an edit of an early line under {GOAL_S:g} s, the model excluded",
        },
    )
    print(f"written {path}")


if __name__ == "__main__":
    main()
