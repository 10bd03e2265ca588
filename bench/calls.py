"""Model calls per ordinary turn, counted at the fake model, and the tokens sent per turn;
the baseline is one narrative call (what an ordinary chatbot makes).

    python bench/calls.py [--turns 10]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import post_json, table, write  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=10)
    args = parser.parse_args()
    from tests.fakeopenai import FakeOpenAI
    from tests.servers import manage, served
    from worlds.tokens import estimate

    data = Path(tempfile.mkdtemp(prefix="rp-bench-calls-")) / "data"
    with FakeOpenAI() as fake:
        manage(data, "migrate", "--noinput")
        manage(data, "setup_local")
        (data / "config.toml").write_text(f'[inference]\nbase_url = "{fake.url}"\n')
        with served(data, prepare=False) as (url, _proc):
            chat = post_json(url, "/api/chats", {"character": 1, "parse_kickoff": False})
            per_turn, tokens = [], []
            for i in range(args.turns):
                before = len(fake.completions())
                post_json(url, f"/api/chats/{chat['id']}/turns", {"text": f"Tell me more, {i}."})
                calls = fake.completions()[before:]
                per_turn.append(len(calls))
                tokens.append(
                    sum(estimate(m["content"]) for c in calls for m in c["body"]["messages"])
                )
    mean_calls = sum(per_turn) / len(per_turn)
    rows = [
        ("model calls per turn", f"{mean_calls:.2f}", "1 (a plain chatbot)", f"{mean_calls:.1f}x"),
        ("tokens sent per turn (mean)", round(sum(tokens) / len(tokens)), "-", "-"),
    ]
    print(table(rows, ("", "measured", "baseline", "ratio")))
    path = write(
        "calls",
        {
            "turns": args.turns,
            "calls_per_turn": per_turn,
            "tokens_sent_per_turn": tokens,
            "target": "2 per ordinary turn with one bot",
        },
    )
    print(f"written {path}")


if __name__ == "__main__":
    main()
