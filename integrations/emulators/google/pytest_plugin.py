"""pytest fixtures that run the Google emulator in-process.

- ``google_emulator_server`` (session): one started emulator for the whole run.
- ``google_emulator`` (function): the same emulator after ``reset()``, with the default test
  client registered and Django settings (via pytest-django's ``settings``) pointing at it;
  ``OAUTHLIB_INSECURE_TRANSPORT=1`` because the emulator speaks plain http.

Imports stay cheap (the emulator is imported inside the fixtures) and nothing touches the DB.
"""

from __future__ import annotations

import pytest

TEST_CLIENT_ID = "test-client-id"
TEST_CLIENT_SECRET = "test-client-secret"
TEST_REDIRECT_URIS = (
    "http://testserver/api/v1/merchant/integrations/google/calendar/callback",
    "http://127.0.0.1:8000/api/v1/merchant/integrations/google/calendar/callback",
)


@pytest.fixture(scope="session")
def google_emulator_server():
    from integrations.emulators.google import GoogleEmulator

    emulator = GoogleEmulator(
        client_id=TEST_CLIENT_ID,
        client_secret=TEST_CLIENT_SECRET,
        redirect_uris=list(TEST_REDIRECT_URIS),
    )
    emulator.start(host="127.0.0.1", port=0)
    yield emulator
    emulator.stop()


@pytest.fixture
def google_emulator(google_emulator_server, settings, monkeypatch):
    emulator = google_emulator_server
    emulator.reset()
    settings.GOOGLE_OAUTH_CLIENT_ID = TEST_CLIENT_ID
    settings.GOOGLE_OAUTH_CLIENT_SECRET = TEST_CLIENT_SECRET
    settings.GOOGLE_OAUTH_AUTH_URI = emulator.auth_uri
    settings.GOOGLE_OAUTH_TOKEN_URI = emulator.token_uri
    settings.GOOGLE_OAUTH_REVOKE_URI = emulator.revoke_uri
    settings.GOOGLE_API_ROOT = emulator.api_root
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    yield emulator
    # Let in-flight pushes finish so they cannot land in the next test.
    emulator.wait_for_notifications(timeout=2)
