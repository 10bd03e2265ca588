from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_search(sender, using="default", **kwargs) -> None:
    from django.db import connections

    from play.engine import search

    if "play_turn" in connections[using].introspection.table_names():
        search.ensure(connections[using])


class PlayConfig(AppConfig):
    name = "play"
    verbose_name = "Play"

    def ready(self) -> None:
        from eventstore.dispatch import make_receiver
        from eventstore.signals import branch_switched, event_appended, event_committed
        from play.engine import broadcast
        from play.projectors import HANDLERS

        event_appended.connect(make_receiver(HANDLERS), weak=False, dispatch_uid="play.projectors")
        event_committed.connect(broadcast.on_event_committed, dispatch_uid="play.engine.broadcast")
        branch_switched.connect(broadcast.on_branch_switched, dispatch_uid="play.branch_switch")
        post_migrate.connect(_ensure_search, sender=self, dispatch_uid="play.ensure_search")
