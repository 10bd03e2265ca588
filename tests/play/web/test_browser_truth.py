"""The page tells the truth (issue 17, front end), in a real browser: your line shows at once
while the model is busy, Send says why it is off, a refused line comes back to the box, a
failed analysis shows a notice with a retry, and a dropped connection shows a banner,
reconnects and re-syncs what happened while it was away."""

from __future__ import annotations

import pytest

from tests.browser import browser  # noqa: F401
from tests.fakeopenai import FakeOpenAI
from tests.play.web.story_scenario import SETUP, api, send, wait_idle
from tests.servers import free_port, manage, served

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    data = tmp_path_factory.mktemp("truth") / "data"
    with FakeOpenAI(token_delay=0.03) as fake:
        manage(data, "migrate", "--noinput")
        manage(data, "setup_local")
        (data / "config.toml").write_text(
            f'[inference]\nbase_url = "{fake.url}"\nnarrative_model = "fake"\ntimeout_s = 30\n'
            "[play]\nmax_message_chars = 200\n"
        )
        port = free_port()
        yield {"data": data, "fake": fake, "port": port, "url": f"http://127.0.0.1:{port}"}


def new_chat(url: str, title: str) -> dict:
    characters = {c["name"]: c["id"] for c in api(url, "/api/characters")["characters"]}
    return api(
        url,
        "/api/chats",
        {
            "character": characters["Mara Quill"],
            "parse_kickoff": False,
            "title": title,
            "setup": SETUP,
        },
    )


def test_your_line_shows_at_once_and_send_says_why_it_is_off(app, browser):  # noqa: F811
    fake = app["fake"]
    with served(app["data"], prepare=False, port=app["port"]) as (url, _proc):
        chat = new_chat(url, "Waiting")
        page = browser.new_page()
        page.goto(f"{url}/chats/{chat['id']}/")
        wait_idle(page)
        page.wait_for_timeout(300)
        # the first reply's analysis is slow: the next line waits for it on the server
        fake.push(("text", "First, the lamp."), ("delay", 3.0, ("json", {})))
        send(page, "Mara, is the lamp lit?")
        page.wait_for_selector("article.turn-host >> text=First, the lamp.")
        fake.push(("text", " ".join(f"wave{i}" for i in range(60))), ("json", {}))
        page.wait_for_selector("#send-btn:not([disabled])")
        page.fill("#composer-text", "And the foghorn?")
        page.click("#send-btn")
        pending = page.wait_for_selector("#pending-turn", timeout=1000)  # at once
        assert "And the foghorn?" in pending.inner_text()
        assert "waiting for the model" in pending.inner_text()
        assert page.is_disabled("#send-btn")
        assert "waiting for the model" in page.inner_text("#composer-status")
        assert page.input_value("#composer-text") == ""
        # the line reaches the story once; while the bot writes, Send is off and says why
        page.wait_for_selector(".turn.streaming")
        assert page.is_disabled("#send-btn")
        assert page.inner_text("#send-btn") == "Writing…"
        assert "A bot is writing" in page.inner_text("#composer-status")
        page.wait_for_selector("article.turn-host >> text=wave59")
        wait_idle(page)
        assert page.inner_text("#transcript").count("And the foghorn?") == 1
        assert page.locator("#pending-turn").count() == 0
        assert "Enter sends" in page.inner_text("#composer-status")

        # a line the server refuses comes back to the box, with the reason
        page.fill("#composer-text", "x" * 250)
        page.click("#send-btn")
        page.wait_for_selector("#notices .notice")
        assert "200" in page.inner_text("#notices")
        page.wait_for_function("!document.querySelector('#pending-turn')")
        assert page.input_value("#composer-text") == "x" * 250
        assert page.is_enabled("#send-btn")
        page.close()


