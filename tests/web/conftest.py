"""Fixtures for the web pages' tests (Django's test client; the browser tests are in tests/browser)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests

from integrations.models import CalendarConnection
from merchants.demo import google_week_seed


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness costs ~0.1 s per user; these tests are not about hashing.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def merchant_client(client, merchant):
    client.force_login(merchant.user)
    return client


@pytest.fixture
def connected(merchant_client, merchant, google_emulator, settings, django_capture_on_commit_callbacks):
    """The merchant connected to an emulated account seeded with the demo week, the way the
    integrations page does it: POST connect (JSON), follow the URL at the emulator, come back."""
    settings.GOOGLE_API_RETRY_BASE_SECONDS = 0.001
    settings.GOOGLE_API_RETRY_MAX_WAIT_SECONDS = 0.05
    # No watch channel: pushes are the browser tests' business (they have a live server).
    settings.GOOGLE_WEBHOOK_URL = "http://testserver" + settings.GOOGLE_WEBHOOK_PATH
    email = merchant.user.email
    google_week_seed(google_emulator, email=email, time_zone=merchant.time_zone)
    google_emulator.set_auto_approve(True)
    response = merchant_client.post(
        "/api/v1/merchant/integrations/google/calendar", headers={"accept": "application/json"}
    )
    assert response.status_code == 200, response.content
    at_google = requests.get(response.json()["authorization_url"], allow_redirects=False, timeout=10)
    back = urlsplit(at_google.headers["Location"])
    with django_capture_on_commit_callbacks(execute=True):
        response = merchant_client.get(f"{back.path}?{back.query}")
    assert response["Location"] == "/app/integrations?google=connected"
    return CalendarConnection.objects.get(merchant=merchant)
