"""Every way the OAuth callback can fail, each ending in 302 to
``/app/integrations?google=error&reason=<code>`` with nothing half-stored."""

import datetime as dt
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.test import override_settings
from django.utils import timezone

from integrations.models import CalendarConnection, ExternalCalendar, OAuthState
from tests.factories import MerchantFactory
from tests.integrations.conftest import callback, connect, connect_start, consent, session_client

pytestmark = pytest.mark.usefixtures("quiet_google")

STATE_COOKIE = "google_oauth_state"


def _reason(response) -> str:
    assert response.status_code == 302, response.content
    location = urlsplit(response["Location"])
    assert location.path == "/app/integrations"
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["google"] == "error", query
    return query["reason"]


def _with_query(url: str, **changes) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    return f"{parts.path}?{urlencode(query)}"


def _nothing_stored(merchant):
    assert not CalendarConnection.objects.filter(merchant=merchant).exists()
    assert not ExternalCalendar.objects.filter(connection__merchant=merchant).exists()


@pytest.fixture
def started(merchant, google_emulator, google_account):
    """A merchant's browser back from Google's consent screen, about to hit our callback."""
    client = session_client(merchant)
    callback_url = consent(connect_start(client))
    return client, callback_url


# --- invalid_state ------------------------------------------------------------------------


def test_missing_state(merchant, started, google_emulator):
    client, url = started
    assert _reason(client.get(_with_query(url, state=None))) == "invalid_state"
    _nothing_stored(merchant)
    assert not google_emulator.calls("token")


def test_wrong_state(merchant, started, google_emulator):
    client, url = started
    assert _reason(client.get(_with_query(url, state="x" * 43))) == "invalid_state"
    _nothing_stored(merchant)
    assert not google_emulator.calls("token")


def test_missing_cookie(merchant, started):
    client, url = started
    del client.cookies[STATE_COOKIE]
    assert _reason(client.get(url)) == "invalid_state"
    _nothing_stored(merchant)


def test_tampered_cookie(merchant, started):
    client, url = started
    client.cookies[STATE_COOKIE] = client.cookies[STATE_COOKIE].value[:-2] + "xx"
    assert _reason(client.get(url)) == "invalid_state"
    _nothing_stored(merchant)


def test_expired_state(merchant, started, google_emulator):
    client, url = started
    OAuthState.objects.filter(merchant=merchant).update(created_at=timezone.now() - dt.timedelta(minutes=11))
    assert _reason(client.get(url)) == "invalid_state"
    _nothing_stored(merchant)
    assert not google_emulator.calls("token")


def test_replayed_state(merchant, started, google_emulator):
    client, url = started
    cookie = client.cookies[STATE_COOKIE].value
    assert client.get(url)["Location"] == "/app/integrations?google=connected"
    exchanges = len(google_emulator.calls("token"))
    # Replay the very same redirect with the very same cookie.
    client.cookies[STATE_COOKIE] = cookie
    assert _reason(client.get(url)) == "invalid_state"
    assert len(google_emulator.calls("token")) == exchanges


def test_other_merchants_state(merchant, started, google_emulator):
    client, url = started
    intruder = MerchantFactory()
    other = session_client(intruder)
    # Even with the victim's cookie copied over, the state was not issued to this merchant.
    other.cookies[STATE_COOKIE] = client.cookies[STATE_COOKIE].value
    assert _reason(other.get(url)) == "invalid_state"
    _nothing_stored(intruder)
    # The intruder's own fresh cookie does not help either.
    connect_start(other)
    assert _reason(other.get(url)) == "invalid_state"
    _nothing_stored(intruder)
    assert not google_emulator.calls("token")
    # The rightful merchant can still finish.
    assert client.get(url)["Location"] == "/app/integrations?google=connected"


def test_state_record_bound_to_merchant_even_with_valid_signature(merchant, started):
    """Server side check on its own: the record says who the state was issued to."""
    client, url = started
    OAuthState.objects.filter(merchant=merchant).update(merchant=MerchantFactory())
    assert _reason(client.get(url)) == "invalid_state"
    _nothing_stored(merchant)


