"""Pydantic models for every structured model output. Defaults are the safe fallback."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, PrivateAttr, field_validator, model_validator

from worlds.keys import place_key
from worlds.roles import BOTS, HOST, NARRATOR, ROLES

Role = Literal[ROLES]
Attention = Literal["low", "medium", "high"]

# What a small model writes when it copies the prompt's role ids into a title or a key.
_ROLE_WORDS = {*ROLES, NARRATOR, "user", "the user", "me", "i", "none", "null"}


def _not_a_role(value: str, what: str) -> str:
    if value.strip().strip(".:").lower() in _ROLE_WORDS:
        raise ValueError(f"{what} {value!r} names a role, not a {what.split()[0]}")
    return value


class _Lenient(BaseModel):
    model_config = {"extra": "ignore"}
    # what validation dropped from the model's answer (inference.base.validate_data)
    _rejected: list[str] = PrivateAttr(default_factory=list)


class ContainerSpec(_Lenient):
    key: str = Field("scene", max_length=64, description="short id, e.g. car, booth")
    name: str = Field("the scene", max_length=200)
    kind: str = Field("place", max_length=64)
    slots: list[str] = Field(default_factory=list, max_length=12)
    moving: bool = False
    public: bool = False
    audible_range: Literal["intimate", "room", "wide"] = "room"

    @field_validator("key")
    @classmethod
    def _slug(cls, v: str) -> str:
        return place_key(v)


class ActivitySpec(_Lenient):
    role: Role
    container: str = ""
    slot: str = ""
    posture: str = Field("", max_length=64)
    verb: str = Field("", max_length=200)
    interruptible: bool = True
    required_attention: Attention = "low"
    expected_duration: str = Field("", max_length=64)
    holding: list[str] = Field(default_factory=list, max_length=8)
    attention: str = Field("", max_length=200)
    status: str = Field("", max_length=64)


class KickoffParse(_Lenient):
    """The starting situation read from a scenario's kickoff prose."""

    containers: list[ContainerSpec] = Field(default_factory=list, max_length=6)
    location: str = ""
    activities: list[ActivitySpec] = Field(default_factory=list, max_length=3)
    story_time: str = Field("", description="ISO YYYY-MM-DDTHH:MM")
    weather: str = Field("", max_length=200)


class EdgeDelta(_Lenient):
    source: Role
    target: Role
    affinity_delta: int = Field(0, ge=-10, le=10)
    trust_delta: int = Field(0, ge=-10, le=10)
    knowledge_facts: list[str] = Field(default_factory=list, max_length=5)
    last_interaction: str = Field("", max_length=300)

    @model_validator(mode="after")
    def _two_sides(self) -> EdgeDelta:
        if self.source == self.target:
            raise ValueError("an edge joins two different characters")
        return self


class EntityChange(_Lenient):
    role: Role
    mood: str | None = Field(None, max_length=200)
    goals: str | None = Field(None, max_length=500)
    status: str | None = Field(None, max_length=200)
    inventory_add: list[str] = Field(default_factory=list, max_length=5)
    inventory_remove: list[str] = Field(default_factory=list, max_length=5)


class ActivityChange(_Lenient):
    role: Role
    slot: str | None = None
    posture: str | None = Field(None, max_length=64)
    verb: str | None = Field(None, max_length=200)
    interruptible: bool | None = None
    required_attention: Attention | None = None
    expected_duration: str | None = Field(None, max_length=64)
    holding: list[str] | None = Field(None, max_length=8)
    attention: str | None = Field(None, max_length=200)
    status: str | None = Field(None, max_length=64)


class SceneChange(_Lenient):
    moved_to: str = Field("", max_length=200, description="new place, empty if none")
    moved_to_kind: str = Field("", max_length=64)
    minutes_passed: int = Field(
        0,
        ge=0,
        le=60 * 24 * 30,
        description="minutes the exchange took: 1-5 for a few lines of talk, more when the "
        "text says time passed",
    )


class Acquired(_Lenient):
    role: Role
    item: str = Field(..., min_length=1, max_length=200)


class Learned(_Lenient):
    source: Role
    target: Role
    fact: str = Field(..., min_length=1, max_length=300)


class RelationshipShift(_Lenient):
    source: Role
    target: Role
    summary: str = Field(..., max_length=500)


