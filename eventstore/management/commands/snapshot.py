from django.core.management.base import BaseCommand, CommandError

from eventstore import snapshots
from eventstore.models import Stream
from eventstore.restore import RestoreRefused, snapshot_restore


class Command(BaseCommand):
    help = "Create, list, restore or prune snapshots of chat projections (data/snapshots/)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["create", "list", "restore", "prune"])
        parser.add_argument("--chat", type=int, help="chat id (required for create/restore)")
        parser.add_argument("--name", help="snapshot file name to restore (default: newest)")
        parser.add_argument(
            "--yes",
            action="store_true",
            help="confirm a restore that discards later events from view",
        )

    def handle(self, *args, action, chat=None, name=None, yes=False, **options):
        getattr(self, f"do_{action}")(chat, name, yes)

    def _stream(self, chat_id) -> int:
        if chat_id is None:
            raise CommandError("--chat is required")
        if not Stream.objects.filter(pk=chat_id).exists():
            raise CommandError(f"no chat {chat_id}")
        return chat_id

    def do_create(self, chat_id, name, yes):
        if chat_id:
            streams = [self._stream(chat_id)]
        else:
            streams = Stream.objects.exclude(active_branch=None).values_list("pk", flat=True)
        for sid in streams:
            info = snapshots.snapshot_create(sid, kind="manual")
            self.stdout.write(f"chat {sid}: {info.name if info else 'no events yet'}")

    def do_list(self, chat_id, name, yes):
        infos = snapshots.list_snapshots(chat_id)
        if not infos:
            self.stdout.write("no snapshots")
        for i in infos:
            self.stdout.write(
                f"{i.name}  chat={i.stream_id} branch={i.branch_id} event={i.event_id} "
                f"kind={i.kind} at={i.created_at:%Y-%m-%d %H:%M:%S}"
            )

    def do_prune(self, chat_id, name, yes):
        removed = snapshots.prune(chat_id)
        self.stdout.write(f"removed {len(removed)} snapshot(s)")

    def do_restore(self, chat_id, name, yes):
        sid = self._stream(chat_id)
        infos = [i for i in snapshots.list_snapshots(sid) if name in (None, i.name)]
        if not infos:
            raise CommandError("no such snapshot for this chat")
        info = max(infos, key=lambda i: (i.event_id, i.created_at))
        try:
            result = snapshot_restore(sid, info, confirmed=yes)
        except RestoreRefused as exc:
            raise CommandError(f"{exc} Re-run with --yes to confirm.") from None
        self.stdout.write(
            f"chat {sid}: restored {info.name} as branch {result.branch.pk}; "
            f"the previous state is kept in {result.pre_restore}"
        )
