"""Two-way CalDAV at the provider (SPEC §10, §11 live check), against the real Radicale.

What the contract (tests/integrations/contract/two_way.py) does not cover: servers that
refuse MKCALENDAR, a lost MKCALENDAR answer, what the copy holds, a copy the merchant moved
into their own calendar (listed as ours, blocking nothing, also after the horizon roll), and
the live check's busy rules, series and single attempt. Everything written is read back at
Radicale itself; the proxy's write log proves where writes went.
"""

from __future__ import annotations

import datetime as dt
import uuid
from urllib.parse import urlsplit

import icalendar
import pytest

from integrations.models import CalDAVObject
from integrations.providers.base import (
    BOOKING_ICAL_PROPERTY,
    PermissionDenied,
    RateLimited,
    booking_event_uid,
)
from integrations.services.clients import connection_client
from tests.integrations.caldav.conftest import ics, vevent
from tests.integrations.contract.base import listing, slot
from tests.integrations.contract.two_way import booking, busy

pytestmark = pytest.mark.django_db

NAME = "Studio bookings"


def _stamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _client(connected):
    return connection_client(connected.connection)


def _timed(start: dt.datetime, end: dt.datetime, uid: str | None = None, **props: str) -> str:
    return ics(vevent(uid, DTSTART=_stamp(start), DTEND=_stamp(end), SUMMARY="Dentist", **props))


# --- the bookings calendar ------------------------------------------------------------------


@pytest.mark.parametrize("status", [403, 405, 501])
def test_a_server_that_refuses_mkcalendar_raises_permission_denied(caldav_connect, caldav_user, status):
    connected = caldav_connect()
    before = caldav_user.calendars()
    caldav_user.proxy.fail(status, method="MKCALENDAR")
    with pytest.raises(PermissionDenied):
        _client(connected).bookings_calendar_create(NAME, time_zone="Europe/Berlin")
    assert caldav_user.calendars() == before
    assert [method for method, _ in caldav_user.proxy.writes()] == ["MKCALENDAR"]  # tried once, then nothing


def test_the_bookings_calendar_holds_events_in_the_merchants_zone(caldav_connect, caldav_user):
    connected = caldav_connect()
    calendar = _client(connected).bookings_calendar_create(NAME, time_zone="Europe/Berlin")
    assert urlsplit(calendar.id).path.startswith(f"/{caldav_user.name}/")
    assert calendar.id in caldav_user.calendars()
    body = (
        '<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop>'
        "<D:displayname/><C:supported-calendar-component-set/><C:calendar-timezone/></D:prop></D:propfind>"
    )
    direct = calendar.id.replace(caldav_user.proxy.url, caldav_user.server.url)
    answer = caldav_user.server.session(caldav_user.name).request(
        "PROPFIND", direct, data=body, headers={"Depth": "0"}, timeout=10
    )
    assert answer.status_code == 207
    assert f"<displayname>{NAME}</displayname>" in answer.text.replace("D:", "")
    assert 'name="VEVENT"' in answer.text and "VTODO" not in answer.text
    assert "TZID:Europe/Berlin" in answer.text


def test_a_repeated_create_finds_the_calendar_made_before(caldav_connect, caldav_user):
    """The answer to MKCALENDAR was lost and the service asks again: no second calendar."""
    connected = caldav_connect()
    before = caldav_user.calendars()
    client = _client(connected)
    first = client.bookings_calendar_create(NAME, time_zone="Europe/Berlin")
    again = client.bookings_calendar_create(NAME, time_zone="Europe/Berlin")
    assert again.id == first.id
    assert again.summary == NAME
    assert caldav_user.calendars() == before | {first.id}


# --- the copies -----------------------------------------------------------------------------


def test_a_copy_carries_the_bookings_uid_and_marker_and_goes_only_to_the_bookings_calendar(caldav_connect, caldav_user):
    connected = caldav_connect()
    client = _client(connected)
    calendar = client.bookings_calendar_create(NAME, time_zone="Europe/Berlin")
    copy = booking(*slot(3))
    client.booking_event_put(calendar.id, copy)
    client.booking_event_delete(calendar.id, str(uuid.uuid4()))  # never written: not an error

    [(path, text)] = caldav_user.objects(calendar.id).items()
    assert path.endswith(f"/{copy.booking_uid}.ics")
    [event] = icalendar.Calendar.from_ical(text).walk("VEVENT")
    assert str(event["UID"]) == booking_event_uid(copy.booking_uid)
    assert str(event[BOOKING_ICAL_PROPERTY]) == copy.booking_uid
    assert event["DTSTART"].dt == copy.start and event["DTSTART"].dt.utcoffset() == dt.timedelta(0)
    assert "ATTENDEE" not in event  # the merchant's server never invites the customer

    bookings_path = urlsplit(calendar.id).path
    assert caldav_user.proxy.writes()
    assert all(path.startswith(bookings_path) for _, path in caldav_user.proxy.writes())
    assert caldav_user.objects() == {}  # the merchant's own calendar: untouched