def test_a_failed_analysis_shows_a_notice_with_a_retry(app, browser):  # noqa: F811
    fake = app["fake"]
    with served(app["data"], prepare=False, port=app["port"]) as (url, _proc):
        chat = new_chat(url, "Failing books")
        page = browser.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        retries: list[dict] = []

        def answer_retry(route, request):
            retries.append(
                {
                    "method": request.method,
                    "url": request.url,
                    "csrf": request.headers.get("x-csrftoken", ""),
                }
            )
            route.fulfill(status=202, body="")

        page.route("**/analysis/retry/", answer_retry)
        page.goto(f"{url}/chats/{chat['id']}/")
        wait_idle(page)
        page.wait_for_timeout(300)
        fake.push(("text", "The books will not balance."), ("invalid_json",), ("invalid_json",))
        send(page, "Mara, how are the books?")
        page.wait_for_selector("article.turn-host >> text=The books will not balance.")
        turn = api(url, f"/api/chats/{chat['id']}/transcript")["turns"][-1]
        notice = page.wait_for_selector(f"#turn-{turn['id']} [data-testid=analysis-failed]")
        assert "State not updated:" in notice.inner_text()
        page.click(f"#turn-{turn['id']} .retry-analysis")
        page.wait_for_function("() => true")
        page.wait_for_timeout(300)
        assert retries and retries[0]["method"] == "POST"
        assert retries[0]["url"].endswith(f"/chats/{chat['id']}/turns/{turn['id']}/analysis/retry/")
        assert retries[0]["csrf"]
        page.reload()  # the page as served shows it too
        page.wait_for_selector(f"#turn-{turn['id']} [data-testid=analysis-failed]")
        assert errors == []
        page.close()


def test_a_dropped_connection_shows_a_banner_reconnects_and_resyncs(app, browser):  # noqa: F811
    data, port = app["data"], app["port"]
    page = browser.new_page()
    with served(data, prepare=False, port=port) as (url, _proc):
        chat = new_chat(url, "Dropped")
        page.goto(f"{url}/chats/{chat['id']}/")
        wait_idle(page)
        assert page.is_hidden("#ws-banner")
    # the server is gone: the page says so
    page.wait_for_selector("#ws-banner:not([hidden])", timeout=15_000)
    assert "reconnecting" in page.inner_text("#ws-banner")
    # while it is away the story moves on (an event no tab was told about)
    payload = {
        "speaker": "narrator",
        "name": "Narrator",
        "text": "While you were away, the tide came in.",
        "witnesses": {"you": True, "host": True, "guest": False},
        "scene": 1,
        "story_time": SETUP["story_time"],
    }
    manage(
        data,
        "shell",
        "-c",
        "from eventstore.services import append\n"
        "from play.models import Chat\n"
        f"append(stream=Chat.objects.get(pk={chat['id']}), kind='narration', payload={payload!r})",
    )
    with served(data, prepare=False, port=port) as (url, _proc):
        page.wait_for_selector("#ws-banner[hidden]", state="attached", timeout=45_000)
        page.wait_for_selector("#transcript >> text=While you were away, the tide came in.")
        wait_idle(page)
        app["fake"].push(("text", "Back again, then."), ("json", {}))
        send(page, "Mara, I'm back.")
        page.wait_for_selector("article.turn-host >> text=Back again, then.")
    page.close()


def test_a_skip_in_words_asks_first_and_no_send_logs_an_error(app, browser):  # noqa: F811
    fake = app["fake"]
    with served(app["data"], prepare=False, port=app["port"]) as (url, _proc):
        chat = new_chat(url, "Skipping")
        page = browser.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{url}/chats/{chat['id']}/")
        wait_idle(page)
        page.wait_for_timeout(300)
        fake.push(("text", "Evening, then."), ("json", {}))
        send(page, "Evening, Mara.")  # the server deletes a skip question that is not there
        page.wait_for_selector("article.turn-host >> text=Evening, then.")
        send(page, "Let's skip to the next morning.")
        page.wait_for_selector("#skip-confirm .skip-yes")
        assert page.locator("#pending-turn").count() == 0  # the question, not a waiting line
        page.click("#skip-confirm .skip-yes")
        page.wait_for_selector("article.turn-narrator")
        wait_idle(page)
        assert page.locator("#skip-confirm .skip-yes").count() == 0
        fake.push(("text", "Morning!"), ("json", {}))
        send(page, "Good morning, Mara.")
        page.wait_for_selector("article.turn-host >> text=Morning!")
        assert errors == []
        page.close()
