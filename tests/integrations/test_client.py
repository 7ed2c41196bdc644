"""GoogleCalendarClient against the emulator: listing, paging, cursors, channels, and the
one mapping of Google's failures onto ProviderErrors (with in-call retries)."""

import datetime as dt

import pytest
from django.utils import timezone

from integrations.models import CalendarConnection
from integrations.providers.base import (
    CursorExpired,
    EventStatus,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    RateLimited,
    TransientError,
)
from integrations.services.clients import connection_client as client_for

pytestmark = pytest.mark.usefixtures("quiet_google")


@pytest.fixture
def client(google_connected):
    return client_for(CalendarConnection.objects.get(pk=google_connected.connection.pk))


def _window():
    now = timezone.now()
    return {"window_start": now - dt.timedelta(days=30), "window_end": now + dt.timedelta(days=365)}


def _at(days: int, hour: int) -> str:
    day = (timezone.now() + dt.timedelta(days=days)).date()
    return f"{day.isoformat()}T{hour:02d}:00:00+02:00"


def test_list_calendars(client, google_connected):
    calendars = client.list_calendars()
    [primary] = [c for c in calendars if c.primary]
    assert primary.id == google_connected.email


def test_full_then_incremental_listing(client, google_connected, google_emulator):
    email = google_connected.email
    google_emulator.insert_event(email, {"start": {"dateTime": _at(3, 10)}, "end": {"dateTime": _at(3, 11)}})
    pages = list(client.list_events(email, cursor=None, **_window()))
    assert pages[-1].next_cursor
    assert all(page.next_cursor is None for page in pages[:-1])
    events = [e for page in pages for e in page.events]
    assert len(events) == 1 and events[0].start.utcoffset() == dt.timedelta(0)

    created = google_emulator.insert_event(email, {"start": {"dateTime": _at(4, 9)}, "end": {"dateTime": _at(4, 10)}})
    changes = list(client.list_events(email, cursor=pages[-1].next_cursor, **_window()))
    ids = [e.id for page in changes for e in page.events]
    assert ids == [created["id"]]
    assert changes[-1].next_cursor and changes[-1].next_cursor != pages[-1].next_cursor


def test_pages_are_followed_to_the_end(client, google_connected, google_emulator):
    email = google_connected.email
    for day in range(1, 6):
        google_emulator.insert_event(email, {"start": {"dateTime": _at(day, 10)}, "end": {"dateTime": _at(day, 11)}})
    google_emulator.set_page_size(2)
    pages = list(client.list_events(email, cursor=None, **_window()))
    assert len(pages) >= 3
    assert sum(len(p.events) for p in pages) == 5
    assert pages[-1].next_cursor


def test_deleted_event_comes_back_as_a_tombstone(client, google_connected, google_emulator):
    email = google_connected.email
    event = google_emulator.insert_event(email, {"start": {"dateTime": _at(2, 10)}, "end": {"dateTime": _at(2, 11)}})
    cursor = list(client.list_events(email, cursor=None, **_window()))[-1].next_cursor
    google_emulator.delete_event(email, event["id"])
    events = [e for page in client.list_events(email, cursor=cursor, **_window()) for e in page.events]
    assert [(e.id, e.status) for e in events] == [(event["id"], EventStatus.CANCELLED)]


def test_expired_cursor_raises_cursor_expired(client, google_connected):
    with pytest.raises(CursorExpired):
        list(client.list_events(google_connected.email, cursor="not-a-real-sync-token", **_window()))


def test_unknown_calendar_raises_not_found(client):
    with pytest.raises(NotFound):
        list(client.list_events("nobody@example.com", cursor=None, **_window()))


def test_watch_and_stop(client, google_connected, google_emulator):
    info = client.watch(
        google_connected.email,
        address="https://hooks.example.com/api/v1/merchant/integrations/google/calendar/watch",
        channel_id="chan-test-1",
        token="secret-token",
    )
    assert info.channel_id == "chan-test-1" and info.resource_id
    assert info.expires_at > timezone.now() + dt.timedelta(days=6)
    client.stop_channel(channel_id="chan-test-1", resource_id=info.resource_id)
    with pytest.raises(NotFound):
        client.stop_channel(channel_id="chan-test-1", resource_id=info.resource_id)


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_transient_errors_are_retried_in_call(client, google_connected, google_emulator, status):
    google_emulator.inject_fault("calendarList.list", status=status, times=2)
    assert client.list_calendars()
    assert len(google_emulator.calls("calendarList.list")) >= 3


def test_transient_errors_give_up_after_the_configured_attempts(client, google_emulator, settings):
    settings.GOOGLE_API_MAX_ATTEMPTS = 3
    before = len(google_emulator.calls("calendarList.list"))
    google_emulator.inject_fault("calendarList.list", status=503, times=10)
    with pytest.raises(TransientError):
        client.list_calendars()
    assert len(google_emulator.calls("calendarList.list")) - before == 3


def test_rate_limit_403_is_rate_limited(client, google_emulator, settings):
    settings.GOOGLE_API_MAX_ATTEMPTS = 1
    google_emulator.inject_fault("calendarList.list", status=403, reason="rateLimitExceeded", times=1)
    with pytest.raises(RateLimited):
        client.list_calendars()


def test_long_retry_after_is_handed_back_not_slept(client, google_emulator):
    google_emulator.inject_fault("calendarList.list", status=429, times=10, retry_after=120)
    before = len(google_emulator.calls("calendarList.list"))
    with pytest.raises(RateLimited) as caught:
        client.list_calendars()
    assert caught.value.retry_after == pytest.approx(120, abs=5)
    assert len(google_emulator.calls("calendarList.list")) - before == 1


def test_insufficient_permissions_is_permission_denied(client, google_emulator):
    google_emulator.inject_fault("calendarList.list", status=403, reason="insufficientPermissions", times=1)
    with pytest.raises(PermissionDenied):
        client.list_calendars()


def test_bad_request_is_invalid_request_and_not_retried(client, google_emulator):
    before = len(google_emulator.calls("calendarList.list"))
    google_emulator.inject_fault("calendarList.list", status=400, times=5)
    with pytest.raises(InvalidRequest):
        client.list_calendars()
    assert len(google_emulator.calls("calendarList.list")) - before == 1


def test_malformed_json_is_transient_and_retried(client, google_emulator):
    google_emulator.inject_fault("calendarList.list", kind="malformed_json", times=1)
    assert client.list_calendars()
    google_emulator.inject_fault("calendarList.list", kind="malformed_json", times=10)
    with pytest.raises(TransientError):
        client.list_calendars()


def test_socket_timeout_is_transient(client, google_emulator, settings):
    settings.GOOGLE_API_MAX_ATTEMPTS = 1
    settings.GOOGLE_API_TIMEOUT_SECONDS = 0.2
    google_emulator.inject_fault("calendarList.list", delay=1.5, times=1)
    with pytest.raises(TransientError):
        client_for(CalendarConnection.objects.get(pk=client.connection.pk)).list_calendars()


def test_dropped_connection_is_transient_and_retried(client, google_emulator):
    google_emulator.inject_fault("calendarList.list", kind="disconnect", times=1)
    assert client.list_calendars()
