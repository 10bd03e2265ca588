"""One builder per prompt section, each from the speaker's seat only.

A builder returns a ``Section`` (or nothing when it has nothing to say). Each section has a
tier: ``must`` is never trimmed, ``should`` goes when the hard budget is exceeded, ``nice``
when the soft one is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef

from eventstore.projection import read_rows
from memory import selectors as memory_selectors
from memory.models import Memory
from memory.retrieval import retrieve
from play.engine.inference.base import Message
from play.engine.prompt.context import PromptContext
from play.models import Turn
from worlds.lore import lore_for_prompt
from worlds.models import Activity, Character, Container, Edge, GroupNode, Scene, StoryEvent, Thread
from worlds.prompts import current as current_template
from worlds.roles import GUEST, HOST, YOU
from worlds.tokens import estimate

RECENT_MUST = 4  # the newest dialogue turns are never trimmed
DEFAULT_REMINDER = (
    "Stay in character as {{char}}: keep {{char}}'s voice, personality and way of speaking. "
    "Write only {{char}}'s reply; never write for {{user}}."
)


@dataclass
class Section:
    name: str
    tier: str
    text: str = ""
    dialogue: list[Message] = field(default_factory=list)
    memories: list[dict[str, Any]] = field(default_factory=list)  # what the inspector lists
    lore: list[dict[str, Any]] = field(default_factory=list)
    included: bool = True

    @property
    def tokens(self) -> int:
        return estimate(self.text) + sum(estimate(m["content"]) + 3 for m in self.dialogue)


def _bullets(lines: list[str]) -> str:
    return "\n".join(f"- {line}" for line in lines)


def _memory_meta(m: Memory, ctx: PromptContext, section: str, why: str) -> dict[str, Any]:
    return {
        "id": m.id,
        "text": m.text,
        "section": section,
        "why": f"{memory_selectors.why_visible(m, ctx.speaker)}; {why}",
    }


# -- who the speaker is --------------------------------------------------------------------


def identity(ctx: PromptContext) -> Section:
    me, character = ctx.me, ctx.character
    lines = [ctx.expand(current_template("narrative").text)]
    if character is not None:
        if character.system_prompt:
            lines.append(ctx.expand(character.system_prompt))
        lines.append(f"{me.name}: {ctx.expand(character.description)}")
        if character.personality:
            lines.append(f"Personality: {ctx.expand(character.personality)}")
        if character.scenario:
            lines.append(f"Scenario: {ctx.expand(character.scenario)}")
    state = [
        f"mood: {me.mood}" if me.mood else "",
        f"goals: {me.goals}" if me.goals else "",
        f"status: {me.status}" if me.status else "",
        f"carrying: {', '.join(me.inventory)}" if me.inventory else "",
    ]
    if any(state):
        lines.append(f"{me.name} right now — " + "; ".join(s for s in state if s))
    persona = ctx.chat.persona
    if persona is not None and YOU in ctx.present:
        lines.append(f"{ctx.user_name} (the user's character): {ctx.expand(persona.description)}")
    return Section("identity", "must", "\n".join(lines))


def example_messages(ctx: PromptContext) -> Section | None:
    if ctx.character is None or not ctx.character.mes_example:
        return None
    text = f"Example of how {ctx.me.name} talks:\n" + ctx.expand(ctx.character.mes_example)
    return Section("example messages", "nice", text)


# -- the speaker's relationships -----------------------------------------------------------


def edge_text(edge: Edge | None, names: dict[str, str]) -> str:
    if edge is None:
        return ""
    lines = [
        f"{names[edge.source]} → {names[edge.target]}: affinity {edge.affinity:+d}/100, "
        f"trust {edge.trust:+d}/100."
    ]
    if edge.summary:
        lines.append(edge.summary)
    if edge.knowledge:
        lines.append(
            f"What {names[edge.source]} knows about {names[edge.target]}: "
            + "; ".join(edge.knowledge[-12:])
        )
    if edge.last_interaction:
        lines.append(f"Last interaction: {edge.last_interaction}")
    return "\n".join(lines)


def _edge(ctx: PromptContext, target: str) -> Edge | None:
    rows = read_rows(
        Edge,
        "chat_id = %s AND source = %s AND target = %s",
        [ctx.chat_id, ctx.speaker, target],
    )
    return rows[0] if rows else None


def edge_to_you(ctx: PromptContext) -> Section | None:
    if YOU not in ctx.present:
        return None
    return Section("edge to you", "must", edge_text(_edge(ctx, YOU), ctx.names))


def edge_to_other_bot(ctx: PromptContext) -> Section | None:
    other = ctx.other_bot
    if other not in ctx.present or other not in ctx.names:
        return None
    return Section("edge to other bot", "should", edge_text(_edge(ctx, other), ctx.names))


def group(ctx: PromptContext) -> Section | None:
    if not {YOU, HOST, GUEST} <= ctx.present:
        return None
    node = next(iter(read_rows(GroupNode, "chat_id = %s", [ctx.chat_id])), None)
    if node is None or not (node.summary or node.dynamic):
        return None
    return Section("group", "should", f"The three of you together: {node.summary}\n{node.dynamic}")


# -- where and when ------------------------------------------------------------------------


def world(ctx: PromptContext) -> Section:
    location = ctx.containers.get(ctx.world.location)
    lines = [
        f"Story time: {ctx.world.story_time}" if ctx.world.story_time else "",
        f"Weather: {ctx.world.weather}" if ctx.world.weather else "",
        f"Location: {location.name}" if location else "",
    ]
    return Section("world", "must", "\n".join(line for line in lines if line))


def active_scene(ctx: PromptContext) -> Section | None:
    location = ctx.containers.get(ctx.world.location)
    if location is None:
        return None
    scene = next(
        iter(read_rows(Scene, "chat_id = %s AND number = %s", [ctx.chat_id, ctx.world.scene])),
        None,
    )
    flags = [w for w, on in (("moving", location.moving), ("public", location.public)) if on]
    lines = [
        f"Scene {ctx.world.scene} in {location.name}"
        + (f" ({', '.join(flags)})" if flags else "")
        + f"; voices carry: {location.audible_range}."
    ]
    if location.description:
        lines.append(location.description)
    lines.append("Present: " + ", ".join(ctx.names[r] for r in sorted(ctx.present)))
    if scene and scene.meanwhile:
        lines.append(f"{ctx.user_name} is not here.")
    return Section("active scene", "should", "\n".join(lines))


def activity_line(a: Activity, names: dict[str, str], containers: dict[str, Container]) -> str:
    place = containers.get(a.container)
    where = place.name if place else (a.container or "somewhere")
    parts = [f"{names.get(a.role, a.role)}: in {where}"]
    if a.slot:
        parts[0] += f" ({a.slot})"
    if a.posture:
        parts.append(a.posture)
    if a.verb:
        detail = a.verb
        extras = []
        if not a.interruptible:
            extras.append("not interruptible")
        if a.required_attention and a.required_attention != "low":
            extras.append(f"{a.required_attention} attention")
        if a.expected_duration:
            extras.append(f"for {a.expected_duration}")
        if extras:
            detail += f" ({', '.join(extras)})"
        parts.append(detail)
    if a.holding:
        parts.append("holding " + ", ".join(a.holding))
    if a.attention:
        parts.append(f"attention on {a.attention}")
    if a.status:
        parts.append(a.status)
    return "; ".join(parts)


def activity(ctx: PromptContext) -> Section:
    acts = read_rows(Activity, "chat_id = %s", [ctx.chat_id], order="role")
    lines = [activity_line(a, ctx.names, ctx.containers) for a in acts if a.role in ctx.present]
    return Section("activity", "must", "\n".join(lines))


# -- the story -----------------------------------------------------------------------------


def active_threads(ctx: PromptContext) -> Section | None:
    threads = read_rows(Thread, "chat_id = %s AND status = 'open'", [ctx.chat_id])
    if not threads:
        return None
    text = "\n".join(f"- {t.title}: {t.notes}".rstrip(": ") for t in threads)
    return Section("active threads", "should", text)


def story_events(ctx: PromptContext) -> Section | None:
    active = read_rows(StoryEvent, "chat_id = %s AND status = 'active'", [ctx.chat_id])
    if not active:
        return None
    lines = [
        f"{e.title}: {e.description}" + (f" (props: {', '.join(e.props)})" if e.props else "")
        for e in active
    ]
    return Section("story events", "should", _bullets(lines))


def lore(ctx: PromptContext) -> Section | None:
    """World info: entries of the present bots' lorebooks whose keys appear in recent text."""
    present_characters = [
        e.character_id for r, e in ctx.entities.items() if r in ctx.present and e.character_id
    ]
    books = [
        c.lorebook
        for c in Character.objects.filter(pk__in=present_characters).select_related("lorebook")
        if c.lorebook_id
    ]
    if not books:
        return None
    scanned = ctx.scanned + ([ctx.query] if ctx.query else [])
    fired = lore_for_prompt(books, scanned, char=ctx.me.name, user=ctx.user_name)
    if not fired:
        return None
    return Section(
        "lore",
        "should",
        "\n".join(f.content for f in fired),
        lore=[
            {"entry": f.entry_id, "comment": f.comment, "reason": f.reason, "tokens": f.tokens}
            for f in fired
        ],
    )


