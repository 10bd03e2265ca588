from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.html import format_html

from eventstore.projection import DBStore
from worlds import cast
from worlds.cards import CardError
from worlds.forms import LoreEntryForm
from worlds.models import (
    Activity,
    CastMember,
    Character,
    CharacterAsset,
    ContainerTemplate,
    Edge,
    EntityState,
    GroupNode,
    Lorebook,
    LoreEntry,
    Persona,
    PromptTemplate,
    Scenario,
    StoryEvent,
    Thread,
    WorldState,
)
from worlds.projectors import ACTIVITY_FIELDS
from worlds.prompts import prompt_template_save
from worlds.services import manual_edit
from worlds.services_cards import (
    character_export,
    character_import,
    lorebook_export,
    lorebook_import,
)

# -- authoring ------------------------------------------------------------------------------


class CharacterAssetInline(admin.TabularInline):
    """The files of the character's CHARX archive, kept for export; read-only here."""

    model = CharacterAsset
    extra = 0
    fields = ("path", "size", "link")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="file")
    def link(self, obj: CharacterAsset):
        url = f"/api/characters/{obj.character_id}/assets/{obj.pk}"
        return format_html('<a href="{}">open</a>', url)


@admin.register(Character)
class CharacterAdmin(admin.ModelAdmin):
    list_display = ("name", "creator", "character_version", "spec", "updated_at")
    search_fields = ("name", "description", "tags")
    actions = ["export_png", "export_json", "export_charx"]
    change_list_template = "admin/worlds/character/change_list.html"
    filter_horizontal = ("extra_lorebooks",)
    inlines = [CharacterAssetInline]
    fieldsets = (
        (None, {"fields": ("name", "avatar", "description", "personality", "scenario")}),
        ("Messages", {"fields": ("first_mes", "alternate_greetings", "mes_example")}),
        (
            "Prompting",
            {
                "fields": (
                    "system_prompt",
                    "post_history_instructions",
                    "reply_tokens",
                    "lorebook",
                    "extra_lorebooks",
                )
            },
        ),
        (
            "Author's Note (until a chat sets its own)",
            {
                "fields": (
                    "authors_note",
                    ("authors_note_position", "authors_note_depth", "authors_note_role"),
                    "authors_note_frequency",
                )
            },
        ),
        (
            "Card metadata",
            {
                "fields": (
                    "creator",
                    "creator_notes",
                    "character_version",
                    "tags",
                    "extensions",
                    "spec",
                    "spec_version",
                    "card_extra",
                )
            },
        ),
    )

    def get_urls(self):

        urls = super().get_urls()
        extra = [
            path(
                "import-card/",
                self.admin_site.admin_view(self.import_card_view),
                name="worlds_character_import",
            )
        ]
        return extra + urls

    def import_card_view(self, request):

        if request.method == "POST" and request.FILES.get("card"):
            upload = request.FILES["card"]
            try:
                character = character_import(data=upload.read(), filename=upload.name)
            except CardError as exc:
                messages.error(request, f"{upload.name}: {exc}")
            else:
                messages.success(request, f"Imported {character.name}.")
                return redirect("admin:worlds_character_change", character.pk)
        context = {**self.admin_site.each_context(request), "title": "Import a character card"}
        return render(request, "admin/worlds/character/import.html", context)

    def _export(self, request, queryset, fmt: str):

        if queryset.count() != 1:
            self.message_user(request, "Select exactly one character to export.", messages.ERROR)
            return None
        character = queryset.get()
        data, content_type, filename = character_export(character, fmt=fmt)
        response = HttpResponse(data, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    @admin.action(description="Export card as PNG")
    def export_png(self, request, queryset):
        return self._export(request, queryset, "png")

    @admin.action(description="Export card as JSON")
    def export_json(self, request, queryset):
        return self._export(request, queryset, "json")

    @admin.action(description="Export card as CHARX")
    def export_charx(self, request, queryset):
        return self._export(request, queryset, "charx")


@admin.register(Persona)
class PersonaAdmin(admin.ModelAdmin):
    list_display = ("name", "is_default")
    filter_horizontal = ("lorebooks",)


@admin.register(ContainerTemplate)
class ContainerTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "slots", "moving", "public", "audible_range")


@admin.register(Scenario)
class ScenarioAdmin(admin.ModelAdmin):
    list_display = ("name", "start_time", "weather", "character", "persona")
    filter_horizontal = ("containers",)


