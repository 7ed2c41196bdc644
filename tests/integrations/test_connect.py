"""Connecting Google Calendar: the start (307 / JSON) and a successful callback, end to end
against the emulator with the real google-auth-oauthlib / google-api-python-client."""

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.test import override_settings

from integrations.models import CalendarConnection, OAuthState, SyncRun
from tests.integrations.conftest import CONNECT_URL, callback, connect_start, consent, session_client

pytestmark = pytest.mark.usefixtures("quiet_google")

CALENDAR_READONLY = "https://www.googleapis.com/auth/calendar.readonly"


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_connect_redirects_to_google_with_offline_consent_readonly_pkce(merchant, google_emulator):
    client = session_client(merchant)
    response = client.post(CONNECT_URL)
    assert response.status_code == 307
    url = response["Location"]
    assert url.startswith(google_emulator.auth_uri)
    query = _query(url)
    assert query["response_type"] == "code"
    assert query["access_type"] == "offline"
    assert query["prompt"] == "consent"
    assert query["scope"].split() == [CALENDAR_READONLY]
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43  # base64url(sha256) without padding
    assert query["redirect_uri"].endswith("/api/v1/merchant/integrations/google/calendar/callback")
    assert len(query["state"]) >= 32

    cookie = response.cookies["google_oauth_state"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert 0 < int(cookie["max-age"]) <= 15 * 60
    assert cookie["path"] == "/api/v1/merchant/integrations/google/calendar/callback"
    # Server-side record: a hash, never the state itself.
    record = OAuthState.objects.get(merchant=merchant)
    assert record.state_hash == hashlib.sha256(query["state"].encode()).hexdigest()
    assert record.used_at is None


def test_every_connect_gets_a_fresh_state_and_verifier(merchant, google_emulator):
    client = session_client(merchant)
    first, second = _query(connect_start(client)), _query(connect_start(client))
    assert first["state"] != second["state"]
    assert first["code_challenge"] != second["code_challenge"]


def test_json_variant_returns_the_url_and_the_same_cookie(merchant, google_emulator):
    client = session_client(merchant)
    response = client.post(CONNECT_URL, HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    url = response.json()["authorization_url"]
    assert url.startswith(google_emulator.auth_uri)
    assert _query(url)["code_challenge_method"] == "S256"
    cookie = response.cookies["google_oauth_state"]
    assert cookie["httponly"] is True and cookie["samesite"] == "Lax"


def test_state_cookie_is_secure_outside_development(merchant, google_emulator):
    client = session_client(merchant)
    with override_settings(DEBUG=False):
        response = client.post(CONNECT_URL)
    assert response.cookies["google_oauth_state"]["secure"] is True
    with override_settings(DEBUG=True):
        response = client.post(CONNECT_URL)
    assert not response.cookies["google_oauth_state"]["secure"]


def test_connect_with_a_token_works_too(api, google_emulator):
    response = api.post(CONNECT_URL, HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert "authorization_url" in response.json()


def test_connect_needs_authentication(anon, db):
    assert anon.post(CONNECT_URL).status_code == 401
    assert anon.get(CONNECT_URL + "/callback?code=x&state=y").status_code == 401


def test_connect_explains_missing_configuration(merchant, google_emulator):
    client = session_client(merchant)
    with override_settings(GOOGLE_OAUTH_CLIENT_ID="", GOOGLE_OAUTH_CLIENT_SECRET=""):
        response = client.post(CONNECT_URL)
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "google_not_configured"
    assert "GOOGLE_OAUTH_CLIENT_ID" in error["message"]


def test_successful_connect_stores_everything_and_starts_sync_and_watch(
    merchant, google_emulator, google_account, django_capture_on_commit_callbacks
):
    google_emulator.insert_event(
        google_account,
        {
            "summary": "Dentist",
            "start": {"dateTime": "2030-01-07T10:00:00+01:00"},
            "end": {"dateTime": "2030-01-07T11:00:00+01:00"},
        },
    )
    client = session_client(merchant)
    authorization_url = connect_start(client)
    callback_url = consent(authorization_url)
    assert "code=" in callback_url and "state=" in callback_url

    response = callback(client, callback_url, django_capture_on_commit_callbacks)

    assert response.status_code == 302
    assert response["Location"] == "/app/integrations?google=connected"
    connection = CalendarConnection.objects.get(merchant=merchant, provider="google")
    assert connection.status == "active"
    assert connection.account_email == google_account
    assert connection.access_token and connection.refresh_token
    assert connection.token_expires_at is not None
    assert CALENDAR_READONLY in connection.granted_scopes.split()
    primary = connection.calendars.get(primary=True)
    assert primary.external_id == google_account and primary.selected
    # The initial sync ran (eager tasks) and a channel was opened at the emulator.
    assert SyncRun.objects.filter(calendar=primary, trigger="initial").exists()
    assert google_emulator.calls("calendarList.list")
    assert google_emulator.calls("events.list")
    assert any(channel["calendar_id"] == google_account for channel in google_emulator.channels()) or (
        google_emulator.calls("events.watch")
    )
    # The state cookie is spent and cleared.
    assert response.cookies["google_oauth_state"].value == ""


def test_pkce_verifier_is_sent_with_the_code(merchant, google_emulator, google_account):
    client = session_client(merchant)
    authorization_url = connect_start(client)
    challenge = _query(authorization_url)["code_challenge"]
    callback(client, consent(authorization_url))
    exchange = google_emulator.calls("token")[-1]
    verifier = exchange["form"]["code_verifier"]
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert digest == challenge


def test_put_callback_behaves_like_get(merchant, google_emulator, google_account):
    client = session_client(merchant)
    callback_url = consent(connect_start(client))
    response = client.put(callback_url)
    assert response.status_code == 302
    assert response["Location"] == "/app/integrations?google=connected"


def test_secondary_calendars_are_listed_but_not_selected(merchant, google_emulator, google_account):
    google_emulator.add_calendar(google_account, "team@group.calendar.google.com", summary="Team")
    client = session_client(merchant)
    callback(client, consent(connect_start(client)))
    calendars = {c.external_id: c for c in CalendarConnection.objects.get(merchant=merchant).calendars.all()}
    assert calendars[google_account].selected and calendars[google_account].primary
    assert not calendars["team@group.calendar.google.com"].selected


def test_emulator_refuses_our_authorization_url_when_tampered(merchant, google_emulator, google_account):
    """Sanity check that the emulator really checks what we send (a test that can fail)."""
    client = session_client(merchant)
    url = connect_start(client).replace("redirect_uri=", "redirect_uri=x")
    assert requests.get(url, allow_redirects=False, timeout=10).status_code in (400, 401)
