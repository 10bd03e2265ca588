from django.core.management.base import BaseCommand
from tqdm import tqdm

from eventstore.backup import backup_create


class Command(BaseCommand):
    help = "Online backup of the whole SQLite database into data/backups/ (safe while serving)."

    def handle(self, *args, **options):
        with tqdm(unit="page", file=self.stderr, desc="backup") as bar:

            def progress(done, total):
                bar.total = total
                bar.n = done
                bar.refresh()

            path = backup_create(progress=progress)
        self.stdout.write(f"backup written to {path}")
