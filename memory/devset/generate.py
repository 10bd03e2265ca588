"""Write the memory development set: long two-person conversations over 20–30 dated sessions,
mostly chit-chat, with planted facts and questions whose evidence turns are known.

    python -m memory.devset.generate [--seed 16] [--conversations 6] [--out-dir memory/fixtures]

writes ``devset_a.json.gz`` (template family A, the one retrieval is tuned on) and
``devset_b.json.gz`` (family B: the same kinds of facts in other words), in the
``manage.py eval_memory`` file format. The same seed always gives the same files.

Question categories: ``single-hop`` (one planted fact, asked in other words), ``multi-hop``
(two facts from different sessions joined by a name the question does not say), ``temporal``
(events told with a relative date — "yesterday", "last Sunday" — asked about by date, by
period or by order) and ``open-domain`` (answered by an inference: a gift from a hobby, a
dish from an allergy).
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from memory.devset import pools
from memory.devset import templates as T
from memory.devset.hobbies import HOBBIES

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def relative_day(said: date, rule: int | str) -> date:
    """The day a relative phrase points at: ``rule`` days before, or the latest such weekday
    strictly before the day it was said."""
    if isinstance(rule, int):
        return said - timedelta(days=rule)
    back = (said.weekday() - WEEKDAYS.index(rule)) % 7 or 7
    return said - timedelta(days=back)


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


@dataclass
class Line:
    speaker: str
    text: str
    key: str | None = None  # what questions call this turn


@dataclass
class Plan:
    """A conversation before it is laid out: blocks of lines per session, and questions
    that name their evidence by key."""

    sessions: list[list[list[Line]]]
    questions: list[dict[str, Any]] = field(default_factory=list)


class Builder:
    def __init__(self, family: str, rng: random.Random, conv_id: str, names: list[str]):
        self.f = family
        self.rng = rng
        self.id = conv_id
        self.speakers = names
        self.n = rng.randint(22, 28)
        start = date(rng.randint(2022, 2024), rng.randint(1, 12), rng.randint(1, 28))
        self.dates = [start]
        for _ in range(self.n - 1):
            self.dates.append(self.dates[-1] + timedelta(days=rng.randint(2, 9)))
        self.plan = Plan(sessions=[[] for _ in range(self.n)])
        self.keys = 0

    # -- placing lines --------------------------------------------------------------------
    def other(self, s: str) -> str:
        return self.speakers[1 - self.speakers.index(s)]

    def key(self) -> str:
        self.keys += 1
        return f"k{self.keys}"

    def say(self, session: int, s: str, text: str, mood: str = "neutral") -> str:
        """A planted line by ``s`` and the other's reaction; returns the line's key."""
        k = self.key()
        block = [Line(s, text, k)]
        if mood != "none":
            block.append(Line(self.other(s), self.rng.choice(T.REACT[self.f][mood])))
        self.plan.sessions[session].append(block)
        return k

    def ask(self, category: str, kind: str, about: str, text: str, evidence: list[str]):
        self.plan.questions.append(
            {
                "question": text,
                "answerer": self.other(about),
                "evidence": evidence,
                "category": category,
                "type": kind,
            }
        )

    def two_sessions(self, gap: int = 3) -> tuple[int, int]:
        first = self.rng.randint(0, self.n - 1 - gap)
        return first, self.rng.randint(first + gap, self.n - 1)

    # -- the facts ------------------------------------------------------------------------
    def build(self) -> None:
        rng = self.rng
        profiles = {s: {} for s in self.speakers}
        pick2 = {
            name: rng.sample(pool, 2)
            for name, pool in {
                "pet": pools.PETS,
                "job": pools.JOBS,
                "prof": pools.PROFESSIONS,
                "prof2": pools.PROFESSIONS,
                "allergy": pools.ALLERGIES,
                "instrument": pools.INSTRUMENTS,
                "car": pools.CARS,
                "hood": pools.NEIGHBOURHOODS,
                "book": pools.BOOKS,
                "home": pools.CITIES,
                "sport": pools.SPORTS,
                "phobia": pools.PHOBIAS,
                "dish": pools.DISHES,
                "subject": pools.SUBJECTS,
                "plant": pools.PLANTS,
                "volunteer": pools.VOLUNTEERING,
                "tattoo": pools.TATTOOS,
                "language": pools.LANGUAGES,
                "object": pools.OBJECTS,
                "relation": pools.RELATIONS,
                "shop": pools.SHOPS,
                "street": pools.STREETS,
                "swallowed": pools.SWALLOWED,
                "tool": pools.TOOLS,
                "venue": pools.VENUES,
                "souvenir": pools.SOUVENIRS,
                "old_job": pools.OLD_JOBS,
                "routine": pools.ROUTINES,
                "months": pools.MONTHS,
            }.items()
        }
        people = rng.sample(pools.RELATIVES, 8)
        friends = rng.sample(pools.FRIENDS, 6)
        cities = rng.sample(pools.CITIES, 4)
        hobbies = rng.sample(HOBBIES, 4)
        for i, s in enumerate(self.speakers):
            kind, breed, pet = pick2["pet"][i]
            v = {
                "S": s,
                "O": self.other(s),
                "kind": kind,
                "breed": breed,
                "pet": pet,
                "role": pick2["job"][i][0],
                "employer": pick2["job"][i][1],
                "sib": people[i],
                "profession": pick2["prof"][i][0],
                "profession_q": pick2["prof"][i][1],
                "allergen": pick2["allergy"][i][0],
                "allergen_q": pick2["allergy"][i][1],
                "avoid_dish": pick2["allergy"][i][2],
                "instrument": pick2["instrument"][i][0],
                "colour": pick2["car"][i][0],
                "car": pick2["car"][i][1],
                "hood": pick2["hood"][i],
                "book": pick2["book"][i],
                "city": pick2["home"][i][0],
                "sport": pick2["sport"][i][0],
                "phobia": pick2["phobia"][i][0],
                "dish": pick2["dish"][i][0],
                "subject": pick2["subject"][i][0],
                "career": pick2["subject"][i][1],
                "plant": pick2["plant"][i],
                "volunteer": pick2["volunteer"][i][0],
                "tattoo": pick2["tattoo"][i],
                "language": pick2["language"][i],
            }
            v["fear_activity"] = T.FEAR_ACTIVITIES[v["phobia"]]
            profiles[s] = v
            keys = self.single_facts(v)
            self.multi_facts(v, keys, i, people, friends, cities, pick2)
            self.events(v)
            self.inferences(v, keys, hobbies[2 * i : 2 * i + 2])

    def single_facts(self, v: dict[str, Any]) -> dict[str, tuple[str, int]]:
        keys = {}
        for kind, forms in T.SINGLE.items():
            form = forms[self.f]
            session = self.rng.randint(0, self.n - 6)
            text = self.rng.choice(form["say"]).format(**v)
            keys[kind] = (self.say(session, v["S"], text, T.MOOD[kind]), session)
            self.ask(
                "single-hop",
                kind,
                v["S"],
                self.rng.choice(form["ask"]).format(**v),
                [keys[kind][0]],
            )
        return keys

    def multi_facts(self, v, keys, i, people, friends, cities, pick2) -> None:
        rng = self.rng
        relation, pron, pron_s = pick2["relation"][i]
        values = {
            **v,
            "relation": relation,
            "pron": pron,
            "pron_s": pron_s,
            "rel": people[2 + i],
            "object": pick2["object"][i][0],
            "object_q": pick2["object"][i][1],
            "city": cities[i][0],
            "boss": people[4 + i],
            "old_job": pick2["old_job"][i][0],
            "routine": pick2["routine"][i][0],
            "routine_q": pick2["routine"][i][1],
            "friend": friends[i],
            "shop": pick2["shop"][i][0],
            "shop_q": pick2["shop"][i][1],
            "street": pick2["street"][i],
            "swallowed": pick2["swallowed"][i][0],
            "swallowed_q": pick2["swallowed"][i][1],
            "venue": pick2["venue"][i],
            "tool": pick2["tool"][i][0],
            "tool_q": pick2["tool"][i][1],
            "souvenir": pick2["souvenir"][i][0],
            "month": pick2["months"][i],
            "country": cities[2 + i][1],
        }
        for kind, forms in T.MULTI.items():
            form = forms[self.f]
            vals = dict(values)
            if kind == "neighbour":
                vals["friend"] = friends[2 + i]
                vals["profession"] = pick2["prof2"][i][0]
            if kind == "trip_souvenir":
                vals["city"] = cities[2 + i][0]
            if form["first"] is None:  # joins a single-hop fact told earlier
                first, at = keys["pet_name" if kind == "pet_vet" else "sibling"]
                later = rng.randint(min(at + 3, self.n - 1), self.n - 1)
            else:
                at, later = self.two_sessions()
                first = self.say(at, v["S"], form["first"].format(**vals), "neutral")
            second = self.say(later, v["S"], form["second"].format(**vals), "neutral")
            for question in form["ask"]:
                self.ask("multi-hop", kind, v["S"], question.format(**vals), [first, second])

    def events(self, v: dict[str, Any]) -> None:
        rng = self.rng
        chosen = rng.sample(T.EVENTS, 8)
        told = []
        for n, (statement, para_a, para_b) in enumerate(chosen):
            session = rng.randint(0, self.n - 1)
            phrase, rule = rng.choice(T.RELATIVE[self.f])
            when = relative_day(self.dates[session], rule)
            text = rng.choice(T.TELL[self.f]).format(rel=phrase, event=statement)
            key = self.say(session, v["S"], text[0].upper() + text[1:], "neutral")
            para = para_a if self.f == "A" else para_b
            told.append((when, para, key, session))
            asks = T.TEMPORAL_ASK[self.f]
            if n % 2 == 0:
                question = asks["when"].format(S=v["S"], para=para)
            else:
                form = rng.choice(T.DATE_FORMATS[self.f])
                shown = form.format(
                    day=when.day,
                    month=pools.MONTHS[when.month - 1],
                    year=when.year,
                    weekday=DAY_NAMES[when.weekday()],
                    day_th=ordinal(when.day),
                )
                question = asks["on"].format(S=v["S"], date=shown)
            self.ask("temporal", "event", v["S"], question, [key])
            if n < 2:
                period = "early" if when.day <= 10 else "mid" if when.day <= 20 else "late"
                self.ask(
                    "temporal",
                    "period",
                    v["S"],
                    asks["period"].format(
                        S=v["S"], period=period, month=pools.MONTHS[when.month - 1]
                    ),
                    [key],
                )
        pairs = [(a, b) for a in told for b in told if a[3] < b[3]]
        for a, b in rng.sample(pairs, min(2, len(pairs))):
            first, second = (a, b) if rng.random() < 0.5 else (b, a)
            self.ask(
                "temporal",
                "order",
                v["S"],
                T.TEMPORAL_ASK[self.f]["order"].format(S=v["S"], para1=first[1], para2=second[1]),
                [first[2], second[2]],
            )

    def inferences(self, v, keys, hobbies) -> None:
        asks = T.INFER[self.f]
        mentions = []
        for hobby in hobbies:
            sessions = self.rng.sample(range(self.n), 3)
            mentions.append(
                [
                    self.say(at, v["S"], line, self.rng.choice(["neutral", "good", "none"]))
                    for at, line in zip(sessions, hobby[self.f], strict=True)
                ]
            )
        first, second = hobbies
        vals = {**v, "gift": first["gift"], "trip": second["trip"]}
        self.ask("open-domain", "gift", v["S"], asks["gift"].format(**vals), mentions[0])
        self.ask("open-domain", "trip", v["S"], asks["trip"].format(**vals), mentions[1])
        self.ask(
            "open-domain",
            "pastime",
            v["S"],
            asks["pastime"].format(**vals),
            mentions[0] + mentions[1],
        )
        for kind, fact in (
            ("diet", "allergy"),
            ("career", "course"),
            ("petperson", "pet_name"),
            ("fear", "phobia"),
        ):
            self.ask("open-domain", kind, v["S"], asks[kind].format(**vals), [keys[fact][0]])

    # -- laying it out --------------------------------------------------------------------
    def fill(self, value_rng: random.Random) -> None:
        """Chit-chat and decoys around the planted lines, then the sessions' order."""
        rng = self.rng
        f = self.f
        for n, blocks in enumerate(self.plan.sessions):
            target = rng.randint(16, 24)
            weekday = DAY_NAMES[self.dates[n].weekday()]
            extra: list[list[Line]] = []
            planted = sum(len(b) for b in blocks)
            count = planted
            for _ in range(rng.randint(1, 2)):
                extra.append([Line(rng.choice(self.speakers), self.decoy(value_rng))])
                extra[-1].append(
                    Line(self.other(extra[-1][0].speaker), rng.choice(T.REACT[f]["neutral"]))
                )
                count += 2
            while count < target:
                first, reply = rng.choice(T.FILLER[f])
                s = rng.choice(self.speakers)
                vals = {
                    "friend": rng.choice(pools.FRIENDS),
                    "show": rng.choice(pools.SHOWS),
                    "food": rng.choice(pools.FOODS),
                    "weekday": weekday,
                }
                extra.append(
                    [
                        Line(s, self.vary(first.format(**vals))),
                        Line(self.other(s), self.vary(reply.format(**vals))),
                    ]
                )
                count += 2
            middle = blocks + extra
            rng.shuffle(middle)
            s = self.speakers[n % 2]
            hello, back = rng.choice(T.OPEN[f])
            bye, later = rng.choice(T.CLOSE[f])
            self.plan.sessions[n] = [
                [Line(s, hello), Line(self.other(s), back)],
                *middle,
                [Line(self.other(s), bye), Line(s, later)],
            ]

    def vary(self, line: str) -> str:
        lead = self.rng.choice(T.LEADS[self.f])
        if lead and not line.startswith("I "):
            line = line[0].lower() + line[1:]
        return lead + line + self.rng.choice(T.TAILS[self.f])

    def decoy(self, rng: random.Random) -> str:
        pet = rng.choice(pools.PETS)
        car = rng.choice(pools.CARS)
        vals = {
            "friend": rng.choice(pools.FRIENDS),
            "breed": pet[1],
            "profession": rng.choice(pools.PROFESSIONS)[0],
            "colour": car[0],
            "car": car[1],
            "city": rng.choice(pools.CITIES)[0],
            "subject": rng.choice(pools.SUBJECTS)[0],
            "dish": rng.choice(pools.DISHES)[0],
            "instrument": rng.choice(pools.INSTRUMENTS)[0],
            "phobia": rng.choice(pools.PHOBIAS)[0],
            "hood": rng.choice(pools.NEIGHBOURHOODS),
            "tattoo": rng.choice(pools.TATTOOS),
            "language": rng.choice(pools.LANGUAGES),
            "book": rng.choice(pools.BOOKS),
            "shop": rng.choice(pools.SHOPS)[0],
            "relation": rng.choice(pools.RELATIONS)[0],
            "sport": rng.choice(pools.SPORTS)[0],
            "object": rng.choice(pools.OBJECTS)[0],
        }
        return rng.choice(T.DECOYS[self.f]).format(**vals)

    def to_json(self) -> dict[str, Any]:
        sessions, ids = [], {}
        for n, blocks in enumerate(self.plan.sessions):
            turns = []
            for line in (line for block in blocks for line in block):
                tid = f"{self.id}-s{n + 1:02d}-t{len(turns) + 1:03d}"
                if line.key:
                    ids[line.key] = tid
                turns.append({"id": tid, "speaker": line.speaker, "text": line.text})
            sessions.append({"date": self.dates[n].isoformat(), "turns": turns})
        questions = [
            {**q, "evidence": [ids[k] for k in q["evidence"]]} for q in self.plan.questions
        ]
        return {
            "id": self.id,
            "speakers": self.speakers,
            "sessions": sessions,
            "questions": questions,
        }


