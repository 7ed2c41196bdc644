"""Shared fixtures for the integration tests: driving the real OAuth flow against the emulator.

``google_connected`` gives a merchant a Google connection made the way a merchant makes
one: POST connect with a session, follow the authorization URL to the emulator
(auto-approve), bring its redirect back to our callback. Nothing is mocked.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
import requests
from django.test import Client

from integrations.models import CalendarConnection, ExternalCalendar

CONNECT_URL = "/api/v1/merchant/integrations/google/calendar"
STATUS_URL = CONNECT_URL
CALENDARS_URL = CONNECT_URL + "/calendars"
SYNC_URL = CONNECT_URL + "/sync"


def session_client(merchant) -> Client:
    client = Client()
    client.force_login(merchant.user)
    return client


def connect_start(client: Client) -> str:
    """POST connect; returns the authorization URL (the 307's Location)."""
    response = client.post(CONNECT_URL)
    assert response.status_code == 307, response.content
    return response["Location"]


def consent(authorization_url: str) -> str:
    """What the merchant's browser does at Google: returns our callback's path and query."""
    response = requests.get(authorization_url, allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["Location"])
    return f"{location.path}?{location.query}"


def callback(client: Client, callback_url: str, capture=None):
    """GET our callback; ``capture`` (django_capture_on_commit_callbacks) runs the queued tasks."""
    if capture is None:
        return client.get(callback_url)
    with capture(execute=True):
        return client.get(callback_url)


def connect(client: Client, capture=None):
    """The whole flow; returns the callback's response (302)."""
    return callback(client, consent(connect_start(client)), capture)


@pytest.fixture(autouse=True)
def _fast_google_retries(settings):
    """In-call retries keep their logic but not their waiting."""
    settings.GOOGLE_API_RETRY_BASE_SECONDS = 0.001
    settings.GOOGLE_API_RETRY_MAX_WAIT_SECONDS = 0.05


@pytest.fixture
def quiet_google(google_emulator):
    """No push deliveries: these tests start no web server for them to reach, and a channel's
    ``sync`` message retried against a closed port only slows the test's teardown."""
    google_emulator.set_notifications_enabled(False)
    return google_emulator


@dataclass
class GoogleConnected:
    connection: CalendarConnection
    calendar: ExternalCalendar
    email: str
    client: Client


@pytest.fixture
def google_account(merchant, google_emulator) -> str:
    """The merchant's Google account, seeded in the emulator; consent is auto-approved."""
    email = merchant.user.email
    google_emulator.add_account(email)
    google_emulator.set_auto_approve(True)
    return email


@pytest.fixture
def google_connected(merchant, google_emulator, google_account, django_capture_on_commit_callbacks) -> GoogleConnected:
    """A connection made through the real OAuth flow against the emulator, primary calendar selected."""
    client = session_client(merchant)
    response = connect(client, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert response["Location"] == "/app/integrations?google=connected", response["Location"]
    connection = CalendarConnection.objects.get(merchant=merchant, provider="google")
    calendar = connection.calendars.get(primary=True)
    return GoogleConnected(connection=connection, calendar=calendar, email=google_account, client=client)
