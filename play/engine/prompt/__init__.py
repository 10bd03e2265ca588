"""Prompt assembly from one speaker's view only, with budgets and trim tiers.

The named section builders (``sections``) each say one thing the speaker may know; this module
puts them in order, trims them to the budgets and renders the chat messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from memory import selectors as memory_selectors
from play.engine.inference.base import Message
from play.engine.prompt import sections as s
from play.engine.prompt.context import PromptContext, read_context
from play.engine.prompt.sections import Section
from play.models import Chat

# When over budget, sections are dropped in this order (first = dropped first).
TRIM_ORDER = (
    "example messages",
    "retrieved memories",
    "earlier scenes",
    "lore",
    "while you were away",
    "earlier dialogue",
    "story events",
    "active threads",
    "active scene",
    "group",
    "edge to other bot",
    "pinned memories",
)


@dataclass
class Prompt:
    speaker: str
    speaker_name: str
    messages: list[Message]
    sections: list[dict[str, Any]]
    memories: list[dict[str, Any]]
    max_tokens: int
    stop: list[str]
    total_tokens: int
    lore: list[dict[str, Any]] = field(default_factory=list)

    def record(self) -> dict[str, Any]:
        """What the assistant_turn event stores about its prompt."""
        return {
            "messages": self.messages,
            "sections": self.sections,
            "memories": self.memories,
            "lore": self.lore,
            "total_tokens": self.total_tokens,
        }


def build_prompt(
    chat: Chat, speaker: str, *, query: str = "", extra_note: str = "", query_vector=None
) -> Prompt:
    ctx = read_context(chat, speaker, query=query, extra_note=extra_note, query_vector=query_vector)
    characters = {role: e.character_id for role, e in ctx.entities.items()}
    with memory_selectors.known_characters(chat.pk, characters):
        return assemble(ctx, build_sections(ctx))


def build_sections(ctx: PromptContext) -> list[Section]:
    """Every section the speaker's prompt may hold, in prompt order."""
    earlier_dialogue, recent_dialogue = s.dialogue(ctx)
    pinned = s.pinned_memories(ctx)
    digests = s.while_you_were_away(ctx)
    shown = {m["id"] for section in (pinned, digests) if section for m in section.memories}
    earlier = s.earlier_scenes(ctx, skip_ids=shown)
    if earlier:
        shown |= {m["id"] for m in earlier.memories}
    found = s.retrieved_memories(ctx, skip_ids=shown, query=ctx.query or _bot_texts(ctx))
    ordered = [
        s.identity(ctx),
        s.edge_to_you(ctx),
        s.edge_to_other_bot(ctx),
        s.group(ctx),
        s.world(ctx),
        s.active_scene(ctx),
        s.activity(ctx),
        s.active_threads(ctx),
        s.example_messages(ctx),
        pinned,
        digests,
        earlier,
        found,
        s.lore(ctx),
        s.story_events(ctx),
        earlier_dialogue,
        recent_dialogue,
        s.closing_instructions(ctx),
    ]
    return [section for section in ordered if section is not None]


def _bot_texts(ctx: PromptContext) -> str:
    """The retrieval query when the caller gave none: the newest turns of the window."""
    return " ".join(ctx.scanned[-s.RECENT_MUST :])


def assemble(ctx: PromptContext, sections: list[Section]) -> Prompt:
    for section in sections:  # every line of every section passes the one gate
        section.lines = ctx.gate.lines(section.lines)
        section.text = "\n".join(line.text for line in section.lines)
    trim(
        sections,
        soft=int(ctx.budgets["narrative_soft"]),
        hard=int(ctx.budgets["narrative_hard"]),
    )
    included = [section for section in sections if section.included]
    closing = next(x.text for x in included if x.name == "closing instructions")
    context = [
        f"## {x.name}\n{x.text}" for x in included if x.text and x.name != "closing instructions"
    ]
    messages: list[Message] = [{"role": "system", "content": "\n\n".join(context)}]
    for x in included:
        messages.extend(x.dialogue)
    messages = alternate(messages)
    if messages[-1]["role"] == "user":
        messages[-1] = {"role": "user", "content": messages[-1]["content"] + f"\n\n[{closing}]"}
    else:
        messages.append({"role": "user", "content": f"[{closing}]"})
    names = ctx.names
    reply = s.reply_tokens(ctx)
    return Prompt(
        speaker=ctx.speaker,
        speaker_name=ctx.me.name,
        messages=messages,
        sections=[
            {
                "name": x.name,
                "tier": x.tier,
                "tokens": x.tokens,
                "included": x.included,
                "lines": [
                    {"text": line.text, "sources": line.origin}
                    for line in (x.lines + x.dialogue_lines)
                ],
            }
            for x in sections
        ],
        memories=[m for x in included for m in x.memories],
        lore=[entry for x in included for entry in x.lore],
        max_tokens=int(reply * 1.6),
        stop=[f"\n{names[r]}:" for r in ctx.present if r != ctx.speaker and r in names],
        total_tokens=sum(x.tokens for x in included),
    )


def alternate(messages: list[Message]) -> list[Message]:
    """Merge consecutive same-role messages: many chat templates demand alternation."""
    merged: list[Message] = []
    for m in messages:
        if merged and merged[-1]["role"] == m["role"]:
            merged[-1] = {"role": m["role"], "content": merged[-1]["content"] + "\n" + m["content"]}
        else:
            merged.append(dict(m))
    return merged


def trim(sections: list[Section], *, soft: int, hard: int) -> None:
    def total() -> int:
        return sum(x.tokens for x in sections if x.included)

    for limit, tiers in ((soft, {"nice"}), (hard, {"nice", "should"})):
        for name in TRIM_ORDER:
            if total() <= limit:
                break
            for x in sections:
                if x.name == name and x.tier in tiers and x.included:
                    x.included = False
    if total() > hard:
        # Only must sections remain: shorten the identity text rather than fail the turn.
        over = total() - hard
        for x in sections:
            if x.name == "identity" and x.included:
                keep = max(200, len(x.text) - over * 4)
                x.text = x.text[:keep] + "…"
