from django.contrib import admin

from eventstore.admin import ReadOnlyAdmin
from play.models import Chat, ClassifierFailure, Turn


@admin.register(Chat)
class ChatAdmin(admin.ModelAdmin):
    list_display = ("id", "title", "character", "persona", "archived", "created_at")
    fields = ("title", "archived")
    list_filter = ("archived",)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Turn)
class TurnAdmin(ReadOnlyAdmin):
    list_display = ("id", "chat", "speaker", "name", "text", "truncated", "significance")
    list_filter = ("chat", "speaker")


@admin.register(ClassifierFailure)
class ClassifierFailureAdmin(ReadOnlyAdmin):
    list_display = ("id", "chat", "model", "prompt_kind", "error")
