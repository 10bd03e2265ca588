from django.apps import AppConfig
from django.db.models.signals import post_migrate


class MemoryConfig(AppConfig):
    name = "memory"
    verbose_name = "Memory"

    def ready(self) -> None:
        # Imported here: models (and what uses them) load only once the app registry is ready.
        from eventstore.dispatch import make_receiver  # noqa: PLC0415
        from eventstore.signals import branch_switched, event_appended  # noqa: PLC0415
        from memory import indexing  # noqa: PLC0415
        from memory.models import Memory  # noqa: PLC0415
        from memory.projectors import HANDLERS, MANUAL_FIELDS  # noqa: PLC0415
        from worlds.services import edit_target_register  # noqa: PLC0415

        event_appended.connect(
            make_receiver(HANDLERS), weak=False, dispatch_uid="memory.projectors"
        )
        branch_switched.connect(
            indexing.on_branch_switched, dispatch_uid="memory.reindex_on_switch"
        )
        edit_target_register(name="memory", model=Memory, fields=(*MANUAL_FIELDS, "pinned"))
        post_migrate.connect(
            indexing.on_post_migrate, sender=self, dispatch_uid="memory.ensure_fts"
        )
