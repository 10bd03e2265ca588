from django.core.management.base import BaseCommand

from worlds.demo import load_demo


class Command(BaseCommand):
    help = "Load the demo world (two characters, a persona, places, a scenario). Idempotent."

    def handle(self, *args, **options):
        created = load_demo()
        made = ", ".join(f"{n} {k}" for k, n in created.items() if n) or "nothing new"
        self.stdout.write(f"demo world: {made}")
