"""The three entities of a scene and the relationships the cap makes enumerable."""

from __future__ import annotations

from collections.abc import Iterable

YOU, HOST, GUEST = "you", "host", "guest"
ROLES: tuple[str, ...] = (YOU, HOST, GUEST)
BOTS: tuple[str, ...] = (HOST, GUEST)
ROLE_CHOICES = [(r, r) for r in ROLES]
# All six directed edges. Each is its own row: never collapse a pair into one.
PAIRS: tuple[tuple[str, str], ...] = tuple((a, b) for a in ROLES for b in ROLES if a != b)

AFFINITY_RANGE = (-100, 100)
TRUST_RANGE = (-100, 100)


def clamp(value: int, bounds: tuple[int, int]) -> int:
    return max(bounds[0], min(bounds[1], value))


def configuration(present: set[str] | frozenset[str]) -> str:
    """The scene configuration named by who is present (exactly four; docs/design.md, Vocabulary)."""
    bots = present & {HOST, GUEST}
    if YOU in present:
        if bots == {HOST, GUEST}:
            return "all three"
        return "host+you" if HOST in bots else "guest+you"
    return "meanwhile"


def witness_mask(present: Iterable[str]) -> dict[str, bool]:
    """Who witnesses a line said now: exactly the roles present in the scene."""
    present = set(present)
    return {r: r in present for r in ROLES}


# The speaker of lines no entity says (time skips, scene breaks).
NARRATOR = "narrator"
