"""Prompt assembly from one speaker's view only (SPEC 4.3), with budgets and trim tiers.

Sections come in the SPEC order. Each has a tier: ``must`` is never trimmed, ``should`` goes
when the hard budget is exceeded, ``nice`` when the soft one is.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef

from eventstore.projection import read_rows
from memory import selectors as memory_selectors
from memory.retrieval import retrieve
from play.engine.inference.base import Message
from play.models import Chat, Turn
from rpsite.config import load_config
from worlds.lore import lore_for_prompt
from worlds.macros import expand_macros
from worlds.models import (
    Activity,
    Character,
    Container,
    Edge,
    EntityState,
    GroupNode,
    Scene,
    StoryEvent,
    Thread,
    WorldState,
)
from worlds.prompts import current as current_template
from worlds.roles import GUEST, HOST, YOU
from worlds.tokens import estimate

RECENT_MUST = 4  # the newest dialogue turns are never trimmed
DEFAULT_REMINDER = (
    "Stay in character as {{char}}: keep {{char}}'s voice, personality and way of speaking. "
    "Write only {{char}}'s reply; never write for {{user}}."
)
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
class Section:
    name: str
    tier: str
    text: str = ""
    dialogue: list[Message] = field(default_factory=list)
    included: bool = True

    @property
    def tokens(self) -> int:
        return estimate(self.text) + sum(estimate(m["content"]) + 3 for m in self.dialogue)


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


def _edge_text(edge: Edge | None, names: dict[str, str]) -> str:
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


def _activity_line(a: Activity, names: dict[str, str], containers: dict[str, Container]) -> str:
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


def dialogue_window(chat_id: int, speaker: str, scene: int, size: int) -> list[Turn]:
    """The speaker's raw window: recent turns of the current scene that the speaker's own
    memory holds (through the witness-filtered selector, so a bit unset in the drawer hides
    the turn here too)."""
    held = memory_selectors.visible_to(chat_id, speaker).filter(turn_id=OuterRef("id"))
    turns = Turn.objects.filter(Exists(held), chat_id=chat_id, scene=scene).order_by("-id")
    return list(reversed(turns[:size]))


def _dialogue_messages(turns: list[Turn], speaker: str, names: dict[str, str]) -> list[Message]:
    messages: list[Message] = []
    for turn in turns:
        text = (turn.bot_text or "").strip()
        if not text:
            continue
        name = turn.name or names.get(turn.speaker, turn.speaker)
        if turn.speaker == speaker:
            messages.append({"role": "assistant", "content": f"{name}: {text}"})
        else:
            messages.append({"role": "user", "content": f"{name}: {text}"})
    return messages


def _alternate(messages: list[Message]) -> list[Message]:
    """Merge consecutive same-role messages: many chat templates demand alternation."""
    merged: list[Message] = []
    for m in messages:
        if merged and merged[-1]["role"] == m["role"]:
            merged[-1] = {"role": m["role"], "content": merged[-1]["content"] + "\n" + m["content"]}
        else:
            merged.append(dict(m))
    return merged


def build_prompt(
    chat: Chat, speaker: str, *, query: str = "", extra_note: str = "", query_vector=None
) -> Prompt:
    entities = {e.role: e for e in read_rows(EntityState, "chat_id = %s", [chat.pk])}
    characters = {role: e.character_id for role, e in entities.items()}
    with memory_selectors.known_characters(chat.pk, characters):
        return _build_prompt(
            chat,
            speaker,
            entities,
            query=query,
            extra_note=extra_note,
            query_vector=query_vector,
        )


def _build_prompt(
    chat: Chat, speaker: str, entities, *, query: str, extra_note: str, query_vector
) -> Prompt:
    config = load_config()
    budgets, play = config["budgets"], config["play"]
    chat_id = chat.pk
    names = {role: e.name for role, e in entities.items()}
    present = {r for r, e in entities.items() if e.present}
    me = entities[speaker]
    character = Character.objects.filter(pk=me.character_id).first()
    user_name = names.get(YOU, "you")
    other = GUEST if speaker == HOST else HOST

    def x(text: str) -> str:
        return expand_macros(text or "", char=me.name, user=user_name)

    worlds = read_rows(WorldState, "chat_id = %s", [chat_id])
    world = worlds[0] if worlds else WorldState(chat_id=chat_id)
    containers = {c.key: c for c in read_rows(Container, "chat_id = %s", [chat_id])}
    sections: list[Section] = []

    # 1. identity + current state
    identity = [x(current_template("narrative").text)]
    if character is not None:
        if character.system_prompt:
            identity.append(x(character.system_prompt))
        identity.append(f"{me.name}: {x(character.description)}")
        if character.personality:
            identity.append(f"Personality: {x(character.personality)}")
        if character.scenario:
            identity.append(f"Scenario: {x(character.scenario)}")
    state = [
        f"mood: {me.mood}" if me.mood else "",
        f"goals: {me.goals}" if me.goals else "",
        f"status: {me.status}" if me.status else "",
        f"carrying: {', '.join(me.inventory)}" if me.inventory else "",
    ]
    if any(state):
        identity.append(f"{me.name} right now — " + "; ".join(s for s in state if s))
    if chat.persona_id and YOU in present:
        identity.append(f"{user_name} (the user's character): {x(chat.persona.description)}")
    sections.append(Section("identity", "must", "\n".join(identity)))

    # 2-4. the speaker's own edges, the group node
    edges = {
        (e.source, e.target): e
        for e in read_rows(Edge, "chat_id = %s AND source = %s", [chat_id, speaker])
    }
    if YOU in present:
        sections.append(
            Section("edge to you", "must", _edge_text(edges.get((speaker, YOU)), names))
        )
    if other in present and other in names:
        sections.append(
            Section("edge to other bot", "should", _edge_text(edges.get((speaker, other)), names))
        )
    if {YOU, HOST, GUEST} <= present:
        group = next(iter(read_rows(GroupNode, "chat_id = %s", [chat_id])), None)
        if group and (group.summary or group.dynamic):
            sections.append(
                Section(
                    "group",
                    "should",
                    f"The three of you together: {group.summary}\n{group.dynamic}",
                )
            )

    # 5. world state
    location = containers.get(world.location)
    sections.append(
        Section(
            "world",
            "must",
            "\n".join(
                filter(
                    None,
                    [
                        f"Story time: {world.story_time}" if world.story_time else "",
                        f"Weather: {world.weather}" if world.weather else "",
                        f"Location: {location.name}" if location else "",
                    ],
                )
            ),
        )
    )

    # 6. active scene
    scene = next(
        iter(read_rows(Scene, "chat_id = %s AND number = %s", [chat_id, world.scene])), None
    )
    if location is not None:
        flags = [w for w, on in (("moving", location.moving), ("public", location.public)) if on]
        scene_text = [
            f"Scene {world.scene} in {location.name}"
            + (f" ({', '.join(flags)})" if flags else "")
            + f"; voices carry: {location.audible_range}."
        ]
        if location.description:
            scene_text.append(location.description)
        scene_text.append("Present: " + ", ".join(names[r] for r in sorted(present)))
        if scene and scene.meanwhile:
            scene_text.append(f"{user_name} is not here.")
        sections.append(Section("active scene", "should", "\n".join(scene_text)))

    # 7. activity block for every present entity
    acts = [
        a for a in read_rows(Activity, "chat_id = %s", [chat_id], order="role") if a.role in present
    ]
    sections.append(
        Section("activity", "must", "\n".join(_activity_line(a, names, containers) for a in acts))
    )

    # 8. active threads
    threads = read_rows(Thread, "chat_id = %s AND status = 'open'", [chat_id])
    if threads:
        sections.append(
            Section(
                "active threads",
                "should",
                "\n".join(f"- {t.title}: {t.notes}".rstrip(": ") for t in threads),
            )
        )

    # 9. recent dialogue window
    window = dialogue_window(chat_id, speaker, world.scene, int(play["dialogue_window"]))
    window_ids = {t.id for t in window}
    earlier, recent = window[:-RECENT_MUST], window[-RECENT_MUST:]
    if character is not None and character.mes_example:
        sections.append(
            Section(
                "example messages",
                "nice",
                "Example of how " + me.name + " talks:\n" + x(character.mes_example),
            )
        )

    # 10. memories: pinned and recent scenes always; retrieval over the speaker's store
    memories_meta: list[dict[str, Any]] = []
    pins = memory_selectors.pinned(chat_id, speaker)
    if pins:
        sections.append(
            Section("pinned memories", "should", "\n".join(f"- {m.text}" for m in pins))
        )
        memories_meta += [
            {
                "id": m.id,
                "text": m.text,
                "section": "pinned memories",
                "why": memory_selectors.why_visible(m, speaker) + "; pinned",
            }
            for m in pins
        ]
    digests = []
    if YOU in present:
        digests = memory_selectors.meanwhile_digests(chat_id, speaker, world.scene)
        if digests:
            sections.append(
                Section("while you were away", "should", "\n".join(f"- {m.text}" for m in digests))
            )
            memories_meta += [
                {
                    "id": m.id,
                    "text": m.text,
                    "section": "while you were away",
                    "why": memory_selectors.why_visible(m, speaker)
                    + "; digest of a meanwhile scene",
                }
                for m in digests
            ]
    digest_ids = {m.id for m in digests}
    summaries = [
        m
        for m in memory_selectors.recent_scene_summaries(chat_id, speaker)
        if m.id not in digest_ids
    ]
    if summaries:
        sections.append(
            Section(
                "earlier scenes",
                "should",
                "\n".join(f"- (scene {m.scene}) {m.text}" for m in summaries),
            )
        )
        memories_meta += [
            {
                "id": m.id,
                "text": m.text,
                "section": "earlier scenes",
                "why": memory_selectors.why_visible(m, speaker) + "; recent scene",
            }
            for m in summaries
        ]
    query_text = query or " ".join(t.bot_text for t in recent)
    found = retrieve(
        chat_id,
        speaker,
        query_text,
        k=int(play["retrieval_k"]),
        exclude_turns=window_ids,
        exclude_ids={m.id for m in pins + summaries} | digest_ids,
        facing_you=YOU in present,
        query_vector=query_vector,
    )
    if found:
        sections.append(
            Section("retrieved memories", "nice", "\n".join(f"- {r.memory.text}" for r in found))
        )
        memories_meta += [
            {
                "id": r.memory.id,
                "text": r.memory.text,
                "section": "retrieved memories",
                "why": memory_selectors.why_visible(r.memory, speaker) + f"; {r.why}",
            }
            for r in found
        ]

    # world info: entries of the present bots' lorebooks whose keys appear in recent text
    lore_meta: list[dict[str, Any]] = []
    books = [
        c.lorebook
        for c in Character.objects.filter(
            pk__in=[e.character_id for r, e in entities.items() if r in present and e.character_id]
        ).select_related("lorebook")
        if c.lorebook_id
    ]
    if books:
        scanned = [t.bot_text for t in window] + ([query] if query else [])
        fired = lore_for_prompt(books, scanned, char=me.name, user=user_name)
        if fired:
            sections.append(Section("lore", "should", "\n".join(f.content for f in fired)))
            lore_meta = [
                {"entry": f.entry_id, "comment": f.comment, "reason": f.reason, "tokens": f.tokens}
                for f in fired
            ]

    # 11. active story events and their props
    active = read_rows(StoryEvent, "chat_id = %s AND status = 'active'", [chat_id])
    if active:
        sections.append(
            Section(
                "story events",
                "should",
                "\n".join(
                    f"- {e.title}: {e.description}"
                    + (f" (props: {', '.join(e.props)})" if e.props else "")
                    for e in active
                ),
            )
        )

    sections.append(
        Section("earlier dialogue", "should", dialogue=_dialogue_messages(earlier, speaker, names))
    )
    sections.append(
        Section("recent dialogue", "must", dialogue=_dialogue_messages(recent, speaker, names))
    )

    reply_tokens = int(
        (character.reply_tokens if character and character.reply_tokens else 0)
        or play["reply_tokens"]
    )
    reminder = x((character.post_history_instructions if character else "") or DEFAULT_REMINDER)
    closing = f"{reminder}\nReply length: about {int(reply_tokens * 0.75)} words."
    if extra_note:
        closing += f"\n{extra_note}"
    sections.append(Section("closing instructions", "must", closing))

    _trim(sections, soft=int(budgets["narrative_soft"]), hard=int(budgets["narrative_hard"]))
    included = [s for s in sections if s.included]
    included_names = {s.name for s in included}
    memories_meta = [m for m in memories_meta if m["section"] in included_names]

    context = [
        f"## {s.name}\n{s.text}" for s in included if s.text and s.name != "closing instructions"
    ]
    messages: list[Message] = [{"role": "system", "content": "\n\n".join(context)}]
    for s in included:
        messages.extend(s.dialogue)
    messages = _alternate(messages)
    if messages[-1]["role"] == "user":
        messages[-1] = {"role": "user", "content": messages[-1]["content"] + f"\n\n[{closing}]"}
    else:
        messages.append({"role": "user", "content": f"[{closing}]"})
    stops = [f"\n{names[r]}:" for r in present if r != speaker and r in names]
    return Prompt(
        speaker=speaker,
        speaker_name=me.name,
        messages=messages,
        sections=[
            {"name": s.name, "tier": s.tier, "tokens": s.tokens, "included": s.included}
            for s in sections
        ],
        memories=memories_meta,
        lore=lore_meta if "lore" in included_names else [],
        max_tokens=int(reply_tokens * 1.6),
        stop=stops,
        total_tokens=sum(s.tokens for s in included),
    )


def _trim(sections: list[Section], *, soft: int, hard: int) -> None:
    def total() -> int:
        return sum(s.tokens for s in sections if s.included)

    for limit, tiers in ((soft, {"nice"}), (hard, {"nice", "should"})):
        for name in TRIM_ORDER:
            if total() <= limit:
                break
            for s in sections:
                if s.name == name and s.tier in tiers and s.included:
                    s.included = False
    if total() > hard:
        # Only must sections remain: shorten the identity text rather than fail the turn.
        over = total() - hard
        for s in sections:
            if s.name == "identity" and s.included:
                keep = max(200, len(s.text) - over * 4)
                s.text = s.text[:keep] + "…"


def prompt_summary(prompt: Prompt) -> dict[str, Any]:
    return asdict(prompt)
