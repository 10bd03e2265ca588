"""World Info, the Author's Note and macros for one chat's prompt: what the prompt builder
calls. The rules themselves live in worlds (worlds.lore, worlds.authors_note, worlds.macros);
this module reads the chat they apply to.

* ``lorebooks_for(chat_id)``: the books in effect (chat, persona, present characters).
* ``lore_scan(chat_id, speaker=...)``: World Info activation for the speaker's next prompt.
* ``lore_timed_record(chat, speaker=..., caused_by=...)``: after the bot's turn is appended,
  the timed-effect state that prompt leaves, as a ``lore_timed_state`` event.
* ``authors_note_for(chat_id, speaker=...)``: the Author's Note for this prompt, if due.
* ``macro_context(chat_id, speaker=...)``: what ``{{lastMessage}}``, ``{{time}}`` &c. mean.

Everything here reads the chat's active line as it stands before the reply (``before``: the
id of a turn to stop at), so the state recorded after the reply is the state its prompt used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef
from django.utils import timezone

from eventstore.models import Event, StreamRef, stream_id_of
from eventstore.records import EventRecord
from eventstore.services import append
from memory.selectors import visible_to
from play.engine.samplers import budgets_for
from play.models import Chat, Turn
from rpsite.config import load_config
from worlds import clock
from worlds.authors_note import NOTE_DEFAULTS, AppliedNote, note_for
from worlds.lore import Activation, ScanMessage, Speaker, activate, book_of
from worlds.macros import MacroContext, expand_macros
from worlds.models import (
    AuthorsNote,
    Character,
    ChatLorebook,
    EntityState,
    Lorebook,
    LoreTimedState,
    WorldState,
)
from worlds.roles import HOST, NARRATOR, YOU

SOURCES = ("chat", "persona", "character")


@dataclass(frozen=True)
class BookInEffect:
    lorebook: Lorebook
    source: str  # one of SOURCES


def lorebooks_for(chat_id: int) -> list[BookInEffect]:
    """The lorebooks in effect in a chat: attached to it, then the persona's, then those of the
    characters present. A book reachable several ways is listed once, by its first source."""
    found: list[BookInEffect] = []
    seen: set[int] = set()

    def add(books, source: str) -> None:
        for book in books:
            if book is not None and book.pk not in seen:
                seen.add(book.pk)
                found.append(BookInEffect(book, source))

    attached = list(
        ChatLorebook.objects.filter(chat_id=chat_id).values_list("lorebook_id", flat=True)
    )
    by_id = Lorebook.objects.in_bulk(attached)
    add((by_id.get(pk) for pk in attached), "chat")  # a deleted book is simply gone
    chat = Chat.objects.filter(pk=chat_id).only("persona_id").first()
    if chat is not None and chat.persona_id:
        add(Lorebook.objects.filter(personas=chat.persona_id).order_by("pk"), "persona")
    present = EntityState.objects.filter(chat_id=chat_id, present=True).exclude(character_id=None)
    characters = Character.objects.filter(
        pk__in=present.order_by("role").values_list("character_id", flat=True)
    ).select_related("lorebook")
    for character in characters.order_by("pk"):
        add([character.lorebook], "character")
        add(character.extra_lorebooks.order_by("pk"), "character")
    return found


# -- the chat as the scan reads it ----------------------------------------------------------


def _turns(chat_id: int, before: int | None, limit: int, reader: str | None = None) -> list[Turn]:
    """The newest turns; with a ``reader`` (a role), only those it witnessed and holds."""
    turns = Turn.objects.filter(chat_id=chat_id)
    if reader is not None:
        turns = turns.filter(Exists(visible_to(chat_id, reader).filter(turn_id=OuterRef("id"))))
    if before is not None:
        turns = turns.filter(id__lt=before)
    # what a scan and the macros read of a line: its words and who said it (not its JSON)
    turns = turns.only("id", "speaker", "name", "bot_text")
    return list(reversed(turns.order_by("-id")[:limit]))


def _chat_length(chat_id: int, before: int | None) -> int:
    turns = Turn.objects.filter(chat_id=chat_id)
    if before is not None:
        turns = turns.filter(id__lt=before)
    return turns.count()


def _speaker(chat_id: int, role: str) -> tuple[EntityState | None, Character | None]:
    entity = EntityState.objects.filter(chat_id=chat_id, role=role).first()
    character = None
    if entity is not None and entity.character_id:
        character = Character.objects.filter(pk=entity.character_id).first()
    return entity, character


def _created(turn_ids: list[int]) -> dict[int, datetime]:
    return dict(Event.objects.filter(pk__in=turn_ids).values_list("pk", "created_at"))


def macro_context(chat_id: int, *, speaker: str, before: int | None = None) -> MacroContext:
    """The macro values for ``speaker``'s prompt.

    Time macros read the story clock when the story has one, else the wall-clock moment the
    newest turn was written (from the log: rebuilding the prompt gives the same text);
    ``{{idle_duration}}`` is the real time between your previous message and the newest turn.
    ``random``/``roll`` are seeded by the chat and the newest turn, ``pick`` by the chat.
    """
    recent = _turns(chat_id, before, 200)
    newest = recent[-1] if recent else None
    chat = Chat.objects.select_related("persona").filter(pk=chat_id).first()
    _, character = _speaker(chat_id, speaker)
    yours = [t for t in recent if t.speaker == YOU]
    theirs = [t for t in recent if t.speaker not in (YOU, NARRATOR)]
    times = _created([t.id for t in (newest, *yours[-2:]) if t is not None])
    wall = timezone.localtime(times[newest.id]) if newest else None
    world = WorldState.objects.filter(chat_id=chat_id).first()
    story = clock.parse(world.story_time) if world else None
    earlier = [t for t in yours if newest is None or t.id != newest.id]
    idle = None
    if newest is not None:
        idle = times[newest.id] - times[earlier[-1].id] if earlier else timedelta(0)
    return MacroContext(
        persona=chat.persona.description if chat and chat.persona else None,
        description=character.description if character else None,
        personality=character.personality if character else None,
        scenario=character.scenario if character else None,
        mes_examples=character.mes_example if character else None,
        last_message=newest.bot_text if newest else "",
        last_user_message=yours[-1].bot_text if yours else "",
        last_char_message=theirs[-1].bot_text if theirs else "",
        input=newest.bot_text if newest and newest.speaker == YOU else "",
        model=str(load_config()["inference"].get("narrative_model") or ""),
        now=story or (wall.replace(tzinfo=None) if wall else None),
        idle=idle,
        seed=f"{chat_id}:{newest.id if newest else 0}",
        stable_seed=str(chat_id),
    )


# -- World Info -------------------------------------------------------------------------------


def _timed_state(chat_id: int) -> dict:
    row = LoreTimedState.objects.filter(chat_id=chat_id).first()
    return row.state if row else {}


def lore_scan(
    chat_id: int,
    *,
    speaker: str,
    before: int | None = None,
    context: MacroContext | None = None,
) -> Activation:
    """World Info activation for ``speaker``'s next prompt.

    Scans the chat's turns (each ``ScanMessage.id`` is the turn's id, for the provenance
    gate), with the lorebooks in effect, the chat's timed-effect state and character filters
    for the speaker's character; content and keys get the speaker's macros. Chance is seeded
    by the chat and the newest turn: the same turn rolls the same way (a regenerate too).
    """
    books = [book_of(found.lorebook) for found in lorebooks_for(chat_id)]
    entity, character = _speaker(chat_id, speaker)
    user = EntityState.objects.filter(chat_id=chat_id, role=YOU).values_list("name", flat=True)
    user_name = user.first() or "you"
    char_name = entity.name if entity else speaker
    ctx = context or macro_context(chat_id, speaker=speaker, before=before)
    deepest = max(
        [
            max(book.settings.scan_depth, book.settings.min_activations_depth_max or 0)
            for book in books
        ]
        + [rule.scan_depth or 0 for book in books for rule in book.rules]
        + [1]
    )
    wants_all = any(
        b.settings.min_activations and not b.settings.min_activations_depth_max for b in books
    )
    # only lines the speaker witnessed: an entry set off by a line they did not hear does not
    # fire for them
    turns = _turns(chat_id, before, 1000 if wants_all else deepest, reader=speaker)
    messages = [ScanMessage(id=t.id, text=t.bot_text, name=t.name) for t in turns]
    return activate(
        books,
        messages,
        chat_length=_chat_length(chat_id, before),
        timed=_timed_state(chat_id),
        seed=ctx.seed,
        speaker=Speaker(char_name, tuple(character.tags) if character else ()),
        context_tokens=int(budgets_for(chat_id)["narrative_hard"]),
        render=lambda text: expand_macros(text, char=char_name, user=user_name, context=ctx),
    )


def lore_timed_append(
    chat: StreamRef, *, activation: Activation, caused_by: int | EventRecord
) -> EventRecord | None:
    """Record the timed-effect state a prompt's activation leaves; None when unchanged.

    Append it after the bot's turn (``caused_by``): a regenerate forks before that turn, so
    a swipe starts from the state before it, and a branch carries its parent's state.
    """
    chat_id = stream_id_of(chat)
    current = LoreTimedState.objects.filter(chat_id=chat_id).first()
    if current is not None and current.state == activation.timed:
        return None
    if current is None and not any(activation.timed.values()):
        return None
    return append(
        stream=chat,
        kind="lore_timed_state",
        payload={"state": activation.timed, "chat_length": activation.chat_length},
        caused_by=caused_by,
    )


def lore_timed_record(chat: Chat, *, speaker: str, caused_by: int) -> EventRecord | None:
    """After ``caused_by`` (a bot turn) is appended: the timed state its prompt left.

    The prompt's activation is recomputed over the same turns (those before ``caused_by``),
    with the same seed and state: the activation is a pure function of those.
    """
    if not lorebooks_for(chat.pk) and not LoreTimedState.objects.filter(chat_id=chat.pk).exists():
        return None  # no World Info here: nothing to time
    activation = lore_scan(chat.pk, speaker=speaker, before=caused_by)
    return lore_timed_append(chat, activation=activation, caused_by=caused_by)


# -- the Author's Note ------------------------------------------------------------------------


def _note_settings(chat_id: int, speaker: str) -> tuple[dict, str]:
    """The chat's own note, else the speaker's character's default, else SillyTavern's."""
    own = AuthorsNote.objects.filter(chat_id=chat_id).first()
    if own is not None:
        return {k: getattr(own, k) for k in NOTE_DEFAULTS}, "chat"
    _, character = _speaker(chat_id, speaker)
    if character is not None and character.authors_note:
        settings = {
            k: getattr(character, f"authors_note_{k}") for k in NOTE_DEFAULTS if k != "text"
        }
        return {**settings, "text": character.authors_note}, "character"
    return dict(NOTE_DEFAULTS), "default"


def authors_note_for(
    chat_id: int, *, speaker: str, before: int | None = None
) -> AppliedNote | None:
    """The Author's Note for ``speaker``'s next prompt, or None when this prompt is not one of
    every N. The default (no chat note, no character note) is empty but still carries World
    Info placed at an_top/an_bottom. Its text is as written: expand macros with
    ``macro_context``."""
    turns = Turn.objects.filter(chat_id=chat_id, speaker=YOU)
    if before is not None:
        turns = turns.filter(id__lt=before)
    settings, source = _note_settings(chat_id, speaker)
    return note_for(settings, source=source, user_messages=turns.count())


def authors_note_state(chat_id: int) -> dict:
    """The Author's Note settings in force (the host's default until the chat sets one), as
    the API and the drawer show them."""
    settings, source = _note_settings(chat_id, HOST)
    return {**settings, "source": source}


__all__ = [
    "BookInEffect",
    "authors_note_for",
    "authors_note_state",
    "lore_scan",
    "lore_timed_append",
    "lore_timed_record",
    "lorebooks_for",
    "macro_context",
]
