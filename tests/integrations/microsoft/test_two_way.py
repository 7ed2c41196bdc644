"""The Microsoft side of two-way (SPEC §10) and the live check (§11) beyond the shared
contract: the consent URL, scope judgement, refusals without Calendars.ReadWrite, the busy
fields of ``busy_between``, and copies recognised by their marker wherever they sit."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest

from integrations.providers.base import EventStatus, PermissionDenied
from integrations.providers.microsoft.bookings import MARKER_PROPERTY_ID
from integrations.providers.microsoft.provider import MicrosoftProvider
from integrations.sync.rules import BusyPreferences, event_block
from tests.emulators.microsoft.support import timed, when
from tests.integrations.contract.two_way import booking
from tests.integrations.microsoft.support import connection_for

WRITER = ("User.Read", "Calendars.Read", "Calendars.ReadWrite")
START, END = dt.datetime(2030, 1, 10, 9, tzinfo=dt.UTC), dt.datetime(2030, 1, 10, 10, tzinfo=dt.UTC)


@pytest.fixture
def writer(merchant, ms):
    return MicrosoftProvider.client(connection_for(merchant, ms, scopes=WRITER))


def test_turning_two_way_on_asks_calendars_readwrite_on_top(ms, settings):
    settings.PUBLIC_BASE_URL = "http://testserver"
    plain = MicrosoftProvider.authorization_request(state="s")
    writing = MicrosoftProvider.authorization_request(state="s", write_bookings=True)
    asked = {url: set(parse_qs(urlsplit(url).query)["scope"][0].split()) for url in (plain.url, writing.url)}
    assert "Calendars.ReadWrite" not in asked[plain.url]
    assert asked[writing.url] == asked[plain.url] | {"Calendars.ReadWrite"}


@pytest.mark.parametrize(
    ("granted", "writes"),
    [
        ({"Calendars.ReadWrite"}, True),
        ({"https://graph.microsoft.com/Calendars.ReadWrite", "User.Read"}, True),
        ({"calendars.readwrite"}, True),
        ({"Calendars.Read", "User.Read"}, False),
        ({"Calendars.ReadWrite.Shared"}, False),
    ],
)
def test_grants_booking_writes(granted, writes):
    assert MicrosoftProvider.grants_booking_writes(frozenset(granted)) is writes


def test_a_read_only_grant_cannot_write_a_copy(client, calendar_id, ms):
    with pytest.raises(PermissionDenied):
        client.booking_event_put(calendar_id, booking(START, END))
    assert ms.stored_events(calendar_id) == []


def test_busy_between_answers_what_graph_has_in_the_interval_with_its_busy_fields(ms, writer, calendar_id):
    ms.insert_event(calendar_id, timed("Busy", "2030-01-10", 9, 10))
    ms.insert_event(calendar_id, timed("Free", "2030-01-10", 9, 10, showAs="free"))
    ms.insert_event(calendar_id, timed("Cancelled", "2030-01-10", 9, 10, isCancelled=True))
    ms.insert_event(calendar_id, timed("Later", "2030-01-10", 11, 12))
    ms.insert_event(
        calendar_id, {"subject": "Fair", "isAllDay": True, "start": when("2030-01-10"), "end": when("2030-01-11")}
    )
    events = writer.busy_between([calendar_id], start=START, end=END)
    timed_ones = sorted((e for e in events if not e.all_day), key=lambda e: (e.status, e.transparent))
    assert [(e.status, e.transparent, e.start, e.end) for e in timed_ones if e.status != EventStatus.CANCELLED] == [
        (EventStatus.CONFIRMED, False, START, END),
        (EventStatus.CONFIRMED, True, START, END),
    ]
    assert sum(e.status == EventStatus.CANCELLED for e in events) == 1
    assert [(e.start_date, e.end_date) for e in events if e.all_day] == [(dt.date(2030, 1, 10), dt.date(2030, 1, 11))]
    [call] = ms.calls("calendarView")
    assert call["query"]["$expand"] == [f"singleValueExtendedProperties($filter=id eq '{MARKER_PROPERTY_ID}')"]


def test_a_copy_moved_into_the_merchants_own_calendar_is_still_ours(ms, writer, calendar_id):
    """The merchant drags the copy into their own calendar: Exchange keeps the property."""
    marked = {"singleValueExtendedProperties": [{"id": MARKER_PROPERTY_ID, "value": "b-1"}]}
    ms.insert_event(calendar_id, {**timed("Ada (booking)", "2030-01-10", 9, 10), **marked})
    ms.insert_event(calendar_id, timed("Dentist", "2030-01-10", 11, 12))
    pages = writer.list_events(
        calendar_id,
        cursor=None,
        window_start=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
        window_end=dt.datetime(2030, 2, 1, tzinfo=dt.UTC),
    )
    events = {e.start.hour: e for page in pages for e in page.events}
    assert events[9].ours and not events[11].ours
    prefs = BusyPreferences()
    assert event_block(events[9], prefs=prefs, zone=dt.UTC) is None
    assert event_block(events[11], prefs=prefs, zone=dt.UTC) is not None
    [live] = [e for e in writer.busy_between([calendar_id], start=START, end=END)]
    assert live.ours


def test_a_read_only_connection_never_looks_for_copies(ms, client, calendar_id):
    ms.insert_event(calendar_id, timed("Dentist", "2030-01-10", 11, 12))
    list(
        client.list_events(
            calendar_id,
            cursor=None,
            window_start=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
            window_end=dt.datetime(2030, 2, 1, tzinfo=dt.UTC),
        )
    )
    assert ms.calls("events.list") == []


def test_a_copy_found_twice_is_reduced_to_one(ms, writer):
    calendar = writer.bookings_calendar_create("Studio bookings", time_zone="Europe/Berlin")
    copy = booking(START, END)
    marked = {"singleValueExtendedProperties": [{"id": MARKER_PROPERTY_ID, "value": copy.booking_uid}]}
    for _ in range(2):  # two writers raced
        ms.insert_event(calendar.id, {**timed("Ada (booking)", "2030-01-10", 9, 10), **marked})
    writer.booking_event_put(calendar.id, booking(START, END + dt.timedelta(minutes=30), uid=copy.booking_uid))
    [stored] = ms.stored_events(calendar.id)
    assert stored["end"]["dateTime"].startswith("2030-01-10T10:30:00")
