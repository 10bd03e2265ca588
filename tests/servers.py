"""Real processes for tests: the app served by daphne in a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Served apps in tests keep retrieval lexical unless a test asks for embeddings: loading the
# embedding model costs ~10 s of both cores, which the tests of other things do not need.
BASE_ENV = {"RP_EMBEDDINGS": "off"}


def manage(data_dir: Path, *args: str, env: dict | None = None, check=True, timeout=300):
    full_env = {**os.environ, **BASE_ENV, "RP_DATA_DIR": str(data_dir), **(env or {})}
    full_env.pop("CHAT_DB_PATH", None)
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=full_env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=check,
        timeout=timeout,
    )


def wait_for(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not come up")


@contextmanager
def served(
    data_dir: Path, *, env: dict | None = None, prepare: bool = True, port: int | None = None
):
    """Migrate, set up and serve the app with ``manage.py runserver`` (daphne) on a free port
    (or on ``port``: a restarted server that open pages reconnect to)."""
    if prepare:
        manage(data_dir, "migrate", "--noinput", env=env)
        manage(data_dir, "setup_local", env=env)
    port = port or free_port()
    full_env = {**os.environ, **BASE_ENV, "RP_DATA_DIR": str(data_dir), **(env or {})}
    full_env.pop("CHAT_DB_PATH", None)
    data_dir.mkdir(parents=True, exist_ok=True)
    log = (data_dir / "server.log").open("a")  # tests read it (e.g. for "database is locked")
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "runserver", f"127.0.0.1:{port}", "--noreload"],
        env=full_env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(url + "/api/health", proc)
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


@contextmanager
def served_with_fake(data_dir: Path, *, token_delay: float):
    """The app set up and served against a fake OpenAI-compatible model: (url, the fake)."""
    from tests.fakeopenai import FakeOpenAI  # noqa: PLC0415 (only the tests that serve one)

    with FakeOpenAI(token_delay=token_delay) as fake:
        manage(data_dir, "migrate", "--noinput")
        manage(data_dir, "setup_local")
        (data_dir / "config.toml").write_text(
            f'[inference]\nbase_url = "{fake.url}"\nnarrative_model = "fake"\ntimeout_s = 30\n'
        )
        with served(data_dir, prepare=False) as (url, _proc):
            yield url, fake
