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
