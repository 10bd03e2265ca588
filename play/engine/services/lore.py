"""A chat's lore from the play page and the API: attaching and detaching lorebooks, the
Author's Note (the events are written by worlds.services_lore)."""

from __future__ import annotations

from eventstore.records import EventRecord
from play.engine import turnlock
from play.engine.errors import Conflict, NotFound
from play.engine.lore import authors_note_state, lorebooks_for
from worlds.models import Lorebook
from worlds.services_lore import authors_note_set, chat_lorebook_attach, chat_lorebook_detach

NOTE_FIELDS = ("text", "position", "depth", "role", "frequency")


def lorebook_attach(*, chat_id: int, lorebook_id: int, origin: str) -> EventRecord | None:
    """None (and no event) when it is attached already."""
    with turnlock.held(chat_id, origin):
        book = Lorebook.objects.filter(pk=lorebook_id).first()
        if book is None:
            raise NotFound(f"no lorebook {lorebook_id}")
        return chat_lorebook_attach(chat=chat_id, lorebook=book)


def lorebook_detach(*, chat_id: int, lorebook_id: int, origin: str) -> EventRecord:
    """Only a book attached to the chat itself; one that comes with the persona or a character
    is changed there."""
    with turnlock.held(chat_id, origin):
        found = next((f for f in lorebooks_for(chat_id) if f.lorebook.pk == lorebook_id), None)
        if found is not None and found.source != "chat":
            raise Conflict(f"lorebook {lorebook_id} comes with the {found.source}; change it there")
        return chat_lorebook_detach(chat=chat_id, lorebook_id=lorebook_id)


def authors_note_edit(
    *,
    chat_id: int,
    origin: str,
    text: str | None = None,
    position: str | None = None,
    depth: int | None = None,
    role: str | None = None,
    frequency: int | None = None,
) -> EventRecord | None:
    """Set the chat's Author's Note; a field left None keeps the value in force. None (and no
    event) when nothing changes."""
    given = dict(text=text, position=position, depth=depth, role=role, frequency=frequency)
    with turnlock.held(chat_id, origin):
        current = authors_note_state(chat_id)
        return authors_note_set(
            chat=chat_id, **{k: current[k] if given[k] is None else given[k] for k in NOTE_FIELDS}
        )
