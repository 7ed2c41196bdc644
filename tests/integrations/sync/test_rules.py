"""The busy rules of SPEC §4 on provider-neutral events (pure functions, no database)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from integrations.providers.base import EventKind, EventStatus, RemoteEvent, Response
from integrations.sync.rules import BlockInterval, BlockReason, BusyPreferences, Window, event_block

BERLIN = ZoneInfo("Europe/Berlin")
UTC = dt.UTC
DEFAULTS = BusyPreferences()
START = dt.datetime(2030, 3, 4, 9, 0, tzinfo=UTC)
END = dt.datetime(2030, 3, 4, 10, 0, tzinfo=UTC)


def timed(**fields) -> RemoteEvent:
    return RemoteEvent(id="ev1", **{"start": START, "end": END, **fields})


def block(event, prefs=DEFAULTS, zone=BERLIN, window=None):
    return event_block(event, prefs=prefs, zone=zone, window=window)


def test_confirmed_opaque_event_blocks_its_exact_instants():
    assert block(timed()) == BlockInterval(start=START, end=END, all_day=False)


def test_cancelled_event_never_blocks():
    assert block(timed(status=EventStatus.CANCELLED)) is None
    assert block(RemoteEvent(id="tombstone", status=EventStatus.CANCELLED)) is None


def test_transparent_event_never_blocks():
    assert block(timed(transparent=True)) is None


def test_declined_by_the_merchant_never_blocks():
    assert block(timed(own_response=Response.DECLINED)) is None
    assert block(timed(own_response=Response.DECLINED), BusyPreferences(block_tentative=True)) is None


def test_accepted_invitation_blocks():
    assert block(timed(own_response=Response.ACCEPTED)) is not None


@pytest.mark.parametrize(
    "event",
    [
        timed(status=EventStatus.TENTATIVE),
        timed(own_response=Response.TENTATIVE),
        timed(own_response=Response.NEEDS_ACTION),
    ],
    ids=["status-tentative", "response-tentative", "response-needs-action"],
)
def test_tentative_blocks_only_when_the_merchant_asks(event):
    assert block(event, BusyPreferences(block_tentative=False)) is None
    assert block(event, BusyPreferences(block_tentative=True)) == BlockInterval(
        START, END, reason=BlockReason.TENTATIVE
    )


@pytest.mark.parametrize("kind", [EventKind.WORKING_LOCATION, EventKind.BIRTHDAY])
def test_working_location_and_birthday_never_block(kind):
    assert block(timed(kind=kind)) is None
    assert block(timed(kind=kind), BusyPreferences(block_tentative=True, block_all_day=True)) is None


@pytest.mark.parametrize("kind", [EventKind.OUT_OF_OFFICE, EventKind.FOCUS_TIME])
def test_out_of_office_and_focus_time_block_unless_transparent(kind):
    assert block(timed(kind=kind)) == BlockInterval(START, END)
    assert block(timed(kind=kind, transparent=True)) is None


def test_all_day_event_blocks_whole_days_in_the_merchants_zone():
    event = RemoteEvent(id="ad", start_date=dt.date(2030, 7, 12), end_date=dt.date(2030, 7, 14))
    assert block(event) == BlockInterval(
        start=dt.datetime(2030, 7, 11, 22, 0, tzinfo=UTC),  # 00:00 CEST
        end=dt.datetime(2030, 7, 13, 22, 0, tzinfo=UTC),
        all_day=True,
        reason=BlockReason.ALL_DAY,
    )
    tokyo = block(event, zone=ZoneInfo("Asia/Tokyo"))
    assert tokyo.start == dt.datetime(2030, 7, 11, 15, 0, tzinfo=UTC)


def test_all_day_event_blocks_only_when_the_merchant_asks():
    event = RemoteEvent(id="ad", start_date=dt.date(2030, 7, 12), end_date=dt.date(2030, 7, 13))
    assert block(event, BusyPreferences(block_all_day=False)) is None
    assert block(event, BusyPreferences(block_all_day=True)) is not None


@pytest.mark.parametrize(
    ("day", "hours"),
    [(dt.date(2030, 3, 31), 23), (dt.date(2030, 10, 27), 25), (dt.date(2030, 6, 1), 24)],
    ids=["spring-forward", "fall-back", "ordinary"],
)
def test_all_day_event_on_a_dst_change_day_lasts_that_days_hours(day, hours):
    event = RemoteEvent(id="dst", start_date=day, end_date=day + dt.timedelta(days=1))
    interval = block(event)
    assert interval.end - interval.start == dt.timedelta(hours=hours)
    assert interval.start.astimezone(BERLIN).time() == dt.time(0)
    assert interval.end.astimezone(BERLIN).time() == dt.time(0)


def test_all_day_when_midnight_itself_is_skipped():
    # Chile springs forward at 00:00: that day starts at 01:00 local, 04:00 UTC.
    santiago = ZoneInfo("America/Santiago")
    event = RemoteEvent(id="cl", start_date=dt.date(2030, 9, 8), end_date=dt.date(2030, 9, 9))
    interval = block(event, zone=santiago)
    assert interval.start == dt.datetime(2030, 9, 8, 4, 0, tzinfo=UTC)
    assert interval.end - interval.start == dt.timedelta(hours=23)


def test_timed_event_keeps_its_instants_whatever_zone_it_was_written_in():
    new_york = ZoneInfo("America/New_York")
    event = timed(
        start=dt.datetime(2030, 3, 4, 4, 0, tzinfo=new_york), end=dt.datetime(2030, 3, 4, 5, 0, tzinfo=new_york)
    )
    assert block(event) == BlockInterval(start=START, end=END)
    assert block(event).start.tzinfo == UTC


def test_events_with_unusable_timing_do_not_block():
    assert block(timed(end=START)) is None  # zero length
    assert block(timed(start=END, end=START)) is None
    assert block(RemoteEvent(id="x")) is None
    assert block(timed(start=START.replace(tzinfo=None), end=END.replace(tzinfo=None))) is None


def test_window_drops_intervals_outside_it():
    window = Window(start=START - dt.timedelta(days=1), end=START + dt.timedelta(days=1))
    assert block(timed(), window=window) is not None
    later = timed(start=START + dt.timedelta(days=2), end=END + dt.timedelta(days=2))
    assert block(later, window=window) is None
    straddling = timed(start=window.end - dt.timedelta(minutes=30), end=window.end + dt.timedelta(minutes=30))
    assert block(straddling, window=window) is not None


def test_busy_to_free_and_back():
    busy = timed()
    assert block(busy) is not None
    assert block(timed(transparent=True)) is None
    assert block(busy) is not None


# --- why a block blocks (BlockedTime.reason) ------------------------------------------------


ALL_ON = BusyPreferences(block_tentative=True, block_all_day=True)


def all_day(**fields) -> RemoteEvent:
    return RemoteEvent(id="ad", start_date=dt.date(2030, 7, 12), end_date=dt.date(2030, 7, 13), **fields)


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (timed(), BlockReason.BUSY),
        (timed(own_response=Response.ACCEPTED), BlockReason.BUSY),
        (timed(kind=EventKind.OUT_OF_OFFICE), BlockReason.BUSY),
        (timed(status=EventStatus.TENTATIVE), BlockReason.TENTATIVE),
        (timed(own_response=Response.TENTATIVE), BlockReason.TENTATIVE),
        (timed(own_response=Response.NEEDS_ACTION), BlockReason.TENTATIVE),
        (all_day(), BlockReason.ALL_DAY),
        (all_day(own_response=Response.ACCEPTED), BlockReason.ALL_DAY),
        # Tentative and all-day: both settings let it through; the tentative one is named.
        (all_day(own_response=Response.NEEDS_ACTION), BlockReason.TENTATIVE),
    ],
    ids=[
        "busy",
        "accepted",
        "out-of-office",
        "status-tentative",
        "response-tentative",
        "needs-action",
        "all-day",
        "all-day-accepted",
        "all-day-tentative",
    ],
)
def test_every_block_says_why_it_blocks(event, reason):
    assert block(event, ALL_ON).reason is reason


def test_reasons_are_the_stored_values():
    from scheduling.models import BlockedTime

    assert {str(r) for r in BlockReason} == set(BlockedTime.Reason.values)
