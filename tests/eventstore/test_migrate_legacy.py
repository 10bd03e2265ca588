"""A database written before streams existed migrates and replays clean.

``tests/fixtures/legacy/legacy.db`` was made by the code of commit f94bbf0 (chats pointing at
their log through ``play.Chat``) with ``make_legacy_db.py`` beside it: two chats, turns, a
guest who came and went, a thread, a rewind branch.
"""

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from eventstore.projection import PROJECTION_VERSION

ROOT = Path(__file__).resolve().parents[2]
LEGACY = ROOT / "tests" / "fixtures" / "legacy" / "legacy.db"


def manage(data: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={"RP_DATA_DIR": str(data), "RP_EMBEDDINGS": "off", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> tuple[Path, dict, dict]:
    data = tmp_path_factory.mktemp("legacy")
    shutil.copy(LEGACY, data / "chat.db")
    before = sqlite3.connect(data / "chat.db")
    counts = {
        t: before.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("eventstore_event", "play_turn", "memory_memory")
    }
    active = dict(before.execute("SELECT id, active_branch_id FROM play_chat").fetchall())
    before.close()
    result = manage(data, "migrate", "--noinput")
    assert result.returncode == 0, result.stderr
    return data, counts, active


def test_the_migration_keeps_every_chat_its_log_and_its_active_branch(migrated):
    data, counts, active = migrated
    db = sqlite3.connect(data / "chat.db")
    for table, n in counts.items():
        assert db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == n
    streams = dict(db.execute("SELECT id, active_branch_id FROM eventstore_stream").fetchall())
    assert streams == active  # one stream per chat, same id, same live branch
    assert active[1] != 1  # the fixture's first chat lives on its rewind branch
    (mixed,) = db.execute(
        "SELECT count(*) FROM eventstore_event e JOIN eventstore_branch b ON b.id = e.branch_id "
        "WHERE e.stream_id != b.stream_id"
    ).fetchone()
    assert mixed == 0


def test_replay_verify_is_clean_after_the_migration(migrated):
    result = manage(migrated[0], "replay", "--verify")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("replay matches live state") == 2


def test_the_log_stays_append_only_after_the_table_rebuild(migrated):
    db = sqlite3.connect(migrated[0] / "chat.db")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE eventstore_event SET kind = 'forged' WHERE id = 1")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM eventstore_event WHERE id = 1")


def test_edges_written_by_seat_are_replayed_into_edges_between_characters(migrated):
    """The fixture's edges were stored by role (host → guest); replayed under the current
    projection version they belong to the characters, and the chats have a cast."""
    db = sqlite3.connect(migrated[0] / "chat.db")
    ends = {end for pair in db.execute("SELECT source, target FROM worlds_edge") for end in pair}
    assert ends and not ends & {"host", "guest"}
    assert all(end == "you" or end[1:].isdigit() for end in ends)
    cast = db.execute("SELECT chat_id, name, seat FROM worlds_castmember ORDER BY id").fetchall()
    assert (1, "Theo", "guest") in cast  # the guest who came and went is of the cast
    versions = {v for (v,) in db.execute("SELECT projected_version FROM eventstore_stream")}
    assert versions == {PROJECTION_VERSION}
