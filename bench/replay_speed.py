"""Replay: rebuilding a chat's projections from its log, in events per second, against
appending the same events live (each projected as it is written) in the same run.

    python bench/replay_speed.py [--events 10000]
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import setup_django, table, timed, write  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    args = parser.parse_args()
    setup_django()
    from bench.build import add_turns
    from eventstore.models import Event
    from eventstore.replay import replay
    from tests.factories import make_chat

    chat = make_chat()
    insert_ms, _ = timed(add_turns, chat, args.events, random.Random(1))
    events = Event.objects.filter(chat=chat).count()
    runs = [timed(replay, chat)[0] for _ in range(3)]
    replay_ms = sorted(runs)[1]
    rate = events / (replay_ms / 1000)
    insert_rate = events / (insert_ms / 1000)
    print(
        table(
            [
                ("append live (baseline)", events, round(insert_ms), round(insert_rate)),
                ("replay from the log", events, round(replay_ms), round(rate)),
            ],
            ("", "events", "ms", "events/s"),
        )
    )
    print(f"\nreplay is {rate / insert_rate:.1f}x the speed of appending the same events")
    path = write(
        "replay",
        {
            "events": events,
            "replay_ms": round(replay_ms, 1),
            "replay_events_per_s": round(rate),
            "append_events_per_s": round(insert_rate),
            "ratio_to_append": round(rate / insert_rate, 2),
            "target": ">= 20000 events/s",
        },
    )
    print(f"written {path}")


if __name__ == "__main__":
    main()
