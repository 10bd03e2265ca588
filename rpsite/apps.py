from django.apps import AppConfig


class RpsiteConfig(AppConfig):
    name = "rpsite"
    verbose_name = "Roleplay Engine"

    def ready(self) -> None:
        # Imported for its registrations, once the app registry is ready.
        from rpsite import checks  # noqa: F401, PLC0415
