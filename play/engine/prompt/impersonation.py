"""The prompt of Impersonate: your next line, from your persona's seat.

Its reader is ``you``: the same gate as any bot's prompt (what your persona did not witness is
not there — a meanwhile scene, a line said before you arrived, a word only another character's
card holds). Your persona has no memory store: the prompt holds the dialogue you witnessed, your
state, your relationships to those present, the place and what everyone is doing, the threads
and story events you may know of.
"""

from __future__ import annotations

from play.engine.gate import Line
from play.engine.prompt import Layout, Prompt, assemble
from play.engine.prompt import sections as s
from play.engine.prompt.context import PromptContext, read_context
from play.models import Chat, Turn
from worlds.roles import YOU
from worlds.tokens import estimate

INSTRUCTION = (
    "You are writing as {user}, the user's character in an ongoing story. Write {user}'s next "
    "line only: speech in plain text, actions in *asterisks*, in {user}'s own voice, from what "
    "{user} knows and sees below. Never write for anyone else."
)
CLOSING = "Write only {user}'s next line, about {words} words, as {user} would say it."
HISTORY_TURNS = 60


def build_impersonation(chat: Chat) -> Prompt:
    ctx = read_context(chat, YOU)
    return assemble(ctx, layout(ctx))


def layout(ctx: PromptContext) -> Layout:
    you = ctx.me.name
    identity = [Line(INSTRUCTION.format(user=you))]
    persona = ctx.chat.persona
    if persona is not None and persona.description:
        identity.append(Line(f"{you}: {ctx.expand(persona.description)}"))
    turns = witnessed(ctx)
    cut = max(0, len(turns) - s.RECENT_MUST)
    note = [
        section
        for section in (
            s.state(ctx),
            *(edge_to(ctx, role) for role in sorted(ctx.present - {YOU})),
            s.world(ctx),
            s.active_scene(ctx),
            s.activity(ctx),
            s.active_threads(ctx),
            s.story_events(ctx),
        )
        if section is not None
    ]
    words = 60
    return Layout(
        system=[s.Section("identity", "must", identity)],
        history=[
            s.dialogue_section("earlier dialogue", "should", turns[:cut], ctx),
            s.dialogue_section("recent dialogue", "must", turns[cut:], ctx),
        ],
        inserts=[],
        note=note,
        closing=s.Section(
            "closing instructions", "must", [Line(CLOSING.format(user=you, words=words))]
        ),
        lore=[],
    )


def witnessed(ctx: PromptContext) -> list[Turn]:
    """The newest lines your persona witnessed, oldest first (within the soft budget)."""
    turns = list(
        Turn.objects.filter(chat_id=ctx.chat_id, witnesses__you=True).order_by("-id")[
            :HISTORY_TURNS
        ]
    )[::-1]
    budget = int(ctx.budgets["narrative_soft"]) // 2
    while turns and sum(estimate(t.bot_text or "") + 6 for t in turns) > budget:
        turns.pop(0)
    return turns


def edge_to(ctx: PromptContext, role: str) -> s.Section | None:
    if role not in ctx.names:
        return None
    lines = s.edge_lines(ctx, s._edge(ctx, role))
    return s.Section(f"edge to {ctx.names[role]}", "must", lines) if lines else None
