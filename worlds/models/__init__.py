from worlds.models.authoring import (
    Character,
    ContainerTemplate,
    Lorebook,
    LoreEntry,
    Persona,
    PromptTemplate,
    Scenario,
)
from worlds.models.state import (
    Activity,
    Container,
    Edge,
    EntityState,
    GroupNode,
    Scene,
    StoryEvent,
    Thread,
    WorldState,
)

__all__ = [
    "Activity",
    "Character",
    "Container",
    "ContainerTemplate",
    "Edge",
    "EntityState",
    "GroupNode",
    "LoreEntry",
    "Lorebook",
    "Persona",
    "PromptTemplate",
    "Scenario",
    "Scene",
    "StoryEvent",
    "Thread",
    "WorldState",
]
