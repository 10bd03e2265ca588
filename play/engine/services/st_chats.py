"""SillyTavern chats (JSONL) in and out.

The first line is metadata (``user_name``, ``character_name``, ...); each following line is a
message: ``name``, ``is_user``, ``send_date``, ``mes``, and for bot replies ``swipes`` with
``swipe_id``. On import the history becomes events on the main branch (the chosen swipes)
and every other swipe becomes a sibling branch of its message, so it shows as ``‹ n/m ›``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from django.db import transaction

from eventstore.models import Branch, Event
from eventstore.services import append, branch_create
from play.engine.selectors import swipe_groups
from play.engine.services.chats import chat_start
from play.models import Chat, Turn
from worlds.lines import line_payload
from worlds.models import Character, EntityState, Persona
from worlds.roles import HOST, NARRATOR, YOU, witness_mask

MAX_BYTES = 50 * 1024 * 1024
MAX_MESSAGE_CHARS = 200_000
MAX_MESSAGES = 100_000


class ChatImportError(ValueError):
    pass


@dataclass
class Imported:
    chat: Chat
    messages: int
    swipes: int


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
    char_name = str(meta.get("character_name") or "").strip()
    user_name = str(meta.get("user_name") or "").strip() or "You"
    with transaction.atomic():
        if character is None:
            character = Character.objects.filter(
                name=char_name
            ).first() or Character.objects.create(name=char_name or "Imported character")
        if persona is None:
            persona = Persona.objects.filter(name=user_name).first() or Persona.objects.create(
                name=user_name
            )
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
    return Imported(chat, len(messages), swipe_count)


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
                "roleplay_engine": {"chat_id": chat.pk, "branch": chat.active_branch_id}
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
