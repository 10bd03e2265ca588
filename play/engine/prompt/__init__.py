"""Prompt assembly from one speaker's view only, ordered by how often each part changes.

The named section builders (``sections``) each say one thing the speaker may know; every line
passes the gate. They are laid out by volatility so that consecutive prompts share a long
prefix (and a model server's prompt cache hits):

1. **system** — what rarely changes: instructions, the speaker's card, the persona, World Info
   placed around the character and the examples, the examples, pinned memories and the
   summaries of earlier scenes (they change when you pin or a scene closes);
2. **history** — the dialogue the speaker witnessed, as much as the budget leaves, whose start
   moves a whole block of turns at a time (World Info and the Author's Note at a depth sit in
   it);
3. **note** — what changes every turn (state, relationships, the world and scene, activity,
   threads, story events, retrieved memories, the Author's Note), after the newest line;
4. **closing** — the reply instructions, last.

Budgets: ``must`` sections are never trimmed, ``should`` ones go when the hard budget is
exceeded, ``nice`` ones when the soft one is; the history is sized to the soft budget first and
gives up whole blocks if the hard one is still exceeded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from memory import selectors as memory_selectors
from play.engine.gate import Line
from play.engine.inference.base import Message
from play.engine.prompt import sections as s
from play.engine.prompt.context import PromptContext, read_context
from play.engine.prompt.recollections import SHARE as RECOLLECTIONS_SHARE
from play.engine.prompt.sections import Insert, Section
from play.engine.samplers import drawing
from play.models import Chat
from worlds.tokens import estimate

# When over budget, sections are dropped in this order (first = dropped first).
TRIM_ORDER = (
    "example messages",
    "retrieved memories",
    "recollections",
    "earlier scenes",
    "lore before the examples",
    "lore after the examples",
    "lore before the note",
    "lore after the note",
    "lore before the character",
    "lore after the character",
    "while you were away",
    "earlier dialogue",
    "story events",
    "active threads",
    "active scene",
    "group",
    "edge to other bot",
    "author's note",
    "pinned memories",
)
# What the changing part of a prompt is expected to take: the history is sized to the rest
# of the soft budget, so its length does not follow this turn's retrieved memories.
NOTE_SHARE = 4  # a quarter of the soft budget
EXAMPLES_ROOM = 4  # the examples go in when a quarter of the soft budget is left for history


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
    # what the gate's word check took out of derived lines (counts and sources, no words)
    withheld: list[dict[str, Any]] = field(default_factory=list)
    # how the reply is drawn: the chat's samplers (play.engine.samplers)
    samplers: dict[str, Any] = field(default_factory=dict)

    def drawing(self) -> dict[str, float]:
        """The GenParams fields of the samplers (temperature, top_p, ...)."""
        return drawing(self.samplers)

    def record(self) -> dict[str, Any]:
        """What the assistant_turn event stores about its prompt (``recalled``: what it
        recalled anew, best first; it stays beside the line in the speaker's later prompts)."""
        return {
            "messages": self.messages,
            "sections": self.sections,
            "memories": self.memories,
            "recalled": [
                [m["id"], m.get("score", 0.0)]
                for m in self.memories
                if m["section"] == "retrieved memories"
            ],
            "lore": self.lore,
            "withheld": self.withheld,
            "total_tokens": self.total_tokens,
            "samplers": self.samplers,
        }


@dataclass
class Layout:
    system: list[Section]
    history: list[Section]  # earlier dialogue, recent dialogue
    inserts: list[Insert]
    note: list[Section]
    closing: Section
    lore: list[dict[str, Any]]

    @property
    def sections(self) -> list[Section]:
        """Every section, in the order they reach the model."""
        return [*self.system, *self.history, *self.note, self.closing]


def build_prompt(
    chat: Chat, speaker: str, *, query: str = "", extra_note: str = "", query_vector=None
) -> Prompt:
    ctx = read_context(chat, speaker, query=query, extra_note=extra_note, query_vector=query_vector)
    characters = {role: e.character_id for role, e in ctx.entities.items()}
    with memory_selectors.known_characters(chat.pk, characters):
        return assemble(ctx, build_layout(ctx))


def build_layout(ctx: PromptContext) -> Layout:
    world_info, inserts, fired = s.world_info(ctx)
    note_section, note_insert = s.authors_note(ctx)
    inserts += [note_insert] if note_insert else []
    pinned = s.pinned_memories(ctx)
    digests = s.while_you_were_away(ctx)
    shown = {m["id"] for section in (pinned, digests) if section for m in section.memories}
    earlier = s.earlier_scenes(ctx, skip_ids=shown)
    if earlier:
        shown |= {m["id"] for m in earlier.memories}
    examples = s.example_messages(ctx)
    system = _present(
        world_info.get("before_char"),
        s.identity(ctx),
        world_info.get("after_char"),
        world_info.get("before_examples"),
        examples,
        world_info.get("after_examples"),
        # what changes only when you pin or a scene closes: part of the reused beginning
        pinned,
        earlier,
    )
    soft = int(ctx.budgets["narrative_soft"])
    if examples is not None:
        # whether the examples fit is the stable part's question, asked once here: left to
        # the trim, they came and went with the volatile end's size and the reused beginning
        # broke right after the identity (bench/prefix.py)
        stable = sum(_tokens(x) for x in system)
        examples.included = stable <= soft - soft // NOTE_SHARE - soft // EXAMPLES_ROOM
        examples.tier = "should"  # kept or left out here; the hard limit may still cut it
        if not examples.included:
            examples.tier = "nice"
    # the stable part, the note's share and the share the gone blocks' recollections may
    # take: the history gets the rest, so the whole stays near the soft budget and nothing
    # stable is cut at the hard one (which moved the reused beginning)
    room = (
        soft
        - sum(_tokens(x) for x in system if x.included)
        - soft // NOTE_SHARE
        - soft // RECOLLECTIONS_SHARE
    )
    dialogue = s.dialogue(ctx, budget=max(room, 0), shown=shown)
    recollections = s.recollections(ctx, dialogue.recalled)
    if recollections is not None:
        system.append(recollections)
    found = s.retrieved_memories(
        ctx,
        skip_ids=shown | dialogue.recalled.ids,
        skip_turns=dialogue.turn_ids,
        query=ctx.query or dialogue.newest_text(),
    )
    note = _present(
        s.state(ctx),
        s.edge_to_you(ctx),
        s.edge_to_other_bot(ctx),
        s.group(ctx),
        s.world(ctx),
        s.active_scene(ctx),
        s.activity(ctx),
        s.active_threads(ctx),
        s.story_events(ctx),
        digests,
        found,
        world_info.get("an_top"),
        note_section,
        world_info.get("an_bottom"),
    )
    return Layout(
        system=system,
        history=[dialogue.earlier, dialogue.recent],
        inserts=inserts,
        note=note,
        closing=s.closing_instructions(ctx),
        lore=fired,
    )


def _present(*sections: Section | None) -> list[Section]:
    return [x for x in sections if x is not None]


def _tokens(section: Section) -> int:
    return sum(estimate(line.text) for line in section.lines)


def assemble(ctx: PromptContext, layout: Layout) -> Prompt:
    sections = layout.sections
    for section in sections:  # every line of every section passes the one gate
        section.lines = ctx.gate.lines(section.lines)
        section.text = "\n".join(line.text for line in section.lines)
    trim(
        sections,
        soft=int(ctx.budgets["narrative_soft"]),
        hard=int(ctx.budgets["narrative_hard"]),
    )
    included = [x for x in sections if x.included]
    placed = {
        p: x.included for p, name in s.LORE_PLACES.items() for x in sections if x.name == name
    }
    messages = render(layout, ctx)
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
        lore=[
            {**entry, "included": entry["position"] == "at_depth" or placed.get(entry["position"])}
            for entry in layout.lore
        ],
        withheld=list(ctx.gate.withheld),
        # the chat's longest reply, else room past the length asked for
        max_tokens=int(ctx.samplers.get("max_tokens") or reply * 1.6),
        stop=[f"\n{names[r]}:" for r in ctx.present if r != ctx.speaker and r in names],
        total_tokens=sum(x.tokens for x in included),
        samplers=dict(ctx.samplers),
    )


