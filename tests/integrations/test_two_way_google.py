"""Two-way end to end with Google (SPEC §10, §11): the product's API, pages and services against
the Google emulator, through the real OAuth consent round trip and the real client library."""

from __future__ import annotations

import datetime as dt
import logging
from urllib.parse import parse_qs, urlsplit

import pytest
from rest_framework.test import APIClient

from integrations.models import BookingCopy, CalendarConnection, SyncRun
from integrations.providers.base import BOOKING_MARKER
from integrations.providers.google.provider import CALENDAR_APP_CREATED, CALENDAR_READONLY
from integrations.services.booking_copies import booking_copies_retry_due
from integrations.services.sync import calendar_sync_run
from scheduling import services
from scheduling.models import BlockedTime, Booking
from tests.integrations.conftest import STATUS_URL, callback, consent
from tests.scheduling.helpers import at, next_weekday

pytestmark = pytest.mark.django_db


def _turn_on(connected, capture):
    """PATCH write_bookings; the 409's consent URL, followed to the emulator and back."""
    response = connected.client.patch(STATUS_URL, {"write_bookings": True}, content_type="application/json")
    assert response.status_code == 409, response.content
    return response, callback(connected.client, consent(response.json()["authorization_url"]), capture)


@pytest.fixture
def writing(google_connected, quiet_google, django_capture_on_commit_callbacks):
    _response, landed = _turn_on(google_connected, django_capture_on_commit_callbacks)
    assert landed.status_code == 302 and landed["Location"] == "/app/integrations?google=connected"
    return google_connected


def _book(merchant, start, end, capture):
    with capture(execute=True):
        return services.booking_create(
            merchant=merchant,
            start=start,
            end=end,
            customer_name="Ada Lovelace",
            customer_email="ada@example.com",
            public=False,
        )


def _bookings_calendar(connected) -> str:
    return CalendarConnection.objects.get(pk=connected.connection.pk).bookings_calendar_id


def _live_events(emulator, calendar_id: str) -> list[dict]:
    return [e for e in emulator.list_stored_events(calendar_id) if e["status"] != "cancelled"]


def test_turning_it_on_without_the_scope_asks_exactly_for_the_narrow_one(google_connected, quiet_google):
    response = google_connected.client.patch(STATUS_URL, {"write_bookings": True}, content_type="application/json")

    assert response.status_code == 409
    body = response.json()
    assert body["error"]["code"] == "consent_required" and body["error"]["message"]
    query = parse_qs(urlsplit(body["authorization_url"]).query)
    assert query["scope"] == [CALENDAR_APP_CREATED]
    assert query["include_granted_scopes"] == ["true"]
    assert "google_oauth_state" in response.cookies
    connection = CalendarConnection.objects.get(pk=google_connected.connection.pk)
    assert connection.write_bookings is False and connection.bookings_calendar_id == ""
    assert quiet_google.calendar_writes() == []


def test_consent_turns_it_on_with_both_scopes(writing):
    connection = CalendarConnection.objects.get(pk=writing.connection.pk)
    assert connection.write_bookings is True
    assert {CALENDAR_READONLY, CALENDAR_APP_CREATED} <= set(connection.granted_scopes.split())
    status = writing.client.get(STATUS_URL).json()
    assert status["preferences"]["write_bookings"] is True
    assert status["bookings_calendar"]["failed"] == 0


def test_a_refused_consent_changes_nothing(google_connected, quiet_google, django_capture_on_commit_callbacks):
    quiet_google.deny_next_consent()
    _response, landed = _turn_on(google_connected, django_capture_on_commit_callbacks)
    assert landed["Location"].startswith("/app/integrations?google=error")
    connection = CalendarConnection.objects.get(pk=google_connected.connection.pk)
    assert connection.write_bookings is False
    assert CALENDAR_APP_CREATED not in connection.granted_scopes


