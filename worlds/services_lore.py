"""Writes to a chat's lore state: attaching lorebooks and setting the Author's Note are
events, so they follow branches like every other piece of chat state."""

from __future__ import annotations

from eventstore.models import StreamRef, stream_id_of
from eventstore.records import EventRecord
from eventstore.services import append
from worlds.authors_note import note_check
from worlds.models import AuthorsNote, ChatLorebook, Lorebook


def chat_lorebook_attach(*, chat: StreamRef, lorebook: Lorebook) -> EventRecord | None:
    """Attach ``lorebook`` to the chat; None (and no event) when it is attached already."""
    chat_id = stream_id_of(chat)
    if ChatLorebook.objects.filter(chat_id=chat_id, lorebook_id=lorebook.pk).exists():
        return None
    return append(
        stream=chat,
        kind="lorebook_attached",
        payload={"lorebook": lorebook.pk, "name": lorebook.name},
    )


def chat_lorebook_detach(*, chat: StreamRef, lorebook_id: int) -> EventRecord:
    """Detach a lorebook attached to the chat; LookupError when it is not attached."""
    chat_id = stream_id_of(chat)
    if not ChatLorebook.objects.filter(chat_id=chat_id, lorebook_id=lorebook_id).exists():
        raise LookupError(f"lorebook {lorebook_id} is not attached to chat {chat_id}")
    return append(stream=chat, kind="lorebook_detached", payload={"lorebook": lorebook_id})


def authors_note_set(
    *, chat: StreamRef, text: str, position: str, depth: int, role: str, frequency: int
) -> EventRecord | None:
    """Set the chat's Author's Note; ValueError on bad settings, None when nothing changes."""
    settings = note_check(text=text, position=position, depth=depth, role=role, frequency=frequency)
    current = AuthorsNote.objects.filter(chat_id=stream_id_of(chat)).first()
    if current is not None and all(getattr(current, k) == v for k, v in settings.items()):
        return None
    return append(stream=chat, kind="authors_note_set", payload=settings)