# -- what the speaker remembers ------------------------------------------------------------


def pinned_memories(ctx: PromptContext) -> Section | None:
    pins = memory_selectors.pinned(ctx.chat_id, ctx.speaker)
    if not pins:
        return None
    name = "pinned memories"
    return Section(
        name,
        "should",
        _bullets([m.text for m in pins]),
        memories=[_memory_meta(m, ctx, name, "pinned") for m in pins],
    )


def while_you_were_away(ctx: PromptContext) -> Section | None:
    if YOU not in ctx.present:
        return None
    digests = memory_selectors.meanwhile_digests(ctx.chat_id, ctx.speaker, ctx.world.scene)
    if not digests:
        return None
    name = "while you were away"
    return Section(
        name,
        "should",
        _bullets([m.text for m in digests]),
        memories=[_memory_meta(m, ctx, name, "digest of a meanwhile scene") for m in digests],
    )


def earlier_scenes(ctx: PromptContext, *, skip_ids: set[int]) -> Section | None:
    summaries = [
        m
        for m in memory_selectors.recent_scene_summaries(ctx.chat_id, ctx.speaker)
        if m.id not in skip_ids
    ]
    if not summaries:
        return None
    name = "earlier scenes"
    return Section(
        name,
        "should",
        _bullets([f"(scene {m.scene}) {m.text}" for m in summaries]),
        memories=[_memory_meta(m, ctx, name, "recent scene") for m in summaries],
    )


