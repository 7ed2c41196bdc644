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
