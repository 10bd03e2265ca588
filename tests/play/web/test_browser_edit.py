"""Every line is yours to change, in a real browser (issue 26): edit in place and save, cancel
with Esc, Continue the newest reply into its own bubble, Impersonate into the message box and
send; a second tab sees the edit. Screenshots at desktop and phone width with RP_SCREENSHOTS.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser import browser  # noqa: F401
from tests.play.web.story_scenario import api, wait_idle
from tests.servers import served_with_fake

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SHOTS = Path(os.environ["RP_SCREENSHOTS"]) if os.environ.get("RP_SCREENSHOTS") else None


def shoot(page, name: str) -> None:
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"))


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    data = tmp_path_factory.mktemp("edit") / "data"
    with served_with_fake(data, token_delay=0.02) as (url, fake):
        yield url, fake


def new_chat(url: str) -> dict:
    host = next(c for c in api(url, "/api/characters")["characters"] if c["name"] == "Mara Quill")
    return api(url, "/api/chats", {"character": host["id"], "parse_kickoff": False})


def texts(page) -> list[str]:
    return page.eval_on_selector_all(
        "#transcript article.turn .body", "els => els.map(e => e.innerText.trim())"
    )


def open_page(browser, url, chat, viewport=DESKTOP):  # noqa: F811
    page = browser.new_page(viewport=viewport)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{url}/chats/{chat['id']}/")
    wait_idle(page)
    page.wait_for_timeout(400)  # the socket is open
    return page, errors


def send(page, text: str, reply_shows: str) -> None:
    wait_idle(page)
    page.fill("#composer-text", text)
    page.click("#send-btn")
    page.wait_for_selector(f"text={reply_shows}")
    wait_idle(page)


def test_edit_in_place_cancel_continue_impersonate_and_a_second_tab(app, browser):  # noqa: F811
    url, fake = app
    chat = new_chat(url)
    a, errors = open_page(browser, url, chat)
    b, _ = open_page(browser, url, chat)

    fake.push(("text", "The causeway is open tonight."), ("json", {}))
    send(a, "Is the causeway open?", "The causeway is open tonight.")
    fake.push(("text", "We could walk to the lighthouse and"), ("json", {}))
    send(a, "Shall we go somewhere?", "We could walk to the lighthouse and")

    # 1. edit your earlier line in place: the preview first, then Save keeps what followed
    mine = a.locator("article.turn-you", has_text="Is the causeway open?")
    mine.hover()
    mine.locator("button.edit-line.icon-button").click()
    box = mine.locator(".line-editor textarea")
    assert box.input_value() == "Is the causeway open?"
    box.fill("Is the old causeway open?")
    shoot(a, "edit-inline")
    mine.locator(".save-edit").click()
    mine.locator("[data-testid=edit-preview]").wait_for()
    fake.push(("json", {}))  # the exchange's analysis, read again from the new words
    mine.locator(".save-edit").click()
    a.wait_for_selector("text=Is the old causeway open?")
    a.wait_for_selector("article.turn-you .badge.edited")
    assert "Shall we go somewhere?" in texts(a)[-2]  # what followed stays
    # the second tab sees the edit
    b.wait_for_selector("text=Is the old causeway open?")
    assert not b.locator("text=Is the causeway open?").count()

    # 2. Esc cancels: nothing changes
    reply = a.locator("article.turn-bot").last
    reply.hover()
    reply.locator("button.edit-line.icon-button").click()
    reply.locator(".line-editor textarea").fill("Something else entirely.")
    reply.locator(".line-editor textarea").press("Escape")
    assert not a.locator(".line-editor").count()
    assert texts(a)[-1] == "We could walk to the lighthouse and"

    # 3. Continue the newest reply: it goes on in its own bubble, a new variant of it
    fake.push(("text", "watch the boats come in."), ("json", {}))
    reply = a.locator("article.turn-bot").last
    reply.locator("summary.icon-button").click()
    reply.locator("button.continue").click()
    a.wait_for_selector("text=We could walk to the lighthouse and watch the boats come in.")
    wait_idle(a)
    last = a.locator("article.turn-bot").last
    assert last.locator(".swipe-pos").inner_text() == "2/2"
    assert len(a.locator("article.turn").all()) == len(b.locator("article.turn").all())

    # 4. Impersonate: your line drafted into the box, edited, then sent
    fake.push(("text", "Sam: Lead the way, then."))
    a.click("#impersonate-btn")
    a.wait_for_function("document.querySelector('#composer-text').value === 'Lead the way, then.'")
    shoot(a, "impersonate")
    a.fill("#composer-text", "Lead the way, then, Mara.")
    fake.push(("text", "After you."), ("json", {}))
    a.click("#send-btn")
    a.wait_for_selector("text=After you.")
    assert "Lead the way, then, Mara." in " ".join(texts(a))
    assert errors == []
    a.close()
    b.close()


def test_the_editor_on_a_phone(app, browser):  # noqa: F811
    url, fake = app
    chat = new_chat(url)
    fake.push(("text", "Fog again."), ("json", {}))
    api(url, f"/api/chats/{chat['id']}/turns", {"text": "Weather?"})
    page, errors = open_page(browser, url, chat, PHONE)
    line = page.locator("article.turn-you").last
    line.locator("summary.icon-button").click()
    line.locator(".turn-menu button.edit-line").click()
    line.locator(".line-editor textarea").wait_for()
    shoot(page, "edit-phone")
    line.locator(".cancel-edit").click()
    assert not page.locator(".line-editor").count()
    assert errors == []
    page.close()