def test_a_booking_is_copied_moved_and_removed(writing, merchant, quiet_google, django_capture_on_commit_callbacks):
    monday = next_weekday(0)
    booking = _book(merchant, at(monday, "10:00"), at(monday, "10:30"), django_capture_on_commit_callbacks)

    calendar_id = _bookings_calendar(writing)
    assert calendar_id in quiet_google.calendar_ids(writing.email)
    connection = CalendarConnection.objects.get(pk=writing.connection.pk)
    assert connection.bookings_calendar_name == f"{merchant.name} bookings"
    [event] = _live_events(quiet_google, calendar_id)
    assert event["summary"] == "Ada Lovelace (booking)"
    assert "ada@example.com" in event["description"]
    assert event["extendedProperties"]["private"][BOOKING_MARKER] == str(booking.uid)
    assert dt.datetime.fromisoformat(event["start"]["dateTime"]) == at(monday, "10:00")

    with django_capture_on_commit_callbacks(execute=True):
        services.booking_reschedule(booking=booking, start=at(monday, "11:00"), end=at(monday, "11:30"))
    [event] = _live_events(quiet_google, calendar_id)
    assert dt.datetime.fromisoformat(event["start"]["dateTime"]) == at(monday, "11:00")

    with django_capture_on_commit_callbacks(execute=True):
        services.booking_cancel(booking=booking, by=Booking.By.MERCHANT)
    assert _live_events(quiet_google, calendar_id) == []
    assert BookingCopy.objects.get(booking=booking).state == BookingCopy.State.REMOVED


