"""Memory evaluation: ingest conversations into bare event streams (no model calls, no chat
rows: memory sits below play), ask each question as the answering bot's retrieval query,
measure evidence recall@k per retrieval mode."""

from __future__ import annotations

import gzip
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction

from eventstore.models import Stream
from eventstore.services import append, stream_open, stream_purge
from memory.indexing import index_now, query_vector
from memory.models import Memory
from memory.retrieval import MODES, retrieve
from worlds.lines import line_payload
from worlds.roles import BOTS, GUEST, HOST, YOU, witness_mask


class EvalFileError(ValueError):
    pass


def load(path: str | Path) -> list[dict[str, Any]]:
    try:
        raw = Path(path).read_bytes()
        data = json.loads(gzip.decompress(raw) if str(path).endswith(".gz") else raw)
    except (OSError, ValueError) as exc:
        raise EvalFileError(f"{path}: {exc}") from exc
    conversations = data.get("conversations") if isinstance(data, dict) else None
    if not isinstance(conversations, list) or not conversations:
        raise EvalFileError(f'{path}: expected {{"conversations": [...]}}')
    for conv in conversations:
        speakers = conv.get("speakers")
        if not (isinstance(speakers, list) and len(speakers) == 2 and speakers[0] != speakers[1]):
            raise EvalFileError(f"conversation {conv.get('id')}: needs two distinct speakers")
        ids = {t["id"] for s in conv.get("sessions", []) for t in s.get("turns", [])}
        for q in conv.get("questions", []):
            missing = [e for e in q.get("evidence", []) if e not in ids]
            if missing:
                raise EvalFileError(f"{conv.get('id')}: evidence {missing} not in the turns")
            if q.get("answerer", speakers[1]) not in speakers:
                raise EvalFileError(f"{conv.get('id')}: answerer {q.get('answerer')!r} unknown")
    return conversations


@dataclass
class Ingested:
    chat: Stream
    roles: dict[str, str]  # speaker name -> host | guest
    turns: dict[int, str] = field(default_factory=dict)  # our turn id -> file turn id


def ingest(conv: dict[str, Any]) -> Ingested:
    """One stream per conversation: the first speaker is the host, the second the guest, both
    bots without a character row (the projections need only the roles and names)."""
    a, b = conv["speakers"]
    with transaction.atomic():
        chat = Stream.objects.create()
        stream_open(stream=chat)
        append(
            stream=chat,
            kind="chat_started",
            payload={
                "title": f"eval {conv.get('id', '')}",
                "location": "here",
                "containers": [{"key": "here", "name": "here"}],
                "entities": [
                    {"role": YOU, "name": "Evaluator", "present": False},
                    {"role": HOST, "name": a, "present": True},
                ],
            },
        )
        append(stream=chat, kind="guest_added", payload={"role": GUEST, "name": b})
        result = Ingested(chat, {a: HOST, b: GUEST})
        witnesses = witness_mask(BOTS)
        for n, session in enumerate(conv["sessions"]):
            if n:
                append(stream=chat, kind="scene_closed", payload={"reason": "next session"})
            when = f"{session['date']}T12:00"
            append(stream=chat, kind="world_changed", payload={"story_time": when})
            scene = n + 1
            for turn in session["turns"]:
                role = result.roles[turn["speaker"]]
                said = line_payload(
                    speaker=role,
                    name=turn["speaker"],
                    text=turn["text"],
                    source="import",
                    witnesses=witnesses,
                    scene=scene,
                    story_time=when,
                )
                record = append(stream=chat, kind="assistant_turn", payload=said)
                result.turns[record.id] = turn["id"]
    return result


def discard(ingested: Ingested) -> None:
    stream_purge(stream=ingested.chat)


def evaluate(path: str | Path, *, ks: list[int], modes: list[str]) -> dict[str, Any]:
    conversations = load(path)
    k_max = max(ks)
    totals = {
        m: {"hits": {k: 0.0 for k in ks}, "by_category": {}, "ms": [], "bare": [], "n": 0}
        for m in modes
    }
    for conv in conversations:
        ingested = ingest(conv)
        try:
            if any(m in ("vector", "hybrid") for m in modes):
                index_now(ingested.chat.pk)
                query_vector("warm up")  # the first encode is slow; do not bill a question
            for q in conv.get("questions", []):
                role = ingested.roles[q.get("answerer", conv["speakers"][1])]
                evidence = set(q["evidence"])
                vector, embed_ms = None, 0.0
                if any(m in ("vector", "hybrid") for m in modes):
                    started = time.perf_counter()
                    # once, counted for both modes
                    vector = query_vector(q["question"], chat_id=ingested.chat.pk)
                    embed_ms = (time.perf_counter() - started) * 1000
                for mode in modes:
                    started = time.perf_counter()
                    found = retrieve(
                        ingested.chat.pk,
                        role,
                        q["question"],
                        k=k_max,
                        mode=mode,
                        query_vector=vector if mode in ("vector", "hybrid") else None,
                    )
                    elapsed = (time.perf_counter() - started) * 1000
                    ranked = _turn_ids(found, ingested.turns)
                    bucket = totals[mode]
                    bucket["bare"].append(elapsed)
                    embedded = mode in ("vector", "hybrid")
                    bucket["ms"].append(elapsed + (embed_ms if embedded else 0.0))
                    bucket["n"] += 1
                    category = bucket["by_category"].setdefault(
                        q.get("category", "uncategorised"), {"hits": {k: 0.0 for k in ks}, "n": 0}
                    )
                    category["n"] += 1
                    for k in ks:
                        recall = len(evidence & set(ranked[:k])) / len(evidence)
                        bucket["hits"][k] += recall
                        category["hits"][k] += recall
        finally:
            discard(ingested)
    return {
        "modes": {
            mode: {
                **{f"recall@{k}": round(b["hits"][k] / max(1, b["n"]), 4) for k in ks},
                "by_category": {
                    cat: {f"recall@{k}": round(c["hits"][k] / max(1, c["n"]), 4) for k in ks}
                    for cat, c in sorted(b["by_category"].items())
                },
                "ms_per_query": round(sum(b["ms"]) / max(1, b["n"]), 2),
                "latency_ms": {
                    "with_embedding": _percentiles(b["ms"]),
                    "without_embedding": _percentiles(b["bare"]),
                },
                "questions": b["n"],
            }
            for mode, b in totals.items()
        }
    }


def _percentiles(values: list[float]) -> dict[str, float]:
    """p50 and p95 by the nearest-rank method (no interpolation between two queries)."""
    if not values:
        return {"p50": 0.0, "p95": 0.0}
    ordered = sorted(values)

    def rank(p: float) -> float:
        return round(ordered[max(0, math.ceil(p * len(ordered)) - 1)], 2)

    return {"p50": rank(0.50), "p95": rank(0.95)}


def _turn_ids(found, turns: dict[int, str]) -> list[str]:
    ranked: list[str] = []
    for r in found:
        if isinstance(r.memory, Memory) and r.memory.turn_id in turns:
            tid = turns[r.memory.turn_id]
            if tid not in ranked:
                ranked.append(tid)
    return ranked


__all__ = ["MODES", "EvalFileError", "evaluate", "load"]
