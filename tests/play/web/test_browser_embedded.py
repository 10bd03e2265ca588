"""The offline default as a new user meets it: the embedded model, a real browser. A new story
from the demo, three turns, a time skip in words and one from the drawer's Time form,
regenerate, a guest: no crash, no console error, every action ends in a visible state."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

import pytest

from tests.browser import browser  # noqa: F401
from tests.servers import manage, served

pytestmark = [pytest.mark.browser, pytest.mark.model]

SLOW = 240_000  # ms: the embedded model shares 2 cores with the server and the browser


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    data = tmp_path_factory.mktemp("embedded") / "data"
    manage(data, "migrate", "--noinput")
    manage(data, "setup_local")
    (data / "config.toml").write_text(
        '[inference]\nbase_url = ""\ntimeout_s = 60\nclassifier_timeout_s = 10\n'
        "[play]\nreply_tokens = 24\n"
    )
    SERVER_LOG[:] = [data / "server.log"]
    with served(data, prepare=False) as (url, proc):
        yield url, proc


def api(url: str, path: str) -> dict:
    with urllib.request.urlopen(url + path, timeout=60) as response:
        return json.loads(response.read())


def settle(url: str, chat_id: int) -> None:
    """Until the chat's run (started by a request that has answered) is over: nothing writing,
    every bot turn analysed."""
    deadline = time.monotonic() + SLOW / 1000
    while True:
        busy = api(url, f"/api/chats/{chat_id}/transcript")["chat"]["busy"]
        progress = api(url, f"/api/chats/{chat_id}/bookkeeping")
        if not busy and progress["done"] == progress["total"]:
            return
        assert time.monotonic() < deadline, "the chat stayed busy"
        time.sleep(0.5)


def count(page, selector: str) -> int:
    return page.eval_on_selector_all(selector, "els => els.length")


def idle(page) -> None:
    page.wait_for_selector(".turn.streaming", state="detached", timeout=SLOW)
    page.wait_for_selector("#send-btn:not([disabled])", timeout=SLOW)


def wait_for_more(page, selector: str, before: int, notices: int) -> None:
    """More of ``selector`` than ``before``, or more notices than ``notices`` saying why not (a
    visible end either way). Both counts are taken before the action: a notice that comes back
    at once must not be missed."""
    try:
        page.wait_for_function(
            "([sel, n, m]) => document.querySelectorAll(sel).length > n"
            " || document.querySelectorAll('#notices .notice').length > m",
            arg=[selector, before, notices],
            timeout=SLOW,
        )
    except Exception as exc:
        # what the server did meanwhile: the failure says why nothing showed
        shown = page.inner_text("#notices")
        raise AssertionError(
            f"nothing new on the page: {exc}\nnotices: {shown!r}\n{_server_log()}"
        ) from exc


SERVER_LOG: list[Path] = []


def _server_log() -> str:
    return "".join(p.read_text()[-20000:] for p in SERVER_LOG if p.exists())


def test_the_offline_default_end_to_end(app, browser):  # noqa: F811
    url, server = app
    page = browser.new_page()
    errors: list[str] = []
    page.on(
        "console",
        lambda m: (
            errors.append(f"{m.text} ({m.location.get('url')})") if m.type == "error" else None
        ),
    )
    page.on("pageerror", lambda e: errors.append(str(e)))

    # a new story: the demo scenario is preselected; the opening is read (or falls back)
    page.goto(f"{url}/chats/new/")
    chosen = page.eval_on_selector("select[name=scenario]", "s => s.options[s.selectedIndex].text")
    assert chosen == "Night drive to Harrow Point"
    # the reading may load the model first: the page shows its progress line meanwhile
    page.click("button:has-text('Read the opening')", no_wait_after=True)
    page.wait_for_selector("text=Confirm the opening", timeout=SLOW)
    assert not page.eval_on_selector("details.advanced", "d => d.open")
    assert "Mara's station wagon" in page.inner_text("select[name=location]")
    page.click("button:has-text('Begin the story')")
    page.wait_for_selector("#send-btn:not([disabled])")
    assert "station wagon" in page.inner_text("#drawer")
    chat_id = int(page.url.rstrip("/").split("/")[-1])

    # three turns
    for text in ("Is the causeway open, Mara?", "What is at Harrow Point?", "Tell me a story."):
        idle(page)
        before, notices = count(page, "article.turn-host"), count(page, "#notices .notice")
        page.fill("#composer-text", text)
        page.click("#send-btn")
        wait_for_more(page, "article.turn-host", before, notices)
        settle(url, chat_id)
    idle(page)
    assert count(page, "article.turn-you") == 3

    # a time skip in words: confirmed, then a narrator line
    page.fill("#composer-text", "Skip to the next morning.")
    page.click("#send-btn")
    page.wait_for_selector(".skip-confirm", timeout=SLOW)
    notices = count(page, "#notices .notice")
    page.click(".skip-confirm .skip-yes")
    wait_for_more(page, "article.turn-narrator", 0, notices)
    settle(url, chat_id)
    idle(page)

    # a time skip from the drawer's Time form
    narrated, notices = count(page, "article.turn-narrator"), count(page, "#notices .notice")
    page.fill(".skip-form input[name=to]", "the next evening")
    with page.expect_response(lambda r: r.url.endswith("/skip/")) as answered:
        page.click(".skip-form button")
    assert answered.value.status == 202
    wait_for_more(page, "article.turn-narrator", narrated, notices)
    assert count(page, "article.turn-narrator") == narrated + 1, page.inner_text("#notices")
    settle(url, chat_id)
    idle(page)
    narrator = page.locator("article.turn-narrator").last
    assert narrator.locator("button.regenerate").count() == 0

    # regenerate the last reply: a second swipe
    notices = count(page, "#notices .notice")
    last = page.locator("article.turn-host").last.get_attribute("id")
    page.click(f"#{last} .turn-menu summary")  # a line's actions are in its menu
    with page.expect_response(lambda r: "/regenerate/" in r.url) as answered:
        page.click(f"#{last} button.regenerate")
    assert answered.value.status == 202
    page.wait_for_function(
        "n => [...document.querySelectorAll('.swipes')].some(s => s.textContent.includes('2/2'))"
        " || document.querySelectorAll('#notices .notice').length > n",
        arg=notices,
        timeout=SLOW,
    )
    settle(url, chat_id)
    idle(page)

    # a guest joins
    page.click("#d-guest > summary")
    page.select_option(".guest-add select[name=character]", label="Theo Vance")
    page.fill(".guest-add textarea[name=met]", "Theo taught Mara card tricks as a child.")
    with page.expect_response(lambda r: r.url.endswith("/guest/")) as answered:
        page.click(".guest-add button")
    assert answered.value.status == 202
    page.wait_for_selector("text=Guest: Theo Vance", timeout=SLOW)
    settle(url, chat_id)
    idle(page)

    assert server.poll() is None  # the server never went down
    notices = page.inner_text("#notices")
    assert "Something went wrong" not in notices
    # the browser asks for /favicon.ico on its own; the app has none
    assert [e for e in errors if "/favicon.ico" not in e] == []
    chat = api(url, f"/api/chats/{chat_id}/transcript")["chat"]
    assert chat["guest"] == "Theo Vance" and chat["busy"] is False