def render(layout: Layout, ctx: PromptContext) -> list[Message]:
    """System part first, then the history (with its inserts), then the changing note and the
    closing instructions after the newest line."""
    system = [f"## {x.name}\n{x.text}" for x in layout.system if x.included and x.text]
    messages: list[Message] = [{"role": "system", "content": "\n\n".join(system)}]
    history = [m for x in layout.history if x.included for m in x.dialogue]
    for insert in sorted(layout.inserts, key=lambda i: -i.depth):
        text = ctx.gate.admit(Line(insert.text))
        if text:
            at = max(0, len(history) - insert.depth)
            history.insert(at, {"role": insert.role, "content": text})
    messages += history
    note = "\n\n".join(f"## {x.name}\n{x.text}" for x in layout.note if x.included and x.text)
    # the note and the closing are bracketed blocks after the newest line; brackets of their
    # own would end them early (and a base model's rendering strips them by those brackets)
    note, closing = (unbracket(t) for t in (note, layout.closing.text))
    tail = (f"[{note}]\n\n" if note else "") + f"[{closing}]"
    messages = alternate(messages)
    if len(messages) > 1 and messages[-1]["role"] == "user":
        messages[-1] = {"role": "user", "content": messages[-1]["content"] + "\n\n" + tail}
    else:
        messages.append({"role": "user", "content": tail})
    return messages


def unbracket(text: str) -> str:
    return text.replace("[", "(").replace("]", ")")


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
