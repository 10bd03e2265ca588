"""What the message box understands besides story lines: SillyTavern's slash commands and an
empty Send. One reading for every door (the play page's websocket, the JSON API): ``parse``
says what a text asks for, ``run`` does it through the services that already do each thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import sync_to_async

from play.engine import pipeline
from play.engine.services import compose
from play.engine.services.branches import swipe_switch
from play.engine.services.cast import narrate
from play.engine.services.skip import time_skip
from play.models import Turn
from worlds.roles import GUEST, HOST

# name → (what follows it, what it does): /help prints these, in this order
COMMANDS: dict[str, tuple[str, str]] = {
    "continue": ("", "the last reply goes on from where it stops"),
    "impersonate": ("", "your next line drafted in your voice, into the message box"),
    "regen": ("", "the last reply written again (the old one stays a swipe away)"),
    "swipe": ("", "the next version of the last reply (a new one after the last)"),
    "sys": ("<text>", "a narrator line: what happens, said by no one"),
    "skip": ("<when>", "time passes: /skip 2 hours, /skip to morning"),
    "help": ("", "this list"),
}
ALIASES = {"cont": "continue", "imp": "impersonate", "regenerate": "regen", "narrate": "sys"}
NEEDS_TEXT = {"sys", "skip"}


class UnknownCommand(ValueError):
    """A ``/word`` the box does not know: it is answered, never sent as a line."""


@dataclass
class Command:
    name: str  # a COMMANDS key, or "say" (a story line) or "reply" (an empty Send)
    text: str = ""


@dataclass
class Done:
    """What a command did: the lines it wrote, or words for the one who asked (a draft for
    the message box, the help, a notice)."""

    turns: list[Any] = field(default_factory=list)
    draft: str | None = None
    notice: str = ""
    help: str = ""


def help_text() -> str:
    return (
        "\n".join(
            f"/{name}{' ' + arg if arg else ''} — {what}" for name, (arg, what) in COMMANDS.items()
        )
        + "\nAn empty Send asks for a reply."
    )


def parse(text: str) -> Command:
    """What ``text`` from the message box asks for. Raises UnknownCommand for ``/anything``
    unknown, ValueError for a command without the words it needs (and for a story line
    over the size limit)."""
    stripped = (text or "").strip() if isinstance(text, str) else ""
    if not stripped:
        return Command("reply")
    if not stripped.startswith("/"):
        return Command("say", pipeline.validate_text(text))
    word, _, rest = stripped[1:].partition(" ")
    name = ALIASES.get(word.lower(), word.lower())
    if name not in COMMANDS:
        raise UnknownCommand(f"unknown command /{word[:40]}: /help lists what there is")
    rest = rest.strip()
    if name in NEEDS_TEXT and not rest:
        raise ValueError(f"/{name} needs {COMMANDS[name][0]}: {COMMANDS[name][1]}")
    if name in NEEDS_TEXT:
        pipeline.validate_text(rest)
    return Command(name, rest)


def _last_bot_line(chat_id: int) -> int:
    turn = (
        Turn.objects.filter(chat_id=chat_id, hidden=False, speaker__in=(HOST, GUEST))
        .order_by("-id")
        .first()
    )
    if turn is None:
        raise ValueError("no reply yet")
    return turn.pk


async def run(chat_id: int, command: Command, *, origin: str, draft_key: str = "") -> Done:
    """Do what ``command`` asks (ChatBusy, ValueError and TurnFailed as its service raises)."""
    if command.name == "say":
        return Done(turns=await pipeline.run_turn(chat_id, command.text, origin=origin))
    if command.name == "reply":
        return Done(turns=await pipeline.run_reply(chat_id, origin=origin))
    if command.name == "help":
        return Done(help=help_text())
    if command.name == "continue":
        return Done(turns=await compose.turn_continue(chat_id=chat_id, turn_id=None, origin=origin))
    if command.name == "impersonate":
        drafted = await compose.impersonate(chat_id=chat_id, origin=origin, key=draft_key)
        return Done(draft=drafted["text"])
    if command.name == "sys":
        turn = await narrate(chat_id=chat_id, text=command.text, origin=origin)
        return Done(turns=[turn])
    if command.name == "skip":
        await time_skip(chat_id=chat_id, mode="jump", to=command.text, origin=origin)
        return Done(notice=f"time skipped: {command.text}")
    turn_id = await sync_to_async(_last_bot_line)(chat_id)
    if command.name == "swipe":
        try:
            await sync_to_async(swipe_switch)(
                chat_id=chat_id, turn_id=turn_id, direction=1, origin=origin
            )
            return Done(notice="the next version of the last reply")
        except (LookupError, ValueError):
            pass  # no later version: write one, as SillyTavern's swipe past the last does
    return Done(turns=await pipeline.regenerate(chat_id, turn_id, origin=origin))
