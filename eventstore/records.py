from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class EventRecord:
    """What a projector sees of an event: the same object live and on replay."""

    id: int
    stream_id: int
    branch_id: int
    seq: int
    kind: str
    payload: dict[str, Any]
    caused_by_id: int | None
    created_at: str

    @classmethod
    def from_row(cls, row: tuple) -> EventRecord:
        ev_id, stream_id, branch_id, seq, kind, payload, caused_by_id, created_at = row
        if isinstance(payload, str):
            payload = json.loads(payload)
        return cls(ev_id, stream_id, branch_id, seq, kind, payload, caused_by_id, str(created_at))


def normalise_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """Round-trip through JSON so a live projector sees exactly what replay will read back."""
    return json.loads(json.dumps(payload, ensure_ascii=False))
