from django.apps import AppConfig


class PlayConfig(AppConfig):
    name = "play"
    verbose_name = "Play"

    def ready(self) -> None:
        from eventstore.dispatch import make_receiver
        from eventstore.signals import event_appended
        from play.projectors import HANDLERS

        event_appended.connect(make_receiver(HANDLERS), weak=False, dispatch_uid="play.projectors")
