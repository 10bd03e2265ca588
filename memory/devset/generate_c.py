"""Write family C of the memory development set: conversations that read like people.

    python -m memory.devset.generate_c [--seed 29] [--out-dir memory/fixtures]

writes ``devset_c.json.gz`` in the ``manage.py eval_memory`` file format, the same bytes every
run. Families A and B (``generate.py``) plant facts with templates, and their questions use
the templates' words; on real talk that set ranked the embedders the wrong way round. Here:

- **What is asked about** is written by hand, per person (``memory/devset/lives/``): twelve
  people, two to a conversation, each with a life told in scenes across the sessions — in
  passing, in pieces, with pronouns, nicknames and the other person's reactions, and
  questions written in other words than the lines that answer them (an inference for the
  open-domain ones: "would he enjoy a long hike?" from "my knees can't do stairs").
- **Everything else** is real small talk between two people: windows of conversations from
  the Chit-Chat Challenge dataset (BYU PCC lab, MIT, the ``chitchat-dataset`` package; an
  open-domain chat corpus, not a question-answering benchmark), put in the two people's
  mouths. Its lines are about school, jobs, family and plans, as a real conversation's are:
  the decoys are real talk, not template lines. And half the lines a question points at are
  said in one breath with a line of that small talk, before or after it, as people tell
  things in passing ("Ugh, what a week. Finally got the keys to the flat!").

Categories: ``single-hop`` (one scene), ``multi-hop`` (pieces from two or more sessions:
"what does she do to unwind?", or a link the question leaves out), ``temporal`` ("when
did…", the line says "yesterday", "last weekend") and ``open-domain`` (an inference).
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from memory.devset.lives import PAIRS

SESSIONS = (27, 31)  # per conversation, inclusive
SESSION_TURNS = (17, 24)  # target turns of one session, inclusive
IN_PASSING = 0.5  # the share of scene lines said in one breath with a line of small talk
_BLOCKED = re.compile(
    r"\b(fuck\w*|shit\w*|bitch\w*|sex\w*|porn\w*|nigg\w*|fag\w*|retard\w*|rape\w*|kill myself)\b"
    r"|https?://|www\.|\.com\b",
    re.IGNORECASE,
)


@dataclass
class Beat:
    """One scene of a person's life: lines (speaker 0 = the person, 1 = the other one)."""

    lines: list[tuple[int, str | None, str]] = field(default_factory=list)  # (who, key, text)


@dataclass
class Life:
    name: str
    beats: list[Beat]
    questions: list[tuple[str, str, list[str]]]  # (category, question, evidence keys)


# Lines of the corpus about the chat itself ("is it glitching?"): fine between two strangers
# trying the app, odd inside one of our people's lines.
_META = re.compile(
    r"\b(glitch\w*|chat\w*|bot|robot|app|website|anyone there|are you there|talk about)\b|\?$",
    re.IGNORECASE,
)


def parse(name: str, script: str) -> Life:
    """A life script: ``##`` opens a scene; ``>`` is a line of the person, ``<`` of the other
    one, either as ``>key| text`` when questions point at it; ``? category | question | keys``.
    """
    beats: list[Beat] = []
    questions: list[tuple[str, str, list[str]]] = []
    for raw in script.strip().splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("##"):
            beats.append(Beat())
        elif line[0] in "<>":
            who = 0 if line[0] == ">" else 1
            body = line[1:].strip()
            key = None
            head, sep, rest = body.partition("|")
            if sep and re.fullmatch(r"[a-z0-9_]+", head.strip()):
                key, body = head.strip(), rest.strip()
            beats[-1].lines.append((who, key, body))
        elif line.startswith("?"):
            category, question, keys = (p.strip() for p in line[1:].split("|"))
            questions.append((category, question, keys.split()))
        else:
            raise ValueError(f"{name}: cannot read {line!r}")
    keys = [k for b in beats for _, k, _ in b.lines if k]
    if len(keys) != len(set(keys)):
        raise ValueError(f"{name}: a key is used twice")
    for _, question, wanted in questions:
        missing = set(wanted) - set(keys)
        if missing:
            raise ValueError(f"{name}: {question!r} points at unknown {missing}")
    return Life(name, beats, questions)


def chitchat_windows(rng: random.Random) -> list[list[tuple[int, str]]]:
    """Real two-person small talk, as (who, text) turns: each conversation of the corpus with
    at least 12 turns and nothing blocked, consecutive messages of one sender joined."""
    import chitchat_dataset  # noqa: PLC0415  (a build-time dependency of this script only)

    corpus = chitchat_dataset.Dataset()
    windows = []
    for conv_id in sorted(corpus):
        senders: list[str] = []
        turns: list[tuple[int, str]] = []
        for group in corpus[conv_id]["messages"]:
            if not group:
                continue
            sender = group[0]["sender"]
            if sender not in senders:
                senders.append(sender)
            text = " ".join(" ".join(m["text"].split()) for m in group).strip()
            if text:
                turns.append((senders.index(sender) % 2, text))
        if len(senders) != 2 or len(turns) < 12:
            continue
        if any(_BLOCKED.search(t) for _, t in turns):
            continue
        windows.append(turns)
    rng.shuffle(windows)
    return windows


