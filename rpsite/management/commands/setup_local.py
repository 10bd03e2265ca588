import secrets
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from rpsite.config import config_path, ensure_data_dir
from worlds.demo import load_demo
from worlds.prompts import ensure_defaults

LOGIN_FILE = "admin-login.txt"


class Command(BaseCommand):
    help = (
        "First-run set-up, safe to repeat: data/ tree and config.toml, default prompt "
        "templates, the local admin user, the demo world."
    )

    def handle(self, *args, **options):
        data = ensure_data_dir()
        ensure_defaults()
        username, password = self._admin(data)
        created = load_demo()
        new = ", ".join(f"{n} {k}" for k, n in created.items() if n) or "already loaded"
        self.stdout.write(
            "\n".join(
                [
                    f"data directory: {data}",
                    f"config: {config_path()}",
                    f"demo world: {new}",
                    "",
                    "Play:       http://127.0.0.1:8000/",
                    "Authoring:  http://127.0.0.1:8000/admin/",
                    f"  log in as '{username}' with password '{password}'",
                    f"  (kept in {data / LOGIN_FILE}; change it in the admin)",
                    "",
                ]
            )
        )

    def _admin(self, data: Path) -> tuple[str, str]:
        User = get_user_model()
        login_file = data / LOGIN_FILE
        if User.objects.filter(is_superuser=True).exists():
            if login_file.exists():
                username, _, password = login_file.read_text().strip().partition(":")
                return username, password
            user = User.objects.filter(is_superuser=True).first()
            return user.get_username(), "(the one you chose)"
        username, password = "admin", secrets.token_urlsafe(9)
        User.objects.create_superuser(username=username, email="", password=password)
        login_file.write_text(f"{username}:{password}\n")
        login_file.chmod(0o600)
        return username, password
