"""Outlook through the product's provider-neutral connect endpoints (no Microsoft-specific view):
POST connect -> the emulator's consent (auto-approve) -> our callback -> stored connection,
calendars and the initial sync's blocked times. Failures land on the integrations page with
SPEC §8.1's reasons."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.test import Client
from django.utils import timezone

from integrations.models import CalendarConnection, OAuthState
from scheduling.models import BlockedTime
from tests.emulators.microsoft.support import timed
from tests.integrations.microsoft.support import ANN

CONNECT = "/api/v1/merchant/integrations/microsoft/calendar"


@pytest.fixture
def platform(ms, settings):
    settings.PUBLIC_BASE_URL = "http://testserver"
    settings.MICROSOFT_WEBHOOK_URL = "http://shop.example/api/v1/merchant/integrations/microsoft/calendar/watch"
    ms.set_auto_approve(True)
    return ms


def browser_for(merchant) -> Client:
    client = Client()
    client.force_login(merchant.user)
    return client


def connect(client: Client, capture, login_hint: str = ANN):
    started = client.post(CONNECT)
    assert started.status_code == 307, started.content
    url = started["Location"] + "&login_hint=" + login_hint
    answer = requests.get(url, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    location = urlsplit(answer.headers["Location"])
    with capture(execute=True):
        return client.get(f"{location.path}?{location.query}")


def test_connect_stores_the_account_and_the_initial_sync_blocks_time(
    platform, merchant, django_capture_on_commit_callbacks
):
    calendar_id = platform.default_calendar(ANN)
    tomorrow = (timezone.now() + dt.timedelta(days=1)).date().isoformat()
    platform.insert_event(calendar_id, timed("Dentist", tomorrow, 9, 10))
    client = browser_for(merchant)

    finished = connect(client, django_capture_on_commit_callbacks)

    assert finished.status_code == 302 and finished["Location"] == "/app/integrations?microsoft=connected"
    connection = CalendarConnection.objects.get(merchant=merchant, provider="microsoft")
    assert connection.account_email == ANN and connection.refresh_token.startswith("M.C")
    calendar = connection.calendars.get(primary=True)
    assert calendar.external_id == calendar_id
    block = BlockedTime.objects.get(merchant=merchant, source="microsoft")
    assert block.start == dt.datetime.fromisoformat(tomorrow + "T09:00:00+00:00")
    state = OAuthState.objects.get(merchant=merchant, provider="microsoft")
    assert state.secret == ""  # msal's flow (PKCE verifier) was kept server-side and spent
    assert platform.calls("authorize")[0]["query"]["code_challenge_method"] == ["S256"]


def test_the_pkce_verifier_stays_on_the_server(platform, merchant):
    import json

    started = browser_for(merchant).post(CONNECT)
    flow = json.loads(OAuthState.objects.get(merchant=merchant, provider="microsoft").secret)
    verifier = flow["code_verifier"]
    assert len(verifier) >= 43 and flow["state"] in started["Location"]
    assert verifier not in started["Location"]
    assert all(verifier not in cookie.value for cookie in started.cookies.values())
    assert parse_qs(urlsplit(started["Location"]).query)["code_challenge_method"] == ["S256"]


@pytest.mark.parametrize(
    ("prepare", "reason"),
    [
        (lambda emu: emu.deny_next_consent(), "access_denied"),
        (lambda emu: emu.grant_only_scopes_next(["User.Read"]), "missing_scope"),
        (lambda emu: emu.inject_fault("token", status=503), "token_exchange_failed"),
    ],
    ids=["access_denied", "missing_scope", "token_exchange_failed"],
)
def test_connect_failures_land_on_the_page_with_their_reason(
    platform, merchant, django_capture_on_commit_callbacks, prepare, reason
):
    prepare(platform)
    finished = connect(browser_for(merchant), django_capture_on_commit_callbacks)
    assert finished["Location"] == f"/app/integrations?microsoft=error&reason={reason}"
    assert not CalendarConnection.objects.filter(merchant=merchant, provider="microsoft", refresh_token__gt="").exists()


def test_an_account_another_merchant_connected_is_account_in_use(
    platform, merchant, other_merchant, django_capture_on_commit_callbacks
):
    assert connect(browser_for(merchant), django_capture_on_commit_callbacks)["Location"].endswith("=connected")
    second = connect(browser_for(other_merchant), django_capture_on_commit_callbacks)
    assert second["Location"] == "/app/integrations?microsoft=error&reason=account_in_use"
