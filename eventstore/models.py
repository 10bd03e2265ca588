from __future__ import annotations

from typing import Any, Protocol

from django.db import models
from django.utils import timezone


class _Keyed(Protocol):
    pk: Any


# Services take a stream as its id or as any row sharing its stream's id (the domain above
# keys its own rows by the stream they belong to).
StreamRef = int | _Keyed


def stream_id_of(stream: StreamRef) -> int:
    return stream if isinstance(stream, int) else int(stream.pk)


class Stream(models.Model):
    """One append-only log and its branches. The domain above gives it a meaning (a story);
    the store only knows which branch is the live one."""

    active_branch = models.ForeignKey(
        "Branch", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # the projection version its live rows were built under (an older one is replayed)
    projected_version = models.PositiveSmallIntegerField(default=0)

    def __str__(self) -> str:
        return f"stream {self.pk}"


class Branch(models.Model):
    """A line of a stream's history: its ancestors' events up to ``fork_event``, then its own."""

    class Kind(models.TextChoices):
        MAIN = "main"
        SWIPE = "swipe"
        REWIND = "rewind"
        BRANCH = "branch"
        DELETE = "delete"
        EDIT = "edit"
        RESTORE = "restore"
        IMPORT = "import"

    stream = models.ForeignKey(Stream, on_delete=models.DO_NOTHING, related_name="branches")
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
        return f"branch {self.pk} ({self.kind}) of stream {self.stream_id}"


class Event(models.Model):
    """One entry of the append-only log. Written only by ``eventstore.services.append``."""

    id = models.BigAutoField(primary_key=True)
    stream = models.ForeignKey(Stream, on_delete=models.DO_NOTHING, related_name="events")
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
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["branch", "seq"], name="event_branch_seq_unique")
        ]
        indexes = [models.Index(fields=["stream", "id"], name="eventstore_stream_id_idx")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind}"


class Purge(models.Model):
    """The one door out of the log: events of a stream listed here may be deleted."""

    stream_id = models.BigIntegerField(primary_key=True)
