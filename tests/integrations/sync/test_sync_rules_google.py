"""Every busy rule of SPEC §4, end to end: an event in the emulator -> a sync over HTTP -> blocked times."""

import datetime as dt
from zoneinfo import ZoneInfo

from integrations.models import SyncRun
from scheduling.models import BlockedTime
from tests.integrations.sync.conftest import all_day_event, at, timed_event

BERLIN = ZoneInfo("Europe/Berlin")


def test_busy_timed_event_blocks_its_exact_instants(gcal):
    event_id = gcal.add(timed_event(at(2, 9, 30), minutes=45))
    run = gcal.sync()
    assert run.kind == SyncRun.Kind.INCREMENTAL
    assert gcal.blocks() == {event_id: (at(2, 9, 30), at(2, 10, 15), False)}


def test_timed_event_written_in_another_zone_keeps_its_instants(gcal):
    start = at(3, 15)  # 15:00 UTC = 10:00 in New York (EST) or 11:00 (EDT)
    local = start.astimezone(ZoneInfo("America/New_York"))
    event_id = gcal.add(
        {
            "start": {"dateTime": local.replace(tzinfo=None).isoformat(), "timeZone": "America/New_York"},
            "end": {
                "dateTime": (local + dt.timedelta(hours=1)).replace(tzinfo=None).isoformat(),
                "timeZone": "America/New_York",
            },
        }
    )
    gcal.sync()
    assert gcal.blocks() == {event_id: (start, start + dt.timedelta(hours=1), False)}


def test_cancelled_event_never_blocks_and_its_block_goes(gcal):
    event_id = gcal.add(timed_event(at(2)))
    gcal.sync()
    assert event_id in gcal.blocks()
    gcal.delete(event_id)
    gcal.sync()
    assert gcal.blocks() == {}
    gcal.add(timed_event(at(4), status="cancelled"))
    gcal.sync()
    assert gcal.blocks() == {}


def test_transparent_event_never_blocks(gcal):
    gcal.add(timed_event(at(2), transparency="transparent"))
    gcal.sync()
    assert gcal.blocks() == {}


def test_event_declined_by_the_merchant_never_blocks(gcal):
    attendees = [
        {"email": "boss@example.com", "organizer": True},
        {"email": gcal.connected.email, "responseStatus": "declined"},
    ]
    gcal.add(timed_event(at(2), attendees=attendees))
    accepted = [attendees[0], {"email": gcal.connected.email, "responseStatus": "accepted"}]
    accepted_id = gcal.add(timed_event(at(3), attendees=accepted))
    gcal.sync()
    assert set(gcal.blocks()) == {accepted_id}


def test_tentative_events_block_only_with_block_tentative(gcal):
    me = gcal.connected.email
    tentative_ids = {
        gcal.add(timed_event(at(2), status="tentative")),
        gcal.add(timed_event(at(3), attendees=[{"email": me, "responseStatus": "tentative"}])),
        gcal.add(timed_event(at(4), attendees=[{"email": me, "responseStatus": "needsAction"}])),
    }
    gcal.sync()
    assert gcal.blocks() == {}
    connection = gcal.connected.connection
    connection.block_tentative = True
    connection.save(update_fields=["block_tentative"])
    gcal.sync(SyncRun.Trigger.MANUAL)
    assert set(gcal.blocks()) == tentative_ids


def test_working_location_and_birthday_never_block(gcal):
    gcal.add(
        timed_event(
            at(2),
            eventType="workingLocation",
            transparency="transparent",
            visibility="public",
            workingLocationProperties={"type": "homeOffice", "homeOffice": {}},
        )
    )
    gcal.add(
        all_day_event(
            at(5).date(),
            eventType="birthday",
            transparency="transparent",
            visibility="private",
            recurrence=["RRULE:FREQ=YEARLY"],
            birthdayProperties={"type": "birthday"},
        )
    )
    gcal.sync()
    assert gcal.blocks() == {}


