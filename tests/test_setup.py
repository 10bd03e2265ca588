import os
import subprocess
import sys
import tomllib
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection

from rpsite.checks import sqlite_extension_check
from rpsite.config import DEFAULTS, load_config
from worlds.models import Character, ContainerTemplate, Persona, Scenario

pytestmark = pytest.mark.django_db


def test_setup_local_creates_the_data_tree_admin_and_demo_world_and_can_repeat(data_dir):
    out = StringIO()
    call_command("setup_local", stdout=out)
    for sub in ("backups", "snapshots", "exports"):
        assert (data_dir / sub).is_dir()
    text = out.getvalue()
    assert "log in as 'admin' with password" in text
    password = (data_dir / "admin-login.txt").read_text().strip().split(":", 1)[1]
    assert password in text
    assert get_user_model().objects.get(username="admin").check_password(password)
    counts = (
        Character.objects.count(),
        Persona.objects.count(),
        Scenario.objects.count(),
        ContainerTemplate.objects.count(),
    )
    assert counts == (2, 1, 1, 3)
    call_command("setup_local", stdout=StringIO())
    assert counts == (
        Character.objects.count(),
        Persona.objects.count(),
        Scenario.objects.count(),
        ContainerTemplate.objects.count(),
    )
    assert get_user_model().objects.count() == 1


def test_config_toml_starts_as_commented_defaults(data_dir):

    text = (data_dir / "config.toml").read_text()
    assert "# base_url" in text and "[inference]" in text
    assert tomllib.loads(text)["inference"] == {}  # all commented out
    assert load_config() == DEFAULTS


def test_the_database_has_sqlite_vec_loaded():

    with connection.cursor() as cur:
        cur.execute("select vec_version()")
        assert cur.fetchone()[0].startswith("v")
        cur.execute("PRAGMA journal_mode")
        assert cur.fetchone()[0] == "wal"
        cur.execute("PRAGMA foreign_keys")
        assert cur.fetchone()[0] == 1


def test_a_missing_extension_fails_with_what_to_install(monkeypatch):

    monkeypatch.setitem(sys.modules, "sqlite_vec", None)  # import fails
    errors = sqlite_extension_check(None)
    assert errors and "pip install sqlite-vec pysqlite3-binary" in errors[0].msg + errors[0].hint


def test_chat_db_path_and_rp_data_dir_move_the_files(tmp_path):

    env = {**os.environ, "RP_DATA_DIR": str(tmp_path / "d"), "CHAT_DB_PATH": str(tmp_path / "x.db")}
    code = (
        "import django,os;os.environ['DJANGO_SETTINGS_MODULE']='rpsite.settings';"
        "import rpsite.sqlite_swap;django.setup();from django.conf import settings as s;"
        "print(s.DATA_DIR);print(s.DATABASES['default']['NAME'])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == [str(tmp_path / "d"), str(tmp_path / "x.db")]