# --- access_denied, missing_scope, token_exchange_failed ----------------------------------


def test_access_denied(merchant, google_emulator, google_account):
    google_emulator.deny_next_consent()
    client = session_client(merchant)
    url = consent(connect_start(client))
    assert "error=access_denied" in url
    assert _reason(client.get(url)) == "access_denied"
    _nothing_stored(merchant)


def test_missing_scope(merchant, google_emulator, google_account):
    # The merchant unticks the calendar permission: only identity scopes are granted.
    google_emulator.grant_only_scopes_next(["openid"])
    client = session_client(merchant)
    assert _reason(connect(client)) == "missing_scope"
    _nothing_stored(merchant)
    # Decided from the granted scopes alone, before any Calendar call.
    assert not google_emulator.calls("calendarList.list")


def test_missing_scope_when_only_events_were_granted(merchant, google_emulator, google_account):
    """events.readonly alone cannot list calendars (so no account email): not enough."""
    google_emulator.grant_only_scopes_next(["https://www.googleapis.com/auth/calendar.events.readonly"])
    client = session_client(merchant)
    assert _reason(connect(client)) == "missing_scope"
    _nothing_stored(merchant)
    assert not google_emulator.calls("calendarList.list")


def test_missing_scope_when_google_refuses_the_calendar_list(merchant, google_emulator, google_account):
    """Scopes look right but Google answers 403 insufficientPermissions: same reason."""
    google_emulator.inject_fault("calendarList.list", status=403, reason="insufficientPermissions", times=1)
    client = session_client(merchant)
    assert _reason(connect(client)) == "missing_scope"
    _nothing_stored(merchant)


def test_token_exchange_failed_for_a_bad_code(merchant, started):
    client, url = started
    assert _reason(client.get(_with_query(url, code="4/0Abogus-code"))) == "token_exchange_failed"
    _nothing_stored(merchant)


def test_token_exchange_failed_when_google_errors(merchant, started, google_emulator):
    client, url = started
    google_emulator.inject_fault("token", status=500, times=1)
    assert _reason(client.get(url)) == "token_exchange_failed"
    _nothing_stored(merchant)


def test_token_exchange_failed_with_a_wrong_client_secret(merchant, started):
    client, url = started
    with override_settings(GOOGLE_OAUTH_CLIENT_SECRET="not-the-secret"):
        assert _reason(client.get(url)) == "token_exchange_failed"
    _nothing_stored(merchant)


# --- storage_failed -------------------------------------------------------------------------


def test_storage_failed_leaves_nothing(merchant, started, google_emulator):
    """A real failure while saving: the configured encryption key is unusable."""
    client, url = started
    with override_settings(FIELD_ENCRYPTION_KEYS=["not-a-fernet-key"]):
        assert _reason(client.get(url)) == "storage_failed"
    _nothing_stored(merchant)
    assert not google_emulator.calls("events.list")


def test_storage_failed_on_reconnect_keeps_the_old_connection_intact(merchant, google_connected, google_emulator):
    before = CalendarConnection.objects.get(pk=google_connected.connection.pk)
    client = google_connected.client
    url = consent(connect_start(client))
    with override_settings(FIELD_ENCRYPTION_KEYS=["not-a-fernet-key"]):
        assert _reason(client.get(url)) == "storage_failed"
    after = CalendarConnection.objects.get(pk=before.pk)
    assert (after.access_token, after.refresh_token, after.connected_at, after.status) == (
        before.access_token,
        before.refresh_token,
        before.connected_at,
        before.status,
    )
    assert list(after.calendars.values_list("pk", "selected")) == list(before.calendars.values_list("pk", "selected"))


def test_callback_failure_reasons_are_never_a_500(merchant, google_emulator, google_account):
    client = session_client(merchant)
    for url in (
        "/api/v1/merchant/integrations/google/calendar/callback",
        "/api/v1/merchant/integrations/google/calendar/callback?error=server_error",
    ):
        assert _reason(callback(client, url)) == "invalid_state"
