"""Building big chats for the benchmarks, fast: memories in batches of 64 per event, random
unit vectors straight into the index (the benchmarks time retrieval, not embedding)."""

from __future__ import annotations

import random

from bench.retrieval import DIMS, sentence


def add_memories(chat, n: int, rng: random.Random) -> None:
    from bench.retrieval import fill

    fill(chat, n, rng)


def add_turns(chat, n_events: int, rng: random.Random) -> None:
    """Ordinary play: user turn, bot turn, an edge update and a significance, repeated."""
    from django.db import transaction

    from eventstore.services import append

    witnesses = {"you": True, "host": True, "guest": False}
    made = 0
    with transaction.atomic():
        while made < n_events:
            user = append(
                stream=chat,
                kind="user_turn",
                payload={
                    "speaker": "you",
                    "name": "Sam",
                    "text": sentence(rng, 16),
                    "witnesses": witnesses,
                },
            )
            bot = append(
                stream=chat,
                kind="assistant_turn",
                payload={
                    "speaker": "host",
                    "name": "Mara",
                    "text": sentence(rng, 40),
                    "witnesses": witnesses,
                    "reply_to": user.id,
                    "source": "import",
                },
            )
            append(
                stream=chat,
                kind="edge_update",
                caused_by=bot.id,
                payload={
                    "edges": [
                        {"source": "host", "target": "you", "affinity_delta": rng.randint(-2, 2)}
                    ]
                },
            )
            append(
                stream=chat,
                kind="memory_significance_set",
                caused_by=bot.id,
                payload={"turn_id": bot.id, "significance": rng.choice((0, 0, 1, 2, 3))},
            )
            made += 4


def random_vector(rng_seed: int = 1):
    import numpy as np

    v = np.random.default_rng(rng_seed).standard_normal(DIMS).astype(np.float32)
    return v / np.linalg.norm(v)


def add_derived(chat, rng: random.Random, n: int = 12) -> None:
    """What analyses leave behind, written from the latest lines' own words (so the gate's
    word check reads distinctive words on every derived line): moods, goals, edge knowledge,
    activities, threads."""
    from django.db import transaction

    from eventstore.services import append
    from play.models import Turn

    lines = list(Turn.objects.filter(chat=chat).order_by("-id")[:n])
    with transaction.atomic():
        for i, turn in enumerate(lines):
            words = turn.text.split()
            said = " ".join(rng.sample(words, min(6, len(words))))
            sources = [turn.pk]
            append(
                stream=chat,
                kind="entity_state_change",
                payload={
                    "changes": [{"role": "host", "mood": said[:200], "goals": f"{said}. {said}"}],
                    "sources": sources,
                },
            )
            append(
                stream=chat,
                kind="edge_update",
                payload={
                    "edges": [
                        {
                            "source": "host",
                            "target": "you",
                            "knowledge_facts": [said],
                            "last_interaction": said,
                        }
                    ],
                    "sources": sources,
                },
            )
            append(
                stream=chat,
                kind="activity_change",
                payload={
                    "changes": [{"role": "host", "verb": said[:200], "attention": said[:200]}],
                    "sources": sources,
                },
            )
            append(
                stream=chat,
                kind="thread_opened",
                payload={"key": f"t{i}", "title": said[:200], "notes": said, "sources": sources},
            )
