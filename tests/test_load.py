"""Concurrency and load against the real server: one turn at a time per chat, many chats at
once, no "database is locked", no lost or duplicated events."""

from __future__ import annotations

import json
import sqlite3
import threading
import urllib.error
import urllib.request

import pytest

from tests.browser import browser  # noqa: F401
from tests.fakeopenai import FakeOpenAI
from tests.servers import manage, served


def call(url, path, data=None, timeout=120):
    req = urllib.request.Request(
        url + path,
        method="POST" if data is not None else "GET",
        data=json.dumps(data).encode() if data is not None else None,
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    data = tmp_path_factory.mktemp("load") / "data"
    with FakeOpenAI(token_delay=0.01) as fake:
        manage(data, "migrate", "--noinput")
        manage(data, "setup_local")
        (data / "config.toml").write_text(f'[inference]\nbase_url = "{fake.url}"\n')
        with served(data, prepare=False) as (url, proc):
            yield url, fake, data, proc


def main_line(rows):
    """The chat's first branch: the card's alternate greetings wait on swipes beside it."""
    main = min(branch for _, _, _, branch, _ in rows)
    return [row for row in rows if row[3] == main]


def events_of(data, chat_id):
    conn = sqlite3.connect(data / "chat.db")
    try:
        return conn.execute(
            "SELECT id, kind, payload, branch_id, seq FROM eventstore_event "
            "WHERE stream_id = ? ORDER BY id",
            [chat_id],
        ).fetchall()
    finally:
        conn.close()


@pytest.mark.browser
def test_two_tabs_and_the_api_at_once_make_exactly_one_turn(app, browser):  # noqa: F811
    url, fake, data, _ = app
    host = call(url, "/api/characters")[1]["characters"][0]["id"]
    chat = call(url, "/api/chats", {"character": host, "parse_kickoff": False})[1]
    tabs = [browser.new_page(), browser.new_page()]
    for i, tab in enumerate(tabs):
        tab.goto(f"{url}/chats/{chat['id']}/")
        tab.wait_for_selector("#send-btn:not([disabled])")
        tab.fill("#composer-text", f"from tab {i}")
    tabs[0].wait_for_timeout(400)
    api_result = {}
    barrier = threading.Barrier(2)

    def api_send():
        barrier.wait()
        api_result["status"], api_result["body"] = call(
            url, f"/api/chats/{chat['id']}/turns", {"text": "from the api"}
        )

    thread = threading.Thread(target=api_send)
    thread.start()
    barrier.wait()
    for tab in tabs:  # both tabs press Send at once
        tab.evaluate("document.getElementById('composer').requestSubmit()")
    thread.join(60)
    for tab in tabs:
        tab.wait_for_selector("#send-btn:not([disabled])", timeout=30000)
    tabs[0].wait_for_timeout(1500)
    rows = main_line(events_of(data, chat["id"]))
    users = [json.loads(p)["text"] for _, kind, p, _, _ in rows if kind == "user_turn"]
    bots = [json.loads(p) for _, kind, p, _, _ in rows if kind == "assistant_turn"]
    assert len(users) == 1, users  # one turn at a time: the others were turned away
    assert len(bots) == 2  # the greeting and the one reply
    if users == ["from the api"]:
        assert api_result["status"] == 200
    else:
        assert api_result["status"] == 409 and "busy" in api_result["body"]["detail"]
    notices = " ".join(tab.inner_text("#notices") for tab in tabs)
    losers = 2 if users == ["from the api"] else 1
    assert notices.count("still writing") + notices.count("busy") >= losers
    # no interleaving: the reply answers the one user turn, its bookkeeping follows it
    user_id = next(i for i, kind, _, _, _ in rows if kind == "user_turn")
    assert bots[1]["reply_to"] == user_id


def test_ten_chats_playing_at_once_lose_nothing(app):
    url, fake, data, proc = app
    host = call(url, "/api/characters")[1]["characters"][0]["id"]
    chats = [
        call(url, "/api/chats", {"character": host, "parse_kickoff": False})[1] for _ in range(10)
    ]
    statuses: list[int] = []
    lock = threading.Lock()

    def play(chat):
        for n in range(3):
            status, _ = call(url, f"/api/chats/{chat['id']}/turns", {"text": f"line {n}"})
            with lock:
                statuses.append(status)

    threads = [threading.Thread(target=play, args=(c,)) for c in chats]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert statuses == [200] * 30
    for chat in chats:
        rows = main_line(events_of(data, chat["id"]))
        kinds = [kind for _, kind, _, _, _ in rows]
        assert kinds.count("user_turn") == 3 and kinds.count("assistant_turn") == 4
        assert kinds.count("turn_bookkept") == 3
        seqs = [seq for _, _, _, _, seq in rows]
        assert seqs == list(range(1, len(seqs) + 1))  # no gap, no duplicate
    verify = manage(data, "replay", "--verify", check=False)
    assert verify.returncode == 0, verify.stdout
    assert proc.poll() is None
    log = (data / "server.log").read_text()
    assert "database is locked" not in log and "Traceback" not in log
