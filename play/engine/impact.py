"""What a change of line would do to a chat's state, in words a user can check.

Both the surgical-delete preview and the snapshot-restore preview compare the live tables with
a candidate state folded in memory (never the live file). The comparison is one diff over
every projected table and every field (``changes``): nothing is listed by hand, so a field
added to a projection is in the preview from its first day. Rows are matched by their natural
key; ids of events that are copied onto the new branch are read as their copies (``ids``), so
that being renumbered is not a change. Each entry says what the field is now and what it
becomes; the page groups them by kind. The older summary keys (memories removed, edges,
story events, threads, turns removed) are kept for the snapshot page and the API.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from eventstore.projection import projection_models

Rows = dict[str, list[dict[str, Any]]]

# How the page names each table's rows, in the order it shows them.
KINDS = {
    "play.Turn": "transcript",
    "memory.Memory": "memories",
    "worlds.Edge": "relationships",
    "worlds.EntityState": "characters",
    "worlds.CastMember": "characters",
    "worlds.Activity": "what everyone is doing",
    "worlds.GroupNode": "the group",
    "worlds.StoryEvent": "story events",
    "worlds.Thread": "threads",
    "worlds.Scene": "scenes",
    "worlds.Container": "places",
    "worlds.WorldState": "the world",
    "worlds.AuthorsNote": "author's note",
    "worlds.ChatLorebook": "world info",
    "worlds.LoreTimedState": "world info",
    "play.ClassifierFailure": "model failures",
    "worlds.Witness": "who witnessed what",
}
# Fields that say where a value came from or in what order, not what the story holds: shown
# folded under "bookkeeping" in the page.
INTERNAL = {
    "prov",
    "seq",
    "sources",
    "source_event",
    "words",
    "names",
    "renames",
    "keys",
    "dates",
    "recalled",
}


def _map_refs(value: Any, path: list[str], ids: dict[int, int]) -> Any:
    """``value`` with the event ids at ``path`` ("*": every key; a list: every item) read
    as the ids of their copies."""
    if not path:
        if isinstance(value, list):
            mapped = [_map_refs(v, [], ids) for v in value]
            # a set of ids kept sorted (a provenance's sources) stays sorted through the map
            if all(isinstance(v, int) for v in value) and value == sorted(value):
                mapped.sort()
            return mapped
        return ids.get(value, value) if isinstance(value, int) else value
    head, rest = path[0], path[1:]
    if isinstance(value, list):
        return [_map_refs(v, path, ids) for v in value]
    if not isinstance(value, dict):
        return value
    if head == "*":
        return {k: _map_refs(v, rest, ids) for k, v in value.items()}
    if head not in value:
        return value
    return {**value, head: _map_refs(value[head], rest, ids)}


def _normalised(model, row: dict[str, Any], ids: dict[int, int]) -> dict[str, Any]:
    """A live row as it reads after the renumbering (its event references mapped)."""
    if not ids:
        return row
    out = dict(row)
    for ref in model.event_refs:
        name, *path = ref.split(".")
        if name in out:
            out[name] = _map_refs(out[name], path, ids)
    if model.stable_pk and "id" in out:
        event, n = divmod(out["id"], model.ids_per_event)
        out["id"] = ids.get(event, event) * model.ids_per_event + n
    return out


def _key(model, row: dict[str, Any]) -> tuple:
    fields = [f for f in model.natural_key_fields if f != model.stream_key] or ["id"]
    return tuple(row.get(f) for f in fields)


def _label(label: str, row: dict[str, Any], names: dict[str, str]) -> str:
    """A row named as the page says it."""
    if label == "play.Turn":
        return f"{row.get('name') or row.get('speaker')}: “{_short(row.get('text'))}”"
    if label == "memory.Memory":
        owner = names.get(row.get("owner", ""), row.get("owner"))
        return f"{owner}'s memory “{_short(row.get('text'))}”"
    if label == "worlds.Edge":
        return (
            f"{names.get(row['source'], row['source'])} → {names.get(row['target'], row['target'])}"
        )
    if label in ("worlds.EntityState", "worlds.Activity"):
        return names.get(row.get("role", ""), row.get("name") or row.get("role", ""))
    if label == "worlds.CastMember":
        return row.get("name") or row.get("key", "")
    if label in ("worlds.StoryEvent", "worlds.Thread"):
        return row.get("title") or row.get("key", "")
    if label == "worlds.Scene":
        return f"scene {row.get('number')}"
    if label == "worlds.Container":
        return row.get("name") or row.get("key", "")
    if label == "worlds.Witness":
        return f"line #{row.get('event')}"
    if label == "play.ClassifierFailure":
        return f"{row.get('prompt_kind')} failure"
    return KINDS.get(label, label)


def _short(text: Any, n: int = 80) -> str:
    text = str(text or "")
    return text if len(text) <= n else text[: n - 1] + "…"


def changes(live: Rows, candidate: Rows, ids: dict[int, int] | None = None) -> list[dict]:
    """Every difference between two states of one chat, field by field: ``{"kind", "table",
    "key", "label", "field", "now", "after", "internal"}``; a row only one side has is one
    entry with ``field`` ``None`` (``now`` or ``after`` the whole row)."""
    ids = ids or {}
    names = _names(live) | _names(candidate)
    out: list[dict[str, Any]] = []
    for model in projection_models():
        label = model._meta.label
        skip = {model._meta.pk.attname} if not model.stable_pk else set()
        skip |= {model.stream_key, *model.diff_ignores}
        before = {
            _key(model, r): r for r in (_normalised(model, row, ids) for row in live.get(label, []))
        }
        after = {_key(model, r): r for r in candidate.get(label, [])}
        for key in sorted(set(before) | set(after), key=lambda k: tuple(map(str, k))):
            a, b = before.get(key), after.get(key)
            entry = {
                "kind": KINDS.get(label, label),
                "table": label,
                "key": list(key),
                "label": _label(label, a or b, names),
            }
            if a is None or b is None:
                row = {k: v for k, v in (a or b).items() if k not in skip}
                out.append({**entry, "field": None, "now": a and row, "after": b and row})
                out[-1]["internal"] = label == "worlds.Witness"
                continue
            for field in sorted(set(a) | set(b)):
                if field in skip or a.get(field) == b.get(field):
                    continue
                out.append(
                    {
                        **entry,
                        "field": field,
                        "now": a.get(field),
                        "after": b.get(field),
                        "internal": field in INTERNAL or label == "worlds.Witness",
                    }
                )
    return out


def grouped(entries: list[dict]) -> list[dict[str, Any]]:
    """The entries the page shows, by kind in ``KINDS`` order; bookkeeping last."""
    order = list(dict.fromkeys(KINDS.values()))
    groups: dict[str, list[dict]] = {}
    for e in entries:
        groups.setdefault("bookkeeping" if e["internal"] else e["kind"], []).append(e)
    ranked = sorted(groups, key=lambda k: order.index(k) if k in order else len(order))
    return [{"kind": k, "entries": groups[k]} for k in ranked]


def _names(tables: Rows) -> dict[str, str]:
    """Character keys and seats → names (edges are keyed by character, entities by seat)."""
    out = {m["key"]: m["name"] for m in tables.get("worlds.CastMember", [])}
    out.update({e["role"]: e["name"] for e in tables.get("worlds.EntityState", [])})
    return out


def _memories(tables: Rows) -> dict[tuple, dict]:
    return {(m["owner"], m["kind"], m["text"]): m for m in tables.get("memory.Memory", [])}


def _keyed(tables: Rows, label: str, fields: tuple[str, ...]) -> dict[tuple, dict]:
    return {tuple(r[f] for f in fields): r for r in tables.get(label, [])}


def describe(live: Rows, candidate: Rows, ids: dict[int, int] | None = None) -> dict[str, Any]:
    entries = changes(live, candidate, ids)
    now, then = _memories(live), _memories(candidate)
    memories_removed = [{"owner": k[0], "kind": k[1], "text": k[2]} for k in now if k not in then]
    memories_added = [{"owner": k[0], "kind": k[1], "text": k[2]} for k in then if k not in now]
    edges = []
    a = _keyed(live, "worlds.Edge", ("source", "target"))
    b = _keyed(candidate, "worlds.Edge", ("source", "target"))
    names = _names(candidate) | _names(live)
    for pair in sorted(set(a) | set(b)):
        before, after = a.get(pair, {}), b.get(pair, {})
        diff = {
            f: {"now": before.get(f), "after": after.get(f)}
            for f in ("affinity", "trust", "summary", "knowledge", "last_interaction")
            if before.get(f) != after.get(f)
        }
        if diff:
            edges.append(
                {
                    "source": names.get(pair[0], pair[0]),
                    "target": names.get(pair[1], pair[1]),
                    "source_key": pair[0],
                    "target_key": pair[1],
                    "changes": diff,
                }
            )

    def statuses(label: str) -> list[dict]:
        x, y = _keyed(live, label, ("key",)), _keyed(candidate, label, ("key",))
        out = []
        for key in sorted(set(x) | set(y)):
            s1 = x.get(key, {}).get("status", "—")
            s2 = y.get(key, {}).get("status", "—")
            if s1 != s2:
                title = (x.get(key) or y.get(key))["title"]
                out.append({"key": key[0], "title": title, "now": s1, "after": s2})
        return out

    # by content: surviving turns are copies with new ids
    turns_now = Counter((t["speaker"], t["text"]) for t in live.get("play.Turn", []))
    turns_then = Counter((t["speaker"], t["text"]) for t in candidate.get("play.Turn", []))
    return {
        "changes": entries,
        "groups": grouped(entries),
        "memories_removed": memories_removed,
        "memories_added": memories_added,
        "edges": edges,
        "story_events": statuses("worlds.StoryEvent"),
        "threads": statuses("worlds.Thread"),
        "turns_removed": sum((turns_now - turns_then).values()),
    }
