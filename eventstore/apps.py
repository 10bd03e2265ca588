import logging

from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate

log = logging.getLogger("rp.eventstore")


def replay_after_migrate(sender, using: str = "default", **kwargs) -> None:
    """After a migration, chats built under an older projection version are replayed."""
    if using != "default" or sender is not list(apps.get_app_configs())[-1]:
        return  # once, after the last app's own post-migrate work (indexes, triggers)
    # Imported here: the replay module reads models, ready only once the registry is.
    from eventstore.replay import replay_stale  # noqa: PLC0415

    replayed = replay_stale()
    if replayed:
        log.info("replayed %d chat(s) built by an older projection version", len(replayed))


class EventstoreConfig(AppConfig):
    name = "eventstore"
    verbose_name = "Event log"

    def ready(self) -> None:
        post_migrate.connect(replay_after_migrate, dispatch_uid="eventstore.replay_stale")