def test_out_of_office_and_focus_time_block_unless_transparent(gcal):
    ooo = gcal.add(
        timed_event(at(2), eventType="outOfOffice", outOfOfficeProperties={"autoDeclineMode": "declineNone"})
    )
    focus = gcal.add(timed_event(at(3), eventType="focusTime", focusTimeProperties={"chatStatus": "doNotDisturb"}))
    gcal.sync()
    assert set(gcal.blocks()) == {ooo, focus}
    gcal.update(focus, {"transparency": "transparent"})
    gcal.sync()
    assert set(gcal.blocks()) == {ooo}


def test_all_day_event_blocks_whole_days_in_the_merchants_zone(gcal):
    day = at(10).date()
    event_id = gcal.add(all_day_event(day, days=2))
    gcal.sync()
    start = dt.datetime.combine(day, dt.time(0), tzinfo=BERLIN)
    end = dt.datetime.combine(day + dt.timedelta(days=2), dt.time(0), tzinfo=BERLIN)
    assert gcal.blocks() == {event_id: (start.astimezone(dt.UTC), end.astimezone(dt.UTC), True)}


def test_all_day_events_block_only_with_block_all_day(gcal):
    connection = gcal.connected.connection
    connection.block_all_day = False
    connection.save(update_fields=["block_all_day"])
    gcal.add(all_day_event(at(10).date()))
    timed_id = gcal.add(timed_event(at(11)))
    gcal.sync()
    assert set(gcal.blocks()) == {timed_id}


def _next_dst_change(zone: ZoneInfo) -> dt.date:
    day = at(1).date()
    for _ in range(366):
        start = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
        if end.utcoffset() != start.utcoffset():
            return day
        day += dt.timedelta(days=1)
    raise AssertionError("no DST change within a year")


def test_all_day_event_on_a_dst_change_day_blocks_that_days_real_length(gcal):
    day = _next_dst_change(BERLIN)
    event_id = gcal.add(all_day_event(day))
    gcal.sync()
    start, end, all_day = gcal.blocks()[event_id]
    assert all_day
    assert start.astimezone(BERLIN).replace(tzinfo=None) == dt.datetime.combine(day, dt.time(0))
    assert end.astimezone(BERLIN).replace(tzinfo=None) == dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0))
    assert end - start in (dt.timedelta(hours=23), dt.timedelta(hours=25))


def test_event_changing_from_busy_to_free_and_back(gcal):
    event_id = gcal.add(timed_event(at(2)))
    gcal.sync()
    assert event_id in gcal.blocks()
    gcal.update(event_id, {"transparency": "transparent"})
    gcal.sync()
    assert gcal.blocks() == {}
    gcal.update(event_id, {"transparency": "opaque"})
    gcal.sync()
    assert gcal.blocks() == {event_id: (at(2), at(2, 11), False)}


def test_moving_an_event_moves_its_block(gcal):
    event_id = gcal.add(timed_event(at(2)))
    gcal.sync()
    block_pk = BlockedTime.objects.get(external_key=event_id).pk
    gcal.update(event_id, timed_event(at(5, 14), minutes=30))
    gcal.sync()
    assert gcal.blocks() == {event_id: (at(5, 14), at(5, 14, 30), False)}
    assert BlockedTime.objects.get(external_key=event_id).pk == block_pk


def test_synced_blocks_keep_no_event_details(gcal):
    gcal.add(
        timed_event(
            at(2),
            summary="Divorce lawyer",
            description="bring papers",
            location="12 Secret Street",
            attendees=[{"email": "lawyer@example.com"}, {"email": gcal.connected.email, "responseStatus": "accepted"}],
            conferenceData=None,
        )
    )
    gcal.sync()
    block = BlockedTime.objects.get(calendar_id=gcal.calendar.pk)
    assert block.note == ""
    assert block.source == "google"
    stored = " ".join(str(v) for v in BlockedTime.objects.filter(pk=block.pk).values().first().values())
    for secret in ("Divorce", "papers", "Secret Street", "lawyer@"):
        assert secret not in stored
