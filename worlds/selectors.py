"""Reads of a chat's world that several callers share: one rule, one place."""

from __future__ import annotations

from worlds.models import EntityState
from worlds.roles import BOTS, witness_mask


def present_roles(chat_id: int) -> set[str]:
    """Which roles are in the scene now."""
    return set(
        EntityState.objects.filter(chat_id=chat_id, present=True).values_list("role", flat=True)
    )


def present_bots(chat_id: int) -> dict[str, str]:
    """The bots in the scene now, role → name."""
    return dict(
        EntityState.objects.filter(chat_id=chat_id, present=True, role__in=BOTS).values_list(
            "role", "name"
        )
    )


def witnesses_now(chat_id: int) -> dict[str, bool]:
    """The witness mask of a line said now."""
    return witness_mask(present_roles(chat_id))
