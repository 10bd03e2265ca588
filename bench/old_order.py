"""The old prompt order (before issue 18), rebuilt from a new prompt's own sections, for the
benchmarks' baselines (bench/prefix.py, bench/ttft_embedded.py)."""

from __future__ import annotations

# Sections of the old order's system message, in its order ("lore" takes every World Info
# section and the Author's Note; "identity" takes the state line).
OLD_ORDER = (
    "identity",
    "edge to you",
    "edge to other bot",
    "group",
    "world",
    "active scene",
    "activity",
    "active threads",
    "example messages",
    "pinned memories",
    "while you were away",
    "earlier scenes",
    "retrieved memories",
    "lore",
    "story events",
)
DIALOGUE = ("earlier dialogue", "recent dialogue")


def old_order(prompt: dict, turns: dict[int, dict], speaker: str, window: int) -> list[dict]:
    """The request the old layout would have sent, from this prompt's own sections."""
    sections = {s["name"]: s for s in prompt["sections"]}

    def texts(section: dict | None) -> list[str]:
        if not section or not section["included"]:
            return []
        return [line["text"] for line in section["lines"]]

    system: dict[str, list[str]] = {}
    identity = texts(sections.get("identity"))
    persona = next((i for i, t in enumerate(identity) if "(the user's character):" in t), None)
    at = len(identity) if persona is None else persona
    system["identity"] = identity[:at] + texts(sections.get("state")) + identity[at:]
    for name in OLD_ORDER[1:]:
        if name == "lore":
            system[name] = [
                t
                for s in prompt["sections"]
                if s["name"].startswith("lore") or s["name"] == "author's note"
                for t in texts(s)
            ]
        else:
            system[name] = texts(sections.get(name))
    lines = [
        (line["sources"][0], line["text"])
        for name in DIALOGUE
        for line in (sections.get(name) or {"lines": []})["lines"]
        if line["sources"]
    ]
    scene = turns[lines[-1][0]]["scene"] if lines else None
    recent = [(tid, text) for tid, text in lines if turns[tid]["scene"] == scene][-window:]
    context = [f"## {name}\n" + "\n".join(system[name]) for name in OLD_ORDER if system[name]]
    messages = [{"role": "system", "content": "\n\n".join(context)}]
    for tid, text in recent:
        role = "assistant" if turns[tid]["speaker"] == speaker else "user"
        if messages[-1]["role"] == role:
            messages[-1] = {"role": role, "content": messages[-1]["content"] + "\n" + text}
        else:
            messages.append({"role": role, "content": text})
    closing = "\n".join(texts(sections.get("closing instructions")))
    if messages[-1]["role"] == "user":
        messages[-1] = {"role": "user", "content": messages[-1]["content"] + f"\n\n[{closing}]"}
    else:
        messages.append({"role": "user", "content": f"[{closing}]"})
    return messages
