"""freeBusy.query through googleapiclient: what is busy, clipping and merging, per-calendar errors."""

from __future__ import annotations

import pytest
from googleapiclient.errors import HttpError

from tests.emulators.google.conftest import ANN, calendar_service, credentials_for
from tests.emulators.google.support import EVENTS_READONLY, assert_error_body, assert_schema

DAY = "2030-01-07"


def at(hour: int, minute: int = 0) -> str:
    return f"{DAY}T{hour:02d}:{minute:02d}:00Z"


def event(start: int, end: int, **extra) -> dict:
    return {"start": {"dateTime": at(start)}, "end": {"dateTime": at(end)}, **extra}


def query(service, *ids, start=None, end=None, **extra) -> dict:
    body = {"timeMin": start or at(0), "timeMax": end or at(23, 59), "items": [{"id": i} for i in ids], **extra}
    answer = service.freebusy().query(body=body).execute()
    assert_schema(answer, "FreeBusyResponse")
    return answer


def busy(answer: dict, calendar_id: str = ANN) -> list[tuple[str, str]]:
    return [(p["start"], p["end"]) for p in answer["calendars"][calendar_id]["busy"]]


def test_busy_is_opaque_not_cancelled_not_declined(emu, service):
    emu.insert_event(ANN, event(8, 9))
    emu.insert_event(ANN, event(10, 11, transparency="transparent"))
    gone = emu.insert_event(ANN, event(12, 13))
    emu.delete_event(ANN, gone["id"])
    emu.insert_event(ANN, event(14, 15, attendees=[{"email": ANN, "responseStatus": "declined"}]))
    emu.insert_event(ANN, event(16, 17, attendees=[{"email": ANN, "responseStatus": "needsAction"}]))
    emu.insert_event(ANN, event(18, 19, status="tentative"))
    answer = query(service, ANN)
    assert answer["kind"] == "calendar#freeBusy"
    assert answer["timeMin"] == "2030-01-07T00:00:00.000Z"
    assert busy(answer) == [(at(8), at(9)), (at(16), at(17)), (at(18), at(19))]


def test_periods_are_clipped_to_the_interval_and_merged(emu, service):
    emu.insert_event(ANN, event(8, 10))
    emu.insert_event(ANN, event(9, 11))
    emu.insert_event(ANN, event(11, 12))  # touching: one period
    emu.insert_event(ANN, event(14, 16))
    assert busy(query(service, ANN, start=at(9, 30), end=at(15))) == [(at(9, 30), at(12)), (at(14), at(15))]
    assert busy(query(service, ANN, start=at(12), end=at(14))) == []


def test_recurring_series_and_all_day_events_are_expanded(emu, service):
    emu.insert_event(
        ANN,
        {
            "start": {"dateTime": "2030-01-01T09:00:00", "timeZone": "Europe/Berlin"},
            "end": {"dateTime": "2030-01-01T10:00:00", "timeZone": "Europe/Berlin"},
            "recurrence": ["RRULE:FREQ=DAILY"],
        },
    )
    assert busy(query(service, ANN)) == [(at(8), at(9))]
    emu.insert_event(ANN, {"start": {"date": "2030-01-08"}, "end": {"date": "2030-01-09"}})
    next_day = query(service, ANN, start="2030-01-08T00:00:00Z", end="2030-01-08T12:00:00Z")
    assert busy(next_day) == [("2030-01-08T00:00:00Z", "2030-01-08T12:00:00Z")]  # Berlin's day from 23:00 UTC


def test_primary_alias_zone_and_unknown_calendars(emu, service):
    emu.insert_event(ANN, event(8, 9))
    answer = query(service, "primary", "nobody@example.com", timeZone="Europe/Berlin")
    assert busy(answer, "primary") == [("2030-01-07T09:00:00+01:00", "2030-01-07T10:00:00+01:00")]
    assert answer["calendars"]["nobody@example.com"] == {
        "errors": [{"domain": "global", "reason": "notFound"}],
        "busy": [],
    }


def test_an_empty_range_is_400(service):
    with pytest.raises(HttpError) as caught:
        query(service, ANN, start=at(10), end=at(9))
    assert_error_body(caught.value.content, 400, "timeRangeEmpty")


def test_freebusy_needs_a_calendar_or_freebusy_scope(emu):
    service = calendar_service(emu, credentials_for(emu, scopes=(EVENTS_READONLY,)))
    with pytest.raises(HttpError) as caught:
        query(service, ANN)
    assert_error_body(caught.value.content, 403, "insufficientPermissions")
