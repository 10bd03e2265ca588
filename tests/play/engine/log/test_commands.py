import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.conf import settings as dj
from django.core.management import call_command
from django.core.management.base import CommandError

from eventstore import snapshots
from eventstore.backup import backup_create, backup_due, list_backups, nightly_loop, prune_backups
from eventstore.models import Event
from eventstore.services import append
from play.models import Turn
from tests.factories import edge_of, make_chat
from worlds.models import Edge

pytestmark = pytest.mark.django_db(databases=["default", "scratch"])


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_replay_verify_is_clean_after_ordinary_play():
    chat = make_chat()
    append(stream=chat, kind="user_turn", payload={"text": "hi", "witnesses": {"host": True}})
    assert "replay matches live state" in run("replay", "--verify", "--chat", str(chat.pk))


def test_replay_verify_prints_differences_and_exits_1():
    chat = make_chat()
    Edge.objects.filter(pk=edge_of(chat, "you", "host").pk).update(trust=-40)
    with pytest.raises(CommandError) as exc:
        run("replay", "--verify", "--chat", str(chat.pk))
    assert exc.value.returncode == 1


def test_replay_rebuilds_live_tables_from_the_log():
    chat = make_chat()
    Turn.objects.filter(chat=chat).update(text="tampered")
    run("replay", "--chat", str(chat.pk))
    assert not Turn.objects.filter(chat=chat, text="tampered").exists()
    assert "replay matches live state" in run("replay", "--verify")


def test_replay_of_an_unknown_chat_is_a_clear_error():
    with pytest.raises(CommandError, match="no chat 999"):
        run("replay", "--chat", "999")


def test_snapshot_create_list_and_prune(settings):
    chat = make_chat()
    assert "chat" in run("snapshot", "create", "--chat", str(chat.pk))
    listed = run("snapshot", "list")
    assert f"chat={chat.pk}" in listed and "kind=manual" in listed


def test_retention_keeps_five_periodic_and_pre_rewind_for_fourteen_days():
    chat = make_chat()
    for i in range(7):
        append(stream=chat, kind="user_turn", payload={"text": f"{i}", "witnesses": {}})
        snapshots.snapshot_create(chat, kind="periodic")
    old = snapshots.snapshot_create(chat, kind="pre_rewind")
    fresh = snapshots.snapshot_create(chat, kind="pre_rewind")
    manual = snapshots.snapshot_create(chat, kind="manual")
    later = datetime.now(UTC) + timedelta(days=15)
    # only "old" is 15 days old: pretend "fresh" was made just now by pruning twice
    snapshots.prune(chat.pk)
    periodic = [i for i in snapshots.list_snapshots(chat.pk) if i.kind == "periodic"]
    assert len(periodic) == 5
    assert max(i.event_id for i in periodic) == max(
        i.event_id for i in snapshots.list_snapshots(chat.pk)
    )
    removed = snapshots.prune(chat.pk, now=later)
    assert {i.name for i in removed} == {old.name, fresh.name}
    assert manual.path.exists()


def test_restore_is_refused_without_confirmation_when_later_events_exist():
    chat = make_chat()
    snap = snapshots.snapshot_create(chat, kind="manual")
    append(stream=chat, kind="user_turn", payload={"text": "later", "witnesses": {}})
    with pytest.raises(CommandError, match="--yes"):
        run("snapshot", "restore", "--chat", str(chat.pk), "--name", snap.name)
    assert Turn.objects.filter(chat=chat, text="later").exists()


def test_restore_confirmed_takes_a_pre_restore_snapshot_and_keeps_the_log():
    chat = make_chat()
    snap = snapshots.snapshot_create(chat, kind="manual")
    append(stream=chat, kind="user_turn", payload={"text": "later", "witnesses": {}})
    events = Event.objects.count()
    out = run("snapshot", "restore", "--chat", str(chat.pk), "--name", snap.name, "--yes")
    assert "pre_restore" in out
    assert not Turn.objects.filter(chat=chat, text="later").exists()
    assert Event.objects.count() == events  # nothing left the log
    assert any(i.kind == "pre_restore" for i in snapshots.list_snapshots(chat.pk))
    assert "replay matches live state" in run("replay", "--verify", "--chat", str(chat.pk))


@pytest.mark.django_db(transaction=True)
def test_backup_is_a_complete_sqlite_copy_with_the_same_log():
    chat = make_chat()
    out = run("backup")
    (path,) = list_backups()
    assert str(path) in out
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        ids = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM eventstore_event WHERE stream_id = ? ORDER BY id", [chat.pk]
            )
        ]
    finally:
        conn.close()
    assert ids == list(Event.objects.filter(stream=chat).values_list("id", flat=True))


@pytest.mark.django_db(transaction=True)
def test_the_nightly_backup_runs_when_the_newest_is_a_day_old():

    make_chat()
    assert backup_due()
    first = backup_create()
    assert not backup_due()
    os.utime(first, (time.time() - 25 * 3600,) * 2)
    assert backup_due()
    stop = threading.Event()
    thread = threading.Thread(target=nightly_loop, args=(stop,))
    thread.start()
    deadline = time.time() + 30
    while len(list_backups()) < 2 and time.time() < deadline:
        time.sleep(0.2)
    stop.set()
    thread.join(10)
    assert len(list_backups()) == 2
    for _ in range(8):
        backup_create()
    prune_backups()
    assert len(list_backups()) == 7


@pytest.mark.django_db(transaction=True)
def test_restoring_a_backup_gives_the_same_log_and_projections(tmp_path):

    chat = make_chat()
    for i in range(5):
        append(
            stream=chat,
            kind="user_turn",
            payload={"text": f"line {i}", "witnesses": {"host": True}},
        )
        append(
            stream=chat,
            kind="edge_update",
            payload={"edges": [{"source": "host", "target": "you", "affinity_delta": i}]},
        )
    run("backup")
    (path,) = list_backups()
    restored = tmp_path / "restored.db"
    shutil.copy(path, restored)  # what a user does to restore: put the file back
    live_db = dj.DATABASES["default"]["NAME"]
    tables = [
        "eventstore_event",
        "eventstore_branch",
        "play_turn",
        "memory_memory",
        "worlds_edge",
        "worlds_entitystate",
        "worlds_activity",
        "worlds_worldstate",
    ]

    def dump(db):
        conn = sqlite3.connect(db)
        try:
            return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in tables}
        finally:
            conn.close()

    assert dump(live_db) == dump(restored)

    env = {**os.environ, "CHAT_DB_PATH": str(restored), "RP_DATA_DIR": str(tmp_path / "d")}
    verify = subprocess.run(
        [sys.executable, "manage.py", "replay", "--verify"],
        env=env,
        capture_output=True,
        text=True,
        cwd=dj.BASE_DIR,
    )
    assert verify.returncode == 0 and "replay matches live state" in verify.stdout
