"""A chat's lore state: attached lorebooks, its Author's Note, World Info timed effects.
Written only by projectors (worlds.projectors), so all three follow branches and swipes."""

from __future__ import annotations

from django.db import models

from worlds.authors_note import NOTE_DEFAULTS
from worlds.models.state import ChatProjection


class ChatLorebook(ChatProjection):
    """A lorebook attached to one chat (the persona's and the characters' come with them)."""

    natural_key_fields = ("chat_id", "lorebook_id")
    event_refs = ("attached_event",)

    lorebook_id = models.BigIntegerField()  # not a foreign key: deleting a book keeps the log
    attached_event = models.BigIntegerField()

    class Meta:
        ordering = ["attached_event"]
        constraints = [
            models.UniqueConstraint(fields=["chat", "lorebook_id"], name="chatlorebook_unique")
        ]


class AuthorsNote(ChatProjection):
    """The chat's own Author's Note; without a row the host character's default applies."""

    natural_key_fields = ("chat_id",)

    text = models.TextField(blank=True)
    position = models.CharField(max_length=16, default=NOTE_DEFAULTS["position"])
    depth = models.PositiveSmallIntegerField(default=NOTE_DEFAULTS["depth"])
    role = models.CharField(max_length=16, default=NOTE_DEFAULTS["role"])
    frequency = models.PositiveSmallIntegerField(default=NOTE_DEFAULTS["frequency"])

    class Meta:
        constraints = [models.UniqueConstraint(fields=["chat"], name="authorsnote_chat_unique")]


class LoreTimedState(ChatProjection):
    """World Info sticky and cooldown effects in force (worlds.lore's timed state)."""

    natural_key_fields = ("chat_id",)

    state = models.JSONField(default=dict)
    chat_length = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["chat"], name="loretimed_chat_unique")]
