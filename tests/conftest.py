"""Shared fixtures. Tests run against a real SQLite file in a temporary data directory."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from django.conf import settings

import rpsite.sqlite_swap  # noqa: F401
from rpsite.config import ensure_data_dir
from worlds import lexicon, prompts

# pytest-django has read the settings by now but has not created the test database yet:
# point everything at a private directory so tests never touch the real data/.
_TEST_ROOT = Path(tempfile.mkdtemp(prefix="rp-test-"))
settings.DATA_DIR = _TEST_ROOT / "data"
settings.MEDIA_ROOT = settings.DATA_DIR / "media"
settings.DATABASES["default"]["TEST"]["NAME"] = str(_TEST_ROOT / "test_chat.db")
# Tests index vectors explicitly (memory.indexing.index_now), on the test's own connection.
settings.RP_INDEX_IN_BACKGROUND = False
# Tests rewrite summaries a delete left as extracts explicitly (bookkeeping.summaries_rewrite).
settings.RP_REWRITE_IN_BACKGROUND = False


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path) -> Path:
    """Each test gets its own data/ tree (snapshots, backups, exports, config)."""

    settings.DATA_DIR = tmp_path / "data"
    settings.MEDIA_ROOT = settings.DATA_DIR / "media"
    ensure_data_dir()
    prompts._current.clear()  # each test's database starts without the templates
    lexicon.forget()  # ids repeat from test to test: no chat's folded words carry over
    return settings.DATA_DIR
