"""The play page in a real browser: two tabs mirror each other, Stop, regenerate and swipes."""

from __future__ import annotations

import json
import urllib.request

import pytest

from tests.browser import browser  # noqa: F401
from tests.servers import served_with_fake

pytestmark = pytest.mark.browser


def api(url: str, path: str, data: dict | None = None) -> dict:
    req = urllib.request.Request(
        url + path,
        method="POST" if data is not None else "GET",
        data=json.dumps(data).encode() if data is not None else None,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=60) as response:
        return json.loads(response.read() or b"{}")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    data = tmp_path_factory.mktemp("browser") / "data"
    with served_with_fake(data, token_delay=0.03) as (url, fake):
        yield url, fake


def affinity(page, source: str, target: str) -> str:
    return page.text_content(f'#drawer .edge[data-edge="{source}-{target}"] .affinity')


def test_two_tabs_mirror_a_stream_stop_keeps_a_truncated_turn_and_swipes_restore_state(
    app,
    browser,  # noqa: F811
):
    url, fake = app
    characters = api(url, "/api/characters")["characters"]
    host = next(c for c in characters if c["name"] == "Mara Quill")
    chat = api(url, "/api/chats", {"character": host["id"], "parse_kickoff": False})
    a, b = browser.new_page(), browser.new_page()
    for page in (a, b):
        page.goto(f"{url}/chats/{chat['id']}/")
        page.wait_for_selector("#send-btn:not([disabled])")
    a.wait_for_timeout(500)  # both sockets connected

    # 1. a message sent in tab A streams into both tabs
    fake.push(
        ("text", "Hello from the coast road, friend, the causeway is open tonight."),
        ("json", {"edges": [{"source": "host", "target": "you", "affinity_delta": 5}]}),
    )
    a.fill("#composer-text", "Is the causeway open, Mara?")
    a.click("#send-btn")
    # tab B sees the bot writing (or, on a loaded machine, the reply already written: the
    # streaming row lives only while the tokens arrive)
    b.wait_for_function(
        "document.querySelector('.turn.streaming')"
        " || document.getElementById('transcript').innerText.includes('causeway is open tonight')"
    )
    for page in (a, b):
        page.wait_for_selector("text=the causeway is open tonight.")
        assert "Is the causeway open, Mara?" in page.inner_text("#transcript")
    for page in (b, a):  # each tab redraws its drawer on its own (debounced)
        page.wait_for_function(
            "document.querySelector('#drawer .edge[data-edge=\"host-you\"] .affinity')"
            ".textContent.includes('5')"
        )
    assert "5" in affinity(a, "host", "you")

    # 2. Stop (pressed in tab B) commits the partial text, truncated, in both tabs
    long_reply = " ".join(f"word{i}" for i in range(200))
    fake.push(("text", long_reply), ("json", {}))
    a.fill("#composer-text", "Tell me everything about the lighthouse.")
    a.click("#send-btn")
    b.wait_for_selector(".turn.streaming #stop-btn")
    b.wait_for_function(
        "document.querySelector('.turn.streaming .body').textContent.includes('word5')"
    )
    b.click(".turn.streaming #stop-btn")
    for page in (a, b):
        page.wait_for_selector(".turn-host .badge.truncated")
    transcript = api(url, f"/api/chats/{chat['id']}/transcript")["turns"]
    stopped = transcript[-1]
    assert stopped["truncated"] is True and "word5" in stopped["text"]
    assert "word199" not in stopped["text"]
    a.wait_for_selector("#send-btn:not([disabled])")

    # 3. regenerate shows ‹ 2/2 ›; switching back restores the earlier state in the drawer
    fake.push(
        ("text", "A different answer entirely."),
        ("json", {"edges": [{"source": "host", "target": "you", "affinity_delta": -8}]}),
    )
    a.click(f"#turn-{stopped['id']} .turn-menu summary")  # the line's actions are in a menu
    a.click(f"#turn-{stopped['id']} button.regenerate")
    for page in (a, b):
        page.wait_for_selector("text=A different answer entirely.")
        page.wait_for_function(
            "[...document.querySelectorAll('.swipes')].some(s => "
            "s.textContent.replace(/\\s+/g, ' ').trim() === '‹ 2/2 ›')"
        )
        page.wait_for_function(
            "document.querySelector('#drawer .edge[data-edge=\"host-you\"] .affinity')"
            ".textContent.includes('-3')"
        )
    a.click(".turn.last-reply .swipes .swipe-prev")  # the greeting has swipes too
    for page in (a, b):
        page.wait_for_selector("text=word5")
        page.wait_for_function(
            "[...document.querySelectorAll('.swipes')].some(s => "
            "s.textContent.replace(/\\s+/g, ' ').trim() === '‹ 1/2 ›')"
        )
        page.wait_for_function(
            "document.querySelector('#drawer .edge[data-edge=\"host-you\"] .affinity')"
            ".textContent.trim() === '♥ 5'"
        )
    assert "A different answer entirely." not in a.inner_text("#transcript")


