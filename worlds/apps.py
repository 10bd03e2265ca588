from django.apps import AppConfig


class WorldsConfig(AppConfig):
    name = "worlds"
    verbose_name = "Worlds"

    def ready(self) -> None:
        # Imported here: models (and what uses them) load only once the app registry is ready.
        from eventstore.dispatch import make_receiver  # noqa: PLC0415
        from eventstore.signals import event_appended  # noqa: PLC0415
        from worlds.projectors import HANDLERS  # noqa: PLC0415

        event_appended.connect(
            make_receiver(HANDLERS), weak=False, dispatch_uid="worlds.projectors"
        )
