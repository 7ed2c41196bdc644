"""Event shapes met in real calendars, end to end: emulator -> sync over HTTP -> blocked times."""

import datetime as dt

from tests.integrations.sync.conftest import at

UTC = dt.UTC


def test_an_occurrence_the_merchant_was_invited_to_alone_blocks_from_the_first_full_sync(gcal):
    start = at(3, 9)
    instance_id = f"otherseries01_{start:%Y%m%dT%H%M%SZ}"
    gcal.add(
        {
            "id": instance_id,
            "recurringEventId": "otherseries01",
            "originalStartTime": {"dateTime": start.isoformat(), "timeZone": "UTC"},
            "start": {"dateTime": start.isoformat(), "timeZone": "UTC"},
            "end": {"dateTime": (start + dt.timedelta(hours=1)).isoformat(), "timeZone": "UTC"},
        }
    )
    # A full listing (as after a reconnect or an expired cursor) must see it, not only a delta.
    gcal.emulator.invalidate_sync_tokens(gcal.google_id)
    run = gcal.sync()
    assert run.kind == "full"
    assert gcal.blocks() == {instance_id: (start, start + dt.timedelta(hours=1), False)}
    # And the reconcile of the next full sync keeps it.
    gcal.emulator.invalidate_sync_tokens(gcal.google_id)
    gcal.sync()
    assert set(gcal.blocks()) == {instance_id}


def test_an_event_written_in_an_offset_named_zone_blocks_at_that_offset(gcal):
    day = at(4).date()
    event_id = gcal.add(
        {
            "start": {"dateTime": f"{day}T10:00:00", "timeZone": "GMT+02:00"},
            "end": {"dateTime": f"{day}T11:30:00", "timeZone": "GMT+02:00"},
        }
    )
    gcal.sync()
    start = dt.datetime.combine(day, dt.time(8, 0), tzinfo=UTC)
    assert gcal.blocks() == {event_id: (start, start + dt.timedelta(minutes=90), False)}


def test_all_day_series_exdate_with_a_tzid_removes_the_date_written(gcal):
    first = at(7).date()
    skipped = first + dt.timedelta(days=1)
    added = first + dt.timedelta(days=5)
    series = gcal.add(
        {
            "start": {"date": first.isoformat()},
            "end": {"date": (first + dt.timedelta(days=1)).isoformat()},
            "recurrence": [
                "RRULE:FREQ=DAILY;COUNT=3",
                f"EXDATE;TZID=Asia/Tokyo:{skipped:%Y%m%d}T000000",
                f"RDATE;TZID=Asia/Tokyo:{added:%Y%m%d}T000000",
            ],
        }
    )
    gcal.sync()
    days = sorted(key.rpartition("_")[2] for key in gcal.blocks() if key.startswith(series))
    expected = [first, first + dt.timedelta(days=2), added]
    assert days == [f"{d:%Y%m%d}" for d in expected]