def _spread(count: int, sessions: int, rng: random.Random) -> list[int]:
    """Sessions for a person's ``count`` scenes, in order, spread over the whole span."""
    if count <= 1:
        return [rng.randrange(sessions)]
    out = []
    for j in range(count):
        centre = j * (sessions - 1) / (count - 1)
        out.append(min(sessions - 1, max(0, round(centre + rng.uniform(-0.9, 0.9)))))
    for j in range(1, count):  # never before the scene told earlier
        out[j] = max(out[j], out[j - 1])
    return out


def build(conv_id: str, lives: tuple[Life, Life], rng: random.Random, small_talk) -> dict:
    names = [lives[0].name, lives[1].name]
    asides = (
        text
        for window in small_talk
        for _, text in window
        if 6 <= len(text.split()) <= 25 and not _META.search(text)
    )
    sessions = rng.randint(*SESSIONS)
    start = date(2022, 3, 1) + timedelta(days=rng.randrange(300))
    dates = [start]
    for _ in range(sessions - 1):
        dates.append(dates[-1] + timedelta(days=rng.randint(4, 15)))
    placed: list[list[tuple[int, Beat]]] = [[] for _ in range(sessions)]
    for person, life in enumerate(lives):
        for beat, at in zip(life.beats, _spread(len(life.beats), sessions, rng), strict=True):
            placed[at].append((person, beat))
    out_sessions, ids = [], {}
    for n in range(sessions):
        beats = placed[n]
        rng.shuffle(beats)
        planted = sum(len(b.lines) for _, b in beats)
        target = max(rng.randint(*SESSION_TURNS), planted + 6)
        window = next(small_talk)
        flip = rng.random() < 0.5  # who of the two plays the corpus's first sender
        start_at = 0 if len(window) <= target - planted else rng.randrange(len(window) // 3 + 1)
        talk = [
            ((who + flip) % 2, text)
            for who, text in window[start_at : start_at + max(0, target - planted)]
        ]
        # small talk opens the session; the scenes come in between its turns, and the talk
        # drifts back to where it was
        cuts = sorted(rng.randint(2, max(2, len(talk))) for _ in beats)
        turns: list[dict[str, str]] = []

        def add(speaker: str, text: str, key: str | None, n=n, turns=turns) -> None:
            tid = f"{conv_id}-s{n + 1:02d}-t{len(turns) + 1:03d}"
            turns.append({"id": tid, "speaker": speaker, "text": text})
            if key:
                ids[key] = tid

        done = 0
        for cut, (person, beat) in zip(cuts, beats, strict=True):
            for who, text in talk[done:cut]:
                add(names[who], text, None)
            done = cut
            for who, key, text in beat.lines:
                speaker = names[person] if who == 0 else names[1 - person]
                if key and rng.random() < IN_PASSING:  # people say several things at once
                    aside = next(asides)
                    text = f"{aside} {text}" if rng.random() < 0.5 else f"{text} {aside}"
                add(speaker, text, f"{person}:{key}" if key else None)
        for who, text in talk[done:]:
            add(names[who], text, None)
        out_sessions.append({"date": dates[n].isoformat(), "turns": turns})
    questions = []
    for person, life in enumerate(lives):
        for category, question, keys in life.questions:
            questions.append(
                {
                    "question": question,
                    "answerer": names[1 - person],
                    "evidence": [ids[f"{person}:{k}"] for k in keys],
                    "category": category,
                }
            )
    rng.shuffle(questions)
    return {"id": conv_id, "speakers": names, "sessions": out_sessions, "questions": questions}


def generate(*, seed: int) -> dict[str, Any]:
    rng = random.Random(f"{seed}-C")
    small_talk = iter(chitchat_windows(random.Random(f"{seed}-C-talk")))
    conversations = []
    for n, (a, b) in enumerate(PAIRS):
        lives = (parse(a[0], a[1]), parse(b[0], b[1]))
        conversations.append(build(f"c{n + 1}", lives, rng, small_talk))
    return {"conversations": conversations}


def write(out_dir: Path, seed: int) -> Path:
    data = generate(seed=seed)
    path = out_dir / "devset_c.json.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = json.dumps(data, indent=1, ensure_ascii=False).encode("utf-8")
    path.write_bytes(gzip.compress(raw, mtime=0))  # mtime 0: the same bytes every run
    convs = data["conversations"]
    turns = sum(len(s["turns"]) for c in convs for s in c["sessions"])
    cats: dict[str, int] = {}
    for q in (q for c in convs for q in c["questions"]):
        cats[q["category"]] = cats.get(q["category"], 0) + 1
    print(
        f"{path}: {len(convs)} conversations, {turns} turns, {sum(cats.values())} questions "
        + ", ".join(f"{k} {v}" for k, v in sorted(cats.items()))
    )
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=29)
    parser.add_argument("--out-dir", default=str(Path(__file__).resolve().parents[1] / "fixtures"))
    args = parser.parse_args(argv)
    write(Path(args.out_dir), args.seed)


if __name__ == "__main__":
    main()