def test_a_copy_the_merchant_moved_into_their_calendar_lists_as_ours_and_blocks_nothing(
    caldav_connect, caldav_user, settings
):
    start, end = slot(2)
    caldav_user.put("moved-copy", _timed(start, end, X_MERCHANT_CALENDAR_BOOKING="b-1"))
    caldav_user.put("uid-only", _timed(start, end, uid=booking_event_uid(str(uuid.uuid4()))))
    weekly = ics(vevent(DTSTART=_stamp(start), DTEND=_stamp(end), RRULE="FREQ=WEEKLY;COUNT=3",
                        X_MERCHANT_CALENDAR_BOOKING="b-2"))  # fmt: skip
    caldav_user.put("series-copy", weekly)
    other_start, other_end = slot(2, hour=14)
    caldav_user.put("dentist", _timed(other_start, other_end))
    connected = caldav_connect()

    assert connected.blocks() == [(other_start, other_end)]
    events = [e for page in listing(_client(connected), connected.calendar.external_id) for e in page.events]
    assert {e.start for e in events if not e.ours} == {other_start}
    assert len([e for e in events if e.ours]) == 5  # two singles and every occurrence of the series

    stored = CalDAVObject.objects.get(calendar=connected.calendar, href__endswith="/moved-copy.ics")
    assert BOOKING_ICAL_PROPERTY in stored.data and "Dentist" not in stored.data  # timing only, marker kept
    window_end = dt.datetime.now(dt.UTC) + dt.timedelta(days=60)
    rolled = [
        e
        for page in _client(connected).list_events_stored(
            connected.calendar.external_id, window_start=start - dt.timedelta(days=1), window_end=window_end
        )
        for e in page.events
    ]
    assert len([e for e in rolled if e.ours]) == 5  # the horizon roll keeps them ours


# --- the live check -------------------------------------------------------------------------


def test_the_live_check_applies_the_busy_rules_across_calendars(caldav_connect, caldav_user, merchant):
    start, end = slot(3)
    home = caldav_user.calendar_create("home", "Home")
    own = f"/{caldav_user.name}/"  # Radicale's calendar-user-address-set is the principal path
    caldav_user.put("free", _timed(start, end, TRANSP="TRANSPARENT"))
    caldav_user.put("declined", _timed(start, end, ATTENDEE=f";PARTSTAT=DECLINED:{own}"))
    caldav_user.put("cancelled", _timed(start, end, STATUS="CANCELLED"), calendar_url=home)
    caldav_user.put("copy", _timed(start, end, X_MERCHANT_CALENDAR_BOOKING="b-1"), calendar_url=home)
    connected = caldav_connect()
    client = _client(connected)
    calendars = [caldav_user.calendar_url, home]

    found = client.busy_between(calendars, start=start, end=end)
    assert len(found) == 4
    assert not busy(found, start, end)

    caldav_user.put("dentist", _timed(start, end), calendar_url=home)
    assert busy(client.busy_between(calendars, start=start, end=end), start, end)
    later = end + dt.timedelta(hours=1), end + dt.timedelta(hours=2)
    assert client.busy_between(calendars, start=later[0], end=later[1]) == []


def test_the_live_check_expands_a_series_that_began_long_before(caldav_connect, caldav_user):
    start, end = slot(1)
    first = start - dt.timedelta(weeks=10)
    series = ics(vevent(DTSTART=_stamp(first), DTEND=_stamp(first + dt.timedelta(hours=1)), RRULE="FREQ=WEEKLY",
                        EXDATE=_stamp(start + dt.timedelta(weeks=1))))  # fmt: skip
    caldav_user.put("weekly", series)
    client = _client(caldav_connect())

    [occurrence] = client.busy_between([caldav_user.calendar_url], start=start, end=end)
    assert (occurrence.start, occurrence.end) == (start, end)
    skipped = start + dt.timedelta(weeks=1), end + dt.timedelta(weeks=1)
    assert client.busy_between([caldav_user.calendar_url], start=skipped[0], end=skipped[1]) == []


def test_the_live_check_asks_once_and_does_not_wait(caldav_connect, caldav_user):
    client = _client(caldav_connect())
    caldav_user.proxy.reset()
    caldav_user.proxy.fail(503, times=5, method="REPORT", headers={"Retry-After": "0"})
    with pytest.raises(RateLimited):
        client.busy_between([caldav_user.calendar_url], start=slot(1)[0], end=slot(1)[1])
    assert caldav_user.proxy.count(lambda r: r.method == "REPORT") == 1
