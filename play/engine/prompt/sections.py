"""One builder per prompt section, each from the speaker's seat only.

A builder returns a ``Section`` (or nothing when it has nothing to say). Each section has a
tier: ``must`` is never trimmed, ``should`` goes when the hard budget is exceeded, ``nice``
when the soft one is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from eventstore.projection import RowReader, read_rows
from memory import selectors as memory_selectors
from memory.models import Memory
from memory.retrieval import retrieve
from play.engine.gate import Line
from play.engine.inference.base import Message
from play.engine.lore import authors_note_for, lore_scan
from play.engine.prompt.context import PromptContext
from play.engine.prompt.recollections import Recollections, gather, recollection_lines
from play.models import Turn
from worlds import cast
from worlds import provenance as pv
from worlds.feelings import feeling
from worlds.macros import expand_macros
from worlds.models import Activity, Container, Edge, Scene, StoryEvent, Thread
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
    """A named part of the prompt: its ``lines`` pass the gate before they become ``text``."""

    name: str
    tier: str
    lines: list[Line] = field(default_factory=list)
    dialogue: list[Message] = field(default_factory=list)
    dialogue_lines: list[Line] = field(default_factory=list)  # the turns behind ``dialogue``
    memories: list[dict[str, Any]] = field(default_factory=list)  # what the inspector lists
    lore: list[dict[str, Any]] = field(default_factory=list)
    included: bool = True
    text: str = ""

    @property
    def tokens(self) -> int:
        return estimate(self.text) + sum(estimate(m["content"]) + 3 for m in self.dialogue)


def _authored(*texts: str) -> list[Line]:
    return [Line(text) for text in texts if text]


def _bullet(line: Line) -> Line:
    return Line(f"- {line.text}", line.entry, line.sources)


def _field(obj: Any, name: str, value: Any = None) -> Line:
    """One derived field of a row, with its provenance."""
    value = getattr(obj, name) if value is None else value
    return Line(str(value), pv.prov_of(obj, name))


def _known(
    ctx: PromptContext, obj: Any, name: str, value: Any = None, into: list | None = None
) -> str | None:
    """A derived field as the speaker may see it, part of a line built from several; its
    provenance joins ``into`` (the line's, for the inspector)."""
    line = _field(obj, name, value)
    text = ctx.gate.admit(line)
    if text is not None and line.entry is not None and into is not None:
        into.append(line.entry)
    return text


def _memory_line(m: Memory, text: str | None = None) -> Line:
    """A memory the speaker's own store holds (witness-filtered there), from its lines."""
    sources = tuple(m.sources) if m.sources else ((m.turn_id,) if m.turn_id else ())
    said = m.kind == Memory.Kind.TURN and text is None  # the line itself, not words about it
    return Line(f"- {m.text if text is None else text}", None, sources, verbatim=said)


def _memory_meta(
    m: Memory, ctx: PromptContext, section: str, why: str, score: float | None = None
) -> dict[str, Any]:
    meta = {
        "id": m.id,
        "text": m.text,
        "section": section,
        "why": f"{memory_selectors.why_visible(m, ctx.speaker)}; {why}",
    }
    if score is not None:
        meta["score"] = round(score, 4)
    return meta


# -- who the speaker is --------------------------------------------------------------------


def identity(ctx: PromptContext) -> Section:
    me, character = ctx.me, ctx.character
    lines = _authored(ctx.expand(current_template("narrative").text))
    if character is not None:
        lines += _authored(
            ctx.expand(character.system_prompt),
            f"{me.name}: {ctx.expand(character.description)}",
            character.personality and f"Personality: {ctx.expand(character.personality)}",
            character.scenario and f"Scenario: {ctx.expand(character.scenario)}",
        )
    persona = ctx.chat.persona
    if persona is not None and YOU in ctx.present:
        lines += _authored(
            f"{ctx.user_name} (the user's character): {ctx.expand(persona.description)}"
        )
    return Section("identity", "must", lines)


def state(ctx: PromptContext) -> Section | None:
    """How the speaker is right now: it changes turn by turn, so it comes late."""
    me = ctx.me
    origin: list = []
    parts = [
        f"{name}: {value}"
        for name in ("mood", "goals", "status")
        if getattr(me, name) and (value := _known(ctx, me, name, into=origin))
    ]
    carried = [
        seen
        for item in me.inventory
        if (seen := _known(ctx, me, f"inventory:{item}", item, origin)) is not None
    ]
    if carried:
        parts.append(f"carrying: {', '.join(carried)}")
    if not parts:
        return None
    line = Line(f"{me.name} right now — " + "; ".join(parts), pv.merged(*origin))
    return Section("state", "must", [line])


def example_messages(ctx: PromptContext) -> Section | None:
    if ctx.character is None or not ctx.character.mes_example:
        return None
    text = f"Example of how {ctx.me.name} talks:\n" + ctx.expand(ctx.character.mes_example)
    return Section("example messages", "nice", _authored(text))


# -- the speaker's relationships -----------------------------------------------------------


def edge_lines(ctx: PromptContext, edge: Edge | None) -> list[Line]:
    if edge is None:
        return []
    names = ctx.seats.names  # by character key
    # in words, banded: the text changes only when the feeling changes band (worlds.feelings)
    lines = [Line(feeling(names[edge.source], names[edge.target], edge.affinity, edge.trust))]
    if edge.summary:
        lines.append(_field(edge, "summary"))
    origin: list = []
    known = [
        seen
        for fact in edge.knowledge[-12:]
        if (seen := _known(ctx, edge, f"knowledge:{fact}", fact, origin)) is not None
    ]
    if known:
        lines.append(
            Line(
                f"What {names[edge.source]} knows about {names[edge.target]}: " + "; ".join(known),
                pv.merged(*origin),
            )
        )
    if edge.last_interaction:
        last = _field(edge, "last_interaction")
        lines.append(Line(f"Last interaction: {last.text}", last.entry))
    return lines


def _edge(ctx: PromptContext, target: str) -> Edge | None:
    """The speaker's edge to whoever holds the ``target`` seat: the edge of the characters."""
    return cast.edge(RowReader(), ctx.seats, ctx.speaker, target)


def edge_to_you(ctx: PromptContext) -> Section | None:
    if YOU not in ctx.present:
        return None
    return Section("edge to you", "must", edge_lines(ctx, _edge(ctx, YOU)))


def edge_to_other_bot(ctx: PromptContext) -> Section | None:
    other = ctx.other_bot
    if other not in ctx.present or other not in ctx.names:
        return None
    return Section("edge to other bot", "should", edge_lines(ctx, _edge(ctx, other)))


def group(ctx: PromptContext) -> Section | None:
    if not {YOU, HOST, GUEST} <= ctx.present:
        return None
    node = cast.group_node(RowReader(), ctx.seats)  # these three characters' own node
    if node is None or not (node.summary or node.dynamic):
        return None
    origin: list = []
    summary = _known(ctx, node, "summary", into=origin) or ""
    dynamic = _known(ctx, node, "dynamic", into=origin) or ""
    if not (summary or dynamic):
        return None
    text = f"The three of you together: {summary}\n{dynamic}".strip()
    return Section("group", "should", [Line(text, pv.merged(*origin))])


# -- where and when ------------------------------------------------------------------------


def world(ctx: PromptContext) -> Section:
    location = ctx.containers.get(ctx.world.location)
    lines = [
        f"Story time: {ctx.world.story_time}" if ctx.world.story_time else "",
        f"Weather: {ctx.world.weather}" if ctx.world.weather else "",
        f"Location: {location.name}" if location else "",
    ]
    # where, when and the weather are perceivable: whoever is here knows them
    return Section("world", "must", _authored(*lines))


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
    return Section("active scene", "should", _authored(*lines))


def activity_line(
    a: Activity,
    names: dict[str, str],
    containers: dict[str, Container],
    gate,
    into: list | None = None,
) -> str:
    """One present entity's activity, each derived part as the reader may see it (their
    provenance joins ``into``)."""

    def known(name: str, value: Any = None) -> str:
        value = getattr(a, name) if value is None else value
        if not value:
            return ""
        entry = pv.prov_of(a, name)
        text = gate.admit(Line(str(value), entry))
        if text is not None and entry is not None and into is not None:
            into.append(entry)
        return text or ""

    place = containers.get(a.container)
    where = place.name if place else (a.container or "somewhere")
    parts = [f"{names.get(a.role, a.role)}: in {where}"]
    if slot := known("slot"):
        parts[0] += f" ({slot})"
    if posture := known("posture"):
        parts.append(posture)
    if verb := known("verb"):
        detail = verb
        extras = []
        if not a.interruptible:
            extras.append("not interruptible")
        if a.required_attention and a.required_attention != "low":
            extras.append(f"{a.required_attention} attention")
        if duration := known("expected_duration"):
            extras.append(f"for {duration}")
        if extras:
            detail += f" ({', '.join(extras)})"
        parts.append(detail)
    holding = [h for h in a.holding if known(f"holding:{h}", h)]
    if holding:
        parts.append("holding " + ", ".join(holding))
    if attention := known("attention"):
        parts.append(f"attention on {attention}")
    if status := known("status"):
        parts.append(status)
    return "; ".join(parts)


def activity(ctx: PromptContext) -> Section:
    acts = read_rows(Activity, "chat_id = %s", [ctx.chat_id], order="role")
    lines = []
    for a in acts:
        if a.role in ctx.present:
            origin: list = []
            text = activity_line(a, ctx.names, ctx.containers, ctx.gate, origin)
            lines.append(Line(text, pv.merged(*origin)))
    return Section("activity", "must", lines)


# -- the story -----------------------------------------------------------------------------


def active_threads(ctx: PromptContext) -> Section | None:
    threads = read_rows(Thread, "chat_id = %s AND status = 'open'", [ctx.chat_id])
    lines = []
    for t in threads:
        origin: list = []
        title = _known(ctx, t, "title", into=origin)
        if title is None:
            continue  # a thread opened where the speaker was not is not theirs
        notes = _known(ctx, t, "notes", into=origin) if t.notes else ""
        lines.append(Line(f"- {title}: {notes}".rstrip(": "), pv.merged(*origin)))
    return Section("active threads", "should", lines) if lines else None


def story_events(ctx: PromptContext) -> Section | None:
    active = read_rows(StoryEvent, "chat_id = %s AND status = 'active'", [ctx.chat_id])
    lines = []
    for e in active:
        origin: list = []
        title = _known(ctx, e, "title", into=origin)
        if title is None:
            continue  # planned where the speaker was not: not theirs to know
        description = _known(ctx, e, "description", into=origin) if e.description else ""
        props = [
            seen for p in e.props if (seen := _known(ctx, e, f"props:{p}", p, origin)) is not None
        ]
        text = f"- {title}: {description}" + (f" (props: {', '.join(props)})" if props else "")
        lines.append(Line(text, pv.merged(*origin)))
    return Section("story events", "should", lines) if lines else None


LORE_PLACES = {
    "before_char": "lore before the character",
    "after_char": "lore after the character",
    "before_examples": "lore before the examples",
    "after_examples": "lore after the examples",
    "an_top": "lore before the note",
    "an_bottom": "lore after the note",
}


@dataclass
class Insert:
    """A message placed ``depth`` messages from the end of the history (World Info or the
    Author's Note at a depth): volatile, it moves with the dialogue."""

    depth: int
    role: str
    text: str
    section: str


def world_info(
    ctx: PromptContext,
) -> tuple[dict[str, Section], list[Insert], list[dict[str, Any]]]:
    """World Info that fired for the speaker (from lines the speaker witnessed), placed where
    each entry says: sections by position, messages at a depth, and what the inspector lists."""
    activation = lore_scan(ctx.chat_id, speaker=ctx.speaker, context=ctx.macros)
    placed: dict[str, list[Line]] = {}
    inserts: list[Insert] = []
    listed = []
    for f in activation.fired:
        listed.append(
            {
                "uid": f.uid,
                "lorebook": f.lorebook,
                "entry": f.entry_id,
                "comment": f.comment,
                "reason": f.reason,
                "why": f.why,
                "position": f.position,
                "depth": f.depth,
                "tokens": f.tokens,
            }
        )
        if f.position == "at_depth":
            inserts.append(Insert(f.depth or 0, f.role or "system", f.content, "lore at a depth"))
        elif f.position in LORE_PLACES:
            placed.setdefault(f.position, []).append(
                Line(f.content, None, f.triggers, verbatim=True)
            )
    sections = {
        position: Section(LORE_PLACES[position], "should", lines)
        for position, lines in placed.items()
    }
    return sections, inserts, listed


def authors_note(ctx: PromptContext) -> tuple[Section | None, Insert | None]:
    """The Author's Note: every N of your messages, after or before the scenario (at the end
    of the prompt's volatile part) or at a depth in the history."""
    note = authors_note_for(ctx.chat_id, speaker=ctx.speaker)
    if note is None or not note.text.strip():
        return None, None
    text = expand_macros(note.text, char=ctx.me.name, user=ctx.user_name, context=ctx.macros)
    if note.position == "at_depth":
        return None, Insert(note.depth or 0, note.role or "system", text, "author's note")
    return Section("author's note", "should", _authored(text)), None


# -- what the speaker remembers ------------------------------------------------------------


def pinned_memories(ctx: PromptContext) -> Section | None:
    pins = memory_selectors.pinned(ctx.chat_id, ctx.speaker)
    if not pins:
        return None
    name = "pinned memories"
    return Section(
        name,
        "should",
        [_memory_line(m) for m in pins],
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
        [_memory_line(m) for m in digests],
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
        [_memory_line(m, f"(scene {m.scene}) {m.text}") for m in summaries],
        memories=[_memory_meta(m, ctx, name, "recent scene") for m in summaries],
    )


def retrieved_memories(
    ctx: PromptContext, *, skip_ids: set[int], skip_turns: set[int], query: str
) -> Section | None:
    """Memories the query finds, but those shown already (``skip_ids``) and the turns the
    dialogue holds (``skip_turns``)."""
    found = retrieve(
        ctx.chat_id,
        ctx.speaker,
        query,
        k=int(ctx.play["retrieval_k"]),
        exclude_turns=skip_turns,
        exclude_ids=skip_ids,
        facing_you=YOU in ctx.present,
        query_vector=ctx.query_vector,
    )
    if not found:
        return None
    name = "retrieved memories"
    return Section(
        name,
        "should",  # a couple at most, and they stay beside their line: kept past the soft budget
        [_memory_line(r.memory) for r in found],
        memories=[_memory_meta(r.memory, ctx, name, r.why, r.score) for r in found],
    )


def recollections(ctx: PromptContext, recalled: Recollections) -> Section | None:
    """What the speaker recalled while the blocks the history no longer holds were played: in
    the stable beginning, written once per block."""
    if not recalled.gone:
        return None
    lines: list[Line] = []
    metas = []
    name = "recollections"
    for (first, last), memories in recalled.gone:
        lines.append(Line(f"From turns {first}–{last} of the story:"))
        lines += recollection_lines(memories)
        metas += [_memory_meta(m, ctx, name, "recalled earlier") for m in memories]
    return Section(name, "should", lines, memories=metas)


# -- the dialogue --------------------------------------------------------------------------


HISTORY_CAP = 600  # the newest turns a history is chosen from


@dataclass(frozen=True)
class Heard:
    """A witnessed turn as the history's choice needs it (its cost, its speaker's
    recollections): the full rows are read for the window alone."""

    id: int
    speaker: str
    bot_text: str
    recalled: list


def witnessed_turns(chat_id: int, speaker: str, *, facing_you: bool) -> tuple[list[Heard], int]:
    """The turns the speaker witnessed and still holds (through the witness-filtered
    selector: a bit unset in the drawer hides the turn here too), oldest first, and how many
    older ones there are beyond the cap. Facing you, dialogue you did not witness stays out
    (a meanwhile scene reaches you only through the bots' digest of it)."""
    held = memory_selectors.visible_to(chat_id, speaker).filter(turn_id__isnull=False)
    if facing_you:
        held = held.filter(w_you=True)
    # the speaker's own store names the turns it holds: read from there, newest first (one
    # index walk), then those turns' rows
    ids = held.order_by("-turn_id").values_list("turn_id", flat=True).distinct()
    newest_ids = list(ids[:HISTORY_CAP])
    rows = {
        row[0]: row
        for row in Turn.objects.filter(chat_id=chat_id, id__in=newest_ids).values_list(
            "id", "speaker", "bot_text", "recalled"
        )
    }
    newest = [Heard(*rows[i]) for i in reversed(newest_ids) if i in rows]
    older = ids.count() - len(newest_ids) if len(newest_ids) == HISTORY_CAP else 0
    return newest, older


def turns_of(heard: list[Heard]) -> list[Turn]:
    """The full rows of these turns, in their order."""
    by_id = Turn.objects.in_bulk([h.id for h in heard])
    return [by_id[h.id] for h in heard if h.id in by_id]


def history_window(turns: list, older: int, *, budget: int, block: int) -> list[Turn]:
    """As much of the history as ``budget`` holds, starting on a block boundary: the start
    moves only a whole block at a time, so consecutive prompts share their beginning."""
    cost = [estimate(t.bot_text or "") + 6 for t in turns]
    keep_from = max(0, len(turns) - RECENT_MUST)
    total = sum(cost)
    start = 0
    for i in range(len(turns)):
        if (older + i) % block == 0 and total <= budget:
            start = i
            break
        total -= cost[i]
    else:
        start = keep_from
    return turns[min(start, keep_from) :]


def dialogue_section(
    name: str,
    tier: str,
    turns: list[Turn],
    ctx: PromptContext,
    recalled: dict[int, list[Memory]] | None = None,
) -> Section:
    """Turns as chat messages: the speaker's own as the assistant, the rest as the user; what
    the speaker recalled for a line of its own stays just before it (``recalled``)."""
    messages: list[Message] = []
    lines: list[Line] = []
    metas: list[dict[str, Any]] = []
    scene = turns[0].scene if turns else None
    for turn in turns:
        text = ctx.gate.admit(Line((turn.bot_text or "").strip(), None, (turn.id,), True))
        if text is None:
            continue
        if turn.scene != scene:
            scene = turn.scene
            messages.append({"role": "user", "content": "[Later: a new scene.]"})
        kept = [
            (m, seen)
            for m, line in zip(
                (recalled or {}).get(turn.id, []),
                recollection_lines((recalled or {}).get(turn.id, [])),
                strict=True,
            )
            if (seen := ctx.gate.admit(line)) is not None
        ]
        if kept:  # in parentheses: a story's aside, kept by every rendering
            said = "\n".join(seen for _, seen in kept)
            messages.append({"role": "user", "content": f"({ctx.me.name} recalls:\n{said})"})
            metas += [_memory_meta(m, ctx, name, "recalled for this line") for m, _ in kept]
        who = turn.name or ctx.names.get(turn.speaker, turn.speaker)
        role = "assistant" if turn.speaker == ctx.speaker else "user"
        messages.append({"role": role, "content": f"{who}: {text}"})
        lines.append(Line(f"{who}: {text}", None, (turn.id,), True))
    return Section(name, tier, dialogue=messages, dialogue_lines=lines, memories=metas)


@dataclass
class Dialogue:
    """The dialogue sections and the turns they hold (what retrieval leaves out, and reads
    when no query is given)."""

    earlier: Section  # trimmable
    recent: Section  # never trimmed
    window: list[Turn]  # oldest first
    recalled: Recollections = field(default_factory=Recollections)

    @property
    def turn_ids(self) -> set[int]:
        return {t.id for t in self.window}

    def newest_text(self) -> str:
        """The newest turns' words: the retrieval query when the caller gave none."""
        return " ".join(t.bot_text for t in self.window[-RECENT_MUST:])


def dialogue(ctx: PromptContext, *, budget: int, shown: set[int]) -> Dialogue:
    """Earlier and recent dialogue the speaker witnessed, as much as ``budget`` holds,
    moving in blocks of ``dialogue_window`` turns, with the speaker's recollections beside
    the lines they were recalled for, and those of the blocks gone from it
    (``play.engine.prompt.recollections``; ``shown``: memories the prompt holds already)."""
    block = max(2, int(ctx.play["dialogue_window"]))
    facing_you = YOU in ctx.present
    heard, older = witnessed_turns(ctx.chat_id, ctx.speaker, facing_you=facing_you)
    chosen = history_window(heard, older, budget=budget, block=block)
    before = heard[: len(heard) - len(chosen)]
    window = turns_of(chosen)
    recalled = gather(
        ctx.chat_id,
        ctx.speaker,
        window=window,
        before=before,
        older=older,
        block=block,
        shown=shown,
        facing_you=facing_you,
        budget=int(ctx.budgets["narrative_soft"]),
    )
    earlier, recent = window[:-RECENT_MUST], window[-RECENT_MUST:]
    return Dialogue(
        dialogue_section("earlier dialogue", "should", earlier, ctx, recalled.by_turn),
        dialogue_section("recent dialogue", "must", recent, ctx, recalled.by_turn),
        window,
        recalled,
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
    return Section("closing instructions", "must", _authored(text))


Builder = Callable[[PromptContext], Section | None]