@admin.register(PromptTemplate)
class PromptTemplateAdmin(admin.ModelAdmin):
    """Saving never overwrites: it adds the next version, so old chats keep theirs."""

    list_display = ("kind", "version", "created_at", "is_current")
    list_filter = ("kind",)
    readonly_fields = ("version", "created_at")

    @admin.display(boolean=True, description="current")
    def is_current(self, obj: PromptTemplate) -> bool:
        return not PromptTemplate.objects.filter(kind=obj.kind, version__gt=obj.version).exists()

    def save_model(self, request, obj, form, change):

        saved = prompt_template_save(kind=obj.kind, text=obj.text)
        obj.pk, obj.version = saved.pk, saved.version

    def has_delete_permission(self, request, obj=None):
        return False


class LoreEntryInline(admin.StackedInline):
    """Every setting a World Info entry brings, editable; those SillyTavern keeps outside the
    columns are read and written where import put them (worlds.forms)."""

    model = LoreEntry
    form = LoreEntryForm
    extra = 0
    fieldsets = (
        (
            None,
            {
                "fields": (
                    ("uid", "comment", "enabled", "constant"),
                    ("keys", "secondary_keys"),
                    ("selective", "selective_logic"),
                    "content",
                )
            },
        ),
        (
            "Placement",
            {"fields": (("position", "depth", "role"), ("insertion_order", "outlet_name"))},
        ),
        (
            "Activation",
            {
                "fields": (
                    ("probability", "use_probability"),
                    ("scan_depth", "case_sensitive", "match_whole_words"),
                    ("sticky", "cooldown", "delay"),
                )
            },
        ),
        (
            "Inclusion group",
            {"fields": (("group", "group_weight"), ("group_override", "use_group_scoring"))},
        ),
        (
            "Recursion",
            {"fields": (("exclude_recursion", "prevent_recursion", "delay_until_recursion"),)},
        ),
        ("Character filter", {"fields": (("filter_names", "filter_tags", "filter_exclude"),)}),
        (
            "SillyTavern only, and everything as imported",
            {
                "classes": ("collapse",),
                "fields": (
                    ("automation_id", "vectorized", "display_index"),
                    "extensions",
                    "extra",
                ),
            },
        ),
    )


