"""Every busy rule of SPEC §8.1, end to end: an event stored in the emulator, listed by the real
client over Graph, mapped, and judged by ``integrations.sync.rules.event_block``."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from integrations.sync.rules import BusyPreferences, event_block
from tests.emulators.microsoft.support import timed, when

BERLIN = ZoneInfo("Europe/Berlin")
PLAIN = BusyPreferences(block_tentative=False, block_all_day=True)
TENTATIVE_TOO = BusyPreferences(block_tentative=True, block_all_day=True)
NO_ALL_DAY = BusyPreferences(block_tentative=False, block_all_day=False)
BOSS = {"emailAddress": {"name": "Pat", "address": "pat@fabrikam.com"}}


def listed(client, calendar_id):
    pages = client.list_events(
        calendar_id,
        cursor=None,
        window_start=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
        window_end=dt.datetime(2030, 3, 1, tzinfo=dt.UTC),
    )
    return [e for p in pages for e in p.events]


def invitation(response: str, **fields) -> dict:
    return timed(
        "Invite",
        "2030-01-10",
        9,
        10,
        isOrganizer=False,
        organizer=BOSS,
        responseStatus={"response": response, "time": "2029-12-01T10:00:00Z"},
        **fields,
    )


CASES = [
    # (event, blocks without block_tentative, blocks with it)
    ("busy", timed("Busy", "2030-01-10", 9, 10, showAs="busy"), True, True),
    ("oof", timed("Away", "2030-01-10", 9, 10, showAs="oof"), True, True),
    ("unknown", timed("Unknown", "2030-01-10", 9, 10, showAs="unknown"), True, True),
    ("free", timed("Free", "2030-01-10", 9, 10, showAs="free"), False, False),
    ("working-elsewhere", timed("Elsewhere", "2030-01-10", 9, 10, showAs="workingElsewhere"), False, False),
    ("tentative", timed("Maybe", "2030-01-10", 9, 10, showAs="tentative"), False, True),
    ("cancelled", timed("Cancelled", "2030-01-10", 9, 10, isCancelled=True), False, False),
    ("cancelled-invite", invitation("accepted", isCancelled=True), False, False),
    ("declined", invitation("declined"), False, False),
    ("declined-but-busy", invitation("declined", showAs="busy"), False, False),
    ("not-responded", invitation("notResponded"), False, True),
    ("none-on-an-invite", invitation("none"), False, True),
    ("tentatively-accepted", invitation("tentativelyAccepted", showAs="tentative"), False, True),
    ("accepted", invitation("accepted"), True, True),
    ("own-appointment-none", timed("Own", "2030-01-10", 9, 10, responseStatus={"response": "none"}), True, True),
    ("organizer", timed("Mine", "2030-01-10", 9, 10, responseStatus={"response": "organizer"}), True, True),
]


@pytest.mark.parametrize(("name", "event", "plain", "with_tentative"), CASES, ids=[c[0] for c in CASES])
def test_busy_rules(ms, client, calendar_id, name, event, plain, with_tentative):
    ms.insert_event(calendar_id, event)
    (remote,) = listed(client, calendar_id)
    expected = (dt.datetime(2030, 1, 10, 9, tzinfo=dt.UTC), dt.datetime(2030, 1, 10, 10, tzinfo=dt.UTC))
    for prefs, blocks in ((PLAIN, plain), (TENTATIVE_TOO, with_tentative)):
        block = event_block(remote, prefs=prefs, zone=BERLIN)
        assert (block is not None) == blocks, (name, prefs)
        if block is not None:
            assert (block.start, block.end) == expected and not block.all_day


def test_all_day_events_block_their_own_dates_in_the_merchants_zone(ms, client, calendar_id):
    ms.insert_event(
        calendar_id,
        {
            "subject": "Trade fair",
            "isAllDay": True,
            "start": when("2030-01-07", tz="Pacific Standard Time"),
            "end": when("2030-01-09", tz="Pacific Standard Time"),
        },
    )
    (remote,) = listed(client, calendar_id)
    assert remote.start_date == dt.date(2030, 1, 7) and remote.end_date == dt.date(2030, 1, 9)
    block = event_block(remote, prefs=PLAIN, zone=BERLIN)
    assert block.all_day
    assert block.start == dt.datetime(2030, 1, 6, 23, tzinfo=dt.UTC) and block.end == dt.datetime(
        2030, 1, 8, 23, tzinfo=dt.UTC
    )
    assert event_block(remote, prefs=NO_ALL_DAY, zone=BERLIN) is None


def test_occurrences_and_exceptions_block_their_own_time_and_masters_nothing(ms, client, calendar_id):
    master = ms.insert_event(
        calendar_id,
        {
            **timed("Weekly", "2030-01-07", 9, 10, tz="W. Europe Standard Time"),
            "recurrence": {
                "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
                "range": {"type": "numbered", "startDate": "2030-01-07", "numberOfOccurrences": 3},
            },
        },
    )
    occurrences = ms.instances(calendar_id, master["id"], "2030-01-01T00:00:00Z", "2030-03-01T00:00:00Z")
    ms.update_event(
        calendar_id,
        occurrences[1]["id"],
        {
            "start": when("2030-01-14", 15, tz="W. Europe Standard Time"),
            "end": when("2030-01-14", 16, tz="W. Europe Standard Time"),
        },
    )
    ms.update_event(calendar_id, occurrences[2]["id"], {"showAs": "free"})
    events = listed(client, calendar_id)
    assert master["id"] not in {e.id for e in events} and len(events) == 3
    blocks = [event_block(e, prefs=PLAIN, zone=BERLIN) for e in events]
    assert [(b.start.day, b.start.hour) if b else None for b in blocks] == [(7, 8), (14, 14), None]


def test_removed_items_map_to_cancelled_events_that_block_nothing(ms, client, calendar_id):
    event = ms.insert_event(calendar_id, timed("Gone soon", "2030-01-10", 9, 10))
    pages = list(
        client.list_events(
            calendar_id,
            cursor=None,
            window_start=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
            window_end=dt.datetime(2030, 3, 1, tzinfo=dt.UTC),
        )
    )
    ms.delete_event(calendar_id, event["id"])
    later = list(
        client.list_events(
            calendar_id,
            cursor=pages[-1].next_cursor,
            window_start=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
            window_end=dt.datetime(2030, 3, 1, tzinfo=dt.UTC),
        )
    )
    (removed,) = [e for p in later for e in p.events]
    assert removed.id == event["id"] and event_block(removed, prefs=TENTATIVE_TOO, zone=BERLIN) is None
