"""Admin forms. A World Info entry edits every SillyTavern setting import keeps, where it keeps
it: a World Info file's entries hold them in ``extra["world_info"]`` (SillyTavern's keys),
character books and entries made here in ``extensions`` (snake_case). worlds.lore.rules reads
them from the same places, in the same order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms

from worlds.cards import ST_EXTENSION_KEYS
from worlds.lore.rules import (
    DEFAULT_DEPTH,
    DEFAULT_WEIGHT,
    ROLES,
    ST_POSITIONS,
    entry_setting,
    integer,
    number,
    section,
    strings,
)
from worlds.models import LoreEntry
from worlds.services_cards import ENTRY_COLUMNS

POSITION_LABELS = {
    "before_char": "before the character definition",
    "after_char": "after the character definition",
    "an_top": "above the Author's Note",
    "an_bottom": "below the Author's Note",
    "at_depth": "in the chat, at a depth",
    "before_examples": "before the example messages",
    "after_examples": "after the example messages",
}
OUTLET = 7  # SillyTavern's outlet: the entry is placed only where a prompt names it
POSITION_CHOICES = [(n, POSITION_LABELS[name]) for n, name in ST_POSITIONS.items()] + [
    (OUTLET, "outlet (placed nowhere here)")
]
ROLE_CHOICES = list(enumerate(ROLES))
FILTER_KEY = "characterFilter"
EXTENSION_KEYS = {**ST_EXTENSION_KEYS, FILTER_KEY: "character_filter"}


@dataclass(frozen=True)
class Setting:
    """A form field and the SillyTavern key behind it."""

    field: str
    key: str  # World Info's; the extensions key is EXTENSION_KEYS[key]
    default: Any


SETTINGS = (
    Setting("position", "position", 0),
    Setting("depth", "depth", DEFAULT_DEPTH),
    Setting("role", "role", 0),
    Setting("outlet_name", "outletName", ""),
    Setting("probability", "probability", 100),
    Setting("use_probability", "useProbability", True),
    Setting("group", "group", ""),
    Setting("group_weight", "groupWeight", DEFAULT_WEIGHT),
    Setting("group_override", "groupOverride", False),
    Setting("use_group_scoring", "useGroupScoring", None),
    Setting("sticky", "sticky", None),
    Setting("cooldown", "cooldown", None),
    Setting("delay", "delay", None),
    Setting("exclude_recursion", "excludeRecursion", False),
    Setting("prevent_recursion", "preventRecursion", False),
    Setting("delay_until_recursion", "delayUntilRecursion", 0),
    Setting("automation_id", "automationId", ""),
    Setting("vectorized", "vectorized", False),
    Setting("display_index", "displayIndex", None),
)
FILTER_FIELDS = ("filter_names", "filter_tags", "filter_exclude")


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


class LoreEntryForm(forms.ModelForm):
    position = forms.TypedChoiceField(choices=POSITION_CHOICES, coerce=int)
    depth = forms.IntegerField(min_value=0, help_text="messages from the end (in the chat only)")
    role = forms.TypedChoiceField(
        choices=ROLE_CHOICES, coerce=int, help_text="in the chat only: who says it"
    )
    outlet_name = forms.CharField(required=False, max_length=200)
    probability = forms.IntegerField(min_value=0, max_value=100, help_text="% chance it fires")
    use_probability = forms.BooleanField(required=False)
    group = forms.CharField(
        required=False, max_length=300, help_text="inclusion groups, comma-separated"
    )
    group_weight = forms.IntegerField(min_value=1)
    group_override = forms.BooleanField(required=False, help_text="wins its group by order")
    use_group_scoring = forms.NullBooleanField(
        required=False, help_text="unknown: the lorebook decides"
    )
    sticky = forms.IntegerField(required=False, min_value=0, help_text="messages it stays")
    cooldown = forms.IntegerField(required=False, min_value=0, help_text="messages it rests")
    delay = forms.IntegerField(
        required=False, min_value=0, help_text="messages the chat needs before it can fire"
    )
    exclude_recursion = forms.BooleanField(required=False, help_text="not activated by others")
    prevent_recursion = forms.BooleanField(required=False, help_text="activates no others")
    delay_until_recursion = forms.IntegerField(
        min_value=0, help_text="0: off; n: only from recursion level n"
    )
    automation_id = forms.CharField(required=False, max_length=200)
    vectorized = forms.BooleanField(required=False)
    display_index = forms.IntegerField(required=False)
    filter_names = forms.CharField(
        required=False, help_text="only for these characters (comma-separated names)"
    )
    filter_tags = forms.CharField(required=False, help_text="or characters with these tags")
    filter_exclude = forms.BooleanField(required=False, help_text="all but these instead")

    class Meta:
        model = LoreEntry
        fields = ENTRY_COLUMNS  # what a lorebook entry keeps in columns (import, export)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        entry = self.instance
        for setting in SETTINGS:
            self.initial.setdefault(setting.field, self._read(entry, setting))
        found, filt = entry_setting(entry, FILTER_KEY, EXTENSION_KEYS[FILTER_KEY])
        filt = filt if found and isinstance(filt, dict) else {}
        self.initial.setdefault("filter_names", ", ".join(strings(filt.get("names"))))
        self.initial.setdefault("filter_tags", ", ".join(strings(filt.get("tags"))))
        self.initial.setdefault("filter_exclude", bool(filt.get("isExclude", False)))
        position = self.initial["position"]
        if position not in dict(POSITION_CHOICES):  # keep a number this app does not know
            field = self.fields["position"]
            field.choices = [*field.choices, (position, f"unknown ({position})")]

    @staticmethod
    def _read(entry: LoreEntry, setting: Setting) -> Any:
        """The value in force, as worlds.lore.rules reads it, in the form field's type."""
        found, value = entry_setting(entry, setting.key, EXTENSION_KEYS[setting.key])
        if not found or value is None:
            if setting.field == "position":
                after = section(entry.extra, "character_book").get("position") == "after_char"
                return 1 if after else 0
            return setting.default
        if setting.field in ("position", "role", "depth"):
            return integer(value, setting.default)
        if setting.field in ("probability", "group_weight"):
            return round(number(value, setting.default))
        if setting.field in ("sticky", "cooldown", "delay", "display_index"):
            return integer(value, 0)
        if setting.field == "delay_until_recursion":
            return 1 if value is True else max(0, integer(value, 0))
        if isinstance(setting.default, bool) or setting.field == "use_group_scoring":
            return value if isinstance(value, bool) else setting.default
        return value if isinstance(value, str) else str(value)

    def save(self, commit: bool = True) -> LoreEntry:
        # Only what was changed is written: a value kept as imported (a null, a string number)
        # goes back out as it came.
        entry = self.instance
        for setting in SETTINGS:
            if setting.field in self.changed_data:
                value = self.cleaned_data[setting.field]
                if setting.field == "delay_until_recursion" and value == 0:
                    value = False  # SillyTavern's "off"
                _write(entry, setting.key, value)
        if any(name in self.changed_data for name in FILTER_FIELDS):
            found, filt = entry_setting(entry, FILTER_KEY, EXTENSION_KEYS[FILTER_KEY])
            filt = dict(filt) if found and isinstance(filt, dict) else {}
            filt.update(
                names=_names(self.cleaned_data["filter_names"]),
                tags=_names(self.cleaned_data["filter_tags"]),
                isExclude=self.cleaned_data["filter_exclude"],
            )
            _write(entry, FILTER_KEY, filt)
        if "position" in self.changed_data:
            _sync_book_position(entry, self.cleaned_data["position"])
        return super().save(commit=commit)


def _write(entry: LoreEntry, key: str, value: Any) -> None:
    """Set a SillyTavern setting where the entry keeps them (see the module docstring)."""
    extra = entry.extra if isinstance(entry.extra, dict) else {}
    world_info = section(extra, "world_info")
    if world_info:
        entry.extra = {**extra, "world_info": {**world_info, key: value}}
    else:
        extensions = entry.extensions if isinstance(entry.extensions, dict) else {}
        entry.extensions = {**extensions, EXTENSION_KEYS[key]: value}


def _sync_book_position(entry: LoreEntry, position: int) -> None:
    """A character book's own ``position`` says only before or after the character; keep it
    agreeing with the number, as SillyTavern writes both."""
    extra = entry.extra if isinstance(entry.extra, dict) else {}
    book = section(extra, "character_book")
    if "position" in book:
        where = "before_char" if position == 0 else "after_char"
        entry.extra = {**extra, "character_book": {**book, "position": where}}
