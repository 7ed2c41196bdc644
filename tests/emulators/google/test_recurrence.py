"""Recurring events: expansion with singleEvents, instance ids, exceptions, instances, sync of series changes."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.emulators.google.conftest import ANN
from tests.emulators.google.support import assert_schema

TZ = "Europe/Berlin"


def weekly(start: str, end: str, *rules: str, **extra) -> dict:
    return {
        "summary": "series",
        "start": {"dateTime": start, "timeZone": TZ},
        "end": {"dateTime": end, "timeZone": TZ},
        "recurrence": list(rules),
        **extra,
    }


def expand(service, **params) -> list[dict]:
    items, token = [], None
    while True:
        page = service.events().list(calendarId="primary", singleEvents=True, pageToken=token, **params).execute()
        assert_schema(page, "Events")
        items += page["items"]
        token = page.get("nextPageToken")
        if not token:
            return items


def test_single_events_expands_rrule_in_the_series_zone_across_dst(emu, service):
    # Weekly Sundays 10:00 Berlin, across the end of March DST switch.
    master = emu.insert_event(ANN, weekly("2030-03-17T10:00:00", "2030-03-17T11:00:00", "RRULE:FREQ=WEEKLY;COUNT=3"))
    items = expand(service)
    assert [e["start"]["dateTime"] for e in items] == [
        "2030-03-17T10:00:00+01:00",
        "2030-03-24T10:00:00+01:00",
        "2030-03-31T10:00:00+02:00",
    ]
    assert [e["id"] for e in items] == [
        master["id"] + "_20300317T090000Z",
        master["id"] + "_20300324T090000Z",
        master["id"] + "_20300331T080000Z",
    ]
    for item in items:
        assert item["recurringEventId"] == master["id"]
        assert item["originalStartTime"] == {"dateTime": item["start"]["dateTime"], "timeZone": TZ}
        assert item["iCalUID"] == master["iCalUID"]
        assert "recurrence" not in item
        assert item["end"]["timeZone"] == TZ


def test_exdate_rdate_and_all_day_series(emu, service):
    timed = emu.insert_event(
        ANN,
        weekly(
            "2030-01-07T09:00:00",
            "2030-01-07T10:00:00",
            "RRULE:FREQ=WEEKLY;UNTIL=20300128T235959Z",
            "EXDATE;TZID=Europe/Berlin:20300114T090000",
            "RDATE;TZID=Europe/Berlin:20300110T150000",
        ),
    )
    all_day = emu.insert_event(
        ANN,
        {
            "start": {"date": "2030-02-01"},
            "end": {"date": "2030-02-02"},
            "recurrence": ["RRULE:FREQ=DAILY;COUNT=4", "EXDATE;VALUE=DATE:20300202"],
        },
    )
    items = expand(service)
    timed_ids = [e["id"][len(timed["id"]) + 1 :] for e in items if e["recurringEventId"] == timed["id"]]
    assert timed_ids == ["20300107T080000Z", "20300110T140000Z", "20300121T080000Z", "20300128T080000Z"]
    days = [e for e in items if e["recurringEventId"] == all_day["id"]]
    assert [e["id"] for e in days] == [all_day["id"] + s for s in ("_20300201", "_20300203", "_20300204")]
    assert days[0]["start"] == {"date": "2030-02-01"} and days[0]["originalStartTime"] == {"date": "2030-02-01"}


def test_single_events_false_lists_masters_and_exceptions(emu, service):
    master = emu.insert_event(ANN, weekly("2030-01-07T09:00:00", "2030-01-07T10:00:00", "RRULE:FREQ=WEEKLY;COUNT=4"))
    moved = emu.update_event(
        ANN,
        master["id"] + "_20300114T080000Z",
        {"start": {"dateTime": "2030-01-15T13:00:00+01:00"}, "end": {"dateTime": "2030-01-15T14:00:00+01:00"}},
    )
    emu.delete_event(ANN, master["id"] + "_20300121T080000Z")
    listed = service.events().list(calendarId="primary").execute()["items"]
    assert [e["id"] for e in listed] == [master["id"], moved["id"], master["id"] + "_20300121T080000Z"]
    assert listed[0]["recurrence"] == ["RRULE:FREQ=WEEKLY;COUNT=4"]
    assert listed[1]["start"]["dateTime"] == "2030-01-15T13:00:00+01:00"
    assert listed[1]["originalStartTime"]["dateTime"] == "2030-01-14T09:00:00+01:00"
    cancelled = listed[2]
    assert set(cancelled) == {"kind", "etag", "id", "status", "recurringEventId", "originalStartTime"}
    assert cancelled["status"] == "cancelled"

    expanded = expand(service)
    assert [e["start"]["dateTime"] for e in expanded] == [
        "2030-01-07T09:00:00+01:00",
        "2030-01-15T13:00:00+01:00",
        "2030-01-28T09:00:00+01:00",
    ]
    with_deleted = expand(service, showDeleted=True)
    assert [e["status"] for e in with_deleted].count("cancelled") == 1


def test_infinite_series_is_expanded_to_the_horizon_and_paging_ends(emu, service):
    emu.horizon_days = 60
    today = dt.date.today()
    start = dt.datetime.combine(today, dt.time(9)).isoformat()
    end = dt.datetime.combine(today, dt.time(10)).isoformat()
    emu.insert_event(ANN, weekly(start, end, "RRULE:FREQ=DAILY"))
    items = expand(service, maxResults=25)
    assert 59 <= len(items) <= 62
    windowed = expand(
        service,
        timeMin=f"{today + dt.timedelta(days=100)}T00:00:00Z",
        timeMax=f"{today + dt.timedelta(days=103)}T00:00:00Z",
    )
    assert len(windowed) == 3  # an explicit window reaches past the horizon


def test_instances_endpoint(emu, service):
    master = emu.insert_event(ANN, weekly("2030-01-07T09:00:00", "2030-01-07T10:00:00", "RRULE:FREQ=WEEKLY;COUNT=5"))
    emu.delete_event(ANN, master["id"] + "_20300114T080000Z")
    answer = service.events().instances(calendarId="primary", eventId=master["id"]).execute()
    assert_schema(answer, "Events")
    assert len(answer["items"]) == 4 and "nextSyncToken" not in answer and "nextPageToken" not in answer
    paged = service.events().instances(calendarId="primary", eventId=master["id"], maxResults=3).execute()
    assert len(paged["items"]) == 3 and paged["nextPageToken"]
    all_of_them = service.events().instances(calendarId="primary", eventId=master["id"], showDeleted=True).execute()
    assert [e["status"] for e in all_of_them["items"]].count("cancelled") == 1
    window = (
        service.events()
        .instances(
            calendarId="primary", eventId=master["id"], timeMin="2030-01-20T00:00:00Z", timeMax="2030-01-29T00:00:00Z"
        )
        .execute()
    )
    assert [e["id"][-16:] for e in window["items"]] == ["20300121T080000Z", "20300128T080000Z"]
    one = service.events().get(calendarId="primary", eventId=master["id"] + "_20300121T080000Z").execute()
    assert one["recurringEventId"] == master["id"]


def test_incremental_sync_of_series_changes(emu, service):
    master = emu.insert_event(ANN, weekly("2030-01-07T09:00:00", "2030-01-07T10:00:00", "RRULE:FREQ=WEEKLY;COUNT=4"))
    token = service.events().list(calendarId="primary", singleEvents=True).execute()["nextSyncToken"]
    emu.delete_event(ANN, master["id"] + "_20300114T080000Z")
    delta = service.events().list(calendarId="primary", singleEvents=True, syncToken=token).execute()
    assert [(e["id"][-16:], e["status"]) for e in delta["items"]] == [("20300114T080000Z", "cancelled")]
    assert delta["items"][0]["originalStartTime"]["dateTime"] == "2030-01-14T09:00:00+01:00"
    token = delta["nextSyncToken"]
    # Shortening the rule removes occurrences: they come back cancelled.
    emu.update_event(ANN, master["id"], {"recurrence": ["RRULE:FREQ=WEEKLY;COUNT=2"]})
    delta = service.events().list(calendarId="primary", singleEvents=True, syncToken=token).execute()
    states = {e["id"][-16:]: e["status"] for e in delta["items"]}
    assert states == {
        "20300107T080000Z": "confirmed",
        "20300114T080000Z": "cancelled",
        "20300121T080000Z": "cancelled",
        "20300128T080000Z": "cancelled",
    }
    token = delta["nextSyncToken"]
    emu.delete_event(ANN, master["id"])
    delta = service.events().list(calendarId="primary", singleEvents=True, syncToken=token).execute()
    assert {e["status"] for e in delta["items"]} == {"cancelled"} and delta["items"]
    masters = service.events().list(calendarId="primary", syncToken=token).execute()["items"]
    assert [(e["id"], e["status"]) for e in masters] == [(master["id"], "cancelled")]


def test_invalid_rule_is_rejected(emu):
    from integrations.emulators.google import EmulatorError

    with pytest.raises(EmulatorError):
        emu.insert_event(ANN, weekly("2030-01-07T09:00:00", "2030-01-07T10:00:00", "RRULE:FREQ=SOMETIMES"))


# --- fidelity found with a third-party client and real event data -----------------------------


def test_an_occurrence_without_its_series_is_listed_by_full_and_incremental_listings(emu, service):
    """Invited to one occurrence only: the calendar holds that instance, not its master."""
    orphan = emu.insert_event(
        ANN,
        {
            "id": "otherseries01_20300114T080000Z",
            "recurringEventId": "otherseries01",
            "originalStartTime": {"dateTime": "2030-01-14T09:00:00+01:00", "timeZone": TZ},
            "start": {"dateTime": "2030-01-14T09:30:00+01:00", "timeZone": TZ},
            "end": {"dateTime": "2030-01-14T10:30:00+01:00", "timeZone": TZ},
        },
    )
    one_off = emu.insert_event(
        ANN, {"start": {"dateTime": "2030-01-15T09:00:00+01:00"}, "end": {"dateTime": "2030-01-15T10:00:00+01:00"}}
    )
    first = service.events().list(calendarId="primary", singleEvents=True).execute()
    assert [e["id"] for e in first["items"]] == [orphan["id"], one_off["id"]]
    listed = first["items"][0]
    assert listed["recurringEventId"] == "otherseries01"
    assert listed["originalStartTime"]["dateTime"] == "2030-01-14T09:00:00+01:00"
    assert listed["start"]["dateTime"] == "2030-01-14T09:30:00+01:00"
    windowed = expand(service, timeMin="2030-01-14T00:00:00Z", timeMax="2030-01-15T00:00:00Z")
    assert [e["id"] for e in windowed] == [orphan["id"]]
    assert [e["id"] for e in service.events().list(calendarId="primary").execute()["items"]] == [
        orphan["id"],
        one_off["id"],
    ]

    # Uninvited: a tombstone for incremental syncs, gone from full listings without showDeleted.
    emu.delete_event(ANN, orphan["id"])
    delta = service.events().list(calendarId="primary", singleEvents=True, syncToken=first["nextSyncToken"]).execute()
    assert [(e["id"], e["status"]) for e in delta["items"]] == [(orphan["id"], "cancelled")]
    assert [e["id"] for e in expand(service)] == [one_off["id"]]
    assert [e["id"] for e in service.events().list(calendarId="primary").execute()["items"]] == [one_off["id"]]
    assert [e["status"] for e in expand(service, showDeleted=True)] == ["cancelled", "confirmed"]


def test_all_day_series_reads_tzid_exdate_and_rdate_values_as_the_date_written(emu, service):
    # In a calendar far west of Berlin, Berlin midnight of the 5th is still the 4th: the date
    # written (5th) is what Google excludes, not the date of that instant in the series zone.
    emu.add_calendar(ANN, "westcoast@example.com", summary="West", time_zone="America/Los_Angeles")
    series = emu.insert_event(
        "westcoast@example.com",
        {
            "start": {"date": "2026-01-01"},
            "end": {"date": "2026-01-02"},
            "recurrence": [
                "RRULE:FREQ=WEEKLY;COUNT=3;BYDAY=MO",
                "EXDATE;TZID=Europe/Berlin:20260105T000000",
                "RDATE;TZID=Europe/Berlin:20260110T000000",
                "EXDATE:20260119T000000Z",
            ],
        },
    )
    items = service.events().list(calendarId="westcoast@example.com", singleEvents=True).execute()["items"]
    assert [e["id"][len(series["id"]) + 1 :] for e in items] == ["20260110", "20260112"]
    assert [e["start"] for e in items] == [{"date": "2026-01-10"}, {"date": "2026-01-12"}]


def test_an_rdate_before_the_series_start_is_an_instance(emu, service):
    timed = emu.insert_event(
        ANN,
        weekly(
            "2030-01-07T09:00:00",
            "2030-01-07T10:00:00",
            "RRULE:FREQ=WEEKLY;COUNT=2",
            "RDATE;TZID=Europe/Berlin:20300102T150000",
        ),
    )
    all_day = emu.insert_event(
        ANN,
        {
            "start": {"date": "2030-02-10"},
            "end": {"date": "2030-02-11"},
            "recurrence": ["RRULE:FREQ=DAILY;COUNT=2", "RDATE;VALUE=DATE:20300201"],
        },
    )
    items = expand(service)
    assert [e["start"].get("dateTime") or e["start"]["date"] for e in items] == [
        "2030-01-02T15:00:00+01:00",
        "2030-01-07T09:00:00+01:00",
        "2030-01-14T09:00:00+01:00",
        "2030-02-01",
        "2030-02-10",
        "2030-02-11",
    ]
    assert items[0]["id"] == timed["id"] + "_20300102T140000Z"
    assert items[3]["id"] == all_day["id"] + "_20300201"
    instances = service.events().instances(calendarId="primary", eventId=timed["id"]).execute()["items"]
    assert len(instances) == 3
    early = service.events().get(calendarId="primary", eventId=timed["id"] + "_20300102T140000Z").execute()
    assert early["originalStartTime"]["dateTime"] == "2030-01-02T15:00:00+01:00"
    # A window that holds only the early instance finds the series too (singleEvents=false).
    window = dict(timeMin="2030-01-02T00:00:00Z", timeMax="2030-01-03T00:00:00Z")
    assert [e["id"] for e in service.events().list(calendarId="primary", **window).execute()["items"]] == [timed["id"]]


@pytest.mark.parametrize(
    ("zone", "utc"),
    [
        ("GMT+02:00", "2030-01-05T08:00:00Z"),
        ("GMT-05:30", "2030-01-05T15:30:00Z"),
        ("UTC", "2030-01-05T10:00:00Z"),
        ("GMT", "2030-01-05T10:00:00Z"),
    ],
)
def test_an_event_in_an_offset_named_zone_is_placed_at_that_offset(emu, service, zone, utc):
    event = emu.insert_event(
        ANN,
        {
            "start": {"dateTime": "2030-01-05T10:00:00", "timeZone": zone},
            "end": {"dateTime": "2030-01-05T11:00:00", "timeZone": zone},
        },
    )
    item = service.events().get(calendarId="primary", eventId=event["id"], timeZone="UTC").execute()
    assert item["start"] == {"dateTime": utc, "timeZone": zone}