def generate(family: str, *, seed: int, conversations: int) -> dict[str, Any]:
    rng = random.Random(f"{seed}-{family}")
    names = list(pools.NAMES_A if family == "A" else pools.NAMES_B)
    rng.shuffle(names)
    out = []
    for n in range(conversations):
        conv_rng = random.Random(f"{seed}-{family}-{n}")
        builder = Builder(family, conv_rng, f"{family.lower()}{n + 1}", names[2 * n : 2 * n + 2])
        builder.build()
        builder.fill(random.Random(f"{seed}-{family}-{n}-decoys"))
        out.append(builder.to_json())
    return {"conversations": out}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--conversations", type=int, default=6, help="per template family")
    parser.add_argument("--out-dir", default=str(Path(__file__).resolve().parents[1] / "fixtures"))
    args = parser.parse_args(argv)
    for family in ("A", "B"):
        data = generate(family, seed=args.seed, conversations=args.conversations)
        path = Path(args.out_dir) / f"devset_{family.lower()}.json.gz"
        path.parent.mkdir(parents=True, exist_ok=True)
        raw = json.dumps(data, indent=1, ensure_ascii=False).encode("utf-8")
        path.write_bytes(gzip.compress(raw, mtime=0))  # mtime 0: the same bytes every run
        convs = data["conversations"]
        turns = sum(len(s["turns"]) for c in convs for s in c["sessions"])
        questions = [q for c in convs for q in c["questions"]]
        cats: dict[str, int] = {}
        for q in questions:
            cats[q["category"]] = cats.get(q["category"], 0) + 1
        print(
            f"{path}: {len(convs)} conversations, {turns} turns, {len(questions)} questions "
            + ", ".join(f"{k} {v}" for k, v in sorted(cats.items()))
        )


if __name__ == "__main__":
    main()
