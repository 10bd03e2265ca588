from django.apps import AppConfig


class RpsiteConfig(AppConfig):
    name = "rpsite"
    verbose_name = "Roleplay Engine"

    def ready(self) -> None:
        from rpsite import checks  # noqa: F401
