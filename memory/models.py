from __future__ import annotations

from django.db import models
from django.db.models import Q

from worlds.models import ChatProjection
from worlds.roles import ROLE_CHOICES, ROLES

# Memory ids derive from the id of the event that wrote them (event id * 64 + n), so
# replay gives every memory the same id and events can refer to memories by id.
IDS_PER_EVENT = 64


def memory_id(event_id: int, n: int) -> int:
    if not 0 <= n < IDS_PER_EVENT:
        raise ValueError(f"an event writes at most {IDS_PER_EVENT} memories")
    return event_id * IDS_PER_EVENT + n


class Memory(ChatProjection):
    """Something one entity remembers, with the witness mask of who was there."""

    class Kind(models.TextChoices):
        TURN = "turn"
        SUMMARY = "summary"
        DIGEST = "digest"
        GIST = "gist"
        SYNTHESIZED = "synthesized"
        MANUAL = "manual"

    natural_key_fields = ("id",)
    stable_pk = True
    ids_per_event = IDS_PER_EVENT
    event_refs = ("pinned_at", "source_event", "turn_id", "sources")
    index_fields = ("owner", "turn_id", "pinned")

    id = models.BigIntegerField(primary_key=True)
    owner = models.CharField(max_length=8, choices=ROLE_CHOICES)
    # The character in the owner's role when this was written: a different character taking
    # the guest role later does not inherit these memories.
    character_id = models.BigIntegerField(null=True, blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.TURN)
    text = models.TextField()
    speaker = models.CharField(max_length=8, blank=True)
    w_you = models.BooleanField("witnessed by you", default=False)
    w_host = models.BooleanField("witnessed by host", default=False)
    w_guest = models.BooleanField("witnessed by guest", default=False)
    significance = models.PositiveSmallIntegerField(default=0)
    pinned = models.BooleanField(default=False)
    pin_kind = models.CharField(max_length=8, blank=True)  # "" | auto | manual
    pinned_at = models.BigIntegerField(null=True, blank=True, help_text="event that pinned it")
    scene = models.PositiveIntegerField(default=1)
    story_time = models.CharField(max_length=32, blank=True)
    source_event = models.BigIntegerField(help_text="event that wrote it")
    turn_id = models.BigIntegerField(null=True, blank=True)
    # Index-only words, never shown as what was said: the days its relative dates mean
    # ("yesterday" said on 15 May 2023 -> Sunday 14 May 2023) and the fact keys the turn
    # analysis gave it. Both indexes search them with the text.
    keys = models.TextField(blank=True, default="")
    # The ISO days it speaks of (its resolved relative dates), space-separated: a question
    # asked by date is scored against them.
    dates = models.CharField(max_length=200, blank=True, default="")
    # Set when a story event closes and this memory mentions one of its props: sealed
    # memories never reach a prompt again (the picnic basket stays with the picnic).
    sealed = models.BooleanField(default=False)
    # the lines a summary, digest or gist was written from (a deleted one rewrites it)
    sources = models.JSONField(default=list, blank=True)
    # a summary whose lines lost one (a deleted turn): an extract stands in until rewritten
    rewrite = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "memories"
        indexes = [
            models.Index(fields=["chat", "owner", "id"]),
            # the always-loaded reads of a prompt: pins, latest summaries, the dialogue window
            models.Index(
                fields=["chat", "owner", "id"], condition=Q(pinned=True), name="memory_pins"
            ),
            models.Index(fields=["chat", "owner", "kind", "id"], name="memory_kinds"),
            models.Index(fields=["chat", "owner", "turn_id"], name="memory_turns"),
        ]

    def __str__(self) -> str:
        return f"[{self.owner}] {self.text[:60]}"

    @property
    def witnesses(self) -> dict[str, bool]:
        return {role: getattr(self, f"w_{role}") for role in ROLES}

    def witnessed_by(self, role: str) -> bool:
        return bool(getattr(self, f"w_{role}"))


class EmbeddingCache(models.Model):
    """Vectors by (model, text hash): a cache, not state. Replay never re-embeds."""

    model = models.CharField(max_length=200)
    text_hash = models.CharField(max_length=64)
    dims = models.PositiveIntegerField()
    vector = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["model", "text_hash"], name="embedding_cache_unique")
        ]


class VectorIndexState(models.Model):
    """Which embedding model built the vector index (a change means re-embedding)."""

    model = models.CharField(max_length=200)
    dims = models.PositiveIntegerField()
    updated_at = models.DateTimeField(auto_now=True)
