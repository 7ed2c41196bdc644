"""Busy rules and timing of CalDAV events (SPEC §8.2 and §4), end to end through a real Radicale.

The merchant lives in Europe/Berlin (DST from 2027-03-28). Each test writes iCalendar
objects to Radicale, connects (discovery + initial sync) and reads the blocked times.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from integrations.emulators.caldav.pytest_plugin import CalDAVUser
from integrations.models import CalDAVObject
from scheduling.models import BlockedTime
from tests.integrations.caldav.conftest import BERLIN_TZ, at, ics, vevent

pytestmark = pytest.mark.django_db

BERLIN = ";TZID=Europe/Berlin:"


def test_weekly_series_with_exdate_a_moved_and_a_cancelled_instance(caldav_connect, caldav_user):
    caldav_user.put(
        "series",
        ics(
            BERLIN_TZ,
            vevent("weekly", DTSTART=f"{BERLIN}20270301T090000", DTEND=f"{BERLIN}20270301T100000",
                   RRULE="FREQ=WEEKLY;COUNT=6", EXDATE=f"{BERLIN}20270308T090000", SUMMARY="Physio"),
            vevent("weekly", RECURRENCE_ID=f"{BERLIN}20270315T090000", DTSTART=f"{BERLIN}20270315T140000",
                   DTEND=f"{BERLIN}20270315T150000"),
            vevent("weekly", RECURRENCE_ID=f"{BERLIN}20270322T090000", DTSTART=f"{BERLIN}20270322T090000",
                   DTEND=f"{BERLIN}20270322T100000", STATUS="CANCELLED"),
        ),
    )  # fmt: skip
    connected = caldav_connect()
    assert connected.blocks() == [
        (at("2027-03-01T08:00Z"), at("2027-03-01T09:00Z")),
        (at("2027-03-15T13:00Z"), at("2027-03-15T14:00Z")),  # moved; 03-08 is an EXDATE, 03-22 cancelled
        (at("2027-03-29T07:00Z"), at("2027-03-29T08:00Z")),  # after the DST change: still 09:00 in Berlin
        (at("2027-04-05T07:00Z"), at("2027-04-05T08:00Z")),
    ]
    keys = set(BlockedTime.objects.filter(calendar=connected.calendar).values_list("external_key", flat=True))
    group = f"/{caldav_user.name}/work/series.ics"
    assert f"{group}#20270315T080000Z" in keys  # keyed by the original start (RECURRENCE-ID) in UTC


def test_an_endless_series_is_expanded_up_to_the_horizon(caldav_connect, caldav_user, settings):
    settings.CALENDAR_SYNC_HORIZON_DAYS = 60
    caldav_user.put(
        "daily", ics(vevent(DTSTART="20260101T120000Z", DTEND="20260101T123000Z", RRULE="FREQ=DAILY"))
    )  # fmt: skip
    connected = caldav_connect()
    calendar = connected.calendar
    blocks = connected.blocks()
    now = timezone.now()
    window_start = now - dt.timedelta(days=settings.CALENDAR_SYNC_LOOKBACK_DAYS)
    assert all(end > window_start and start < calendar.window_end for start, end in blocks)
    assert len(blocks) in (90, 91)  # 30 days back + 60 ahead, one a day
    assert blocks[-1][0] > calendar.window_end - dt.timedelta(days=1)


def test_an_all_day_event_across_the_merchants_dst_change_blocks_23_hours(caldav_connect, caldav_user):
    caldav_user.put("dst", ics(vevent(DTSTART=";VALUE=DATE:20270328", DTEND=";VALUE=DATE:20270329")))
    caldav_user.put("two", ics(vevent(DTSTART=";VALUE=DATE:20270401", DTEND=";VALUE=DATE:20270403")))
    connected = caldav_connect()
    assert connected.blocks() == [
        (at("2027-03-27T23:00Z"), at("2027-03-28T22:00Z")),  # 00:00 CET to 00:00 CEST
        (at("2027-03-31T22:00Z"), at("2027-04-02T22:00Z")),
    ]
    assert set(BlockedTime.objects.filter(calendar=connected.calendar).values_list("all_day", flat=True)) == {True}


def test_all_day_events_block_nothing_when_the_merchant_says_so(caldav_connect, caldav_user, merchant):
    caldav_user.put("day", ics(vevent(DTSTART=";VALUE=DATE:20270310")))
    connected = caldav_connect()
    assert len(connected.blocks()) == 1  # a DATE without DTEND lasts one day
    connected.connection.block_all_day = False
    connected.connection.save(update_fields=["block_all_day"])
    connected.sync("manual")
    assert connected.blocks() == []


def test_other_zones_windows_names_and_floating_times(caldav_connect, caldav_user):
    caldav_user.put("ny", ics(vevent(DTSTART=";TZID=America/New_York:20270310T090000", DURATION="PT1H")))
    caldav_user.put(
        "windows",
        ics(vevent(DTSTART=";TZID=W. Europe Standard Time:20270302T090000",
                   DTEND=";TZID=W. Europe Standard Time:20270302T093000")),
    )  # fmt: skip
    caldav_user.put("floating", ics(vevent(DTSTART="20270303T090000", DTEND="20270303T100000")))
    caldav_user.put("floating-summer", ics(vevent(DTSTART="20270405T090000", DTEND="20270405T100000")))
    connected = caldav_connect()
    assert connected.blocks() == [
        (at("2027-03-02T08:00Z"), at("2027-03-02T08:30Z")),  # Windows zone name -> Europe/Berlin
        (at("2027-03-03T08:00Z"), at("2027-03-03T09:00Z")),  # floating: the merchant's zone (CET)
        (at("2027-03-10T14:00Z"), at("2027-03-10T15:00Z")),  # New York, EST; DURATION instead of DTEND
        (at("2027-04-05T07:00Z"), at("2027-04-05T08:00Z")),  # floating, CEST
    ]


@pytest.fixture
def email_user(radicale_server, caldav_faults) -> CalDAVUser:
    """A user whose login is an email address: their own ATTENDEE line is recognised by it."""
    name, password = radicale_server.user_add(name=f"me-{uuid.uuid4().hex[:8]}@example.com")
    url = radicale_server.calendar_create(name, "work", "Work")
    return CalDAVUser(
        radicale_server, caldav_faults, name, password, url.replace(radicale_server.url, caldav_faults.url)
    )


def _meeting(uid: str, day: int, **props) -> str:
    return vevent(uid, DTSTART=f"202703{day:02d}T090000Z", DTEND=f"202703{day:02d}T100000Z", **props)


RULE_EVENTS = {
    "plain": {},
    "cancelled": {"STATUS": "CANCELLED"},
    "transparent": {"TRANSP": "TRANSPARENT"},
    "tentative": {"STATUS": "TENTATIVE"},
    "ms-free": {"X_MICROSOFT_CDO_BUSYSTATUS": "FREE"},
    "declined": {"ATTENDEE": [";PARTSTAT=ACCEPTED:mailto:boss@example.com", ";PARTSTAT=DECLINED:mailto:{me}"]},
    "delegated": {"ATTENDEE": ";PARTSTAT=DELEGATED:mailto:{me}"},
    "needs-action": {"ATTENDEE": ";PARTSTAT=NEEDS-ACTION:mailto:{me}"},
    "maybe": {"ATTENDEE": ";PARTSTAT=TENTATIVE:mailto:{me}"},
    "accepted": {"ATTENDEE": [";PARTSTAT=DECLINED:mailto:someone@example.com", ";PARTSTAT=ACCEPTED:mailto:{ME}"]},
    "organizer": {"ORGANIZER": "mailto:{me}", "ATTENDEE": ";PARTSTAT=DECLINED:mailto:guest@example.com"},
}


def _put_rule_events(user: CalDAVUser) -> dict[str, int]:
    days = {}
    for day, (uid, props) in enumerate(RULE_EVENTS.items(), start=1):
        filled = {
            k: [v.format(me=user.name, ME=user.name.upper()) for v in (vs if isinstance(vs, list) else [vs])]
            for k, vs in props.items()
        }
        user.put(uid, ics(_meeting(uid, day, SUMMARY="Secret", LOCATION="Room 1", **filled)))
        days[uid] = day
    return days


def _busy_uids(connected, days: dict[str, int]) -> set[str]:
    by_day = {day: uid for uid, day in days.items()}
    return {by_day[start.day] for start, _ in connected.blocks()}


def test_every_busy_rule(caldav_connect, email_user):
    days = _put_rule_events(email_user)
    connected = caldav_connect(server=email_user.base_url, username=email_user.name, password=email_user.password)
    assert _busy_uids(connected, days) == {"plain", "accepted", "organizer"}


def test_tentative_ones_block_with_block_tentative(caldav_connect, email_user):
    days = _put_rule_events(email_user)
    connected = caldav_connect(server=email_user.base_url, username=email_user.name, password=email_user.password)
    connected.connection.block_tentative = True
    connected.connection.save(update_fields=["block_tentative"])
    connected.sync("manual")
    assert _busy_uids(connected, days) == {"plain", "accepted", "organizer", "tentative", "needs-action", "maybe"}


def test_own_attendee_found_by_the_calendar_user_address_set(caldav_connect, caldav_user):
    """Radicale's address set is a path; a server's mailto: addresses are matched the same way."""
    caldav_user.put("x", ics(_meeting("x", 1, ATTENDEE=";PARTSTAT=DECLINED:mailto:alias@example.org")))
    connected = caldav_connect()
    assert len(connected.blocks()) == 1  # not recognised as the merchant: busy
    connected.connection.calendar_user_addresses = "mailto:Alias@Example.org"
    connected.connection.save(update_fields=["calendar_user_addresses"])
    connected.sync("manual")
    assert connected.blocks() == []


def test_stored_objects_keep_timing_only(caldav_connect, email_user):
    _put_rule_events(email_user)
    connected = caldav_connect(server=email_user.base_url, username=email_user.name, password=email_user.password)
    objects = CalDAVObject.objects.filter(calendar=connected.calendar)
    assert objects.count() == len(RULE_EVENTS)
    text = "\n".join(objects.values_list("data", flat=True))
    for secret in ("Secret", "Room 1", "SUMMARY", "LOCATION", "boss@example.com", "someone@example.com", "guest@"):
        assert secret not in text
    assert "PARTSTAT=DECLINED" in text and "DTSTART" in text


def test_a_vendor_tzid_is_read_from_its_vtimezone(caldav_connect, caldav_user):
    """Kerio and others name zones their own way; the embedded VTIMEZONE defines them."""
    vendor = BERLIN_TZ.replace("TZID:Europe/Berlin", "TZID:Amsterdam, Belgrade, Berlin")
    caldav_user.put(
        "vendor",
        ics(vendor, vevent(DTSTART=";TZID=Amsterdam, Belgrade, Berlin:20270405T090000", DURATION="PT1H")),
    )
    connected = caldav_connect()
    assert connected.blocks() == [(at("2027-04-05T07:00Z"), at("2027-04-05T08:00Z"))]
