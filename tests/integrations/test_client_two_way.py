"""GoogleCalendarClient's two-way and live-check calls against the emulator (SPEC §10, §11):
the incremental consent URL, the booking copy's wire shape, undeleting on a repeated write,
booking copies recognised wherever they are, freeBusy's answers and failures."""

import datetime as dt
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest

from integrations.models import CalendarConnection
from integrations.providers.base import (
    BOOKING_MARKER,
    BookingEvent,
    NotFound,
    PermissionDenied,
    TransientError,
    booking_event_id,
)
from integrations.providers.google.mapping import event_from_google
from integrations.providers.google.provider import (
    CALENDAR_APP_CREATED,
    CALENDAR_FULL,
    CALENDAR_READONLY,
    GoogleProvider,
)
from integrations.services.clients import connection_client
from tests.integrations.contract.base import listing, slot
from tests.integrations.google_support import booking_writes_consent

pytestmark = pytest.mark.usefixtures("quiet_google")


def client_of(connected):
    return connection_client(CalendarConnection.objects.get(pk=connected.connection.pk))


@pytest.fixture
def writer(google_connected):
    booking_writes_consent(google_connected.connection.pk)
    return client_of(google_connected)


def copy_of(start: dt.datetime, end: dt.datetime, uid: str | None = None) -> BookingEvent:
    return BookingEvent(
        booking_uid=uid or str(uuid.uuid4()),
        title="Ada Lovelace (booking)",
        description="ada@example.com\nhttps://calendar.example.com/app/bookings/1",
        start=start,
        end=end,
        time_zone="Europe/Berlin",
    )


# --- consent --------------------------------------------------------------------------------


def test_the_write_consent_asks_only_app_created_on_top_of_the_grant(settings):
    query = parse_qs(urlsplit(GoogleProvider.authorization_request(state="s", write_bookings=True).url).query)
    assert query["scope"] == [CALENDAR_APP_CREATED]
    assert query["include_granted_scopes"] == ["true"]
    assert query["access_type"] == ["offline"] and query["prompt"] == ["consent"]
    assert query["code_challenge_method"] == ["S256"]
    connect = parse_qs(urlsplit(GoogleProvider.authorization_request(state="s").url).query)
    assert connect["scope"] == [CALENDAR_READONLY] and connect["include_granted_scopes"] == ["false"]


def test_grants_booking_writes():
    assert not GoogleProvider.grants_booking_writes(frozenset({CALENDAR_READONLY}))
    assert GoogleProvider.grants_booking_writes(frozenset({CALENDAR_READONLY, CALENDAR_APP_CREATED}))
    assert GoogleProvider.grants_booking_writes(frozenset({CALENDAR_FULL}))


def test_the_consent_stores_the_union_and_a_new_refresh_token(google_connected, google_emulator):
    before = CalendarConnection.objects.get(pk=google_connected.connection.pk).refresh_token
    tokens = booking_writes_consent(google_connected.connection.pk)
    assert tokens.scopes == {CALENDAR_READONLY, CALENDAR_APP_CREATED}
    stored = CalendarConnection.objects.get(pk=google_connected.connection.pk)
    assert stored.granted_scopes.split() == sorted({CALENDAR_READONLY, CALENDAR_APP_CREATED})
    assert stored.refresh_token and stored.refresh_token != before
    # After a refresh the union still holds: reads and writes both work.
    google_emulator.expire_access_tokens()
    client = client_of(google_connected)
    calendar = client.bookings_calendar_create("Studio bookings", time_zone="Europe/Berlin")
    assert listing(client, calendar.id)


# --- the booking copy ------------------------------------------------------------------------------


