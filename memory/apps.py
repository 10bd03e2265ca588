from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_fts(sender, using="default", **kwargs) -> None:
    from django.db import connections

    from memory import fts

    tables = connections[using].introspection.table_names()
    if "memory_memory" in tables:
        fts.ensure(connections[using])
    if "memory_vectorindexstate" in tables:
        from memory import vectors

        vectors.ensure(connections[using])


class MemoryConfig(AppConfig):
    name = "memory"
    verbose_name = "Memory"

    def ready(self) -> None:
        from eventstore.dispatch import make_receiver
        from eventstore.signals import branch_switched, event_appended
        from memory.indexing import on_branch_switched
        from memory.projectors import HANDLERS

        event_appended.connect(
            make_receiver(HANDLERS), weak=False, dispatch_uid="memory.projectors"
        )
        branch_switched.connect(on_branch_switched, dispatch_uid="memory.reindex_on_switch")
        post_migrate.connect(_ensure_fts, sender=self, dispatch_uid="memory.ensure_fts")
