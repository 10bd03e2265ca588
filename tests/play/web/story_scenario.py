"""A short story played through the real page (fake OpenAI-compatible model, real daphne,
headless chromium) for the browser tests of the play page's pictures and their screenshots."""

from __future__ import annotations

import base64
import io
import json
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

from PIL import Image, ImageDraw

from tests.fakeopenai import FakeOpenAI
from worlds.cards import PNG_SIGNATURE, read_png_chunks, text_chunk, write_png_chunks


def api(url: str, path: str, data: dict | None = None) -> dict:
    req = urllib.request.Request(
        url + path,
        method="POST" if data is not None else "GET",
        data=json.dumps(data).encode() if data is not None else None,
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=90) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        raise AssertionError(f"{path}: HTTP {exc.code} {exc.read()[:500]!r}") from None


def portrait_png(colour: tuple[int, int, int], accent: tuple[int, int, int]) -> bytes:
    """A small drawn portrait: a head and shoulders on a coloured ground."""
    size = 256
    image = Image.new("RGB", (size, size), colour)
    draw = ImageDraw.Draw(image)
    for i in range(size):  # a soft vertical gradient
        shade = tuple(max(0, c - i // 6) for c in colour)
        draw.line([(0, i), (size, i)], fill=shade)
    draw.ellipse([40, 170, 216, 330], fill=accent)  # shoulders
    draw.ellipse([83, 52, 173, 150], fill=(238, 205, 176))  # face
    draw.chord([76, 38, 180, 128], 180, 360, fill=(70, 40, 30))  # hair
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def card_png(name: str, description: str, first_mes: str, image: bytes) -> bytes:
    card = {
        "spec": "chara_card_v2",
        "spec_version": "2.0",
        "data": {"name": name, "description": description, "first_mes": first_mes},
    }
    chunks = read_png_chunks(image)
    payload = base64.b64encode(json.dumps(card).encode()).decode()
    assert image.startswith(PNG_SIGNATURE)
    return write_png_chunks([*chunks[:-1], text_chunk("chara", payload), chunks[-1]])


def import_card(url: str, filename: str, data: bytes) -> dict:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    req = urllib.request.Request(
        url + "/api/characters/import",
        method="POST",
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    with urllib.request.urlopen(req, timeout=60) as response:
        return json.loads(response.read())


def analysis(*edges: tuple[str, str, int, int], **more: Any) -> tuple[str, dict]:
    return (
        "json",
        {
            "significance": more.pop("significance", 1),
            "edges": [
                {
                    "source": s,
                    "target": t,
                    "affinity_delta": a,
                    "trust_delta": tr,
                    "last_interaction": more.get("last", ""),
                }
                for s, t, a, tr in edges
            ],
            **{k: v for k, v in more.items() if k != "last"},
        },
    )


def settle(page, url: str, chat_id: int) -> None:
    """Wait until every reply is analysed and the page's graph shows the live edges."""
    deadline = time.monotonic() + 60
    while True:
        progress = api(url, f"/api/chats/{chat_id}/bookkeeping")
        if progress["done"] == progress["total"] or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    expected = {
        f"{e['source_role'] or e['source']}-{e['target_role'] or e['target']}": e["affinity"]
        for e in api(url, f"/api/chats/{chat_id}/state")["edges"]
    }
    page.wait_for_function(
        """expected => Object.entries(expected).every(([edge, affinity]) => {
             const el = document.querySelector(
               `[data-testid=relationship-graph] [data-edge="${edge}"]`);
             return el && Number(el.dataset.affinity) === affinity; })""",
        arg=expected,
        timeout=30_000,
    )


def wait_idle(page) -> None:
    page.wait_for_selector("#send-btn:not([disabled])", timeout=60_000)
    page.wait_for_function("!document.querySelector('#pending-turn')", timeout=60_000)


def send(page, text: str) -> None:
    wait_idle(page)
    page.fill("#composer-text", text)
    page.click("#send-btn")


SETUP = {
    "story_time": "2024-10-12T21:10",
    "weather": "thick fog",
    "location": "lamp_room",
    "containers": [
        {
            "key": "lamp_room",
            "name": "Lamp room",
            "kind": "room",
            "slots": ["by the lens", "at the chart table", "on the stairs"],
        }
    ],
    "activities": [
        {"role": "host", "container": "lamp_room", "slot": "by the lens", "verb": "trimming wicks"},
        {
            "role": "you",
            "container": "lamp_room",
            "slot": "on the stairs",
            "verb": "catching breath",
        },
    ],
}


def play_story(url: str, fake: FakeOpenAI, page) -> dict:
    """Iris (an imported card with an avatar) hosts; Theo joins as the guest; three turns, a
    story event, a thread, a time skip and a regenerated reply. Returns the chat."""
    iris = import_card(
        url,
        "iris.png",
        card_png(
            "Iris Vale",
            "Iris keeps the Saltmarsh lighthouse and its logbook.",
            "*Iris looks up from the logbook.* You made it before the fog, {{user}}.",
            portrait_png((64, 98, 140), (180, 90, 60)),
        ),
    )
    characters = {c["name"]: c["id"] for c in api(url, "/api/characters")["characters"]}
    chat = api(
        url,
        "/api/chats",
        {
            "character": iris["id"],
            "parse_kickoff": False,
            "title": "Fog at Saltmarsh Light",
            "setup": SETUP,
        },
    )
    page.goto(f"{url}/chats/{chat['id']}/")
    wait_idle(page)
    page.wait_for_timeout(300)  # the socket is open

    # the guest joins from the drawer, with how they met
    fake.push(
        (
            "json",
            {
                "met": True,
                "host_to_guest": {
                    "affinity": 35,
                    "trust": 20,
                    "summary": "Iris trusts Theo's maps",
                },
                "guest_to_host": {"affinity": 15, "trust": 30, "summary": "Theo admires Iris"},
            },
        )
    )
    if page.is_hidden(".guest-add"):
        opener = page.locator(".drawer-toggle")
        if opener.is_visible():
            opener.click()
        page.click("#d-guest > summary")
    page.select_option(".guest-add select[name=character]", str(characters["Theo Vance"]))
    page.fill(".guest-add textarea[name=met]", "Theo drew the charts Iris keeps by the lamp.")
    page.click(".guest-add button")
    page.wait_for_selector("text=Guest: Theo Vance")
    if page.locator(".drawer-close").is_visible():
        page.click(".drawer-close")

    fake.push(
        ("text", "*Iris sets the kettle on.* The lamp went dark twice last night. Twice."),
        analysis(
            ("host", "you", 6, 4),
            ("you", "host", 4, 2),
            ("guest", "you", 3, 0),
            ("you", "guest", 2, 1),
            ("host", "guest", -2, 0),
            ("guest", "host", 4, 3),
            last="talked about the dark lamp",
            story_events=[{"action": "start", "title": "The night watch"}],
            threads=[{"action": "open", "title": "Who keeps putting the lamp out?"}],
        ),
        ("json", {"interject": False}),
    )
    send(page, "Iris, Theo, what happened to the lamp?")
    page.wait_for_selector("text=The lamp went dark twice last night.")

    fake.push(
        ("text", "*Theo unrolls a chart.* Someone rowed out from the north cove. Look here."),
        analysis(
            ("guest", "you", 5, 6),
            ("you", "guest", 4, 5),
            ("host", "guest", -6, -8),
            ("guest", "host", -3, 0),
            last="Theo showed the chart",
            significance=2,
        ),
        ("json", {"interject": False}),
    )
    send(page, "Theo, show me what you found on the chart.")
    page.wait_for_selector("text=Someone rowed out from the north cove.")

    wait_idle(page)
    api(url, f"/api/chats/{chat['id']}/skip", {"mode": "jump", "minutes": 540})
    page.wait_for_selector("article.turn-narrator")

    fake.push(
        ("text", "*Iris hands you a mug.* Morning. The fog lifted, and so did my temper."),
        analysis(("host", "you", 9, 5), ("you", "host", 3, 6), ("host", "guest", 4, 2)),
        ("json", {"interject": False}),
    )
    send(page, "Good morning, Iris. Did you sleep at all?")
    page.wait_for_selector("text=so did my temper.")

    # "›" on the last reply writes a new swipe
    fake.push(
        ("text", "*Iris yawns.* Not a wink. But the lamp stayed lit."),
        analysis(("host", "you", 4, 2), ("host", "guest", 2, 0), last="a tired morning"),
        ("json", {"interject": False}),
    )
    wait_idle(page)
    page.click("article.turn.last-reply .swipe-new")
    page.wait_for_selector("text=Not a wink. But the lamp stayed lit.")
    page.wait_for_function(
        "[...document.querySelectorAll('.swipes')].some(s => "
        "s.textContent.replace(/\\s+/g, ' ').trim() === '‹ 2/2 ›')"
    )
    wait_idle(page)
    settle(page, url, chat["id"])
    return chat
