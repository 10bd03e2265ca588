"""How much of each narrative prompt the one before it already began with: a long chat played
through the real server against the fake model, whose analysis changes something every turn
(the speaker's mood, the relationship, a thread, a memory, now and then the place).

For every two consecutive narrative requests of the same speaker: the share of the later one
that is a common prefix of both (on the rendered text of the messages, as a server's prefix
cache compares them); and the prompt's tokens against the soft budget. The baseline, in the
same run, is the old order rebuilt from each prompt's own sections: every non-dialogue section
in one system message (identity with the state line, the edges, group, world, scene, activity,
threads, examples, pinned memories, while you were away, earlier scenes, retrieved memories,
lore, story events), then the last ``dialogue_window`` turns of the current scene, then the
closing instructions in the last user message. The fake server also reports cached tokens as
an automatic prefix cache would (the longest beginning shared with any earlier request).

    python bench/prefix.py [--turns 200] [--set play.dialogue_window=32] [--dump prompts.json]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import percentile, post_json, table, write  # noqa: E402
from bench.old_order import old_order  # noqa: E402

WORDS = [
    "tide",
    "harbour",
    "lantern",
    "rope",
    "gull",
    "salt",
    "fog",
    "bell",
    "keeper",
    "ledger",
    "storm",
    "shutter",
    "kettle",
    "boat",
    "causeway",
    "cliff",
    "candle",
    "map",
    "compass",
    "anchor",
    "net",
    "shell",
    "whistle",
    "coat",
    "stair",
    "window",
    "beam",
]
MOODS = ("calm", "wry", "tired", "curious", "wary", "warm", "restless", "amused", "guarded")
PLACES = ("the lamp room", "the harbour wall", "the keeper's kitchen", "the causeway")


def get_json(url: str, path: str) -> dict:
    with urllib.request.urlopen(url + path, timeout=60) as response:
        return json.loads(response.read())


def sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize() + "."


class Model:
    """The fake model's answers: a different reply each time, and an analysis that changes the
    volatile state every turn (and the place every ``move_every`` turns)."""

    def __init__(self, move_every: int) -> None:
        self.rng = random.Random(11)
        self.turn = 0
        self.move_every = move_every

    def __call__(self, body: dict) -> tuple | None:
        rng = self.rng
        if body.get("stream"):  # the narrative reply: ~120 words (the closing asks for ~165)
            self.turn += 1
            n = rng.randint(6, 12)
            return ("text", " ".join(sentence(rng, rng.randint(8, 16)) for _ in range(n)))
        if not (body.get("response_format") or body.get("tools")):
            return ("text", sentence(rng, 30))  # a scene summary
        system = (body.get("messages") or [{}])[0].get("content") or ""
        if "interject" in system:
            return ("json", {"interject": False})
        n = self.turn
        analysis: dict = {
            "significance": 2 if n % 9 == 0 else 1,
            "entities": [{"role": "host", "mood": rng.choice(MOODS)}],
            "edges": [
                {
                    "source": "host",
                    "target": "you",
                    "affinity_delta": rng.choice((-1, 1, 2)),
                    "last_interaction": sentence(rng, 6),
                }
            ],
            "activities": [{"role": "host", "verb": f"polishing the {rng.choice(WORDS)}"}],
        }
        if n % 7 == 0:
            analysis["memory_keys"] = [f"The {rng.choice(WORDS)} is kept in the {WORDS[n % 9]}"]
        if n % 25 == 5:
            analysis["threads"] = [{"action": "open", "key": f"t{n}", "title": sentence(rng, 5)}]
        if n % 25 == 20:
            analysis["threads"] = [{"action": "resolve", "key": f"t{n - 15}"}]
        if self.move_every and n % self.move_every == 0:
            analysis["scene"] = {"moved_to": PLACES[(n // self.move_every) % len(PLACES)]}
        return ("json", analysis)


def rendered(messages: list[dict]) -> str:
    from tests.fakeopenai import rendered as render

    return render(messages)


def shared(a: str, b: str) -> int:
    from tests.fakeopenai import common_prefix

    return common_prefix(a, b)


def config_toml(base_url: str, settings: list[str]) -> str:
    sections: dict[str, list[str]] = {"inference": [f'base_url = "{base_url}"']}
    for setting in settings:
        name, _, value = setting.partition("=")
        section, _, key = name.partition(".")
        sections.setdefault(section, []).append(f"{key} = {value}")
    return "".join(f"[{name}]\n" + "\n".join(lines) + "\n" for name, lines in sections.items())


def shares(requests: list[tuple[str, str]]) -> list[float]:
    """Common-prefix share of each request with the previous one of the same speaker."""
    last: dict[str, str] = {}
    out = []
    for speaker, text in requests:
        if speaker in last and text:
            out.append(shared(last[speaker], text) / len(text))
        last[speaker] = text
    return out


def figures(values: list[float]) -> dict[str, float]:
    return {
        "median": round(percentile(values, 50), 3),
        "p10": round(percentile(values, 10), 3),
        "mean": round(sum(values) / len(values), 3) if values else 0.0,
        "min": round(min(values), 3) if values else 0.0,
        "n": len(values),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--move-every", type=int, default=60, help="turns between place moves")
    parser.add_argument("--dump", help="write every prompt and its old-order rebuild here (JSON)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="a config.toml setting for the run, e.g. play.dialogue_window=32 (the old order "
        "keeps the app's default window)",
    )
    args = parser.parse_args()
    from rpsite.config import DEFAULTS
    from tests.fakeopenai import FakeOpenAI
    from tests.servers import manage, served
    from worlds.tokens import estimate

    soft = int(DEFAULTS["budgets"]["narrative_soft"])
    window = int(DEFAULTS["play"]["dialogue_window"])
    data = Path(tempfile.mkdtemp(prefix="rp-bench-prefix-")) / "data"
    rng = random.Random(5)
    started = time.monotonic()
    with FakeOpenAI() as fake:
        fake.responder = Model(args.move_every)
        fake.report_cached = True
        manage(data, "migrate", "--noinput")
        manage(data, "setup_local")
        (data / "config.toml").write_text(config_toml(fake.url, args.set))
        with served(data, prepare=False) as (url, _proc):
            chat = post_json(url, "/api/chats", {"character": 1, "parse_kickoff": False})
            bot_turns = []
            for i in range(args.turns):
                text = f"{sentence(rng, rng.randint(5, 12))} What about the {rng.choice(WORDS)}?"
                if i % 10 == 9:
                    text = f"{text} ((out of character: turn {i}))"
                out = post_json(url, f"/api/chats/{chat['id']}/turns", {"text": text})
                bot_turns += [t["id"] for t in out["turns"] if t["speaker"] != "you"]
            prompts = [
                (tid, get_json(url, f"/api/chats/{chat['id']}/turns/{tid}/prompt"))
                for tid in bot_turns
            ]
            turns = {
                t["id"]: t for t in get_json(url, f"/api/chats/{chat['id']}/transcript")["turns"]
            }
        sent = [r for r in fake.completions() if r["body"].get("stream")]
    played = time.monotonic() - started
    if args.dump:
        Path(args.dump).write_text(
            json.dumps(
                [
                    {
                        "turn": tid,
                        "speaker": turns[tid]["speaker"],
                        "prompt": prompt,
                        "old": old_order(prompt, turns, turns[tid]["speaker"], window),
                    }
                    for tid, prompt in prompts
                ]
            )
        )

    assert len(sent) == len(prompts), "one narrative request per bot turn"
    new, old, tokens, old_tokens, cached = [], [], [], [], []
    for (tid, prompt), request in zip(prompts, sent, strict=True):
        assert request["body"]["messages"] == prompt["messages"], "the prompt sent is recorded"
        speaker = turns[tid]["speaker"]
        new.append((speaker, rendered(prompt["messages"])))
        rebuilt = old_order(prompt, turns, speaker, window)
        old.append((speaker, rendered(rebuilt)))
        tokens.append(prompt["total_tokens"] / soft)
        old_tokens.append(sum(estimate(m["content"]) for m in rebuilt) / soft)
        usage = request.get("usage") or {}
        if usage.get("prompt_tokens"):
            cached.append(usage["prompt_tokens_details"]["cached_tokens"] / usage["prompt_tokens"])
    result = {
        "turns": args.turns,
        "prefix_share": figures(shares(new)),
        "prefix_share_old_order": figures(shares(old)),
        "tokens_vs_soft_budget": figures(tokens),
        "tokens_vs_soft_budget_old_order": figures(old_tokens),
        "cached_share_reported": figures(cached),
        "soft_budget": soft,
        "settings": args.set,
        "per_turn": {
            "prefix_share": [round(x, 3) for x in shares(new)],
            "prefix_share_old_order": [round(x, 3) for x in shares(old)],
            "tokens_vs_soft_budget": [round(x, 3) for x in tokens],
        },
        "seconds": round(played, 1),
        "target": "prefix share of consecutive same-speaker narrative requests: median >= 0.90, "
        "p10 >= 0.75",
    }
    p, o = result["prefix_share"], result["prefix_share_old_order"]
    t, ot = result["tokens_vs_soft_budget"], result["tokens_vs_soft_budget_old_order"]
    c = result["cached_share_reported"]
    rows = [
        ("common-prefix share, median", p["median"], o["median"], "≥ 0.90"),
        ("common-prefix share, p10", p["p10"], o["p10"], "≥ 0.75"),
        ("common-prefix share, min", p["min"], o["min"], "-"),
        ("prompt tokens / soft budget, median", t["median"], ot["median"], "-"),
        ("prompt tokens / soft budget, p10", t["p10"], ot["p10"], "-"),
        ("cached tokens reported / prompt, median", c["median"], "-", "-"),
    ]
    print(table(rows, (f"{args.turns} turns, {p['n']} pairs", "new order", "old order", "target")))
    print(f"\n{soft}-token soft budget; played in {played:.0f} s")
    path = write("prefix", result)
    print(f"written {path}")


if __name__ == "__main__":
    main()
