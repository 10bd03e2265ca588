from django.contrib import admin

from memory.models import Memory
from worlds.admin import ChatStateAdmin


@admin.register(Memory)
class MemoryAdmin(ChatStateAdmin):
    edit_target = "memory"
    editable = ("text", "w_you", "w_host", "w_guest", "significance", "pinned")
    list_display = (
        "id",
        "chat",
        "owner",
        "kind",
        "short_text",
        "w_you",
        "w_host",
        "w_guest",
        "significance",
        "pinned",
    )
    list_filter = ("chat", "owner", "kind", "pinned", "significance")
    search_fields = ("text",)

    @admin.display(description="text")
    def short_text(self, obj: Memory) -> str:
        return obj.text[:80]
