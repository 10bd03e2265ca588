"""The settings page people can use: presets and help, a key kept in a private secrets file
(never in config.toml, never shown again, read by the remote backend), comments kept on save,
and a test result in words."""

import asyncio
import json
import os
import stat

import pytest

from play.engine.inference.remote import OpenAICompatible
from rpsite.config import api_key, load_config, secrets_path
from tests.fakeopenai import FakeOpenAI

pytestmark = pytest.mark.django_db

KEY = "sk-test-0123456789abcdef"


def form(**overrides):
    config = load_config()
    values = {}
    for section, items in config.items():
        for key, value in items.items():
            values[f"{section}.{key}"] = ", ".join(value) if isinstance(value, list) else value
    values.update(overrides)
    return values


def test_the_page_offers_presets_and_help_for_every_field(client):
    page = client.get("/settings/").content.decode()
    for provider in (
        "OpenRouter",
        "Featherless",
        "Ollama",
        "LM Studio",
        "vLLM",
        "llama.cpp server",
    ):
        assert f">{provider}</button>" in page
    assert "https://openrouter.ai/api/v1" in page  # the preset's values, for settings.js
    assert page.count('class="help"') >= 15
    assert 'type="password"' in page and 'name="api_key"' in page


def test_saving_keeps_the_comments_of_config_toml(client, data_dir):
    path = data_dir / "config.toml"
    path.write_text(
        "# my setup, do not lose this\n"
        "[inference]\n"
        'base_url = "http://127.0.0.1:11434/v1"  # the laptop\'s ollama\n'
        "# timeout_s = 60.0\n"
        "\n# budgets tuned for a 8k model\n[budgets]\nnarrative_hard = 8192\n"
    )
    response = client.post(
        "/settings/",
        form(**{"inference.narrative_model": "llama3.1:8b", "inference.timeout_s": "90"}),
    )
    assert response.status_code == 302
    text = path.read_text()
    assert "# my setup, do not lose this" in text
    assert "# the laptop's ollama" in text
    assert "# budgets tuned for a 8k model" in text
    assert 'narrative_model = "llama3.1:8b"' in text
    assert "timeout_s = 90.0" in text and "# timeout_s" not in text  # set where it stood
    assert load_config()["inference"]["timeout_s"] == 90.0


def test_a_pasted_key_goes_to_a_private_secrets_file_and_is_never_shown(client, data_dir):
    client.post(
        "/settings/", form(**{"inference.api_key_env": "OPENROUTER_API_KEY", "api_key": KEY})
    )
    secrets = secrets_path()
    assert stat.S_IMODE(os.stat(secrets).st_mode) == 0o600
    assert KEY in secrets.read_text()
    assert KEY not in (data_dir / "config.toml").read_text()
    page = client.get("/settings/").content.decode()
    assert KEY not in page
    assert "A key for <code>OPENROUTER_API_KEY</code> is saved" in page
    assert api_key("OPENROUTER_API_KEY") == KEY
    # saving again with the field left empty keeps the key
    client.post("/settings/", form())
    assert api_key("OPENROUTER_API_KEY") == KEY
    client.post("/settings/", form(forget_key="on"))
    assert api_key("OPENROUTER_API_KEY") == ""


def test_the_remote_backend_uses_the_saved_key_and_the_environment_wins(client, monkeypatch):
    client.post("/settings/", form(**{"inference.api_key_env": "RP_TEST_KEY", "api_key": KEY}))
    backend = OpenAICompatible(base_url="http://127.0.0.1:9/v1", api_key_env="RP_TEST_KEY")

    async def key_in_use():
        return backend.client.api_key

    assert asyncio.run(key_in_use()) == KEY
    assert backend.describe()["api_key_set"] is True
    monkeypatch.setenv("RP_TEST_KEY", "from-the-environment")
    assert asyncio.run(key_in_use()) == "from-the-environment"
    assert (
        "environment variable <code>RP_TEST_KEY</code> is set"
        in client.get("/settings/").content.decode()
    )


@pytest.mark.django_db(transaction=True)
def test_the_test_result_is_readable_and_shows_no_key(client):
    with FakeOpenAI(default_text="Hello there, traveller.") as fake:
        ok = client.post(
            "/settings/test/",
            form(**{"inference.base_url": fake.url, "api_key": KEY}),
        ).content.decode()
    assert "Connected: the model answered in" in ok
    assert "<dt>Models offered</dt><dd>fake-narrative, fake-classifier</dd>" in ok
    assert "<dt>Key</dt><dd>RP_API_KEY: set (typed in (not saved yet))</dd>" in ok
    assert "Hello there, traveller." in ok
    assert KEY not in ok and "{" not in ok  # words, not a Python dict


SAMPLERS = {
    "samplers.temperature": "1.3",
    "samplers.top_p": "0.9",
    "samplers.min_p": "0.0",
    "samplers.repetition_penalty": "1.05",
    "samplers.frequency_penalty": "-0.5",
    "samplers.presence_penalty": "0.25",
    "samplers.max_tokens": "400",
}


def test_the_samplers_are_saved_and_shown(client, data_dir):
    assert client.post("/settings/", form(**SAMPLERS)).status_code == 302
    assert load_config()["samplers"] == {
        "temperature": 1.3,
        "top_p": 0.9,
        "min_p": 0.0,
        "repetition_penalty": 1.05,
        "frequency_penalty": -0.5,
        "presence_penalty": 0.25,
        "max_tokens": 400,
    }
    assert "temperature = 1.3" in (data_dir / "config.toml").read_text()
    page = client.get("/settings/").content.decode()
    assert "<h2>Samplers</h2>" in page
    for name, value in SAMPLERS.items():
        assert f'id="f-{name}" name="{name}" value="{value}"' in page


def test_a_sampler_out_of_range_is_refused(client):
    response = client.post("/settings/", form(**{"samplers.top_p": "1.5"}), follow=True)
    assert "top_p must be between" in response.content.decode()
    assert load_config()["samplers"]["top_p"] == 0.95


def json_block(page: str, block: str):
    opening = f'<script id="{block}" type="application/json">'
    return json.loads(page.split(opening)[1].split("</script>")[0])


def test_each_preset_carries_its_samplers_and_the_key_hint_names_its_variable(client):
    page = client.get("/settings/").content.decode()
    presets = json_block(page, "preset-data")
    samplers = {p["id"]: p["samplers"] for p in presets}
    assert samplers["embedded"]["repetition_penalty"] == 1.1
    assert samplers["openrouter"]["repetition_penalty"] == 1.0
    assert all(set(s) == set(load_config()["samplers"]) for s in samplers.values())
    # where each preset's key name has a key, for the hint to follow a preset (never a key)
    sources = json_block(page, "key-sources")
    assert sources["OPENROUTER_API_KEY"] == "" and "FEATHERLESS_API_KEY" in sources
    assert "No key for <code>RP_API_KEY</code> yet." in page

    # the OpenRouter preset saved: the hint names its variable
    openrouter = next(p for p in presets if p["id"] == "openrouter")
    chosen = {f"inference.{k}": openrouter[k] for k in ("base_url", "api_key_env")}
    client.post("/settings/", form(**chosen))
    page = client.get("/settings/").content.decode()
    hint = page.split('<span class="key-state"')[1].split("</span>")[0]
    assert (
        hint == ' data-key-env="OPENROUTER_API_KEY">No key for <code>OPENROUTER_API_KEY</code> yet.'
    )
