from __future__ import annotations

from django.db import models
from django.utils import timezone


class Branch(models.Model):
    """A line of a chat's history: its ancestors' events up to ``fork_event``, then its own."""

    class Kind(models.TextChoices):
        MAIN = "main"
        SWIPE = "swipe"
        REWIND = "rewind"
        BRANCH = "branch"
        DELETE = "delete"
        RESTORE = "restore"
        IMPORT = "import"

    chat = models.ForeignKey("play.Chat", on_delete=models.DO_NOTHING, related_name="branches")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.DO_NOTHING, related_name="children"
    )
    fork_event = models.ForeignKey(
        "Event", null=True, blank=True, on_delete=models.DO_NOTHING, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.MAIN)
    label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "branches"

    def __str__(self) -> str:
        return f"branch {self.pk} ({self.kind}) of chat {self.chat_id}"


class Event(models.Model):
    """One entry of the append-only log. Written only by ``eventstore.services.append``."""

    id = models.BigAutoField(primary_key=True)
    chat = models.ForeignKey("play.Chat", on_delete=models.DO_NOTHING, related_name="events")
    branch = models.ForeignKey(Branch, on_delete=models.DO_NOTHING, related_name="events")
    seq = models.PositiveIntegerField(help_text="position in the branch's whole log, from 1")
    kind = models.CharField(max_length=48, db_index=True)
    payload = models.JSONField(default=dict)
    caused_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.DO_NOTHING, related_name="consequences"
    )
    copied_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.DO_NOTHING, related_name="+"
    )
    schema_version = models.PositiveSmallIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["branch", "seq"], name="event_branch_seq_unique")
        ]
        indexes = [models.Index(fields=["chat", "id"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind}"


class Purge(models.Model):
    """The one door out of the log: events of a chat listed here may be deleted."""

    chat_id = models.BigIntegerField(primary_key=True)
