"""Hostile text everywhere a user or a model can put it renders inert in a real browser."""

from __future__ import annotations

import json
import urllib.request

import pytest

from tests.browser import browser  # noqa: F401
from tests.fakeopenai import FakeOpenAI
from tests.servers import manage, served

pytestmark = pytest.mark.browser

PAYLOADS = [
    '<script>window.__xss = "script"</script>',
    "<img src=x onerror=\"window.__xss = 'img'\">",
    "[click me](javascript:window.__xss='link')",
    "<a href=\"javascript:window.__xss='a'\">a</a>",
    "<svg onload=\"window.__xss = 'svg'\"></svg>",
    "*<b onmouseover=\"window.__xss='b'\">hover</b>*",
    "((<iframe src=\"javascript:window.__xss='iframe'\"></iframe>))",
]
HOSTILE = " ".join(PAYLOADS)


def api(url: str, path: str, data: dict | None = None, method: str | None = None) -> dict:
    req = urllib.request.Request(
        url + path,
        method=method or ("POST" if data else "GET"),
        data=json.dumps(data).encode() if data is not None else None,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=60) as response:
        return json.loads(response.read() or b"{}")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    data = tmp_path_factory.mktemp("xss") / "data"
    with FakeOpenAI() as fake:
        manage(data, "migrate", "--noinput")
        manage(data, "setup_local")
        (data / "config.toml").write_text(f'[inference]\nbase_url = "{fake.url}"\n')
        with served(data, prepare=False) as (url, _proc):
            yield url, fake


def test_no_injected_script_runs_anywhere(app, browser):  # noqa: F811
    url, fake = app
    character = api(
        url,
        "/api/characters",
        {
            "name": f"Mara{PAYLOADS[1]}",
            "description": HOSTILE,
            "first_mes": HOSTILE,
            "alternate_greetings": [HOSTILE],
            "personality": HOSTILE,
        },
    )
    chat = api(
        url,
        "/api/chats",
        {"character": character["id"], "parse_kickoff": False, "title": f"Title {PAYLOADS[0]}"},
    )
    fake.push(
        ("text", HOSTILE),
        (
            "json",
            {
                "significance": 2,
                "edges": [
                    {
                        "source": "host",
                        "target": "you",
                        "affinity_delta": 1,
                        "knowledge_facts": [PAYLOADS[4]],
                        "last_interaction": PAYLOADS[1],
                    }
                ],
                "entities": [{"role": "host", "mood": PAYLOADS[0]}],
                "story_events": [
                    {"action": "plan", "title": f"Event {PAYLOADS[1]}", "props": [PAYLOADS[0]]}
                ],
                "threads": [{"action": "open", "title": f"Thread {PAYLOADS[4]}"}],
            },
        ),
    )
    turns = api(url, f"/api/chats/{chat['id']}/turns", {"text": HOSTILE})["turns"]
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pages = [
        "/",
        f"/chats/{chat['id']}/",
        f"/chats/{chat['id']}/turns/{turns[1]['id']}/prompt/",
        "/search/?q=script",
        f"/chats/{chat['id']}/significance/",
        "/chats/new/",
        f"/chats/{chat['id']}/snapshots/",
    ]
    for path in pages:
        page.goto(url + path)
        page.wait_for_load_state("networkidle")
        for element in page.query_selector_all("img, b, svg, a"):
            element.hover(timeout=500, force=True) if element.is_visible() else None
        assert page.evaluate("window.__xss") is None, path
        assert (
            page.evaluate(
                "[...document.querySelectorAll('a[href]')].filter(a => "
                "a.getAttribute('href').trim().toLowerCase().startsWith('javascript')).length"
            )
            == 0
        ), path
        assert (
            page.evaluate("document.querySelectorAll('iframe, svg[onload], [onerror]').length") == 0
        ), path
    # the hostile text is shown as text, not dropped
    page.goto(f"{url}/chats/{chat['id']}/")
    assert "window.__xss" in page.inner_text("#transcript")
    # live: a streamed hostile reply stays inert in the tab that watches it
    fake.push(("text", HOSTILE), ("json", {}))
    page.fill("#composer-text", "again")
    page.click("#send-btn")
    page.wait_for_function("document.querySelectorAll('article.turn-host').length >= 3")
    page.wait_for_timeout(500)
    assert page.evaluate("window.__xss") is None
    assert dialogs == []
