"""Versioned prompt templates, shipped with defaults and editable in the admin."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max

from worlds.models import PromptTemplate

DEFAULTS: dict[str, str] = {
    PromptTemplate.Kind.NARRATIVE: (
        "You are {{char}}, a character in an ongoing story with {{user}}. Write {{char}}'s next "
        "reply only: speech in plain text, actions in *asterisks*, in {{char}}'s own voice.\n"
        "Stay inside what {{char}} knows: the memories, relationships and surroundings below are "
        "{{char}}'s own view of the world. Never speak or act for {{user}}. Keep the physical "
        "situation consistent with the activity block (where everyone is, what they hold). Only "
        "the objects of active events exist right now; do not bring back things from finished "
        "ones. Move the story forward with concrete detail, vary your sentences, and do not "
        "repeat phrases from your earlier replies."
    ),
    PromptTemplate.Kind.BOOKKEEPING: (
        "You keep the books of a roleplay story. Read the latest exchange and report, as JSON "
        "matching the schema, what changed: for every ordered pair of present characters how the "
        "first one's feelings toward the second moved (affinity_delta and trust_delta from -10 to "
        "10, usually small; 0 when nothing changed), facts the first learned about the second, "
        "and a one-line last_interaction; changes to anyone's mood, goals or status; changes to "
        "what anyone is doing, where they sit or stand, what they hold; the significance of the "
        "latest turn (0 routine, 1 notable, 2 significant, 3 pivotal); how many minutes the "
        "exchange took (a few lines of talk: 1 to 5; more when the text says time passed); and "
        "whether the scene moved to another place. Story events are scoped happenings (a picnic, "
        "a dinner): plan one when the characters agree to do something, start it when the "
        "narration shows it beginning, complete or cancel it when it ends; list its props (the "
        "objects that belong to it alone) and, on completion, what survives it: objects someone "
        "acquired, facts someone learned, how a relationship changed, and a one-sentence gist. "
        "Threads are unresolved tensions: open, update, resolve or drop them. Report only what "
        "the text shows."
    ),
    PromptTemplate.Kind.SUMMARY: (
        "Summarise the scene below as {{char}} remembers it: first person, {{char}}'s own angle, "
        "feelings and interpretations, only what {{char}} witnessed. Three to six sentences. "
        "Keep the exact words of any quoted lines marked as key."
    ),
    PromptTemplate.Kind.KICKOFF: (
        "Read the opening of a story and describe its starting situation as JSON matching the "
        "schema: the places (containers) with their seats or spots (slots) and whether they "
        "move, are public, and how far voices carry; where each character is and what they are "
        "doing; the story date and time (ISO, YYYY-MM-DDTHH:MM) and the weather."
    ),
}


_current: dict[str, PromptTemplate] = {}


def current(kind: str) -> PromptTemplate:
    """The newest version of a template, creating version 1 from the default if needed.
    Kept in memory between saves (a prompt build needs it every turn)."""
    cached = _current.get(kind)
    if cached is not None:
        return cached
    found = PromptTemplate.objects.filter(kind=kind).order_by("-version").first()
    if found is None:
        found = prompt_template_save(kind=kind, text=DEFAULTS[kind])
    _current[kind] = found
    return found


def prompt_template_save(*, kind: str, text: str) -> PromptTemplate:
    with transaction.atomic():
        last = PromptTemplate.objects.filter(kind=kind).aggregate(v=Max("version"))["v"] or 0
        saved = PromptTemplate.objects.create(kind=kind, version=last + 1, text=text)
    _current.pop(kind, None)
    return saved


def ensure_defaults() -> None:
    for kind in DEFAULTS:
        current(kind)


def versions_in_use() -> dict[str, int]:
    return {kind: current(kind).version for kind in DEFAULTS}
