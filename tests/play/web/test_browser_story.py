"""The play screen people would rather look at than read, in a real browser (Debian's chromium)
at 1280×900 and 390×844: the relationship graph, timeline, story strip and branch tree, the
phone layout, light and dark themes, no console errors on any page, and axe-core.

Set RP_SCREENSHOTS=docs/screenshots to write the README's screenshots while the tests run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser import browser  # noqa: F401
from tests.fakeopenai import FakeOpenAI
from tests.play.web.story_scenario import api, play_story, send, wait_idle
from tests.servers import ROOT, manage, served

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
AXE = ROOT / "static" / "vendor" / "axe-core" / "axe.min.js"
SHOTS = Path(os.environ["RP_SCREENSHOTS"]) if os.environ.get("RP_SCREENSHOTS") else None


def shoot(target, name: str) -> None:
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        target.screenshot(path=str(SHOTS / f"{name}.png"))


def watch(page) -> list[str]:
    """Every console error and uncaught exception of the page, as it happens."""
    errors: list[str] = []
    page.on(
        "console",
        lambda m: errors.append(f"{m.text} ({m.location})") if m.type == "error" else None,
    )
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    return errors


@pytest.fixture(scope="module")
def story(tmp_path_factory, browser):  # noqa: F811
    data = tmp_path_factory.mktemp("story") / "data"
    with FakeOpenAI(token_delay=0.01) as fake:
        manage(data, "migrate", "--noinput")
        manage(data, "setup_local")
        (data / "config.toml").write_text(
            f'[inference]\nbase_url = "{fake.url}"\nnarrative_model = "fake"\ntimeout_s = 30\n'
        )
        with served(data, prepare=False) as (url, _proc):
            page = browser.new_page(viewport=DESKTOP)
            errors = watch(page)
            chat = play_story(url, fake, page)
            yield {"url": url, "fake": fake, "chat": chat, "page": page, "errors": errors}
            page.close()


def edges_in_graph(page) -> list[dict]:
    return page.eval_on_selector_all(
        "[data-testid=relationship-graph] [data-edge]",
        "els => els.map(e => ({source: e.dataset.source, target: e.dataset.target,"
        " names: [e.dataset.sourceName, e.dataset.targetName],"
        " affinity: Number(e.dataset.affinity), away: e.classList.contains('away'),"
        " text: e.textContent}))",
    )


def test_the_graph_holds_six_directed_edges_with_avatars_and_this_turns_changes(story):
    page = story["page"]
    page.wait_for_selector("[data-testid=relationship-graph] [data-edge]")
    edges = edges_in_graph(page)
    assert len(edges) == 6
    assert {(e["source"], e["target"]) for e in edges} == {
        ("you", "host"),
        ("host", "you"),
        ("you", "guest"),
        ("guest", "you"),
        ("host", "guest"),
        ("guest", "host"),
    }
    by_pair = {(e["source"], e["target"]): e for e in edges}
    assert by_pair[("host", "guest")]["names"] == ["Iris Vale", "Theo Vance"]
    # the two directions are their own arrows with their own values
    assert by_pair[("host", "you")]["affinity"] != by_pair[("you", "host")]["affinity"]
    live = api(story["url"], f"/api/chats/{story['chat']['id']}/state")["edges"]
    for e in live:  # the state names characters, with the seat each holds
        assert by_pair[(e["source_role"], e["target_role"])]["affinity"] == e["affinity"]
    # the last reply (the regenerated swipe) moved host→you by +4: marked on that arrow
    assert "▲4" in by_pair[("host", "you")]["text"]
    assert "▲" not in by_pair[("guest", "you")]["text"]
    # the imported card's avatar, in the graph and on the turns
    avatar = page.get_attribute("[data-testid=relationship-graph] [data-node=host] image", "href")
    assert avatar and "/media/avatars/" in avatar
    assert page.locator(f"article.turn-host .avatar img[src='{avatar}']").count() >= 3
    assert page.evaluate(f"fetch('{avatar}').then(r => r.ok && r.headers.get('content-type'))")
    # hovering an arrow shows its summary and last interaction, as text; so does focusing it
    middle = page.eval_on_selector(
        "[data-testid=relationship-graph] [data-edge=host-guest] .edge-path",
        """p => { const m = p.getPointAtLength(p.getTotalLength() / 2)
                    .matrixTransform(p.getScreenCTM()); return [m.x, m.y]; }""",
    )
    page.mouse.move(*middle)
    page.wait_for_selector(".graph-tip:not([hidden])")
    tip = page.inner_text(".graph-tip")
    assert "Iris Vale → Theo Vance" in tip and "Iris trusts Theo's maps" in tip
    assert "last: a tired morning" in tip
    page.mouse.move(0, 0)
    page.wait_for_selector(".graph-tip[hidden]", state="attached")
    page.focus("[data-testid=relationship-graph] [data-edge=guest-host]")
    assert "Theo Vance → Iris Vale" in page.inner_text(".graph-tip")
    page.mouse.move(*middle)
    shoot(page.locator("[data-testid=relationship-graph]"), "graph")


def test_the_timeline_strip_and_branch_tree_render_from_the_api(story):
    page, url, chat = story["page"], story["url"], story["chat"]
    timeline = page.locator("[data-testid=relationship-timeline]")
    timeline.scroll_into_view_if_needed()
    page.wait_for_selector("[data-testid=relationship-timeline] .uplot canvas")
    data = api(url, f"/api/chats/{chat['id']}/timeline")
    assert timeline.get_attribute("data-series") == str(len(data["edges"])) == "6"
    assert timeline.get_attribute("data-marks") == str(len(data["marks"]))
    assert {m["kind"] for m in data["marks"]} >= {"skip", "scene", "story_event"}
    legend = page.inner_text("[data-testid=relationship-timeline] .u-legend")
    assert "Iris Vale → Sam" in legend and "Theo Vance → Iris Vale" in legend
    shoot(page.locator(".timeline-box"), "timeline")

    strip = page.locator("[data-testid=story-strip]")
    strip.scroll_into_view_if_needed()
    page.wait_for_selector("[data-testid=story-strip] svg")
    story_strip = api(url, f"/api/chats/{chat['id']}/story-strip")
    assert strip.get_attribute("data-scenes") == str(len(story_strip["scenes"])) == "2"
    titles = page.eval_on_selector_all(
        "[data-testid=story-strip] title", "els => els.map(e => e.textContent)"
    )
    assert any(t.startswith("The night watch") for t in titles)
    assert any(t.startswith("Who keeps putting the lamp out?") for t in titles)
    assert any(t.startswith("Time skip") for t in titles)
    shoot(strip, "story-strip")

    tree = page.locator("[data-testid=branch-tree]")
    tree.scroll_into_view_if_needed()
    page.wait_for_selector("[data-testid=branch-tree] .bnode")
    nodes = api(url, f"/api/chats/{chat['id']}/branch-tree")["nodes"]
    assert tree.get_attribute("data-nodes") == str(len(nodes)) == "2"
    assert page.locator("[data-testid=branch-tree] .bnode.active[data-kind=swipe]").count() == 1
    assert "Iris yawns. Not a wink." in page.text_content("[data-testid=branch-tree] .bnode.active")
    shoot(page.locator(".branches-section"), "branch-tree")

    # a click on the other node switches the story to it, and the tree follows
    page.click("[data-testid=branch-tree] .bnode[data-kind=main]")
    page.wait_for_selector("text=so did my temper.")
    page.wait_for_selector("[data-testid=branch-tree] .bnode.active[data-kind=main]")
    assert "Not a wink" not in page.inner_text("#transcript")
    assert page.locator("[data-testid=branch-tree] .link.on-path").count() == 0
    page.click("[data-testid=branch-tree] .bnode[data-kind=swipe]")
    page.wait_for_selector("[data-testid=branch-tree] .bnode.active[data-kind=swipe]")
    page.wait_for_selector("#transcript >> text=Not a wink")
    assert story["errors"] == []


def test_the_play_page_desktop_in_light_and_dark(story):
    page = story["page"]
    page.evaluate("document.getElementById('transcript').scrollTop = 1e6")
    page.evaluate("document.getElementById('drawer').scrollTop = 0")
    light = page.evaluate("getComputedStyle(document.body).backgroundColor")
    shoot(page, "play-desktop-light")
    page.click("#theme-toggle")  # follow the system → light
    assert page.evaluate("document.documentElement.dataset.theme") == "light"
    page.click("#theme-toggle")  # → dark
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    dark = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert dark != light
    page.wait_for_timeout(300)
    shoot(page, "play-desktop-dark")
    page.reload()
    page.wait_for_selector("[data-testid=relationship-graph] [data-edge]")
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"  # remembered
    page.click("#theme-toggle")  # → back to the system's
    assert page.evaluate("document.documentElement.dataset.theme") is None
    assert story["errors"] == []


def test_the_phone_layout_is_one_column_with_the_box_pinned_and_the_drawer_sliding_over(
    story,
    browser,  # noqa: F811
):
    page = browser.new_page(viewport=PHONE)
    errors = watch(page)
    page.goto(f"{story['url']}/chats/{story['chat']['id']}/")
    page.wait_for_selector("#send-btn:not([disabled])")
    box = page.eval_on_selector("#composer-text", "e => e.getBoundingClientRect().toJSON()")
    assert box["width"] >= 250
    assert box["bottom"] <= PHONE["height"]  # the box is on screen, at the bottom
    assert box["bottom"] > PHONE["height"] - 140
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.evaluate("document.body.scrollWidth") <= PHONE["width"]
    assert page.is_hidden("#drawer .drawer-inner") or not page.evaluate(
        "(() => { const r = document.getElementById('drawer').getBoundingClientRect();"
        " return r.left < innerWidth; })()"
    )
    shoot(page, "play-phone")
    page.click(".drawer-toggle")
    page.wait_for_function(
        "document.getElementById('drawer').getBoundingClientRect().right <= innerWidth + 1"
    )
    assert page.evaluate("document.activeElement.classList.contains('drawer-close')")
    page.wait_for_selector("[data-testid=relationship-graph] [data-edge]")
    assert len(edges_in_graph(page)) == 6
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.wait_for_timeout(300)
    shoot(page, "play-phone-drawer")
    page.keyboard.press("Escape")
    page.wait_for_function("!document.getElementById('play').classList.contains('drawer-open')")
    assert page.evaluate("document.activeElement.classList.contains('drawer-toggle')")
    # the menu of the top bar folds away on a phone
    assert page.is_hidden("#site-nav")
    page.click(".nav-toggle")
    assert page.is_visible("#site-nav a[href='/settings/']")
    assert errors == []
    page.close()


def test_no_console_errors_on_any_page(story, browser):  # noqa: F811
    url, chat = story["url"], story["chat"]
    reply = next(
        t
        for t in reversed(api(url, f"/api/chats/{chat['id']}/transcript")["turns"])
        if t["speaker"] == "host"
    )
    pages = [
        "/",
        "/chats/new/",
        f"/chats/{chat['id']}/",
        "/settings/",
        "/search/?q=lamp",
        f"/chats/{chat['id']}/snapshots/",
        "/backups/",
        f"/chats/{chat['id']}/turns/{reply['id']}/prompt/",
        f"/chats/{chat['id']}/significance/",
        "/api/docs",
    ]
    page = browser.new_page(viewport=DESKTOP)
    errors = watch(page)
    failed: list[str] = []
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    for path in pages:
        page.goto(url + path)
        page.wait_for_load_state("networkidle")
        if path == "/api/docs":  # drawn from the vendored bundle: no CDN
            page.wait_for_selector(".swagger-ui .info .title")
            assert page.locator(".opblock").count() > 20
        assert errors == [], path
        assert failed == [], path
        if path == "/":
            shoot(page, "home")
        if path == "/settings/":
            page.click("button.preset[data-preset=openrouter]")
            assert page.input_value("#f-inference\\.base_url") == "https://openrouter.ai/api/v1"
            assert page.input_value("#f-inference\\.api_key_env") == "OPENROUTER_API_KEY"
            # the key hint follows the preset, and so do the samplers
            assert "OPENROUTER_API_KEY" in page.inner_text("#h-api-key .key-state")
            assert page.input_value("#f-samplers\\.repetition_penalty") == "1"
            page.goto(url + path)
            page.click("button.test-connection")
            page.wait_for_selector("#test-result .test-result")
            assert "Connected" in page.inner_text("#test-result")
            shoot(page.locator("#test-result"), "settings-test")
            page.evaluate("scrollTo(0, 0)")
            shoot(page, "settings")
    favicon = page.request.get(url + "/favicon.ico")
    assert favicon.ok and "svg" in favicon.headers["content-type"]
    page.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_axe_finds_no_serious_or_critical_violation_on_the_play_page(
    story,
    browser,  # noqa: F811
    viewport,
):
    page = browser.new_page(viewport=viewport)
    page.goto(f"{story['url']}/chats/{story['chat']['id']}/")
    page.wait_for_selector("[data-testid=branch-tree] .bnode", state="attached")
    page.wait_for_selector("[data-testid=relationship-timeline] .uplot", state="attached")
    if viewport is PHONE:
        page.click(".drawer-toggle")
        page.wait_for_timeout(300)
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(n["target"][0] for n in v["nodes"][:5])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not serious, "\n".join(serious)
    page.close()


def test_accessible_names_a_skip_link_and_few_tab_stops_per_turn(story, browser):  # noqa: F811
    page = browser.new_page(viewport=DESKTOP)
    page.goto(f"{story['url']}/chats/{story['chat']['id']}/")
    page.wait_for_selector("#send-btn:not([disabled])")
    assert page.evaluate("document.getElementById('composer-text').labels[0].textContent") == (
        "Your message"
    )
    unnamed = page.evaluate(
        """[...document.querySelectorAll(`button, a[href], input:not([type=hidden]), select,
            textarea, summary, [role=button]`)].filter(e => {
              const name = (e.getAttribute('aria-label') || e.textContent || e.title ||
                (e.labels && e.labels.length && e.labels[0].textContent) ||
                e.getAttribute('placeholder') || '').trim();
              return !name;
            }).map(e => e.outerHTML.slice(0, 120))"""
    )
    assert unnamed == []
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('skip-link')")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "composer-text"
    # between the story and the box: one menu per turn (plus the swipe arrows on replies)
    turns = page.locator("#transcript article.turn").count()
    page.focus("#transcript")
    stops = 0
    while page.evaluate("document.activeElement.id") != "composer-text" and stops < 200:
        page.keyboard.press("Tab")
        stops += 1
    assert stops <= turns + 3
    # streamed text is announced politely, once: the streaming row is live but busy
    fake = story["fake"]
    fake.push(
        ("delay", 1.0, ("text", "*Iris squints at the horizon.* A sail, there.")),
        ("json", {}),
        ("json", {"interject": False}),
    )
    send(page, "Iris, do you see anything out there?")
    row = page.wait_for_selector(".turn.streaming")
    assert row.get_attribute("aria-live") == "polite" and row.get_attribute("aria-busy") == "true"
    page.wait_for_selector("article.turn-host >> text=A sail, there.")
    page.wait_for_function(
        "document.getElementById('announcer').textContent.includes('A sail, there.')"
    )
    assert page.evaluate("document.querySelectorAll('[aria-live]').length") <= 4
    wait_idle(page)
    page.close()


def test_a_live_redraw_keeps_what_you_type_and_never_swaps_send_under_a_click(story):
    """The drawer is redrawn after every event and Send after every run: a half-typed skip
    target survives the redraw with its focus, and Send stays the same element (a redraw
    landing between the press and the release used to swallow the click)."""
    page, url, chat_id = story["page"], story["url"], story["chat"]["id"]
    page.set_viewport_size(DESKTOP)
    wait_idle(page)
    field = ".skip-form input[name=to]"
    for attempt in range(5):  # a late redraw (the last run's analysis) may replace the field
        try:
            page.locator(field).scroll_into_view_if_needed(timeout=5_000)
            page.fill(field, "the day after tomorrow", timeout=5_000)
            break
        except PlaywrightError:
            if attempt == 4:
                raise
            page.wait_for_timeout(300)
    page.evaluate(
        "() => { document.getElementById('send-btn').__kept = true;"
        " window.__inner = document.querySelector('#drawer .drawer-inner'); }"
    )
    api(url, f"/api/chats/{chat_id}/threads", {"action": "open", "title": "Who rang the bell?"})
    page.wait_for_function(  # redrawn with the new thread
        "() => document.querySelector('#drawer .drawer-inner') !== window.__inner"
        " && document.querySelector('#drawer').textContent.includes('Who rang the bell?')",
        timeout=30_000,
    )
    assert page.input_value(field) == "the day after tomorrow"
    assert page.evaluate("() => document.activeElement && document.activeElement.name") == "to"

    turns = page.locator("article.turn-you").count()
    send(page, "Did you hear the bell?")
    page.wait_for_function(f"() => document.querySelectorAll('article.turn-you').length > {turns}")
    wait_idle(page)
    assert page.evaluate("() => document.getElementById('send-btn').__kept === true")
    assert page.inner_text("#send-btn") == "Send"
    # a submitted form starts fresh: what it sent is not typed back in after the redraw
    page.click("#d-thread > summary")
    page.fill(".open-thread input[name=title]", "Where is the logbook?")
    page.click(".open-thread button")
    page.wait_for_function(
        "() => document.querySelector('#drawer').textContent.includes('Where is the logbook?')"
        " && !document.querySelector('.open-thread input[name=title]').value",
        timeout=30_000,
    )
    assert page.input_value(field) == "the day after tomorrow"


def test_the_delete_preview_names_every_change_grouped_by_kind(story, browser):  # noqa: F811
    """The ⋯ menu's Delete… shows what the delete would change, grouped by kind, each entry
    with its value now and after; Keep it closes the preview and changes nothing."""
    url, chat = story["url"], story["chat"]
    before = api(url, f"/api/chats/{chat['id']}/state")
    for name, viewport in (("delete-preview", DESKTOP), ("delete-preview-phone", PHONE)):
        page = browser.new_page(viewport=viewport)
        errors = watch(page)
        page.goto(f"{url}/chats/{chat['id']}/")
        wait_idle(page)
        page.wait_for_timeout(300)  # the socket is open (a connect redraws the transcript)
        line = page.locator("article.turn-you").first
        for _ in range(3):  # a live redraw may close the menu between the two clicks
            line.locator("summary.icon-button").click()
            try:
                line.locator("button.delete").click(timeout=3000)
                break
            except PlaywrightTimeout:
                continue
        page.wait_for_selector("[data-testid=impact-groups]")
        kinds = page.eval_on_selector_all(".impact-group", "els => els.map(e => e.dataset.kind)")
        assert "transcript" in kinds and "memories" in kinds, kinds
        entries = page.locator(".impact-entry")
        assert entries.count() >= 3
        first = page.locator(".impact-group[open] .impact-entry").first.inner_text()
        assert "—" in first  # "label — field: now → after", or "label — removed"
        page.locator("[data-testid=impact-groups]").scroll_into_view_if_needed()
        shoot(page, name)
        page.click("#delete-preview button.keep")
        assert page.locator("#delete-preview").count() == 0
        assert errors == []
        page.close()
    assert api(url, f"/api/chats/{chat['id']}/state")["world"] == before["world"]
