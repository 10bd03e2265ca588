import json

from django.contrib import admin
from django.utils.html import format_html

from eventstore.models import Branch, Event


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    """The log, browsable and read-only: nothing here can change it."""

    list_display = ("id", "stream_id", "branch_id", "seq", "kind", "caused_by_id", "created_at")
    list_filter = ("kind",)
    search_fields = ("kind", "payload")
    readonly_fields = ("pretty_payload",)
    fields = (
        "stream",
        "branch",
        "seq",
        "kind",
        "caused_by",
        "copied_from",
        "created_at",
        "pretty_payload",
    )

    @admin.display(description="payload")
    def pretty_payload(self, obj: Event):
        return format_html("<pre>{}</pre>", json.dumps(obj.payload, indent=2, ensure_ascii=False))


@admin.register(Branch)
class BranchAdmin(ReadOnlyAdmin):
    list_display = ("id", "stream_id", "kind", "parent_id", "fork_event_id", "label", "created_at")
    list_filter = ("kind",)
