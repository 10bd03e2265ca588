"""What a change of line would do to a chat's state, in words a user can check.

Both the surgical-delete preview and the snapshot-restore preview compare the live tables with
a candidate state folded in memory (never the live file) and describe the difference by
content: memories removed or added, edge fields changed, story events and threads affected,
scene summaries that describe a turn that would no longer exist.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

Rows = dict[str, list[dict[str, Any]]]


def _memories(tables: Rows) -> dict[tuple, dict]:
    return {(m["owner"], m["kind"], m["text"]): m for m in tables.get("memory.Memory", [])}


def _keyed(tables: Rows, label: str, fields: tuple[str, ...]) -> dict[tuple, dict]:
    return {tuple(r[f] for f in fields): r for r in tables.get(label, [])}


def describe(live: Rows, candidate: Rows) -> dict[str, Any]:
    now, then = _memories(live), _memories(candidate)
    memories_removed = [{"owner": k[0], "kind": k[1], "text": k[2]} for k in now if k not in then]
    memories_added = [{"owner": k[0], "kind": k[1], "text": k[2]} for k in then if k not in now]
    edges = []
    a = _keyed(live, "worlds.Edge", ("source", "target"))
    b = _keyed(candidate, "worlds.Edge", ("source", "target"))
    for pair in sorted(set(a) | set(b)):
        before, after = a.get(pair, {}), b.get(pair, {})
        changes = {
            f: {"now": before.get(f), "after": after.get(f)}
            for f in ("affinity", "trust", "summary", "knowledge")
            if before.get(f) != after.get(f)
        }
        if changes:
            edges.append({"source": pair[0], "target": pair[1], "changes": changes})

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
        "memories_removed": memories_removed,
        "memories_added": memories_added,
        "edges": edges,
        "story_events": statuses("worlds.StoryEvent"),
        "threads": statuses("worlds.Thread"),
        "turns_removed": sum((turns_now - turns_then).values()),
    }
