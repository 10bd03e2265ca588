"""SillyTavern chats (JSONL) in and out.

The first line is metadata (``user_name``, ``character_name``, ``chat_metadata``, ...); each
following line is a message: ``name``, ``is_user``, ``send_date``, ``mes``, and for bot replies
``swipes`` with ``swipe_id``. On import the history becomes events on the main branch (the
chosen swipes) and every other swipe becomes a sibling branch of its message, so it shows as
``‹ n/m ›``.

Who is who comes from the messages: current SillyTavern writes ``"unused"`` for both names in
the first line, older versions the real names (still a fallback). From ``chat_metadata`` the
chat's lorebook (``world_info``, a lorebook's name) and its Author's Note (``note_*``) carry
over both ways.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from django.db import transaction

from eventstore.models import Branch, Event
from eventstore.services import append, branch_create
from play.engine.selectors import swipe_groups
from play.engine.services.chats import chat_start
from play.models import Chat, Turn
from worlds.authors_note import MAX_DEPTH, MAX_FREQUENCY, NOTE_DEFAULTS
from worlds.lines import line_payload
from worlds.models import AuthorsNote, Character, ChatLorebook, EntityState, Lorebook, Persona
from worlds.roles import HOST, NARRATOR, YOU, witness_mask
from worlds.services_lore import authors_note_set, chat_lorebook_attach

MAX_BYTES = 50 * 1024 * 1024
MAX_MESSAGE_CHARS = 200_000
MAX_MESSAGES = 100_000
UNUSED = "unused"  # what current SillyTavern writes for both names in the first line

# SillyTavern's Author's Note numbers (extension_prompt_types, extension_prompt_roles) and ours:
# 0 "in prompt" goes after the story string, 2 before it, 1 in the chat at a depth.
ST_NOTE_POSITIONS = {0: "after_scenario", 1: "at_depth", 2: "before_scenario"}
ST_NOTE_ROLES = {0: "system", 1: "user", 2: "assistant"}


class ChatImportError(ValueError):
    pass


@dataclass
class Imported:
    chat: Chat
    messages: int
    swipes: int
    warnings: list[str] = field(default_factory=list)


def parse(data: bytes) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    if len(data) > MAX_BYTES:
        raise ChatImportError(f"the file is {len(data)} bytes; the limit is {MAX_BYTES}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ChatImportError(f"not UTF-8 text: {exc}") from exc
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise ChatImportError("the file is empty")
    rows = []
    for number, line in enumerate(lines, start=1):
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise ChatImportError(f"line {number} is not JSON: {exc}") from exc
        if not isinstance(row, dict):
            raise ChatImportError(f"line {number} is not a JSON object")
        rows.append(row)
    meta, messages = rows[0], rows[1:]
    if "mes" in meta or not ("user_name" in meta or "character_name" in meta):
        raise ChatImportError(
            "the first line must be the chat's metadata (user_name, "
            "character_name); this does not look like a SillyTavern chat"
        )
    if len(messages) > MAX_MESSAGES:
        raise ChatImportError(f"{len(messages)} messages; the limit is {MAX_MESSAGES}")
    for number, msg in enumerate(messages, start=2):
        if not isinstance(msg.get("mes", ""), str):
            raise ChatImportError(f"line {number}: 'mes' must be text")
        if len(msg.get("mes", "")) > MAX_MESSAGE_CHARS:
            raise ChatImportError(
                f"line {number}: the message is over {MAX_MESSAGE_CHARS} characters"
            )
        swipes = msg.get("swipes")
        if swipes is not None and not (
            isinstance(swipes, list) and all(isinstance(s, str) for s in swipes)
        ):
            raise ChatImportError(f"line {number}: 'swipes' must be a list of texts")
    return meta, messages


def _chosen(msg: dict[str, Any]) -> tuple[str, list[str], int]:
    swipes = msg.get("swipes") or []
    if not swipes:
        return msg.get("mes", ""), [], 0
    index = msg.get("swipe_id", 0)
    if not isinstance(index, int) or not 0 <= index < len(swipes):
        index = swipes.index(msg["mes"]) if msg.get("mes") in swipes else 0
    return swipes[index], swipes, index


def chat_import(
    *,
    data: bytes,
    character: Character | None = None,
    persona: Persona | None = None,
    bookkeep: bool = False,
) -> Imported:
    """Create a chat from a SillyTavern JSONL file. Nothing is created if it is malformed."""
    meta, messages = parse(data)
    char_name, user_name = _names(meta, messages)
    chat_metadata = meta.get("chat_metadata")
    chat_metadata = chat_metadata if isinstance(chat_metadata, dict) else {}
    with transaction.atomic():
        if character is None:
            char_name = char_name or "Imported character"
            character = Character.objects.filter(
                name__iexact=char_name
            ).first() or Character.objects.create(name=char_name)
        if persona is None:
            user_name = user_name or "You"
            persona = Persona.objects.filter(
                name__iexact=user_name
            ).first() or Persona.objects.create(name=user_name)
        chat = chat_start(
            character=character,
            persona=persona,
            greeting="",
            title=f"{character.name} (imported)",
            setup={
                "containers": [{"key": "scene", "name": "the scene"}],
                "location": "scene",
                "activities": [],
            },
        )
        # before the history, so every swipe's branch (forked inside it) carries them too
        warnings = _metadata_import(chat, chat_metadata)
        swipe_count = 0
        last_user: int | None = None
        for msg in messages:
            text, swipes, chosen = _chosen(msg)
            # every imported line: heard by you and the host, in the first scene (no story time)
            origin = {
                "witnesses": witness_mask((YOU, HOST)),
                "scene": 1,
                "source": "import",
                "send_date": str(msg.get("send_date", "")),
            }
            if msg.get("is_system"):
                name = msg.get("name", "Narrator")
                line = line_payload(speaker=NARRATOR, name=name, text=text, **origin)
                append(stream=chat, kind="narration", payload=line)
                continue
            if msg.get("is_user"):
                name = msg.get("name") or persona.name
                line = line_payload(speaker=YOU, name=name, text=text, **origin)
                last_user = append(stream=chat, kind="user_turn", payload=line).id
                continue
            reply = partial(
                line_payload,
                speaker=HOST,
                name=msg.get("name") or character.name,
                reply_to=last_user,
                bookkeep=bookkeep,
                **origin,
            )
            before = Event.objects.filter(branch_id=chat.active_branch_id).order_by("-seq")[0]
            # siblings in SillyTavern's order: swipes before the chosen one get lower ids
            for j, alt in enumerate(swipes[:chosen]):
                _swipe_branch(chat, before, reply(text=alt, swipe_index=j))
            append(stream=chat, kind="assistant_turn", payload=reply(text=text))
            for j, alt in enumerate(swipes[chosen + 1 :], start=chosen + 1):
                _swipe_branch(chat, before, reply(text=alt, swipe_index=j))
            swipe_count += max(0, len(swipes) - 1)
    return Imported(chat, len(messages), swipe_count, warnings)


def _name(value: Any) -> str:
    """A name as SillyTavern wrote it; "" for none (or the header's placeholder)."""
    name = value.strip() if isinstance(value, str) else ""
    return "" if name.lower() == UNUSED else name


def _names(meta: dict[str, Any], messages: list[dict[str, Any]]) -> tuple[str, str]:
    """(the bot's name, the user's name): from the first message of each, else the header."""
    bot = next(
        (
            _name(m.get("name"))
            for m in messages
            if not m.get("is_user") and not m.get("is_system") and _name(m.get("name"))
        ),
        "",
    )
    user = next(
        (_name(m.get("name")) for m in messages if m.get("is_user") and _name(m.get("name"))),
        "",
    )
    return bot or _name(meta.get("character_name")), user or _name(meta.get("user_name"))


def _number(value: Any, default: int, low: int, high: int) -> int:
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if not isinstance(value, int | float) or isinstance(value, bool):
        return default
    return min(high, max(low, int(value)))


def _metadata_import(chat: Chat, metadata: dict[str, Any]) -> list[str]:
    """The chat's lorebook and Author's Note from SillyTavern's ``chat_metadata``, as events;
    what could not be carried over, in words."""
    warnings = []
    book_name = metadata.get("world_info")
    if isinstance(book_name, str) and book_name.strip():
        books = Lorebook.objects.order_by("pk")
        book = (
            books.filter(name=book_name.strip()).first()
            or books.filter(name__iexact=book_name.strip()).first()
        )
        if book is None:
            warnings.append(
                f"The chat's lorebook {book_name.strip()!r} is not here: import it, then "
                "attach it on the chat page."
            )
        else:
            chat_lorebook_attach(chat=chat, lorebook=book)
    text = metadata.get("note_prompt")
    # An empty note is SillyTavern's default, written into every chat it opens: it would hide
    # the character's own note here, so only a note with text is carried over.
    if isinstance(text, str) and text.strip():
        authors_note_set(
            chat=chat,
            text=text,
            position=ST_NOTE_POSITIONS.get(
                _number(metadata.get("note_position"), 1, -1, 99), NOTE_DEFAULTS["position"]
            ),
            depth=_number(metadata.get("note_depth"), NOTE_DEFAULTS["depth"], 0, MAX_DEPTH),
            role=ST_NOTE_ROLES.get(
                _number(metadata.get("note_role"), 0, -1, 99), NOTE_DEFAULTS["role"]
            ),
            frequency=_number(
                metadata.get("note_interval"), NOTE_DEFAULTS["frequency"], 0, MAX_FREQUENCY
            ),
        )
    return warnings


def _metadata_export(chat: Chat) -> dict[str, Any]:
    """``chat_metadata`` keys SillyTavern reads: the chat's lorebook (it holds one: the first
    attached) and its own Author's Note."""
    out: dict[str, Any] = {}
    attached = list(
        ChatLorebook.objects.filter(chat_id=chat.pk).values_list("lorebook_id", flat=True)
    )
    books = Lorebook.objects.in_bulk(attached)
    book = next((books[pk] for pk in attached if pk in books), None)
    if book is not None:
        out["world_info"] = book.name
    note = AuthorsNote.objects.filter(chat_id=chat.pk).first()
    if note is not None:
        positions = {ours: st for st, ours in ST_NOTE_POSITIONS.items()}
        roles = {ours: st for st, ours in ST_NOTE_ROLES.items()}
        out.update(
            note_prompt=note.text,
            note_interval=note.frequency,
            note_position=positions.get(note.position, 1),
            note_depth=note.depth,
            note_role=roles.get(note.role, 0),
        )
    return out


def _swipe_branch(chat: Chat, fork: Event, payload: dict[str, Any]) -> None:
    branch = branch_create(
        stream=chat, fork_event=fork, kind=Branch.Kind.SWIPE, label="imported swipe"
    )
    append(stream=chat, kind="assistant_turn", payload=payload, branch=branch)


def chat_export(chat: Chat) -> tuple[bytes, str]:
    """The active branch as SillyTavern JSONL (swipes included where the message has them)."""

    names = dict(EntityState.objects.filter(chat=chat).values_list("role", "name"))
    lines = [
        {
            "user_name": names.get(YOU, "You"),
            "character_name": names.get(HOST, ""),
            "create_date": chat.created_at.strftime("%Y-%m-%d @%Hh %Mm %Ss %fms"),
            "chat_metadata": {
                **_metadata_export(chat),
                "roleplay_engine": {"chat_id": chat.pk, "branch": chat.active_branch_id},
            },
        }
    ]
    groups = swipe_groups(chat)
    sent = dict(Event.objects.filter(stream=chat).values_list("id", "created_at"))
    for turn in Turn.objects.filter(chat=chat).order_by("id"):
        when = sent.get(turn.id) or datetime.now(UTC)
        row: dict[str, Any] = {
            "name": turn.name or names.get(turn.speaker, turn.speaker),
            "is_user": turn.speaker == YOU,
            "is_system": turn.speaker == NARRATOR,
            "send_date": when.strftime("%B %d, %Y %I:%M%p"),
            "mes": turn.text,
        }
        group = groups.get(turn.id)
        if group is not None:
            texts = dict(
                Event.objects.filter(pk__in=[s[0] for s in group.siblings]).values_list(
                    "id", "payload"
                )
            )
            row["swipes"] = [texts[s[0]].get("text", "") for s in group.siblings]
            row["swipe_id"] = group.index - 1
        elif turn.speaker not in (YOU, NARRATOR):
            row["swipes"] = [turn.text]
            row["swipe_id"] = 0
        lines.append(row)
    body = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n"
    return body.encode("utf-8"), f"{names.get('host', 'chat')}-{chat.pk}.jsonl"
