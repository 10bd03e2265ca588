"""The first hour of a SillyTavern user, with the embedded model in a real browser (issue 27):
a V2 card PNG imported through the file picker, its own story started (its greeting and place,
never the demo's), three turns, the clock moving. Screenshots at desktop and phone sizes go to
``RP_SCREENSHOTS`` when it is set."""

from __future__ import annotations

import base64
import io
import json
import os
import time
from pathlib import Path

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from tests.browser import browser  # noqa: F401
from tests.play.web.test_browser_embedded import api, settle
from tests.servers import manage, served
from worlds import clock

pytestmark = [pytest.mark.browser, pytest.mark.model]

SLOW = 240_000  # ms: the embedded model shares 2 cores with the server and the browser
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SHOTS = Path(os.environ["RP_SCREENSHOTS"]) if os.environ.get("RP_SCREENSHOTS") else None

CARD = {
    "spec": "chara_card_v2",
    "spec_version": "2.0",
    "data": {
        "name": "Seraphina",
        "description": "{{char}} is a gentle forest guardian with rose-gold hair.",
        "personality": "caring, protective, calm",
        "scenario": "{{user}} wakes up in {{char}}'s cottage deep in the Eldoria forest.",
        "first_mes": "*{{char}} tends the fire in her cottage as rain drums on the roof.* "
        "You're awake, {{user}}. You are safe here; the wolves will not follow.",
        "mes_example": "",
        "alternate_greetings": ["*Dawn light in the glade.* You slept long, {{user}}."],
        "tags": ["fantasy"],
        "creator": "test",
        "character_version": "1",
        "extensions": {},
    },
}


def card_png(path: Path) -> Path:
    info = PngInfo()
    info.add_text("chara", base64.b64encode(json.dumps(CARD).encode()).decode())
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 150, 160)).save(buffer, "PNG", pnginfo=info)
    path.write_bytes(buffer.getvalue())
    return path


def shoot(page, name: str) -> None:
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"))


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    data = tmp_path_factory.mktemp("firsthour") / "data"
    manage(data, "migrate", "--noinput")
    manage(data, "setup_local")
    (data / "config.toml").write_text(
        '[inference]\nbase_url = ""\ntimeout_s = 60\n[play]\nreply_tokens = 40\n'
    )
    with served(data, prepare=False) as (url, proc):
        yield url, proc, data


def test_a_card_from_the_file_picker_to_three_turns_on_the_embedded_model(app, browser, tmp_path):  # noqa: F811
    url, server, _ = app
    page = browser.new_page(viewport=DESKTOP)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    # the card, through the file picker the drop zone opens on a click
    page.goto(url + "/")
    with page.expect_file_chooser() as chooser:
        page.click("#drop-zone")
    chooser.value.set_files(str(card_png(tmp_path / "seraphina.png")))
    page.wait_for_selector("#drop-result:has-text('Imported Seraphina')")
    page.wait_for_selector(".character-card:has-text('Seraphina')")
    assert "{{char}}" not in page.inner_text(".characters")
    shoot(page, "first-hour-home")

    # its own story: no scenario preselected, the opening read (with a progress line)
    page.click(".character-card:has-text('Seraphina')")
    assert page.eval_on_selector("#new-scenario", "s => s.value") == ""
    page.click("button:has-text('Read the opening')", no_wait_after=True)
    page.wait_for_selector("text=Confirm the opening", timeout=SLOW)
    assert page.locator(".notice.error").count() == 0  # no red box on the first screen
    body = page.inner_text("main")
    assert "station wagon" not in body and "coast road" not in body
    assert "cottage" in page.inner_text("select[name=location]").lower()
    assert "Eldoria" in body
    shoot(page, "first-hour-confirm")
    page.click("button:has-text('Begin the story')")
    page.wait_for_selector("#send-btn:not([disabled])", timeout=SLOW)
    chat_id = int(page.url.rstrip("/").split("/")[-1])
    assert "tends the fire" in page.inner_text("#transcript")
    start = api(url, f"/api/chats/{chat_id}/state")["world"]
    assert "cottage" in start["location"] and clock.parse(start["story_time"])
    assert clock.parse(start["story_time"]).year == time.localtime().tm_year  # no guessed date

    # three turns
    for text in ("Where am I?", "*I sit up slowly.* Thank you for saving me.", "Who are you?"):
        page.wait_for_selector("#send-btn:not([disabled])", timeout=SLOW)
        before = page.locator("article.turn-host").count()
        page.fill("#composer-text", text)
        page.click("#send-btn")
        page.wait_for_function(
            "n => document.querySelectorAll('article.turn-host').length > n",
            arg=before,
            timeout=SLOW,
        )
        settle(url, chat_id)
    page.wait_for_selector("#send-btn:not([disabled])", timeout=SLOW)
    assert page.locator("article.turn-you").count() == 3

    # the clock moved with the story, and the drawer says the new time
    now = api(url, f"/api/chats/{chat_id}/state")["world"]["story_time"]
    assert clock.parse(now) > clock.parse(start["story_time"])
    page.wait_for_selector(f"#drawer:has-text('{clock.describe(now)}')")
    shoot(page, "first-hour-play")

    # /help answers in the page, sends nothing
    page.fill("#composer-text", "/help")
    page.click("#send-btn")
    page.wait_for_selector("#notices .notice:has-text('/impersonate')")
    assert page.locator("article.turn-you").count() == 3

    # the same story on a phone
    phone = browser.new_page(viewport=PHONE)
    phone.goto(f"{url}/chats/{chat_id}/")
    phone.wait_for_selector("#send-btn:not([disabled])")
    shoot(phone, "first-hour-phone")
    phone.close()

    assert server.poll() is None
    assert "Something went wrong" not in page.inner_text("#notices")
    assert [e for e in errors if "/favicon.ico" not in e] == []
