"""`make run` serves the app: migrate, set up, daphne on 127.0.0.1, no network needed."""

import urllib.request

import pytest

from tests.servers import manage, served


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
