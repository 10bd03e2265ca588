"""The settings page in a real browser (Debian's chromium): a provider preset fills its
samplers, and the hint under the key field names the variable of the preset chosen, or the
name typed in."""

from __future__ import annotations

import pytest

from tests.browser import browser  # noqa: F401
from tests.servers import served

pytestmark = pytest.mark.browser


def hint(page) -> str:
    return page.inner_text("#h-api-key .key-state")


def test_a_preset_fills_its_samplers_and_the_key_hint_follows_it(tmp_path, browser):  # noqa: F811
    with served(tmp_path / "data") as (url, _proc):
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url + "/settings/")
        assert hint(page) == "No key for RP_API_KEY yet."
        assert page.is_hidden("#h-api-key .forget")

        page.click("button.preset[data-preset=openrouter]")
        assert hint(page) == "No key for OPENROUTER_API_KEY yet."
        assert page.input_value("#f-samplers\\.repetition_penalty") == "1"
        assert page.get_attribute("button.preset[data-preset=openrouter]", "aria-pressed") == (
            "true"
        )

        page.click("button.preset[data-preset=embedded]")
        assert hint(page) == "No key for RP_API_KEY yet."
        assert page.input_value("#f-samplers\\.repetition_penalty") == "1.1"

        page.fill("#f-inference\\.api_key_env", "MY_OWN_KEY")
        assert "MY_OWN_KEY" in hint(page)

        # saved: the page comes back naming the chosen variable, with its samplers
        page.click("button.preset[data-preset=featherless]")
        page.fill("#f-samplers\\.temperature", "1.2")
        page.click("#settings-form button[type=submit]")
        page.wait_for_selector(".notice, .messages")
        assert hint(page) == "No key for FEATHERLESS_API_KEY yet."
        assert page.input_value("#f-samplers\\.temperature") == "1.2"
        assert errors == []
        page.close()
