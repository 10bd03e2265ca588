"""Opening a chat page (server time): 1k, 10k and 100k events, against a static page served
by the same app in the same run.

    python bench/page_open.py [--sizes 1000,10000,100000]
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import setup_django, summary, table, timed, write  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    setup_django()
    from django.test import Client

    from bench.build import add_turns
    from eventstore.snapshots import snapshot_create
    from tests.factories import make_chat

    client = Client(HTTP_HOST="127.0.0.1")
    baseline = summary([timed(client.get, "/settings/")[0] for _ in range(args.repeat)])
    rows, results = [("settings page (baseline)", "-", baseline["p50"], baseline["p95"])], {}
    for size in [int(x) for x in args.sizes.split(",")]:
        chat = make_chat()
        add_turns(chat, size, random.Random(size))
        snapshot_create(chat, kind="periodic")
        client.get(f"/chats/{chat.pk}/")
        page = summary([timed(client.get, f"/chats/{chat.pk}/")[0] for _ in range(args.repeat)])
        results[size] = page
        rows.append((f"chat page, {size} events", size, page["p50"], page["p95"]))
    print(table(rows, ("", "events", "p50 ms", "p95 ms")))
    path = write(
        "page_open",
        {
            "baseline_settings_page": baseline,
            "results": results,
            "target": "<= 150 ms at 10k events",
        },
    )
    print(f"written {path}")


if __name__ == "__main__":
    main()
