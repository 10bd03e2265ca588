"""Snapshots and backups in the UI: list, create, restore with a preview and a hard confirm,
download a backup."""

from __future__ import annotations

import re

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from eventstore import snapshots
from eventstore.backup import backup_create, list_backups
from eventstore.projection import dump_db
from eventstore.restore import RestoreRefused, later_event_count
from play.engine.errors import ChatBusy, NotFound
from play.engine.impact import describe
from play.engine.services.snapshots import snapshot_named, snapshot_restore
from play.engine.turnlock import TAB
from play.models import Chat
from play.web.errors import message_of

CONFIRM_WORD = "restore"
_BACKUP_NAME = re.compile(r"^chat-\d{8}T\d{12}\.db$")


def snapshots_page(request: HttpRequest, chat_id: int) -> HttpResponse:
    chat = get_object_or_404(Chat, pk=chat_id)
    if request.method == "POST":
        info = snapshots.snapshot_create(chat, kind="manual")
        messages.success(request, f"Snapshot {info.name} made." if info else "Nothing to save.")
        return redirect("play:snapshots", chat_id)
    infos = sorted(snapshots.list_snapshots(chat.pk), key=lambda i: i.created_at, reverse=True)
    return render(request, "play/snapshots.html", {"chat": chat, "snapshots": infos})


def snapshot_restore_view(request: HttpRequest, chat_id: int, name: str) -> HttpResponse:
    """GET: what restoring would change. POST: restore, after typing the confirm word."""
    chat = get_object_or_404(Chat, pk=chat_id)
    try:
        info = snapshot_named(chat_id, name)
    except NotFound:
        raise Http404("no such snapshot") from None
    if request.method == "POST":
        if request.POST.get("confirm", "").strip().lower() != CONFIRM_WORD:
            messages.error(request, f'Type "{CONFIRM_WORD}" to confirm.')
            return redirect("play:snapshot_restore", chat_id, name)
        try:
            result = snapshot_restore(chat_id=chat_id, name=name, confirmed=True, origin=TAB)
        except ChatBusy as exc:
            messages.error(request, message_of(exc))
            return redirect("play:snapshot_restore", chat_id, name)
        except RestoreRefused as exc:
            messages.error(request, str(exc))
            return redirect("play:snapshots", chat_id)
        messages.success(
            request,
            f"Restored {info.name}. The state before it is kept as "
            f"{result.pre_restore}, and in the branch list.",
        )
        return redirect("play:chat", chat_id)
    snap = snapshots.read(info)
    if snap is None:
        raise Http404("that snapshot cannot be read (made by another version)")
    impact = describe(dump_db(chat.pk), snap.tables)
    later = later_event_count(chat, info)
    return render(
        request,
        "play/snapshot_restore.html",
        {
            "chat": chat,
            "info": info,
            "impact": impact,
            "later": later,
            "confirm_word": CONFIRM_WORD,
        },
    )


def backups_page(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        path = backup_create()
        messages.success(request, f"Backup written: {path.name}")
        return redirect("play:backups")
    files = [{"name": p.name, "size": p.stat().st_size} for p in reversed(list_backups())]
    return render(request, "play/backups.html", {"backups": files})


@require_GET
def backup_download(request: HttpRequest, name: str) -> FileResponse:
    if not _BACKUP_NAME.match(name):
        raise Http404("no such backup")
    path = next((p for p in list_backups() if p.name == name), None)
    if path is None:
        raise Http404("no such backup")
    return FileResponse(
        path.open("rb"), as_attachment=True, filename=name, content_type="application/vnd.sqlite3"
    )
