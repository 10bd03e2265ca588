"""`make run` serves the app: migrate, set up, daphne on 127.0.0.1, no network needed."""

import socket
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest

from tests.servers import ROOT, manage, served


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("served") / "data"
    with served(data) as (url, proc):
        yield url, data


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read().decode()


def test_it_serves_the_home_page(server):
    url, _ = server
    status, body = get(url + "/")
    assert status == 200 and "Roleplay Engine" in body


def test_each_request_is_logged_once(server):
    """Django's own loggers once printed every line a second time through the root."""
    url, data = server
    get(url + "/api/health?probe=once-only")
    try:
        get(url + "/api/chats/987654/state")  # a 404: logged by Django's request logger too
    except urllib.error.HTTPError as exc:
        assert exc.code == 404
    deadline = time.monotonic() + 10
    log = ""
    while "probe=once-only" not in log and time.monotonic() < deadline:
        time.sleep(0.2)
        log = (data / "server.log").read_text()
    time.sleep(0.5)  # a second copy would follow at once
    log = (data / "server.log").read_text()
    assert log.count("/api/health?probe=once-only") == 1, log[-2000:]
    assert log.count("Not Found: /api/chats/987654/state") <= 1


def test_it_serves_the_admin_login(server):
    url, _ = server
    status, body = get(url + "/admin/login/")
    assert status == 200 and "password" in body.lower()


def test_it_serves_through_daphne_asgi(server):
    url, _ = server
    with urllib.request.urlopen(url + "/api/health", timeout=10) as response:
        assert "daphne" in response.headers.get("Server", "").lower()


def test_the_demo_world_is_loaded_once(server):
    _, data = server
    out = manage(data, "load_demo").stdout
    assert "nothing new" in out


def _outside_address() -> str | None:

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))
            address = s.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_it_listens_on_localhost_only(server):

    url, _ = server
    port = urlsplit(url).port
    with socket.create_connection(("127.0.0.1", port), timeout=2):
        pass
    outside = _outside_address()
    if outside is None:
        pytest.skip("this machine has no non-loopback address to try")
    with pytest.raises(OSError), socket.create_connection((outside, port), timeout=2):
        pass


def test_make_run_binds_127_0_0_1():

    makefile = (ROOT / "Makefile").read_text()
    assert "runserver 127.0.0.1:8000" in makefile
