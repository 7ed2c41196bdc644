"""Browser tests: Debian's Chromium driven by Playwright against a live server and the Google emulator.

- ``browser`` (module): headless Chromium (``tests/browser/chromium.py``: ``CHROMIUM_PATH`` or
  ``chromium`` on the PATH; ``.ci/run`` installs it with apt).
- ``live_server``: pytest-django's, except that with in-memory SQLite (one connection shared
  by every thread) requests are served one at a time.
- ``app``: settings point at the live server (redirect URI, watch endpoint) and at the
  emulator, whose OAuth client knows the live server's redirect URI.
- ``page``: a fresh browser context (cookies) per test; ``login``, ``connect_google``:
  what a merchant does, through the real pages.

Playwright's sync API keeps an asyncio loop running in the test's thread, which makes
Django refuse ORM calls there; ``DJANGO_ALLOW_ASYNC_UNSAFE`` is set while a browser runs
(one module at a time), so test code may still read the database.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

import pytest
from django.conf import settings as django_settings

from integrations.providers.google.provider import GoogleProvider
from tests.browser import chromium
from tests.conftest import PASSWORD

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if chromium.executable() is None:
        pytest.fail(chromium.MISSING)
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        browser = chromium.launch(playwright)
        yield browser
        browser.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _serialized(app, lock: threading.Lock):
    def serialized_app(environ, start_response):
        with lock:
            # Iterate and close the response inside the lock too: both may touch the database.
            result = app(environ, start_response)
            try:
                return list(result)
            finally:
                if hasattr(result, "close"):
                    result.close()

    return serialized_app


@pytest.fixture(scope="session")
def live_server(request):
    from pytest_django.live_server_helper import LiveServer

    addr = request.config.getvalue("liveserver") or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS") or "localhost"
    server = LiveServer(addr)
    if server.thread.connections_override:
        # One in-memory SQLite connection is shared by every server thread: never two at once.
        httpd = server.thread.httpd
        httpd.set_app(_serialized(httpd.get_app(), threading.Lock()))
    yield server
    server.stop()


@dataclass
class App:
    url: str
    emulator: object

    def path(self, path: str) -> str:
        return self.url + path


@pytest.fixture
def app(live_server, google_emulator, settings) -> App:
    settings.PUBLIC_BASE_URL = live_server.url
    settings.GOOGLE_WEBHOOK_URL = live_server.url + django_settings.GOOGLE_WEBHOOK_PATH
    # In-call retries keep their logic but not their waiting.
    settings.GOOGLE_API_RETRY_BASE_SECONDS = 0.001
    settings.GOOGLE_API_RETRY_MAX_WAIT_SECONDS = 0.05
    google_emulator.add_redirect_uri(live_server.url + GoogleProvider.callback_path)
    return App(url=live_server.url, emulator=google_emulator)


def new_page(browser, base_url: str, viewport: dict = DESKTOP, timezone_id: str = "Europe/Berlin"):
    # The browser's zone is the test merchants' (tests/factories.py): booking pages show times in
    # the customer's own zone, so a browser elsewhere would see other wall-clock times.
    context = browser.new_context(base_url=base_url, viewport=viewport, locale="en-GB", timezone_id=timezone_id)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # Whatever the Content-Security-Policy blocks (an inline script or style, a foreign
    # resource) is a console error in Chromium: a page that needs it is broken.
    page.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    page.js_errors = errors
    return page


@pytest.fixture
def page(browser, app):
    page = new_page(browser, app.url)
    yield page
    assert not page.js_errors, page.js_errors
    page.context.close()


def login(page, email: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/app/")


def connect_google(page) -> None:
    """From the integrations page through the emulator's consent screen and back."""
    page.goto("/app/integrations")
    page.get_by_role("button", name="Connect Google Calendar").click()
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url("**/app/integrations?google=connected")
