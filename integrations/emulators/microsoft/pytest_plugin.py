"""pytest fixtures that run the Microsoft emulator in-process (HTTPS with its own test CA).

- ``microsoft_emulator_server`` (session): one started emulator for the whole run.
- ``microsoft_emulator`` (function): the same emulator after ``reset()``, Django settings
  (pytest-django's ``settings``) pointed at it, and ``REQUESTS_CA_BUNDLE`` / ``SSL_CERT_FILE``
  set to its certificate authority so msal and requests trust it.

Imports stay cheap (the emulator is imported inside the fixtures) and nothing touches the DB.
"""

from __future__ import annotations

import pytest

TEST_CLIENT_ID = "11111111-2222-3333-4444-555555555555"
TEST_CLIENT_SECRET = "test-microsoft-client-secret"
CALLBACK_PATH = "/api/v1/merchant/integrations/microsoft/calendar/callback"
TEST_REDIRECT_URIS = (
    "http://testserver" + CALLBACK_PATH,
    "http://127.0.0.1:8000" + CALLBACK_PATH,
    "http://localhost:8000" + CALLBACK_PATH,
)


@pytest.fixture(scope="session")
def microsoft_emulator_server():
    from integrations.emulators.microsoft import MicrosoftEmulator

    emulator = MicrosoftEmulator(
        client_id=TEST_CLIENT_ID, client_secret=TEST_CLIENT_SECRET, redirect_uris=list(TEST_REDIRECT_URIS)
    )
    emulator.start(host="127.0.0.1", port=0)
    yield emulator
    emulator.stop()


@pytest.fixture
def microsoft_emulator(microsoft_emulator_server, request, monkeypatch):
    emulator = microsoft_emulator_server
    emulator.reset()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", emulator.ca_bundle_path)
    monkeypatch.setenv("SSL_CERT_FILE", emulator.ca_bundle_path)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    if "settings" in request.fixturenames or _django_configured():
        settings = request.getfixturevalue("settings")
        settings.MICROSOFT_OAUTH_CLIENT_ID = TEST_CLIENT_ID
        settings.MICROSOFT_OAUTH_CLIENT_SECRET = TEST_CLIENT_SECRET
        settings.MICROSOFT_OAUTH_TENANT = "common"
        settings.MICROSOFT_AUTHORITY_HOST = emulator.authority_host
        settings.MICROSOFT_GRAPH_ROOT = emulator.graph_root
    yield emulator
    # Let in-flight notifications finish so they cannot land in the next test.
    emulator.wait_for_notifications(timeout=2)


def _django_configured() -> bool:
    try:
        from django.conf import settings

        return settings.configured
    except ImportError:
        return False