def test_nothing_is_written_anywhere_else(writing, merchant, quiet_google, django_capture_on_commit_callbacks):
    monday = next_weekday(0)
    booking = _book(merchant, at(monday, "10:00"), at(monday, "10:30"), django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        services.booking_cancel(booking=booking, by=Booking.By.MERCHANT)

    calendar_id = _bookings_calendar(writing)
    writes = quiet_google.calendar_writes()
    assert [w["endpoint"] for w in writes if w["endpoint"] == "calendars.insert"] == ["calendars.insert"]
    assert {w["calendar_id"] for w in writes if w["endpoint"] != "calendars.insert"} == {calendar_id}
    assert all(w["status"] < 300 for w in writes)


def test_copies_and_the_bookings_calendar_block_nothing(
    writing, merchant, quiet_google, django_capture_on_commit_callbacks
):
    monday = next_weekday(0)
    booking = _book(merchant, at(monday, "10:00"), at(monday, "10:30"), django_capture_on_commit_callbacks)
    connection = CalendarConnection.objects.get(pk=writing.connection.pk)
    assert not connection.calendars.filter(external_id=connection.bookings_calendar_id).exists()
    # The merchant moves (copies) our event into their own calendar: its marker keeps it ours.
    [copy] = _live_events(quiet_google, connection.bookings_calendar_id)
    quiet_google.insert_event(
        writing.email,
        {
            "summary": copy["summary"],
            "start": copy["start"],
            "end": copy["end"],
            "extendedProperties": {"private": {BOOKING_MARKER: str(booking.uid)}},
        },
    )
    calendar_sync_run(calendar_id=writing.calendar.pk, trigger="manual")
    assert not BlockedTime.objects.filter(calendar=writing.calendar).exists()


def test_google_down_during_a_booking_leaves_it_confirmed_and_the_copy_lands_later(
    writing, merchant, quiet_google, django_capture_on_commit_callbacks, settings
):
    settings.CALENDAR_SYNC_MAX_RETRIES = 2
    quiet_google.inject_fault("*", status=503, times=None)
    monday = next_weekday(0)
    booking = _book(merchant, at(monday, "10:00"), at(monday, "10:30"), django_capture_on_commit_callbacks)

    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED
    copy = BookingCopy.objects.get(booking=booking)
    assert copy.state == BookingCopy.State.FAILED and copy.attempts == 3 and copy.last_error
    page = writing.client.get("/app/integrations")
    assert b"1 booking could not be added yet" in page.content

    quiet_google.clear_faults()
    with django_capture_on_commit_callbacks(execute=True):
        assert booking_copies_retry_due(now=copy.updated_at + dt.timedelta(hours=1)) == 1
    copy.refresh_from_db()
    assert copy.state == BookingCopy.State.WRITTEN
    assert len(_live_events(quiet_google, _bookings_calendar(writing))) == 1


def _public_booking(merchant, start, end):
    return APIClient().post(
        f"/api/v1/public/merchants/{merchant.slug}/bookings",
        {"start": start.isoformat(), "end": end.isoformat(), "customer_name": "Bo", "customer_email": "bo@x.org"},
        format="json",
    )


def test_the_live_check_refuses_a_slot_made_busy_with_its_notification_withheld(
    google_connected, merchant, quiet_google, django_capture_on_commit_callbacks
):
    monday = next_weekday(0)
    start, end = at(monday, "14:00"), at(monday, "14:30")
    quiet_google.insert_event(
        google_connected.email,
        {"summary": "Dentist", "start": {"dateTime": start.isoformat()}, "end": {"dateTime": end.isoformat()}},
        notify=False,
    )
    assert not BlockedTime.objects.filter(merchant=merchant, start=start).exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = _public_booking(merchant, start, end)

    assert response.status_code == 409 and response.json()["error"]["code"] == "unavailable"
    assert not Booking.objects.filter(merchant=merchant).exists()
    assert SyncRun.objects.filter(calendar=google_connected.calendar, trigger=SyncRun.Trigger.LIVE_CHECK).exists()
    assert BlockedTime.objects.filter(merchant=merchant, start=start).exists()  # the queued sync caught up
    # A free slot next to it books.
    assert _public_booking(merchant, end, end + dt.timedelta(minutes=30)).status_code == 201


def test_a_provider_slower_than_the_deadline_does_not_hold_the_booking(
    google_connected, merchant, quiet_google, settings, caplog
):
    settings.BOOKING_LIVE_CHECK_SECONDS = 0.2
    quiet_google.inject_fault("freebusy.query", delay=1.5, times=1)
    monday = next_weekday(0)

    with caplog.at_level(logging.INFO, logger="integrations.services.live_check"):
        response = _public_booking(merchant, at(monday, "14:00"), at(monday, "14:30"))

    assert response.status_code == 201
    assert any("gave no answer within 0.2 s" in record.getMessage() for record in caplog.records)


def test_a_failing_provider_leaves_the_decision_to_the_stored_blocks(google_connected, merchant, quiet_google, caplog):
    quiet_google.inject_fault("freebusy.query", status=500, times=None)
    monday = next_weekday(0)
    with caplog.at_level(logging.WARNING, logger="integrations.services.live_check"):
        assert _public_booking(merchant, at(monday, "14:00"), at(monday, "14:30")).status_code == 201
    assert any("failed, stored blocks decide" in record.getMessage() for record in caplog.records)


def test_disconnecting_stops_writing_and_leaves_the_calendar(
    writing, merchant, quiet_google, django_capture_on_commit_callbacks
):
    monday = next_weekday(0)
    _book(merchant, at(monday, "10:00"), at(monday, "10:30"), django_capture_on_commit_callbacks)
    calendar_id = _bookings_calendar(writing)
    assert writing.client.delete(STATUS_URL).status_code == 204
    writes = len(quiet_google.calendar_writes())

    _book(merchant, at(monday, "12:00"), at(monday, "12:30"), django_capture_on_commit_callbacks)

    assert len(quiet_google.calendar_writes()) == writes
    assert CalendarConnection.objects.get(pk=writing.connection.pk).write_bookings is False
    assert calendar_id in quiet_google.calendar_ids(writing.email)
    assert len(_live_events(quiet_google, calendar_id)) == 1