class StoryEventChange(_Lenient):
    """A planned, started, completed or cancelled happening (a picnic, a dinner, a heist)."""

    action: Literal["plan", "start", "complete", "cancel"]
    key: str = Field("", max_length=64, description="id of an existing event, or new")
    title: str = Field("", max_length=200)
    description: str = Field("", max_length=500)
    props: list[str] = Field(
        default_factory=list, max_length=12, description="objects that belong to this event only"
    )
    preconditions: list[str] = Field(
        default_factory=list, max_length=6, description="what must hold before it can start"
    )
    planned_for: str = Field("", description="story time ISO YYYY-MM-DDTHH:MM, if known")
    significance: int = Field(1, ge=0, le=3)
    gist: str = Field("", max_length=600, description="on complete/cancel: what it amounted to")
    acquired: list[Acquired] = Field(default_factory=list, max_length=6)
    knowledge: list[Learned] = Field(default_factory=list, max_length=6)
    relationship: list[RelationshipShift] = Field(default_factory=list, max_length=6)

    @field_validator("title")
    @classmethod
    def _title(cls, v: str) -> str:
        return _not_a_role(v, "event title")

    @field_validator("key")
    @classmethod
    def _key(cls, v: str) -> str:
        return _not_a_role(v, "event key")

    @model_validator(mode="after")
    def _named(self) -> StoryEventChange:
        if self.action == "plan" and not self.title.strip():
            raise ValueError("a story event to plan needs a title")
        if not (self.key.strip() or self.title.strip()):
            raise ValueError("a story event needs a key or a title")
        return self


class ThreadChange(_Lenient):
    action: Literal["open", "update", "resolve", "drop"]
    key: str = Field("", max_length=64)
    title: str = Field("", max_length=300)
    notes: str = Field("", max_length=500)

    @field_validator("title")
    @classmethod
    def _title(cls, v: str) -> str:
        return _not_a_role(v, "thread title")

    @model_validator(mode="after")
    def _named(self) -> ThreadChange:
        if self.action == "open" and not self.title.strip():
            raise ValueError("a thread to open needs a title")
        if not (self.key.strip() or self.title.strip()):
            raise ValueError("a thread needs a key or a title")
        return self


class GroupChange(_Lenient):
    summary: str | None = Field(None, max_length=600)
    dynamic: str | None = Field(None, max_length=300)


class TurnAnalysis(_Lenient):
    """Everything bookkeeping needs from one exchange, in one call."""

    significance: int = Field(0, ge=0, le=3)
    edges: list[EdgeDelta] = Field(default_factory=list, max_length=6)
    entities: list[EntityChange] = Field(default_factory=list, max_length=3)
    activities: list[ActivityChange] = Field(default_factory=list, max_length=3)
    scene: SceneChange = Field(default_factory=SceneChange)
    group: GroupChange | None = Field(None, description="only when all three are present")
    story_events: list[StoryEventChange] = Field(default_factory=list, max_length=4)
    threads: list[ThreadChange] = Field(default_factory=list, max_length=4)
    memory_keys: list[str] = Field(
        default_factory=list,
        max_length=4,
        description="facts the latest turn states, each a short plain sentence naming who and "
        'what (e.g. "Dan\'s dog Pickle is a greyhound"); empty for small talk',
    )


class AddresseeDecision(_Lenient):
    addressee: Literal[BOTS] = HOST
    confidence: Literal["high", "medium", "low"] = "low"


class InterjectionDecision(_Lenient):
    interject: bool = False
    reason: str = Field("", max_length=300)


class EdgeSeed(_Lenient):
    affinity: int = Field(0, ge=-100, le=100)
    trust: int = Field(0, ge=-100, le=100)
    summary: str = Field("", max_length=500)
    knowledge: list[str] = Field(default_factory=list, max_length=8)


class MeetingParse(_Lenient):
    """How two bots stand with each other, read from the user's "have they met?" prose.
    The two directions are separate: one may adore the other, who barely remembers them."""

    met: bool = False
    host_to_guest: EdgeSeed = Field(default_factory=EdgeSeed)
    guest_to_host: EdgeSeed = Field(default_factory=EdgeSeed)


class SkippedEvent(_Lenient):
    key: str = Field(..., min_length=1)
    outcome: Literal["completed", "expired", "cancelled", "still_planned", "still_active"] = (
        "expired"
    )
    gist: str = Field("", max_length=500)


class LandingActivity(_Lenient):
    role: Role
    posture: str = Field("", max_length=64)
    verb: str = Field("", max_length=200)
    holding: list[str] = Field(default_factory=list, max_length=6)
    status: str = Field("", max_length=64)


class SkippedMemory(_Lenient):
    role: Role
    text: str = Field(..., min_length=1, max_length=600)


class SkipOutcome(_Lenient):
    """What happened over skipped time: how pending events ended, where everyone lands."""

    narration: str = Field("", max_length=1200)
    events: list[SkippedEvent] = Field(default_factory=list, max_length=8)
    activities: list[LandingActivity] = Field(default_factory=list, max_length=3)
    memories: list[SkippedMemory] = Field(default_factory=list, max_length=6)
    weather: str = Field("", max_length=200)


class SkipTarget(_Lenient):
    to_time: str = Field("", description="ISO YYYY-MM-DDTHH:MM")
