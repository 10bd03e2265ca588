from __future__ import annotations

from django.db import models

from eventstore.models import Stream
from worlds.models import ChatProjection


class Chat(Stream):
    """A story. Its log is the eventstore stream it extends (same id, same row's branch);
    this table holds what is not story state."""

    stream_ptr = models.OneToOneField(
        Stream,
        on_delete=models.CASCADE,
        parent_link=True,
        primary_key=True,
        db_column="id",
        related_name="chat",
    )
    title = models.CharField(max_length=200)
    character = models.ForeignKey(
        "worlds.Character", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    persona = models.ForeignKey(
        "worlds.Persona", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    scenario = models.ForeignKey(
        "worlds.Scenario", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    archived = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class Turn(ChatProjection):
    """The transcript of the active branch: one row per user or bot utterance.

    The primary key is the id of the event that wrote the turn, so it survives replay.
    """

    natural_key_fields = ("id",)
    stable_pk = True
    event_refs = ("reply_to", "edited_from", "continued_from")
    diff_ignores = ("seq",)  # its place on the branch: a copy is renumbered

    id = models.BigIntegerField(primary_key=True)
    seq = models.PositiveIntegerField(default=0)
    speaker = models.CharField(max_length=8)  # you | host | guest | narrator
    name = models.CharField(max_length=200, blank=True)
    text = models.TextField(blank=True)
    bot_text = models.TextField(blank=True, help_text="what the bots see: OOC removed")
    truncated = models.BooleanField(default=False)
    hidden = models.BooleanField(default=False)
    significance = models.PositiveSmallIntegerField(default=0)
    scene = models.PositiveIntegerField(default=1)
    story_time = models.CharField(max_length=32, blank=True)
    reply_to = models.BigIntegerField(null=True, blank=True)
    interjection = models.BooleanField(default=False)
    model = models.CharField(max_length=200, blank=True)
    witnesses = models.JSONField(default=dict)
    bookkept = models.BooleanField(default=False)
    # the line this one is a version of: an edit of its words, or a continued reply
    edited_from = models.BigIntegerField(null=True, blank=True)
    continued_from = models.BigIntegerField(null=True, blank=True)
    # the memories its prompt recalled anew (a bot's line): [[memory id, score], ...]; they
    # stay beside it in its speaker's later prompts (play.engine.prompt.recollections)
    recalled = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["chat", "id"])]

    def __str__(self) -> str:
        return f"{self.name or self.speaker}: {self.text[:40]}"


class ClassifierFailure(ChatProjection):
    """A bookkeeping or classifier call that failed and fell back (docs/design.md, Classifier calls)."""

    natural_key_fields = ("id",)
    stable_pk = True
    event_refs = ("turn_id",)

    id = models.BigIntegerField(primary_key=True)
    model = models.CharField(max_length=200, blank=True)
    prompt_kind = models.CharField(max_length=48)
    raw_output = models.TextField(blank=True)
    error = models.TextField()
    fallback = models.CharField(max_length=200, blank=True)
    turn_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["id"]


class ChatSamplers(ChatProjection):
    """The samplers a chat sets for itself (play.engine.samplers); a key it leaves out takes
    the global value from data/config.toml. No row: all global."""

    natural_key_fields = ("chat_id",)

    values = models.JSONField(default=dict)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["chat"], name="chatsamplers_chat_unique")]
