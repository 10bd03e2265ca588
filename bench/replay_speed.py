"""Replay: rebuilding a chat's projections from its log, in events per second, against
appending the same events live (each projected as it is written) in the same run: the fold
alone, a replay whose tables already hold the state (only differences are written), and a
replay into empty tables (every row written, FTS entries included).

    python bench/replay_speed.py [--events 10000]
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import setup_django, table, timed, write  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    args = parser.parse_args()
    setup_django()
    from bench.build import add_turns
    from eventstore.models import Branch, Event
    from eventstore.projection import projection_models
    from eventstore.replay import build_state, replay
    from tests.factories import make_chat

    chat = make_chat()
    insert_ms, _ = timed(add_turns, chat, args.events, random.Random(1))
    events = Event.objects.filter(stream=chat).count()
    branch = Branch.objects.get(pk=chat.active_branch_id)

    def into_empty_tables() -> float:
        for model in projection_models():  # the rows gone (outside the timing)
            model.objects.filter(chat_id=chat.pk).delete()
        return timed(replay, chat)[0]

    measured = {
        "fold": median([timed(build_state, branch, use_snapshot=False)[0] for _ in range(3)]),
        "unchanged": median([timed(replay, chat)[0] for _ in range(3)]),
        "empty": median([into_empty_tables() for _ in range(3)]),
    }
    rate = {name: events / (ms / 1000) for name, ms in measured.items()}
    insert_rate = events / (insert_ms / 1000)
    labels = {
        "fold": "fold the log into memory (no writes)",
        "unchanged": "replay, tables already equal (nothing written)",
        "empty": "replay into empty tables (every row written)",
    }
    print(
        table(
            [
                ("append live (baseline)", events, round(insert_ms), round(insert_rate), "1.0x"),
                *(
                    (labels[n], events, round(ms), round(rate[n]), f"{rate[n] / insert_rate:.1f}x")
                    for n, ms in measured.items()
                ),
            ],
            ("", "events", "ms", "events/s", "vs append"),
        )
    )
    path = write(
        "replay",
        {
            "events": events,
            "append_events_per_s": round(insert_rate),
            "results": {
                n: {
                    "ms": round(ms, 1),
                    "events_per_s": round(rate[n]),
                    "ratio_to_append": round(rate[n] / insert_rate, 2),
                }
                for n, ms in measured.items()
            },
            "target": ">= 20000 events/s",
        },
    )
    print(f"written {path}")


if __name__ == "__main__":
    main()
