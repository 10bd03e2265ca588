"""What a prompt build reads once, from one speaker's seat: the builders share it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eventstore.projection import read_rows
from play.engine.gate import Gate
from play.engine.lore import macro_context
from play.engine.samplers import budgets_for, samplers_for
from play.models import Chat
from rpsite.config import load_config
from worlds import provenance as pv
from worlds.cast import Seats
from worlds.macros import expand_macros
from worlds.models import Character, Container, EntityState, WorldState
from worlds.roles import GUEST, HOST, YOU


@dataclass
class PromptContext:
    chat: Chat
    speaker: str
    entities: dict[str, EntityState]
    character: Character | None
    world: WorldState
    containers: dict[str, Container]
    budgets: dict[str, Any]  # the chat's (a context size of its own changes them)
    play: dict[str, Any]
    samplers: dict[str, Any] = field(default_factory=dict)  # the chat's (play.engine.samplers)
    query: str = ""
    extra_note: str = ""
    query_vector: Any = None
    gate: Gate | None = None  # set by read_context: the speaker is its one reader
    macros: Any = None  # card macros' values from the speaker's seat (play.engine.lore)

    @property
    def chat_id(self) -> int:
        return self.chat.pk

    @property
    def me(self) -> EntityState:
        return self.entities[self.speaker]

    @property
    def names(self) -> dict[str, str]:
        return self.seats.role_names

    @property
    def present(self) -> set[str]:
        return {r for r, e in self.entities.items() if e.present}

    @property
    def seats(self) -> Seats:
        """Who holds each seat: the speaker's edges are those of the characters in them."""
        return Seats.of_entities(self.chat_id, self.entities.values())

    @property
    def user_name(self) -> str:
        return self.names.get(YOU, "you")

    @property
    def other_bot(self) -> str:
        return GUEST if self.speaker == HOST else HOST

    def expand(self, text: str) -> str:
        """Card macros from the speaker's seat."""
        return expand_macros(text or "", char=self.me.name, user=self.user_name)


def read_context(
    chat: Chat, speaker: str, *, query: str = "", extra_note: str = "", query_vector=None
) -> PromptContext:
    config = load_config()
    entities = {e.role: e for e in read_rows(EntityState, "chat_id = %s", [chat.pk])}
    worlds = read_rows(WorldState, "chat_id = %s", [chat.pk])
    me = entities[speaker]
    ctx = PromptContext(
        chat=chat,
        speaker=speaker,
        entities=entities,
        character=Character.objects.filter(pk=me.character_id).first(),
        world=worlds[0] if worlds else WorldState(chat_id=chat.pk),
        containers={c.key: c for c in read_rows(Container, "chat_id = %s", [chat.pk])},
        budgets=budgets_for(chat.pk, config),
        play=config["play"],
        samplers=samplers_for(chat.pk, config),
        query=query,
        extra_note=extra_note,
        query_vector=query_vector,
    )
    ctx.gate = Gate.for_readers(chat.pk, [pv.key_of(me)])
    ctx.macros = macro_context(chat.pk, speaker=speaker)
    return ctx
