"""How a relationship reads in words: the model gets a band, the app keeps the number.

A small model follows "is fond of Sam and trusts him a little" better than "affinity +31/100,
trust +12/100", and a band holds while the number moves inside it, so the prompt's text (and
the cache that reuses it) changes only when the feeling really does.
"""

from __future__ import annotations

# (lowest value of the band, words), highest band first
AFFINITY = (
    (60, "loves"),
    (30, "is fond of"),
    (10, "likes"),
    (-9, "feels nothing much either way about"),
    (-29, "is cool toward"),
    (-59, "dislikes"),
    (-100, "can't stand"),
)
TRUST = (
    (60, "trusts them completely"),
    (30, "trusts them"),
    (10, "trusts them a little"),
    (-9, "is not sure whether to trust them"),
    (-29, "is wary of them"),
    (-59, "distrusts them"),
    (-100, "does not trust them at all"),
)


def band(value: int, bands: tuple[tuple[int, str], ...]) -> str:
    for lowest, words in bands:
        if value >= lowest:
            return words
    return bands[-1][1]


def feeling(source: str, target: str, affinity: int, trust: int) -> str:
    """``source`` → ``target`` in words: "Mara is fond of Sam and trusts them a little."."""
    return f"{source} {band(affinity, AFFINITY)} {target} and {band(trust, TRUST)}."
