from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from eventstore.models import Event
from eventstore.replay import replay, verify
from play.models import Chat


class Command(BaseCommand):
    help = (
        "Rebuild chat projections from the event log. With --verify, replay into a scratch "
        "database instead and print every difference from the live tables (exit 1 if any)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--chat", type=int, help="only this chat (default: all)")
        parser.add_argument("--verify", action="store_true", help="compare, change nothing")

    def handle(self, *args, chat=None, verify=False, **options):
        chats = Chat.objects.order_by("pk")
        if chat is not None:
            chats = chats.filter(pk=chat)
            if not chats.exists():
                raise CommandError(f"no chat {chat}")
        differences = 0
        for c in chats.exclude(active_branch=None):
            total = Event.objects.filter(chat=c).count()
            with tqdm(
                total=total, desc=f"chat {c.pk}", unit="ev", file=self.stderr, disable=total < 2000
            ) as bar:
                if verify:
                    lines = verify_chat(c, bar.update)
                    differences += len(lines)
                    for line in lines:
                        self.stdout.write(f"chat {c.pk}: {line}")
                    if not lines:
                        self.stdout.write(f"chat {c.pk}: replay matches live state")
                else:
                    built = replay(c, progress=bar.update)
                    self.stdout.write(f"chat {c.pk}: rebuilt from {built.events_applied} events")
        if differences:
            raise CommandError(
                f"{differences} difference(s) between live state and replay", returncode=1
            )


def verify_chat(chat, progress):
    return verify(chat, progress=progress)
