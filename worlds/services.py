"""Writes to a chat's world state: every one appends an event, never a row."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from eventstore.models import StreamRef, stream_id_of
from eventstore.records import EventRecord
from eventstore.services import append
from worlds.projectors import MANUAL_TARGETS
from worlds.roles import AFFINITY_RANGE, clamp

# What a manual_edit may change, by target name: the world's own tables, plus whatever the
# apps above register from their AppConfig.ready() (memory registers its memories).
_EDIT_TARGETS: dict[str, tuple[type, tuple[str, ...]]] = dict(MANUAL_TARGETS)


def edit_target_register(*, name: str, model: type, fields: tuple[str, ...]) -> None:
    _EDIT_TARGETS[name] = (model, fields)


def _clean(model: type, name: str, value: Any) -> Any:
    field = model._meta.get_field(name)
    try:
        value = field.to_python(value)
    except ValidationError as exc:
        raise ValueError(f"{name}: {'; '.join(exc.messages)}") from exc
    if name in ("affinity", "trust"):
        value = clamp(int(value), AFFINITY_RANGE)
    if name == "significance" and not 0 <= int(value) <= 3:
        raise ValueError("significance is 0 (routine) to 3 (pivotal)")
    return value


def manual_edit(
    *,
    chat: StreamRef,
    target: str,
    key: dict[str, Any],
    changes: dict[str, Any],
    caused_by: int | None = None,
) -> EventRecord:
    """Record a hand edit of chat state (admin or drawer) as a ``manual_edit`` event."""
    targets = _EDIT_TARGETS
    chat_id = stream_id_of(chat)
    if target not in targets:
        raise ValueError(f"unknown edit target {target!r}; one of {', '.join(sorted(targets))}")
    model, allowed = targets[target]
    unknown = set(changes) - set(allowed)
    if unknown:
        raise ValueError(f"{target} fields that cannot be edited: {', '.join(sorted(unknown))}")
    if not changes:
        raise ValueError("nothing to change")
    lookup = dict(key)
    if model.natural_key_fields != ("id",):
        lookup["chat_id"] = chat_id
    if not model.objects.filter(**lookup).exists():
        raise ValueError(f"no {target} {key} in chat {chat_id}")
    cleaned = {name: _clean(model, name, value) for name, value in changes.items()}
    return append(
        stream=chat_id,
        kind="manual_edit",
        payload={"target": target, "key": key, "changes": cleaned},
        caused_by=caused_by,
    )
