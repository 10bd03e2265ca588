from django.apps import AppConfig


class WorldsConfig(AppConfig):
    name = "worlds"
    verbose_name = "Worlds"

    def ready(self) -> None:
        from eventstore.dispatch import make_receiver
        from eventstore.signals import event_appended
        from worlds.projectors import HANDLERS

        event_appended.connect(
            make_receiver(HANDLERS), weak=False, dispatch_uid="worlds.projectors"
        )