@admin.register(Lorebook)
class LorebookAdmin(admin.ModelAdmin):
    list_display = ("name", "scan_depth", "token_budget", "recursive_scanning")
    inlines = [LoreEntryInline]
    fieldsets = (
        (None, {"fields": ("name", "description")}),
        (
            "Activation (this book's own settings)",
            {
                "fields": (
                    ("scan_depth", "recursive_scanning", "max_recursion_steps"),
                    ("token_budget", "budget_percent"),
                    ("case_sensitive", "match_whole_words", "use_group_scoring"),
                    ("min_activations", "min_activations_depth_max"),
                )
            },
        ),
        ("As imported", {"classes": ("collapse",), "fields": ("extensions", "extra")}),
    )
    actions = ["export_sillytavern", "export_v3"]
    change_list_template = "admin/worlds/lorebook/change_list.html"

    def get_urls(self):

        extra = [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="worlds_lorebook_import",
            )
        ]
        return extra + super().get_urls()

    def import_view(self, request):

        if request.method == "POST" and request.FILES.get("file"):
            upload = request.FILES["file"]
            try:
                book = lorebook_import(data=upload.read(), filename=upload.name)
            except CardError as exc:
                messages.error(request, f"{upload.name}: {exc}")
            else:
                messages.success(request, f"Imported {book.name}.")
                return redirect("admin:worlds_lorebook_change", book.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": "Import a lorebook",
            "accept": ".json",
            "what": "SillyTavern World Info or lorebook_v3 JSON",
        }
        return render(request, "admin/worlds/import.html", context)

    def _export(self, request, queryset, fmt: str):

        if queryset.count() != 1:
            self.message_user(request, "Select exactly one lorebook to export.", messages.ERROR)
            return None
        data, content_type, filename = lorebook_export(queryset.get(), fmt=fmt)
        response = HttpResponse(data, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    @admin.action(description="Export as SillyTavern World Info")
    def export_sillytavern(self, request, queryset):
        return self._export(request, queryset, "sillytavern")

    @admin.action(description="Export as lorebook_v3")
    def export_v3(self, request, queryset):
        return self._export(request, queryset, "lorebook_v3")


# -- chat state: every save is a manual_edit event ---------------------------------------------


class ChatStateAdmin(admin.ModelAdmin):
    """Edits here never write rows: they append ``manual_edit`` events the projector applies."""

    edit_target = ""
    editable: tuple[str, ...] = ()
    list_filter = ("chat",)

    def get_readonly_fields(self, request, obj=None):
        names = [f.name for f in self.model._meta.concrete_fields if f.name not in self.editable]
        return [*names, *getattr(self, "extra_readonly", ())]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def edit_key(self, obj) -> dict:
        return {f: getattr(obj, f) for f in self.model.natural_key_fields if f != "chat_id"}

    def save_model(self, request, obj, form, change):
        original = type(obj).objects.get(pk=obj.pk)
        changes = {
            name: form.cleaned_data[name]
            for name in form.changed_data
            if name in self.editable and getattr(original, name) != form.cleaned_data[name]
        }
        if not changes:
            return
        try:
            manual_edit(
                chat=obj.chat_id, target=self.edit_target, key=self.edit_key(obj), changes=changes
            )
        except ValueError as exc:
            self.message_user(request, str(exc), messages.ERROR)


def _names(chat_id: int) -> dict[str, str]:
    return cast.names(DBStore(), chat_id)


def _edge_line(edge: Edge, names: dict[str, str]) -> str:
    return f"{names.get(edge.source, edge.source)} → {names.get(edge.target, edge.target)}"


@admin.register(Edge)
class EdgeAdmin(ChatStateAdmin):
    """Every edge of the chat's cast, named by its characters (a guest who left keeps theirs);
    both directions of a pair side by side, each edited on its own."""

    edit_target = "edge"
    editable = ("affinity", "trust", "summary", "knowledge", "private_moments", "last_interaction")
    list_display = ("chat", "direction", "affinity", "trust", "reverse_direction")
    ordering = ("chat", "id")
    extra_readonly = ("between", "reverse_edge")

    @admin.display(description="edge")
    def direction(self, obj: Edge) -> str:
        return _edge_line(obj, _names(obj.chat_id))

    @admin.display(description="between")
    def between(self, obj: Edge) -> str:
        return f"{self.direction(obj)} (characters {obj.source} → {obj.target})"

    def _reverse(self, obj: Edge) -> Edge | None:
        return Edge.objects.filter(
            chat_id=obj.chat_id, source=obj.target, target=obj.source
        ).first()

    @admin.display(description="reverse edge")
    def reverse_direction(self, obj: Edge) -> str:
        rev = self._reverse(obj)
        if rev is None:
            return "—"
        line = _edge_line(rev, _names(obj.chat_id))
        return f"{line}: affinity {rev.affinity}, trust {rev.trust}"

    @admin.display(description="the other direction (edit it on its own page)")
    def reverse_edge(self, obj: Edge):
        rev = self._reverse(obj)
        if rev is None:
            return "—"
        return format_html(
            "<b>{}</b>: affinity {}, trust {}<br>{}<br>knows: {}",
            _edge_line(rev, _names(obj.chat_id)),
            rev.affinity,
            rev.trust,
            rev.summary or "(no summary)",
            "; ".join(rev.knowledge) or "nothing yet",
        )


@admin.register(CastMember)
class CastMemberAdmin(ChatStateAdmin):
    """Everyone who has appeared in a chat, with their edges to the others. Read-only: who
    came and went is the log's to say (add or remove a guest on the play page)."""

    list_display = ("chat", "name", "seat", "key", "edges")
    ordering = ("chat", "id")
    extra_readonly = ("edges",)

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="edges (affinity / trust)")
    def edges(self, obj: CastMember) -> str:
        names = _names(obj.chat_id)
        rows = Edge.objects.filter(chat_id=obj.chat_id, source=obj.key).order_by("id")
        return (
            "; ".join(f"→ {names.get(e.target, e.target)} {e.affinity}/{e.trust}" for e in rows)
            or "—"
        )


@admin.register(EntityState)
class EntityStateAdmin(ChatStateAdmin):
    edit_target = "entity"
    editable = ("name", "mood", "goals", "status", "inventory")
    list_display = ("chat", "role", "name", "present", "mood", "status")


@admin.register(Activity)
class ActivityAdmin(ChatStateAdmin):
    edit_target = "activity"
    editable = ACTIVITY_FIELDS
    list_display = ("chat", "role", "container", "slot", "posture", "verb")


@admin.register(WorldState)
class WorldStateAdmin(ChatStateAdmin):
    edit_target = "world"
    editable = ("story_time", "weather")
    list_display = ("chat", "story_time", "weather", "location", "scene")


@admin.register(GroupNode)
class GroupNodeAdmin(ChatStateAdmin):
    edit_target = "group"
    editable = ("summary", "dynamic", "shared_threads")
    list_display = ("chat", "who", "summary")
    extra_readonly = ("who",)

    @admin.display(description="the three")
    def who(self, obj: GroupNode) -> str:
        names = _names(obj.chat_id)
        return ", ".join(names.get(key, key) for key in obj.members)


@admin.register(StoryEvent)
class StoryEventAdmin(ChatStateAdmin):
    edit_target = "story_event"
    editable = ("title", "description", "props", "significance", "planned_for")
    list_display = ("chat", "key", "title", "status", "significance")


@admin.register(Thread)
class ThreadAdmin(ChatStateAdmin):
    edit_target = "thread"
    editable = ("title", "notes")
    list_display = ("chat", "key", "title", "status")
