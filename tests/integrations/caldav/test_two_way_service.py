"""Two-way end to end with CalDAV (SPEC §10, §11): the product's API and services against a real
Radicale. CalDAV needs no consent: the password that reads also writes."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import icalendar
import pytest
from rest_framework.test import APIClient

from integrations.models import BookingCopy, CalendarConnection, SyncRun
from integrations.services.booking_copies import booking_copies_retry_due
from scheduling import services
from scheduling.models import BlockedTime, Booking
from tests.conftest import api_client_for
from tests.integrations.caldav.conftest import ics, vevent
from tests.scheduling.helpers import at, next_weekday

pytestmark = pytest.mark.django_db

STATUS = "/api/v1/merchant/integrations/caldav/calendar"


def _stamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _events(user, calendar_url: str) -> list[icalendar.Event]:
    events = []
    for text in user.objects(calendar_url).values():
        events += icalendar.Calendar.from_ical(text).walk("VEVENT")
    return events


@pytest.fixture
def writing(merchant, caldav_connect, caldav_user, django_capture_on_commit_callbacks):
    connected = caldav_connect()
    api = api_client_for(merchant)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.patch(STATUS, {"write_bookings": True}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["preferences"]["write_bookings"] is True
    return connected


def _book(merchant, start, end, capture, **extra):
    with capture(execute=True):
        return services.booking_create(
            merchant=merchant,
            start=start,
            end=end,
            customer_name="Ada Lovelace",
            customer_email="ada@example.com",
            **extra,
        )


def test_a_booking_is_copied_moved_and_removed(writing, merchant, caldav_user, django_capture_on_commit_callbacks):
    monday = next_weekday(0)
    booking = _book(merchant, at(monday, "10:00"), at(monday, "10:30"), django_capture_on_commit_callbacks)

    connection = CalendarConnection.objects.get(pk=writing.connection.pk)
    assert connection.bookings_calendar_name == f"{merchant.name} bookings"
    [event] = _events(caldav_user, connection.bookings_calendar_id)
    assert str(event["SUMMARY"]) == "Ada Lovelace (booking)"
    assert "ada@example.com" in str(event["DESCRIPTION"])
    assert event.decoded("DTSTART") == at(monday, "10:00")

    with django_capture_on_commit_callbacks(execute=True):
        services.booking_reschedule(booking=booking, start=at(monday, "11:00"), end=at(monday, "11:30"))
    [event] = _events(caldav_user, connection.bookings_calendar_id)
    assert event.decoded("DTSTART") == at(monday, "11:00")

    with django_capture_on_commit_callbacks(execute=True):
        services.booking_cancel(booking=booking, by=Booking.By.CUSTOMER)
    assert _events(caldav_user, connection.bookings_calendar_id) == []
    assert BookingCopy.objects.get(booking=booking).state == BookingCopy.State.REMOVED


def test_nothing_is_written_outside_the_bookings_calendar(
    writing, merchant, caldav_user, django_capture_on_commit_callbacks
):
    own_before = caldav_user.objects()
    monday = next_weekday(0)
    _book(merchant, at(monday, "10:00"), at(monday, "10:30"), django_capture_on_commit_callbacks)
    bookings_calendar = CalendarConnection.objects.get(pk=writing.connection.pk).bookings_calendar_id
    written = {path for _method, path in caldav_user.proxy.writes()}
    assert written and all(path.startswith(urlsplit(bookings_calendar).path) for path in written)
    assert caldav_user.objects() == own_before


def test_the_bookings_calendar_and_our_copies_block_nothing(
    writing, merchant, caldav_user, django_capture_on_commit_callbacks
):
    monday = next_weekday(0)
    _book(merchant, at(monday, "10:00"), at(monday, "10:30"), django_capture_on_commit_callbacks)
    connection = CalendarConnection.objects.get(pk=writing.connection.pk)
    # The bookings calendar is not among the calendars we sync from.
    assert not connection.calendars.filter(external_id=connection.bookings_calendar_id).exists()
    # A copy the merchant moved into their own calendar blocks nothing either.
    [copy_text] = caldav_user.objects(connection.bookings_calendar_id).values()
    caldav_user.put("moved-copy", copy_text)
    writing.sync()
    assert not BlockedTime.objects.filter(calendar=writing.calendar).exists()


def test_a_server_down_during_a_booking_leaves_it_confirmed_and_the_copy_lands_later(
    writing, merchant, caldav_user, django_capture_on_commit_callbacks, settings
):
    settings.CALENDAR_SYNC_MAX_RETRIES = 1
    caldav_user.proxy.fail(503, times=1000)
    monday = next_weekday(0)
    booking = _book(merchant, at(monday, "10:00"), at(monday, "10:30"), django_capture_on_commit_callbacks)

    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED
    copy = BookingCopy.objects.get(booking=booking)
    assert copy.state == BookingCopy.State.FAILED and copy.attempts >= 1 and copy.last_error
    status = api_client_for(merchant).get(STATUS).json()
    assert status["bookings_calendar"]["failed"] == 1

    caldav_user.proxy.reset()
    with django_capture_on_commit_callbacks(execute=True):
        assert booking_copies_retry_due(now=copy.updated_at + dt.timedelta(hours=1)) == 1
    copy.refresh_from_db()
    assert copy.state == BookingCopy.State.WRITTEN and copy.last_error == ""
    connection = CalendarConnection.objects.get(pk=writing.connection.pk)
    assert len(_events(caldav_user, connection.bookings_calendar_id)) == 1


def test_the_live_check_refuses_a_slot_made_busy_at_the_server(
    writing, merchant, caldav_user, django_capture_on_commit_callbacks
):
    monday = next_weekday(0)
    start, end = at(monday, "14:00"), at(monday, "14:30")
    # Added at the server after the last poll: no stored block knows of it yet.
    caldav_user.put("dentist", ics(vevent("dentist", DTSTART=_stamp(start), DTEND=_stamp(end), SUMMARY="Dentist")))
    assert not BlockedTime.objects.filter(merchant=merchant, start=start).exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = APIClient().post(  # the public booking API, as a customer
            f"/api/v1/public/merchants/{merchant.slug}/bookings",
            {"start": start.isoformat(), "end": end.isoformat(), "customer_name": "Bo", "customer_email": "bo@x.org"},
            format="json",
        )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "unavailable"
    assert not Booking.objects.filter(merchant=merchant).exists()
    assert SyncRun.objects.filter(calendar=writing.calendar, trigger=SyncRun.Trigger.LIVE_CHECK).exists()
    assert BlockedTime.objects.filter(merchant=merchant, start=start).exists()  # the sync caught up


def test_turning_it_off_stops_writing_and_keeps_the_calendar(
    writing, merchant, caldav_user, django_capture_on_commit_callbacks
):
    monday = next_weekday(0)
    _book(merchant, at(monday, "10:00"), at(monday, "10:30"), django_capture_on_commit_callbacks)
    bookings_calendar = CalendarConnection.objects.get(pk=writing.connection.pk).bookings_calendar_id
    api = api_client_for(merchant)
    assert api.patch(STATUS, {"write_bookings": False}, format="json").status_code == 200
    writes = len(caldav_user.proxy.writes())
    _book(merchant, at(monday, "12:00"), at(monday, "12:30"), django_capture_on_commit_callbacks)
    assert len(caldav_user.proxy.writes()) == writes
    assert bookings_calendar in caldav_user.calendars()
    assert len(_events(caldav_user, bookings_calendar)) == 1


def test_a_server_without_mkcalendar_lets_the_merchant_choose_the_calendar(
    merchant, caldav_connect, caldav_user, django_capture_on_commit_callbacks
):
    chosen_url = caldav_user.calendar_create("kept-for-bookings", "Kept for bookings")
    connected = caldav_connect()
    chosen = connected.connection.calendars.get(external_id=chosen_url)
    caldav_user.proxy.fail(403, method="MKCALENDAR", times=1000)
    api = api_client_for(merchant)
    with django_capture_on_commit_callbacks(execute=True):
        assert api.patch(STATUS, {"write_bookings": True}, format="json").status_code == 200
    monday = next_weekday(0)
    booking = _book(merchant, at(monday, "10:00"), at(monday, "10:30"), django_capture_on_commit_callbacks)
    copy = BookingCopy.objects.get(booking=booking)
    assert copy.state == BookingCopy.State.FAILED and "choose one of yours" in copy.last_error

    with django_capture_on_commit_callbacks(execute=True):
        response = api.patch(STATUS, {"bookings_calendar": chosen.pk}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["bookings_calendar"]["name"] == "Kept for bookings"
    copy.refresh_from_db()
    assert copy.state == BookingCopy.State.WRITTEN
    [event] = _events(caldav_user, chosen_url)
    assert str(event["SUMMARY"]) == "Ada Lovelace (booking)"
    # The chosen calendar is no longer one we sync from.
    assert not connected.connection.calendars.filter(external_id=chosen_url).exists()
