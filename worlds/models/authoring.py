"""What the user authors in the admin: characters, personas, places, scenarios, prompts."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from worlds.authors_note import NOTE_DEFAULTS, NOTE_POSITION_CHOICES, NOTE_ROLE_CHOICES


class Character(models.Model):
    """A bot, with every Character Card V2 field; unknown card fields are kept in ``card_extra``."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    personality = models.TextField(blank=True)
    scenario = models.TextField(blank=True)
    first_mes = models.TextField(blank=True)
    mes_example = models.TextField(blank=True)
    creator_notes = models.TextField(blank=True)
    system_prompt = models.TextField(blank=True)
    post_history_instructions = models.TextField(blank=True)
    alternate_greetings = models.JSONField(default=list, blank=True)
    tags = models.JSONField(default=list, blank=True)
    creator = models.CharField(max_length=200, blank=True)
    character_version = models.CharField(max_length=100, blank=True)
    extensions = models.JSONField(default=dict, blank=True)
    avatar = models.ImageField(upload_to="avatars/", blank=True)
    # Lossless round trip: the card's spec and any fields this model has no column for.
    spec = models.CharField(max_length=32, blank=True, default="chara_card_v2")
    spec_version = models.CharField(max_length=16, blank=True, default="2.0")
    card_extra = models.JSONField(default=dict, blank=True)
    lorebook = models.ForeignKey(
        "Lorebook", null=True, blank=True, on_delete=models.SET_NULL, related_name="characters"
    )
    extra_lorebooks = models.ManyToManyField(
        "Lorebook",
        blank=True,
        related_name="characters_extra",
        help_text="more lorebooks in effect wherever this character is present",
    )
    # The Author's Note a chat with this character uses until the chat sets its own.
    authors_note = models.TextField(blank=True)
    authors_note_position = models.CharField(
        max_length=16, choices=NOTE_POSITION_CHOICES, default=NOTE_DEFAULTS["position"]
    )
    authors_note_depth = models.PositiveSmallIntegerField(default=NOTE_DEFAULTS["depth"])
    authors_note_role = models.CharField(
        max_length=16, choices=NOTE_ROLE_CHOICES, default=NOTE_DEFAULTS["role"]
    )
    authors_note_frequency = models.PositiveSmallIntegerField(
        default=NOTE_DEFAULTS["frequency"], help_text="every N of your messages; 0 = never"
    )
    reply_tokens = models.PositiveIntegerField(
        null=True, blank=True, help_text="reply length target in tokens; empty = the default"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Persona(models.Model):
    """The user ("you") as the bots see them."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    is_default = models.BooleanField(default=False)
    lorebooks = models.ManyToManyField(
        "Lorebook", blank=True, related_name="personas", help_text="in effect in every chat"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ContainerTemplate(models.Model):
    """A kind of place with slots: a car, a diner booth, a bedroom."""

    class Range(models.TextChoices):
        INTIMATE = "intimate", "intimate (whispers carry)"
        ROOM = "room", "room"
        WIDE = "wide", "wide (shouting distance)"

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=64)
    slots = models.JSONField(default=list, help_text='slot names, e.g. ["driver", "passenger"]')
    moving = models.BooleanField(default=False)
    public = models.BooleanField(default=False)
    audible_range = models.CharField(max_length=16, choices=Range.choices, default=Range.ROOM)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Scenario(models.Model):
    """How a story opens: kickoff prose, the starting clock and weather."""

    name = models.CharField(max_length=200, unique=True)
    kickoff = models.TextField(help_text="prose describing the opening situation")
    start_time = models.CharField(
        max_length=32, default="2024-10-12T21:00", help_text="story time, ISO (YYYY-MM-DDTHH:MM)"
    )
    weather = models.CharField(max_length=200, blank=True)
    containers = models.ManyToManyField(ContainerTemplate, blank=True)
    start_place = models.ForeignKey(
        ContainerTemplate,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="where the story opens (one of its places); empty = the first place",
    )
    character = models.ForeignKey(
        Character, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    persona = models.ForeignKey(
        Persona, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PromptTemplate(models.Model):
    """Versioned instructions. Saving in the admin adds a version; a chat records which it used."""

    class Kind(models.TextChoices):
        NARRATIVE = "narrative", "narrative system prompt"
        BOOKKEEPING = "bookkeeping", "bookkeeping instructions"
        SUMMARY = "summary", "per-POV scene summary"
        KICKOFF = "kickoff", "kickoff parsing"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    version = models.PositiveIntegerField()
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kind", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "version"], name="prompt_kind_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} v{self.version}"


class Lorebook(models.Model):
    """World info: entries that enter a prompt when their keys appear in recent text."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    scan_depth = models.PositiveIntegerField(default=4)
    token_budget = models.PositiveIntegerField(
        default=512, help_text="tokens; with a context share set, the most it may take (0: none)"
    )
    recursive_scanning = models.BooleanField(default=False)
    # Activation settings SillyTavern keeps globally; here each book has its own. Not part of
    # any card or World Info file, so import and export leave them alone.
    budget_percent = models.PositiveSmallIntegerField(
        default=0, help_text="share of the context in %; 0: the token budget alone"
    )
    case_sensitive = models.BooleanField(default=False, help_text="for entries that do not say")
    match_whole_words = models.BooleanField(default=True, help_text="for entries that do not say")
    use_group_scoring = models.BooleanField(default=False)
    min_activations = models.PositiveSmallIntegerField(
        default=0, help_text="scan deeper until this many entries fire (0: off)"
    )
    min_activations_depth_max = models.PositiveIntegerField(
        default=0, help_text="how deep min activations may scan (0: the whole chat)"
    )
    max_recursion_steps = models.PositiveSmallIntegerField(
        default=0, help_text="scan passes at most (0: no limit; turns min activations off)"
    )
    extensions = models.JSONField(default=dict, blank=True)
    extra = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return self.name


class LoreEntry(models.Model):
    class Logic(models.TextChoices):
        AND_ANY = "and_any"
        AND_ALL = "and_all"
        NOT_ANY = "not_any"
        NOT_ALL = "not_all"

    lorebook = models.ForeignKey(Lorebook, on_delete=models.CASCADE, related_name="entries")
    uid = models.IntegerField(default=0)
    comment = models.CharField(max_length=300, blank=True)
    keys = models.JSONField(default=list, blank=True)
    secondary_keys = models.JSONField(default=list, blank=True)
    selective = models.BooleanField(default=False)
    selective_logic = models.CharField(max_length=8, choices=Logic.choices, default=Logic.AND_ANY)
    content = models.TextField(blank=True)
    constant = models.BooleanField(default=False)
    enabled = models.BooleanField(default=True)
    insertion_order = models.IntegerField(default=100)
    case_sensitive = models.BooleanField(default=False)
    match_whole_words = models.BooleanField(default=True)
    scan_depth = models.PositiveIntegerField(null=True, blank=True)
    extensions = models.JSONField(default=dict, blank=True)
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["insertion_order", "uid"]
        verbose_name_plural = "lore entries"

    def __str__(self) -> str:
        return self.comment or ", ".join(self.keys)[:60] or f"entry {self.uid}"


class CharacterAsset(models.Model):
    """A file of a character's CHARX archive (expression, background, icon, anything), kept as
    its bytes so export writes it back identical, at the same path."""

    character = models.ForeignKey(Character, on_delete=models.CASCADE, related_name="assets")
    path = models.CharField(max_length=500, help_text="its path inside the archive")
    data = models.BinaryField()
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["character", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["character", "path"], name="asset_character_path")
        ]

    def __str__(self) -> str:
        return self.path
