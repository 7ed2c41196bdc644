"""Google Event JSON -> RemoteEvent (integrations/providers/google/mapping.py); pure functions."""

import datetime as dt

import pytest

from integrations.providers.base import EventKind, EventStatus, Response
from integrations.providers.google.mapping import MalformedEvent, calendar_from_google, event_from_google

UTC = dt.UTC


def test_timed_event_with_offset_becomes_utc_instants():
    event = event_from_google(
        {
            "id": "e1",
            "start": {"dateTime": "2024-01-05T10:00:00+01:00"},
            "end": {"dateTime": "2024-01-05T11:30:00+01:00"},
        }
    )
    assert event.start == dt.datetime(2024, 1, 5, 9, 0, tzinfo=UTC)
    assert event.end == dt.datetime(2024, 1, 5, 10, 30, tzinfo=UTC)
    assert event.status is EventStatus.CONFIRMED
    assert not event.all_day and not event.transparent
    assert event.kind is EventKind.DEFAULT and event.own_response is None


def test_timed_event_written_in_another_zone_without_offset_uses_its_time_zone():
    event = event_from_google(
        {
            "id": "e1",
            "start": {"dateTime": "2024-07-01T09:00:00", "timeZone": "America/New_York"},
            "end": {"dateTime": "2024-07-01T10:00:00Z"},
        },
        calendar_zone="Europe/Berlin",
    )
    assert event.start == dt.datetime(2024, 7, 1, 13, 0, tzinfo=UTC)
    # An end before the start is clamped: a zero-length event, never a negative one.
    assert event.end == event.start


def test_naive_datetime_falls_back_to_calendar_zone():
    event = event_from_google(
        {"id": "e1", "start": {"dateTime": "2024-01-05T10:00:00"}, "end": {"dateTime": "2024-01-05T11:00:00"}},
        calendar_zone="Europe/Berlin",
    )
    assert event.start == dt.datetime(2024, 1, 5, 9, 0, tzinfo=UTC)


def test_all_day_event_keeps_dates_end_exclusive():
    event = event_from_google({"id": "d", "start": {"date": "2024-07-12"}, "end": {"date": "2024-07-14"}})
    assert event.all_day
    assert (event.start_date, event.end_date) == (dt.date(2024, 7, 12), dt.date(2024, 7, 14))
    assert event.start is None and event.end is None


def test_cancelled_event_is_a_tombstone_with_only_its_id():
    event = event_from_google({"id": "gone_20240105T090000Z", "status": "cancelled"})
    assert event.id == "gone_20240105T090000Z"
    assert event.status is EventStatus.CANCELLED
    assert event.start is None and event.start_date is None


@pytest.mark.parametrize(
    ("google", "ours"),
    [
        ("accepted", Response.ACCEPTED),
        ("declined", Response.DECLINED),
        ("tentative", Response.TENTATIVE),
        ("needsAction", Response.NEEDS_ACTION),
    ],
)
def test_own_attendee_response_is_read_from_the_self_entry(google, ours):
    event = event_from_google(
        {
            "id": "e",
            "start": {"dateTime": "2024-01-05T10:00:00Z"},
            "end": {"dateTime": "2024-01-05T11:00:00Z"},
            "attendees": [
                {"email": "boss@example.com", "responseStatus": "accepted", "organizer": True},
                {"email": "me@example.com", "self": True, "responseStatus": google},
            ],
        }
    )
    assert event.own_response is ours


@pytest.mark.parametrize(
    ("google", "ours"),
    [
        ("default", EventKind.DEFAULT),
        ("outOfOffice", EventKind.OUT_OF_OFFICE),
        ("focusTime", EventKind.FOCUS_TIME),
        ("workingLocation", EventKind.WORKING_LOCATION),
        ("birthday", EventKind.BIRTHDAY),
        ("somethingNew", EventKind.OTHER),
    ],
)
def test_event_type(google, ours):
    event = event_from_google(
        {"id": "e", "eventType": google, "start": {"date": "2024-01-05"}, "end": {"date": "2024-01-06"}}
    )
    assert event.kind is ours


def test_transparency_and_tentative_status():
    event = event_from_google(
        {
            "id": "e",
            "status": "tentative",
            "transparency": "transparent",
            "start": {"dateTime": "2024-01-05T10:00:00Z"},
            "end": {"dateTime": "2024-01-05T11:00:00Z"},
        }
    )
    assert event.transparent and event.status is EventStatus.TENTATIVE


def test_no_private_detail_is_carried():
    event = event_from_google(
        {
            "id": "e",
            "summary": "Dentist",
            "description": "root canal",
            "location": "Main St 1",
            "start": {"dateTime": "2024-01-05T10:00:00Z"},
            "end": {"dateTime": "2024-01-05T11:00:00Z"},
        }
    )
    assert "Dentist" not in repr(event) and "Main St" not in repr(event)


@pytest.mark.parametrize(
    "raw",
    [
        {"start": {"dateTime": "2024-01-05T10:00:00Z"}},
        {"id": "e", "start": {}, "end": {}},
        {"id": "e", "start": {"dateTime": "not a date"}, "end": {"dateTime": "2024-01-05T11:00:00Z"}},
        {"id": "e", "start": {"date": "2024-13-45"}, "end": {"date": "2024-01-06"}},
    ],
)
def test_unreadable_events_raise(raw):
    with pytest.raises(MalformedEvent):
        event_from_google(raw)


def test_calendar_list_entry_prefers_the_merchants_own_name():
    calendar = calendar_from_google(
        {"id": "team@group.calendar.google.com", "summary": "Team", "summaryOverride": "My team", "timeZone": "UTC"}
    )
    assert calendar.summary == "My team" and not calendar.primary
    primary = calendar_from_google({"id": "me@example.com", "summary": "me@example.com", "primary": True})
    assert primary.primary and primary.id == "me@example.com"


@pytest.mark.parametrize(
    ("zone", "utc_hour", "utc_minute"),
    [("GMT+02:00", 8, 0), ("GMT-05:30", 15, 30), ("UTC", 10, 0), ("GMT", 10, 0), ("UTC+5", 5, 0)],
)
def test_naive_datetime_in_an_offset_named_zone_is_read_at_that_offset(zone, utc_hour, utc_minute):
    """``GMT+02:00`` is not an IANA name (ZoneInfo refuses it) but means +02:00, never the calendar's zone."""
    event = event_from_google(
        {
            "id": "e1",
            "start": {"dateTime": "2024-01-05T10:00:00", "timeZone": zone},
            "end": {"dateTime": "2024-01-05T11:00:00", "timeZone": zone},
        },
        calendar_zone="America/New_York",
    )
    assert event.start == dt.datetime(2024, 1, 5, utc_hour, utc_minute, tzinfo=UTC)
    assert event.end - event.start == dt.timedelta(hours=1)


def test_posix_etc_zones_keep_their_inverted_sign_and_unknown_names_fall_back():
    posix = event_from_google(
        {"id": "e1", "start": {"dateTime": "2024-01-05T10:00:00", "timeZone": "Etc/GMT+2"}},
    )
    assert posix.start == dt.datetime(2024, 1, 5, 12, 0, tzinfo=UTC)  # Etc/GMT+2 is UTC-2
    unknown = event_from_google(
        {"id": "e1", "start": {"dateTime": "2024-01-05T10:00:00", "timeZone": "W. Europe Standard Time"}},
        calendar_zone="Europe/Berlin",
    )
    assert unknown.start == dt.datetime(2024, 1, 5, 9, 0, tzinfo=UTC)
