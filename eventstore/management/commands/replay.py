from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from eventstore.models import Event, Stream
from eventstore.replay import replay, verify


class Command(BaseCommand):
    help = (
        "Rebuild chat projections from the event log. With --verify, replay into a scratch "
        "database instead and print every difference from the live tables (exit 1 if any)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--chat", type=int, help="only this chat (default: all)")
        parser.add_argument("--verify", action="store_true", help="compare, change nothing")

    def handle(self, *args, chat=None, verify=False, **options):
        streams = Stream.objects.order_by("pk")
        if chat is not None:
            streams = streams.filter(pk=chat)
            if not streams.exists():
                raise CommandError(f"no chat {chat}")
        differences = 0
        for sid in streams.exclude(active_branch=None).values_list("pk", flat=True):
            total = Event.objects.filter(stream_id=sid).count()
            with tqdm(
                total=total, desc=f"chat {sid}", unit="ev", file=self.stderr, disable=total < 2000
            ) as bar:
                if verify:
                    lines = run_verify(sid, bar.update)
                    differences += len(lines)
                    for line in lines:
                        self.stdout.write(f"chat {sid}: {line}")
                    if not lines:
                        self.stdout.write(f"chat {sid}: replay matches live state")
                else:
                    built = replay(sid, progress=bar.update)
                    self.stdout.write(f"chat {sid}: rebuilt from {built.events_applied} events")
        if differences:
            raise CommandError(
                f"{differences} difference(s) between live state and replay", returncode=1
            )


def run_verify(stream_id: int, progress):
    return verify(stream_id, progress=progress)
