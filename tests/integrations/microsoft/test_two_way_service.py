"""Two-way end to end with Outlook (SPEC §10, §11): the product's API and services against the
Microsoft emulator, through the real consent round trip (msal) and Graph over HTTPS."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import requests
from rest_framework.test import APIClient

from integrations.models import BookingCopy, CalendarConnection, SyncRun
from integrations.providers.microsoft.provider import CALENDARS_READWRITE
from scheduling import services
from scheduling.models import BlockedTime, Booking
from tests.emulators.microsoft.support import timed
from tests.integrations.microsoft.support import ANN
from tests.integrations.microsoft.test_connect_platform import CONNECT, browser_for, connect
from tests.scheduling.helpers import at, next_weekday

pytestmark = pytest.mark.django_db


@pytest.fixture
def platform(ms, settings):
    settings.PUBLIC_BASE_URL = "http://testserver"
    settings.MICROSOFT_WEBHOOK_URL = ""  # no subscriptions: these tests are about writes
    ms.set_auto_approve(True)
    return ms


@pytest.fixture
def connected(platform, merchant, django_capture_on_commit_callbacks):
    client = browser_for(merchant)
    assert connect(client, django_capture_on_commit_callbacks)["Location"] == "/app/integrations?microsoft=connected"
    return client


def _consent(client, url: str, capture):
    answer = requests.get(url + "&login_hint=" + ANN, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    location = urlsplit(answer.headers["Location"])
    with capture(execute=True):
        return client.get(f"{location.path}?{location.query}")


@pytest.fixture
def writing(connected, django_capture_on_commit_callbacks):
    refused = connected.patch(CONNECT, {"write_bookings": True}, content_type="application/json")
    assert refused.status_code == 409
    landed = _consent(connected, refused.json()["authorization_url"], django_capture_on_commit_callbacks)
    assert landed["Location"] == "/app/integrations?microsoft=connected"
    return connected


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


def _instant(value: dict) -> dt.datetime:
    return dt.datetime.fromisoformat(value["dateTime"]).replace(tzinfo=dt.UTC)


def test_turning_it_on_asks_for_calendars_readwrite_and_changes_nothing_until_granted(connected, platform, merchant):
    before = set(CalendarConnection.objects.get(merchant=merchant).granted_scopes.split())
    response = connected.patch(CONNECT, {"write_bookings": True}, content_type="application/json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "consent_required"
    asked = set(parse_qs(urlsplit(response.json()["authorization_url"]).query)["scope"][0].split())
    assert CALENDARS_READWRITE in asked
    assert {s.lower() for s in asked} - {s.lower() for s in before} - {"openid", "profile", "offline_access"} == {
        CALENDARS_READWRITE.lower()
    }
    assert CalendarConnection.objects.get(merchant=merchant).write_bookings is False
    assert platform.writes() == []


def test_a_booking_is_copied_moved_and_removed_and_nothing_else_is_written(
    writing, platform, merchant, django_capture_on_commit_callbacks
):
    connection = CalendarConnection.objects.get(merchant=merchant)
    assert connection.write_bookings and CALENDARS_READWRITE.lower() in connection.granted_scopes.lower()
    monday = next_weekday(0)
    booking = _book(merchant, at(monday, "10:00"), at(monday, "10:30"), django_capture_on_commit_callbacks)

    connection.refresh_from_db()
    calendar_id = connection.bookings_calendar_id
    assert calendar_id in platform.calendar_ids(ANN)
    [event] = platform.stored_events(calendar_id)
    assert event["subject"] == "Ada Lovelace (booking)"
    assert "ada@example.com" in event["body"]["content"]
    assert _instant(event["start"]) == at(monday, "10:00")

    with django_capture_on_commit_callbacks(execute=True):
        services.booking_reschedule(booking=booking, start=at(monday, "11:00"), end=at(monday, "11:30"))
    [event] = platform.stored_events(calendar_id)
    assert _instant(event["start"]) == at(monday, "11:00")

    with django_capture_on_commit_callbacks(execute=True):
        services.booking_cancel(booking=booking, by=Booking.By.MERCHANT)
    assert platform.stored_events(calendar_id) == []
    assert BookingCopy.objects.get(booking=booking).state == BookingCopy.State.REMOVED

    # Every write went to the bookings calendar (or made it).
    for write in platform.writes():
        assert write["status"] < 300
        path = unquote(write["path"])
        assert path.endswith("/me/calendars") or calendar_id in path or "/me/events/" in path
    own = platform.default_calendar(ANN)
    assert platform.stored_events(own) == []


def test_the_bookings_calendar_is_never_synced(writing, platform, merchant, django_capture_on_commit_callbacks):
    monday = next_weekday(0)
    _book(merchant, at(monday, "10:00"), at(monday, "10:30"), django_capture_on_commit_callbacks)
    connection = CalendarConnection.objects.get(merchant=merchant)
    assert not connection.calendars.filter(external_id=connection.bookings_calendar_id).exists()
    assert not BlockedTime.objects.filter(merchant=merchant).exists()


def test_the_live_check_refuses_a_slot_busy_at_outlook(
    connected, platform, merchant, django_capture_on_commit_callbacks
):
    platform.set_notifications_enabled(False)
    monday = next_weekday(0)
    start = at(monday, "14:00")
    utc = start.astimezone(dt.UTC)
    platform.insert_event(
        platform.default_calendar(ANN), timed("Dentist", utc.date().isoformat(), utc.hour, utc.hour + 1)
    )
    assert not BlockedTime.objects.filter(merchant=merchant, start=start).exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = APIClient().post(
            f"/api/v1/public/merchants/{merchant.slug}/bookings",
            {
                "start": start.isoformat(),
                "end": (start + dt.timedelta(minutes=30)).isoformat(),
                "customer_name": "Bo",
                "customer_email": "bo@x.org",
            },
            format="json",
        )

    assert response.status_code == 409 and response.json()["error"]["code"] == "unavailable"
    assert SyncRun.objects.filter(calendar__connection__merchant=merchant, trigger=SyncRun.Trigger.LIVE_CHECK).exists()
    assert BlockedTime.objects.filter(merchant=merchant, start=start).exists()