def retrieved_memories(ctx: PromptContext, *, skip_ids: set[int], query: str) -> Section | None:
    found = retrieve(
        ctx.chat_id,
        ctx.speaker,
        query,
        k=int(ctx.play["retrieval_k"]),
        exclude_turns=ctx.window_ids,
        exclude_ids=skip_ids,
        facing_you=YOU in ctx.present,
        query_vector=ctx.query_vector,
    )
    if not found:
        return None
    name = "retrieved memories"
    return Section(
        name,
        "nice",
        _bullets([r.memory.text for r in found]),
        memories=[_memory_meta(r.memory, ctx, name, r.why) for r in found],
    )


# -- the dialogue --------------------------------------------------------------------------


def dialogue_window(chat_id: int, speaker: str, scene: int, size: int) -> list[Turn]:
    """The speaker's raw window: recent turns of the current scene that the speaker's own
    memory holds (through the witness-filtered selector, so a bit unset in the drawer hides
    the turn here too)."""
    held = memory_selectors.visible_to(chat_id, speaker).filter(turn_id=OuterRef("id"))
    turns = Turn.objects.filter(Exists(held), chat_id=chat_id, scene=scene).order_by("-id")
    return list(reversed(turns[:size]))


def dialogue_messages(turns: list[Turn], speaker: str, names: dict[str, str]) -> list[Message]:
    messages: list[Message] = []
    for turn in turns:
        text = (turn.bot_text or "").strip()
        if not text:
            continue
        name = turn.name or names.get(turn.speaker, turn.speaker)
        role = "assistant" if turn.speaker == speaker else "user"
        messages.append({"role": role, "content": f"{name}: {text}"})
    return messages


def dialogue(ctx: PromptContext) -> tuple[Section, Section]:
    """Earlier (trimmable) and recent (never trimmed) dialogue the speaker witnessed."""
    window = dialogue_window(
        ctx.chat_id, ctx.speaker, ctx.world.scene, int(ctx.play["dialogue_window"])
    )
    ctx.window_ids = {t.id for t in window}
    ctx.scanned = [t.bot_text for t in window]
    earlier, recent = window[:-RECENT_MUST], window[-RECENT_MUST:]
    return (
        Section(
            "earlier dialogue",
            "should",
            dialogue=dialogue_messages(earlier, ctx.speaker, ctx.names),
        ),
        Section(
            "recent dialogue", "must", dialogue=dialogue_messages(recent, ctx.speaker, ctx.names)
        ),
    )


def reply_tokens(ctx: PromptContext) -> int:
    own = ctx.character.reply_tokens if ctx.character and ctx.character.reply_tokens else 0
    return int(own or ctx.play["reply_tokens"])


def closing_instructions(ctx: PromptContext) -> Section:
    character = ctx.character
    reminder = ctx.expand(
        (character.post_history_instructions if character else "") or DEFAULT_REMINDER
    )
    text = f"{reminder}\nReply length: about {int(reply_tokens(ctx) * 0.75)} words."
    if ctx.extra_note:
        text += f"\n{ctx.extra_note}"
    return Section("closing instructions", "must", text)


Builder = Callable[[PromptContext], Section | None]