def test_the_copy_carries_the_marker_the_zone_and_no_attendees(writer, google_emulator):
    calendar = writer.bookings_calendar_create("Studio bookings", time_zone="Europe/Berlin")
    copy = copy_of(*slot(3))
    writer.booking_event_put(calendar.id, copy)
    [stored] = google_emulator.list_stored_events(calendar.id)
    assert stored["id"] == booking_event_id(copy.booking_uid)
    assert stored["extendedProperties"] == {"private": {BOOKING_MARKER: copy.booking_uid}}
    assert stored["start"]["timeZone"] == "Europe/Berlin"
    assert dt.datetime.fromisoformat(stored["start"]["dateTime"]) == copy.start
    assert "attendees" not in stored
    assert stored["summary"] == copy.title and stored["description"] == copy.description


def test_writing_a_deleted_copy_again_brings_it_back(writer, google_emulator):
    calendar = writer.bookings_calendar_create("Studio bookings", time_zone="Europe/Berlin")
    copy = copy_of(*slot(3))
    writer.booking_event_put(calendar.id, copy)
    writer.booking_event_delete(calendar.id, copy.booking_uid)
    writer.booking_event_put(calendar.id, copy)  # 409 duplicate: the tombstone holds the id
    [stored] = google_emulator.list_stored_events(calendar.id)
    assert stored["status"] == "confirmed"


def test_a_copy_moved_into_another_calendar_still_lists_as_ours(writer, google_connected, google_emulator):
    email = google_connected.email
    uid = str(uuid.uuid4())
    start, end = slot(4)
    # What events.move leaves in the merchant's calendar: the same id and private properties.
    google_emulator.insert_event(
        email,
        {
            "id": booking_event_id(uid),
            "start": {"dateTime": start.isoformat()},
            "end": {"dateTime": end.isoformat()},
            "extendedProperties": {"private": {BOOKING_MARKER: uid}},
        },
    )
    google_emulator.insert_event(
        email, {"start": {"dateTime": start.isoformat()}, "end": {"dateTime": end.isoformat()}}
    )
    events = [event for page in listing(writer, email) for event in page.events]
    assert sorted(event.ours for event in events) == [False, True]


def test_the_derived_id_alone_marks_a_copy():
    start = {"dateTime": "2030-01-07T10:00:00Z"}
    end = {"dateTime": "2030-01-07T11:00:00Z"}
    assert event_from_google({"id": booking_event_id(str(uuid.uuid4())), "start": start, "end": end}).ours
    assert not event_from_google({"id": "mcbnotabooking", "start": start, "end": end}).ours


def test_writing_into_the_merchants_own_calendar_is_refused(writer, google_connected, google_emulator):
    with pytest.raises(PermissionDenied):
        writer.booking_event_put(google_connected.email, copy_of(*slot(3)))
    assert google_emulator.list_stored_events(google_connected.email) == []


# --- the live check -----------------------------------------------------------------------------


def test_busy_between_needs_only_the_read_grant(google_connected, google_emulator):
    start, end = slot(2)
    google_emulator.insert_event(
        google_connected.email, {"start": {"dateTime": start.isoformat()}, "end": {"dateTime": end.isoformat()}}
    )
    [busy] = client_of(google_connected).busy_between([google_connected.email], start=start, end=end)
    assert (busy.start, busy.end) == (start, end) and not busy.ours
    assert client_of(google_connected).busy_between([], start=start, end=end) == []
    assert google_emulator.calls("freebusy.query")[-1]["body"]["items"] == [{"id": google_connected.email}]


def test_busy_between_raises_for_a_calendar_google_cannot_read(google_connected):
    start, end = slot(2)
    with pytest.raises(NotFound):
        client_of(google_connected).busy_between(
            [google_connected.email, "gone@group.calendar.google.com"], start=start, end=end
        )


def test_busy_between_tries_once_and_raises_a_transient_error_when_google_fails(google_connected, google_emulator):
    google_emulator.inject_fault("freebusy.query", status=503, times=1)
    start, end = slot(2)
    with pytest.raises(TransientError):
        client_of(google_connected).busy_between([google_connected.email], start=start, end=end)
    assert len(google_emulator.calls("freebusy.query")) == 1  # the live check's deadline: no retry
