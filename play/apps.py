from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PlayConfig(AppConfig):
    name = "play"
    verbose_name = "Play"

    def ready(self) -> None:
        # Imported here: models (and what uses them) load only once the app registry is ready.
        from eventstore.dispatch import make_receiver  # noqa: PLC0415
        from eventstore.signals import (  # noqa: PLC0415
            branch_switched,
            event_appended,
            event_committed,
        )
        from play.engine import broadcast, search  # noqa: PLC0415
        from play.projectors import HANDLERS  # noqa: PLC0415

        event_appended.connect(make_receiver(HANDLERS), weak=False, dispatch_uid="play.projectors")
        event_committed.connect(broadcast.on_event_committed, dispatch_uid="play.broadcast")
        branch_switched.connect(broadcast.on_branch_switched, dispatch_uid="play.branch_switch")
        post_migrate.connect(search.on_post_migrate, sender=self, dispatch_uid="play.ensure_search")