def test_a_guest_joins_both_bots_edges_move_and_a_meanwhile_scene_stays_a_digest(
    app,
    browser,  # noqa: F811
):
    url, fake = app
    characters = {c["name"]: c["id"] for c in api(url, "/api/characters")["characters"]}
    chat = api(
        url,
        "/api/chats",
        {"character": characters["Mara Quill"], "parse_kickoff": False, "title": "Three of us"},
    )
    page = browser.new_page()
    page.goto(f"{url}/chats/{chat['id']}/")
    page.wait_for_selector("#send-btn:not([disabled])")

    # add the guest from the drawer, with how they met
    fake.push(
        (
            "json",
            {
                "met": True,
                "host_to_guest": {"affinity": 50, "summary": "Mara adores Theo"},
                "guest_to_host": {"affinity": 10, "summary": "Theo frets over Mara"},
            },
        )
    )
    page.click("#d-guest > summary")
    page.select_option(".guest-add select[name=character]", str(characters["Theo Vance"]))
    page.fill(".guest-add textarea[name=met]", "Theo taught Mara card tricks as a child.")
    page.click(".guest-add button")
    page.wait_for_selector("text=Guest: Theo Vance")
    page.wait_for_selector('#drawer .edge[data-edge="host-guest"]')
    assert "50" in affinity(page, "host", "guest") and "10" in affinity(page, "guest", "host")

    # talk to both: the addressee answers; both bots' edges toward you change
    fake.push(
        ("text", "Welcome, both of you, to the Lantern."),
        (
            "json",
            {
                "edges": [
                    {"source": "host", "target": "you", "affinity_delta": 4},
                    {"source": "guest", "target": "you", "affinity_delta": 6},
                ]
            },
        ),
        ("json", {"interject": False}),
    )
    page.fill("#composer-text", "Mara and Theo, hello there!")
    page.click("#send-btn")
    page.wait_for_selector("text=Welcome, both of you, to the Lantern.")
    page.wait_for_function(
        "document.querySelector('#drawer .edge[data-edge=\"guest-you\"] .affinity')"
        ".textContent.includes('6')"
    )
    assert "4" in affinity(page, "host", "you")
    fake.push(
        ("text", "Theo bows with a flourish."),
        ("json", {"edges": [{"source": "guest", "target": "you", "affinity_delta": 2}]}),
        ("json", {}),
    )
    page.wait_for_selector("#send-btn:not([disabled])")
    page.fill("#composer-text", "Theo, show me a trick.")
    page.click("#send-btn")
    page.wait_for_selector(".turn-guest >> text=Theo bows with a flourish.")
    page.wait_for_function(
        "document.querySelector('#drawer .edge[data-edge=\"guest-you\"] .affinity')"
        ".textContent.includes('8')"
    )

    # a meanwhile scene: the bots talk without you
    fake.push(("text", "Theo remembers the welcome."), ("text", "Mara remembers the welcome."))
    page.wait_for_selector("#send-btn:not([disabled])")
    page.click("#d-meanwhile > summary")
    page.fill(".meanwhile-start input[name=setting]", "Later, in the diner kitchen.")
    page.click(".meanwhile-start button")
    page.wait_for_selector(".meanwhile-continue")
    fake.push(
        ("text", "The brass key is hidden in the lamp."),
        ("json", {}),
        ("text", "Sam must never know about the lamp."),
        ("json", {}),
    )
    page.click(".meanwhile-continue button")
    page.wait_for_selector("text=Sam must never know about the lamp.")
    fake.push(
        ("text", "Theo's memory: we agreed to keep the key secret."),
        ("text", "Mara's memory: Theo made me promise to hide the key."),
    )
    page.wait_for_selector(".meanwhile-end button")
    page.click(".meanwhile-end button")
    page.wait_for_selector(".meanwhile-start")

    # back with you: the raw meanwhile dialogue never reaches the bot, only its digest
    fake.push(("text", "Morning! Coffee?"), ("json", {}), ("json", {}))
    page.wait_for_selector("#send-btn:not([disabled])")
    page.fill("#composer-text", "Good morning, Mara.")
    page.click("#send-btn")
    page.wait_for_selector("article.turn >> text=Morning! Coffee?")
    turns = api(url, f"/api/chats/{chat['id']}/transcript")["turns"]
    reply = next(t for t in reversed(turns) if t["text"] == "Morning! Coffee?")
    prompt = api(url, f"/api/chats/{chat['id']}/turns/{reply['id']}/prompt")
    sent = json.dumps(prompt["messages"])
    assert "hidden in the lamp" not in sent and "never know about the lamp" not in sent
    assert "Theo made me promise to hide the key." in sent
    assert "Sam must never know about the lamp." in page.inner_text("#transcript")
