"""The consent page in a real browser (Chromium through Playwright): choose, untick, Allow/Deny."""

from __future__ import annotations

import shutil
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.emulators.google.conftest import ANN
from tests.emulators.google.support import EMAIL, READONLY, REDIRECT
from tests.emulators.google.test_oauth import make_flow

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    tab = context.new_page()
    # The callback host is Django's test client name: answer it here and keep the URL.
    tab.route("http://testserver/**", lambda route: route.fulfill(status=200, body="callback reached"))
    yield tab
    context.close()


def _callback(page) -> dict:
    assert page.url.startswith(REDIRECT + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}


def test_allow_in_a_browser(emu, page, monkeypatch):
    monkeypatch.setenv("OAUTHLIB_RELAX_TOKEN_SCOPE", "1")
    emu.add_account("bob@example.com", name="Bob")
    flow = make_flow(emu, scopes=("openid", EMAIL, READONLY))
    url, state = flow.authorization_url()
    page.goto(url)
    assert page.get_by_role("button", name="Allow").is_visible()
    page.get_by_label("Bob").check()
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(REDIRECT + "?**")
    back = _callback(page)
    assert back["state"] == state
    flow.fetch_token(code=back["code"])
    assert READONLY in flow.credentials.granted_scopes
    assert emu.snapshot()["grants"][0]["email"] == "bob@example.com"


def test_untick_calendar_in_a_browser(emu, page, monkeypatch):
    monkeypatch.setenv("OAUTHLIB_RELAX_TOKEN_SCOPE", "1")
    flow = make_flow(emu, scopes=("openid", EMAIL, READONLY))
    url, _ = flow.authorization_url(login_hint=ANN)
    page.goto(url)
    page.get_by_label("See and download any calendar").uncheck()
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(REDIRECT + "?**")
    assert READONLY not in _callback(page)["scope"].split()


def test_deny_in_a_browser(emu, page):
    flow = make_flow(emu)
    url, state = flow.authorization_url()
    page.goto(url)
    page.get_by_role("button", name="Deny").click()
    page.wait_for_url(REDIRECT + "?**")
    assert _callback(page) == {"error": "access_denied", "state": state}
