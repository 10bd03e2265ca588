"""The projected world of a chat. Rows here are written only by projectors (worlds.projectors)."""

from __future__ import annotations

from django.db import models

from eventstore.projection import Projection
from worlds.roles import ROLE_CHOICES


class ChatProjection(Projection):
    """A projection table of one chat: its rows belong to the chat's stream."""

    stream_key = "chat_id"

    chat = models.ForeignKey(
        "eventstore.Stream", on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )

    class Meta:
        abstract = True


class WorldState(ChatProjection):
    natural_key_fields = ("chat_id",)

    story_time = models.CharField(max_length=32, blank=True)
    weather = models.CharField(max_length=200, blank=True)
    location = models.CharField(max_length=64, blank=True, help_text="current container key")
    scene = models.PositiveIntegerField(default=1)
    prompt_versions = models.JSONField(default=dict, blank=True)
    kickoff = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["chat"], name="worldstate_chat_unique")]

    def __str__(self) -> str:
        return f"chat {self.chat_id} @ {self.story_time}"


class EntityState(ChatProjection):
    natural_key_fields = ("chat_id", "role")
    event_refs = ("prov.*.src",)

    role = models.CharField(max_length=8, choices=ROLE_CHOICES)
    name = models.CharField(max_length=200)
    character_id = models.BigIntegerField(null=True, blank=True)
    present = models.BooleanField(default=True)
    mood = models.CharField(max_length=200, blank=True)
    goals = models.TextField(blank=True)
    status = models.CharField(max_length=200, blank=True)
    inventory = models.JSONField(default=list, blank=True)

    # provenance of each derived field (worlds.provenance): who may know it, where from
    prov = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name_plural = "entity states"
        constraints = [
            models.UniqueConstraint(fields=["chat", "role"], name="entitystate_chat_role_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.role})"


class Activity(ChatProjection):
    """Where an entity is and what it is doing: always in the prompt."""

    natural_key_fields = ("chat_id", "role")
    event_refs = ("prov.*.src",)

    role = models.CharField(max_length=8, choices=ROLE_CHOICES)
    container = models.CharField(max_length=64, blank=True)
    slot = models.CharField(max_length=64, blank=True)
    posture = models.CharField(max_length=64, blank=True)
    verb = models.CharField(max_length=200, blank=True)
    interruptible = models.BooleanField(default=True)
    required_attention = models.CharField(max_length=16, default="low")
    expected_duration = models.CharField(max_length=64, blank=True)
    holding = models.JSONField(default=list, blank=True)
    attention = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=64, blank=True)

    # provenance of each derived field (worlds.provenance): who may know it, where from
    prov = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name_plural = "activities"
        constraints = [
            models.UniqueConstraint(fields=["chat", "role"], name="activity_chat_role_unique")
        ]


class Container(ChatProjection):
    natural_key_fields = ("chat_id", "key")
    event_refs = ("prov.*.src",)

    key = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=64, blank=True)
    slots = models.JSONField(default=list, blank=True)
    moving = models.BooleanField(default=False)
    public = models.BooleanField(default=False)
    audible_range = models.CharField(max_length=16, default="room")
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)

    # provenance of each derived field (worlds.provenance): who may know it, where from
    prov = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chat", "key"], name="container_chat_key_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Edge(ChatProjection):
    """A directed relationship ``source → target`` between two characters of the chat's cast,
    by entity key ("you", "c<id>": worlds.provenance). Its reverse is a separate row. It
    belongs to the characters, not the seats they hold: it stays when one of them leaves."""

    natural_key_fields = ("chat_id", "source", "target")
    event_refs = ("prov.*.src", "last_change.turn")

    source = models.CharField(max_length=32, help_text="character key")
    target = models.CharField(max_length=32, help_text="character key")
    affinity = models.IntegerField(default=0)
    trust = models.IntegerField(default=0)
    summary = models.TextField(blank=True)
    knowledge = models.JSONField(default=list, blank=True)
    private_moments = models.JSONField(default=list, blank=True)
    last_interaction = models.TextField(blank=True)
    met = models.BooleanField(default=True)
    # what the analyses of one turn did to it: {"turn": id, "affinity": Δ, "trust": Δ}
    last_change = models.JSONField(default=dict, blank=True)

    # provenance of each derived field (worlds.provenance): who may know it, where from
    prov = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["chat", "source", "target"], name="edge_chat_pair_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source} → {self.target}"


class GroupNode(ChatProjection):
    """A trio as a unit, keyed by its three members (character keys): the same three meeting
    again resume it. In a prompt only when all three are present."""

    natural_key_fields = ("chat_id", "key")
    event_refs = ("prov.*.src",)

    key = models.CharField(max_length=100, help_text="its members' keys, sorted, joined by +")
    members = models.JSONField(default=list, blank=True, help_text="character keys")
    summary = models.TextField(blank=True)
    dynamic = models.TextField(blank=True)
    shared_threads = models.JSONField(default=list, blank=True)

    # provenance of each derived field (worlds.provenance): who may know it, where from
    prov = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chat", "key"], name="groupnode_chat_key_unique")
        ]


class CastMember(ChatProjection):
    """Someone who has appeared in the chat (the persona, the host, every guest who came by),
    by entity key, and the seat they hold now ("" once another character took it). While
    they hold none, their own state waits here for their return."""

    natural_key_fields = ("chat_id", "key")
    event_refs = ("joined_event", "state.prov.*.src")

    key = models.CharField(max_length=32)
    name = models.CharField(max_length=200)
    character_id = models.BigIntegerField(null=True, blank=True)
    seat = models.CharField(max_length=8, blank=True, choices=ROLE_CHOICES)
    joined_event = models.BigIntegerField(null=True, blank=True)
    # mood, goals, status, inventory and their provenance, set aside while seatless
    state = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["chat", "key"], name="castmember_chat_key_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Scene(ChatProjection):
    natural_key_fields = ("chat_id", "number")
    event_refs = ("opened_event", "closed_event")

    number = models.PositiveIntegerField()
    container = models.CharField(max_length=64, blank=True)
    configuration = models.CharField(max_length=16, blank=True)
    present = models.JSONField(default=list, blank=True)
    opened_event = models.BigIntegerField(null=True, blank=True)
    closed_event = models.BigIntegerField(null=True, blank=True)
    opened_time = models.CharField(max_length=32, blank=True)
    closed_time = models.CharField(max_length=32, blank=True)
    close_reason = models.CharField(max_length=200, blank=True)
    meanwhile = models.BooleanField(default=False)
    digest_delivered = models.BooleanField(default=False)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["chat", "number"], name="scene_chat_number_unique")
        ]


class StoryEvent(ChatProjection):
    """A scoped happening with a lifecycle; its props live and die with it."""

    class Status(models.TextChoices):
        PLANNED = "planned"
        ACTIVE = "active"
        COMPLETED = "completed"
        CANCELLED = "cancelled"
        EXPIRED = "expired"

    OPEN = (Status.PLANNED, Status.ACTIVE)  # still to happen, or happening
    CLOSED = (Status.COMPLETED, Status.CANCELLED, Status.EXPIRED)  # its props are sealed

    natural_key_fields = ("chat_id", "key")
    event_refs = ("planned_event", "started_event", "closed_event", "prov.*.src")
    index_fields = ("status",)

    key = models.CharField(max_length=64)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PLANNED)
    props = models.JSONField(default=list, blank=True)
    preconditions = models.JSONField(default=list, blank=True)
    on_start = models.JSONField(default=dict, blank=True)
    on_complete = models.JSONField(default=dict, blank=True)
    significance = models.PositiveSmallIntegerField(default=1)
    participants = models.JSONField(default=list, blank=True)
    planned_for = models.CharField(max_length=32, blank=True)
    planned_event = models.BigIntegerField(null=True, blank=True)
    started_event = models.BigIntegerField(null=True, blank=True)
    closed_event = models.BigIntegerField(null=True, blank=True)
    started_time = models.CharField(max_length=32, blank=True)
    closed_time = models.CharField(max_length=32, blank=True)
    gist = models.TextField(blank=True)

    # provenance of each derived field (worlds.provenance): who may know it, where from
    prov = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chat", "key"], name="storyevent_chat_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.status})"


class Thread(ChatProjection):
    """An unresolved plot tension, sticky in every prompt until resolved or dropped."""

    natural_key_fields = ("chat_id", "key")
    event_refs = ("opened_event", "closed_event", "prov.*.src")

    key = models.CharField(max_length=64)
    title = models.CharField(max_length=300)
    status = models.CharField(max_length=16, default="open")
    notes = models.TextField(blank=True)
    opened_event = models.BigIntegerField(null=True, blank=True)
    closed_event = models.BigIntegerField(null=True, blank=True)

    # provenance of each derived field (worlds.provenance): who may know it, where from
    prov = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chat", "key"], name="thread_chat_key_unique")
        ]

    def __str__(self) -> str:
        return self.title


class Witness(ChatProjection):
    """Who witnessed a source of derived text: a line, or a hand edit (worlds.provenance)."""

    natural_key_fields = ("chat_id", "event")
    event_refs = ("event",)

    event = models.BigIntegerField()
    seen_by = models.JSONField(default=list, blank=True, help_text="character keys")
    # props of story events closed before this line that it names again: from here on they
    # may be spoken of (the user brought the picnic basket back)
    renames = models.JSONField(default=list, blank=True)
    # what the source said, as the word gate compares it (worlds.lexicon): its words that
    # could be distinctive, and those said as names
    words = models.JSONField(default=list, blank=True)
    names = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chat", "event"], name="witness_chat_event_unique")
        ]

    def __str__(self) -> str:
        return f"event {self.event} seen by {', '.join(self.seen_by)}"
