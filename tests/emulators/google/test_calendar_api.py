"""Calendar v3 through googleapiclient: auth and scope checks, calendar list, event JSON, paging, sync tokens."""

from __future__ import annotations

import datetime as dt
import json
import re
from urllib.parse import quote

import pytest
import requests
from google.auth.exceptions import RefreshError
from googleapiclient.errors import HttpError

from tests.emulators.google.conftest import ANN, calendar_service, credentials_for
from tests.emulators.google.support import (
    EVENTS_READONLY,
    LIST_READONLY,
    assert_error_body,
    assert_schema,
)

BERLIN = dt.timezone(dt.timedelta(hours=1))  # January in Berlin


def at(day: int, hour: int, minute: int = 0) -> str:
    return dt.datetime(2030, 1, day, hour, minute, tzinfo=BERLIN).isoformat()


def timed(day: int, start: int, end: int, **extra) -> dict:
    return {"start": {"dateTime": at(day, start)}, "end": {"dateTime": at(day, end)}, **extra}


def error_of(exc: HttpError) -> dict:
    return json.loads(exc.content)["error"]


def list_all(service, **params) -> tuple[list[dict], list[dict]]:
    """(items, pages) following nextPageToken to the end."""
    pages, items, token = [], [], None
    while True:
        page = service.events().list(pageToken=token, **params).execute()
        pages.append(page)
        items += page["items"]
        token = page.get("nextPageToken")
        if not token:
            return items, pages


# --- authentication and scopes ------------------------------------------------------------


def test_no_token_is_401_required(emu):
    answer = requests.get(emu.api_root + "calendar/v3/calendars/primary/events", timeout=5)
    assert answer.status_code == 401
    error = assert_error_body(answer.content, 401, "required")
    assert error["status"] == "UNAUTHENTICATED"
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_bad_token_is_401_auth_error(emu):
    answer = requests.get(
        emu.api_root + "calendar/v3/users/me/calendarList", headers={"Authorization": "Bearer ya29.nope"}, timeout=5
    )
    error = assert_error_body(answer.content, 401, "authError")
    assert error["errors"][0]["location"] == "Authorization"
    assert error["message"].startswith("Request had invalid authentication credentials.")


def test_expired_access_token_is_refreshed_by_the_client_library(emu, service, creds):
    old = creds.token
    emu.expire_access_tokens()
    assert service.events().list(calendarId="primary").execute()["kind"] == "calendar#events"
    assert [c["status"] for c in emu.calls("events.list")] == [401, 200]
    assert creds.token != old
    assert [c["form"]["grant_type"] for c in emu.calls("token")] == ["refresh_token"]


def test_revoked_grant_makes_access_tokens_401_and_refresh_fail(emu, service):
    emu.revoke_grant(ANN)
    with pytest.raises(RefreshError):
        service.events().list(calendarId="primary").execute()
    assert emu.calls("events.list")[0]["status"] == 401


def test_events_readonly_scope_cannot_list_calendars(emu):
    service = calendar_service(emu, credentials_for(emu, scopes=[EVENTS_READONLY]))
    with pytest.raises(HttpError) as caught:
        service.calendarList().list().execute()
    assert caught.value.status_code == 403
    error = assert_error_body(caught.value.content, 403, "insufficientPermissions")
    assert error["status"] == "PERMISSION_DENIED"
    assert error["details"][0]["reason"] == "ACCESS_TOKEN_SCOPE_INSUFFICIENT"
    assert "insufficient_scope" in caught.value.resp["www-authenticate"]
    assert service.events().list(calendarId="primary").execute()["items"] == []


def test_calendarlist_scope_cannot_read_events(emu):
    service = calendar_service(emu, credentials_for(emu, scopes=[LIST_READONLY]))
    assert service.calendarList().list().execute()["items"]
    with pytest.raises(HttpError) as caught:
        service.events().list(calendarId="primary").execute()
    assert caught.value.status_code == 403


def test_calendars_of_other_accounts_are_404(emu, service):
    emu.add_account("bob@example.com")
    for calendar_id in ("bob@example.com", "nobody@example.com"):
        with pytest.raises(HttpError) as caught:
            service.events().list(calendarId=calendar_id).execute()
        assert_error_body(caught.value.content, 404, "notFound")


def test_primary_alias_and_url_encoded_calendar_ids(emu, service, creds):
    team = "team#1@group.calendar.google.com"
    emu.add_calendar(ANN, calendar_id=team, summary="Team", time_zone="Europe/Berlin")
    emu.insert_event(team, timed(5, 10, 11, summary="standup"))
    emu.insert_event(ANN, timed(5, 12, 13, summary="lunch"))
    assert [e["summary"] for e in service.events().list(calendarId=team).execute()["items"]] == ["standup"]
    assert [e["summary"] for e in service.events().list(calendarId="primary").execute()["items"]] == ["lunch"]
    assert emu.calls("events.list")[0]["path"].endswith("/calendars/team%231%40group.calendar.google.com/events")
    raw = requests.get(
        emu.api_root + "calendar/v3/calendars/" + quote(ANN, safe="") + "/events",
        headers={"Authorization": "Bearer " + creds.token},
        timeout=5,
    ).json()
    assert raw["summary"] == ANN


# --- calendar list ------------------------------------------------------------------------


def test_calendar_list(emu, service):
    emu.add_calendar(ANN, calendar_id="team@group.calendar.google.com", summary="Team", time_zone="Europe/Berlin")
    emu.add_account("bob@example.com")
    emu.add_calendar("bob@example.com", calendar_id="team@group.calendar.google.com")  # shared: reader
    answer = service.calendarList().list().execute()
    assert_schema(answer, "CalendarList")
    assert answer["kind"] == "calendar#calendarList" and "nextSyncToken" in answer
    primary, team = answer["items"]
    assert primary == {**primary, "id": ANN, "primary": True, "accessRole": "owner", "timeZone": "Europe/Berlin"}
    assert "primary" not in team and team["accessRole"] == "owner" and team["dataOwner"] == ANN
    bob = calendar_service(emu, credentials_for(emu, "bob@example.com"))
    shared = bob.calendarList().list(minAccessRole="owner").execute()["items"]
    assert [c["id"] for c in shared] == ["bob@example.com"]
    entry = bob.calendarList().get(calendarId="team@group.calendar.google.com").execute()
    assert_schema(entry, "CalendarListEntry")
    assert entry["accessRole"] == "reader"


def test_calendar_list_sync_reports_removed_calendars(emu, service):
    emu.add_calendar(ANN, calendar_id="old@group.calendar.google.com", summary="Old")
    first = service.calendarList().list().execute()
    emu.remove_calendar(ANN, "old@group.calendar.google.com")
    assert [c["id"] for c in service.calendarList().list().execute()["items"]] == [ANN]
    delta = service.calendarList().list(syncToken=first["nextSyncToken"]).execute()
    assert [(c["id"], c.get("deleted")) for c in delta["items"]] == [("old@group.calendar.google.com", True)]


# --- event JSON ---------------------------------------------------------------------------


def test_event_json_matches_google(emu, service):
    emu.insert_event(
        ANN,
        timed(
            5,
            10,
            11,
            summary="Review",
            organizer={"email": "boss@example.com", "displayName": "Boss"},
            attendees=[
                {"email": "boss@example.com", "responseStatus": "accepted"},
                {"email": ANN, "responseStatus": "declined"},
            ],
        ),
    )
    emu.insert_event(ANN, timed(6, 10, 11, transparency="transparent", eventType="focusTime"))
    emu.insert_event(ANN, {"start": {"date": "2030-01-07"}, "end": {"date": "2030-01-08"}, "status": "tentative"})
    answer = service.events().list(calendarId="primary").execute()
    assert_schema(answer, "Events")
    review, free, all_day = answer["items"]
    for event in answer["items"]:
        assert event["kind"] == "calendar#event"
        assert re.fullmatch(r'"\d+"', event["etag"])
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", event["updated"])
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", event["created"])
        assert re.fullmatch(r"[a-v0-9]{26}", event["id"])
        assert event["iCalUID"] == event["id"] + "@google.com"
        assert event["htmlLink"] and event["sequence"] == 0 and "eventType" in event
    assert "transparency" not in review and review["eventType"] == "default"
    assert review["organizer"] == {"email": "boss@example.com", "displayName": "Boss"}
    me = [a for a in review["attendees"] if a.get("self")]
    assert me == [{"email": ANN, "responseStatus": "declined", "self": True}]
    assert next(a for a in review["attendees"] if a.get("organizer"))["email"] == "boss@example.com"
    assert free["transparency"] == "transparent" and free["eventType"] == "focusTime"
    assert free["organizer"] == {"email": ANN, "self": True} and "attendees" not in free
    assert all_day["start"] == {"date": "2030-01-07"} and all_day["status"] == "tentative"
    got = service.events().get(calendarId="primary", eventId=review["id"]).execute()
    assert_schema(got, "Event")
    assert got == review


def test_events_envelope(emu, service):
    answer = service.events().list(calendarId="primary").execute()
    assert_schema(answer, "Events")
    assert answer["summary"] == ANN and answer["timeZone"] == "Europe/Berlin" and answer["accessRole"] == "owner"
    assert answer["defaultReminders"] == [{"method": "popup", "minutes": 10}]
    assert ("nextPageToken" in answer) != ("nextSyncToken" in answer)


def test_time_zone_parameter(emu, service):
    emu.insert_event(ANN, timed(5, 10, 11))
    berlin = service.events().list(calendarId="primary").execute()["items"][0]
    assert berlin["start"] == {"dateTime": "2030-01-05T10:00:00+01:00"}
    utc = service.events().list(calendarId="primary", timeZone="UTC").execute()["items"][0]
    assert utc["start"] == {"dateTime": "2030-01-05T09:00:00Z"}
    tokyo = service.events().list(calendarId="primary", timeZone="Asia/Tokyo").execute()["items"][0]
    assert tokyo["end"]["dateTime"] == "2030-01-05T19:00:00+09:00"


def test_event_types_filter(emu, service):
    emu.insert_event(ANN, timed(5, 10, 11, summary="a"))
    emu.insert_event(ANN, timed(5, 12, 13, summary="b", eventType="outOfOffice"))
    emu.insert_event(ANN, timed(5, 14, 15, summary="c", eventType="workingLocation", transparency="transparent"))
    answer = service.events().list(calendarId="primary", eventTypes=["default", "outOfOffice"]).execute()
    assert [e["summary"] for e in answer["items"]] == ["a", "b"]
    assert emu.calls("events.list")[0]["query"]["eventTypes"] == ["default", "outOfOffice"]


def test_partial_response_fields(emu, service):
    emu.insert_event(ANN, timed(5, 10, 11, summary="x"))
    answer = service.events().list(calendarId="primary", fields="items(id,start/dateTime),nextSyncToken").execute()
    assert set(answer) == {"items", "nextSyncToken"}
    assert set(answer["items"][0]) == {"id", "start"}


# --- windows and ordering -----------------------------------------------------------------


def test_window_semantics(emu, service):
    emu.insert_events(
        ANN,
        [
            timed(5, 8, 9, summary="ends at timeMin"),
            timed(5, 9, 10, summary="starts at timeMin"),
            timed(5, 8, 12, summary="spans timeMax"),
            timed(5, 11, 12, summary="starts at timeMax"),
            {"start": {"date": "2030-01-05"}, "end": {"date": "2030-01-06"}, "summary": "all day"},
        ],
    )
    answer = service.events().list(calendarId="primary", timeMin=at(5, 9), timeMax=at(5, 11)).execute()
    assert sorted(e["summary"] for e in answer["items"]) == ["all day", "spans timeMax", "starts at timeMin"]


def test_empty_time_range_is_400(emu, service):
    with pytest.raises(HttpError) as caught:
        service.events().list(calendarId="primary", timeMin=at(5, 9), timeMax=at(5, 9)).execute()
    error = assert_error_body(caught.value.content, 400, "timeRangeEmpty")
    assert error["errors"][0]["domain"] == "calendar" and error["errors"][0]["location"] == "timeMax"


def test_bad_parameters_are_400(emu, service):
    for params in ({"maxResults": 0}, {"timeMin": "2030-01-05T10:00:00"}, {"timeZone": "Mars/Olympus"}):
        with pytest.raises(HttpError) as caught:
            service.events().list(calendarId="primary", **params).execute()
        assert caught.value.status_code == 400, params
        assert_error_body(caught.value.content, 400, json.loads(caught.value.content)["error"]["errors"][0]["reason"])


def test_order_by_start_time_needs_single_events(emu, service):
    emu.insert_event(ANN, timed(6, 10, 11, summary="later"))
    emu.insert_event(ANN, timed(5, 10, 11, summary="sooner"))
    with pytest.raises(HttpError) as caught:
        service.events().list(calendarId="primary", orderBy="startTime").execute()
    error = assert_error_body(caught.value.content, 400, "invalid")
    assert error["message"] == "The requested ordering is not available for the particular query."
    ordered = service.events().list(calendarId="primary", orderBy="startTime", singleEvents=True).execute()
    assert [e["summary"] for e in ordered["items"]] == ["sooner", "later"]
    assert "nextSyncToken" not in ordered  # Google omits it on ordered listings
    by_update = service.events().list(calendarId="primary", orderBy="updated").execute()
    assert [e["summary"] for e in by_update["items"]] == ["later", "sooner"]


def test_show_deleted(emu, service):
    gone = emu.insert_event(ANN, timed(5, 10, 11, summary="gone"))
    emu.insert_event(ANN, timed(5, 12, 13, summary="kept"))
    emu.delete_event(ANN, gone["id"])
    assert [e["summary"] for e in service.events().list(calendarId="primary").execute()["items"]] == ["kept"]
    shown = service.events().list(calendarId="primary", showDeleted=True).execute()["items"]
    assert [(e["summary"], e["status"]) for e in shown] == [("gone", "cancelled"), ("kept", "confirmed")]


# --- paging -------------------------------------------------------------------------------


def test_page_size_default_250_and_cap_2500(emu, service):
    base = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    emu.insert_events(
        ANN,
        [
            {
                "start": {"dateTime": (base + dt.timedelta(hours=i)).isoformat()},
                "end": {"dateTime": (base + dt.timedelta(hours=i, minutes=30)).isoformat()},
            }
            for i in range(2600)
        ],
    )
    items, pages = list_all(service, calendarId="primary")
    assert [len(p["items"]) for p in pages] == [250] * 10 + [100]
    assert len({e["id"] for e in items}) == 2600
    assert all("nextSyncToken" not in p for p in pages[:-1]) and "nextSyncToken" in pages[-1]
    big = service.events().list(calendarId="primary", maxResults=5000).execute()
    assert len(big["items"]) == 2500 and "nextPageToken" in big


def test_page_tokens_are_bound_to_the_query(emu, service):
    emu.insert_events(ANN, [timed(5, h, h + 1) for h in range(0, 6)])
    first = service.events().list(calendarId="primary", maxResults=2).execute()
    with pytest.raises(HttpError) as caught:
        service.events().list(
            calendarId="primary", maxResults=2, pageToken=first["nextPageToken"], timeMin=at(1, 0)
        ).execute()
    assert caught.value.status_code == 400
    # the same query (page size may differ) continues
    rest = service.events().list(calendarId="primary", maxResults=10, pageToken=first["nextPageToken"]).execute()
    assert len(rest["items"]) == 4


def test_set_page_size_forces_short_pages(emu, service):
    emu.insert_events(ANN, [timed(5, h, h + 1) for h in range(0, 5)])
    emu.set_page_size(2)
    _, pages = list_all(service, calendarId="primary", maxResults=100)
    assert [len(p["items"]) for p in pages] == [2, 2, 1]


# --- sync tokens --------------------------------------------------------------------------


def test_windowed_full_sync_then_incremental(emu, service):
    inside = emu.insert_event(ANN, timed(5, 10, 11, summary="inside"))
    outside = emu.insert_event(ANN, timed(20, 10, 11, summary="outside"))
    full = service.events().list(calendarId="primary", timeMin=at(4, 0), timeMax=at(6, 0), singleEvents=True).execute()
    assert [e["summary"] for e in full["items"]] == ["inside"]
    token = full["nextSyncToken"]
    assert service.events().list(calendarId="primary", syncToken=token, singleEvents=True).execute()["items"] == []
    emu.update_event(ANN, outside["id"], {"summary": "outside, changed"})
    emu.delete_event(ANN, inside["id"])
    new = emu.insert_event(ANN, timed(7, 10, 11, summary="new"))
    delta = service.events().list(calendarId="primary", syncToken=token, singleEvents=True).execute()
    assert_schema(delta, "Events")
    assert [e["id"] for e in delta["items"]] == [outside["id"], inside["id"], new["id"]]
    assert delta["items"][1] == {
        "kind": "calendar#event",
        "etag": delta["items"][1]["etag"],
        "id": inside["id"],
        "status": "cancelled",
    }
    assert delta["items"][0]["summary"] == "outside, changed"
    assert delta["nextSyncToken"] != token


def test_incremental_results_are_paged(emu, service):
    events = emu.insert_events(ANN, [timed(5, h, h + 1) for h in range(0, 7)])
    token = service.events().list(calendarId="primary").execute()["nextSyncToken"]
    for event in events:
        emu.update_event(ANN, event["id"], {"summary": "changed"})
    items, pages = list_all(service, calendarId="primary", syncToken=token, maxResults=3)
    assert [len(p["items"]) for p in pages] == [3, 3, 1]
    assert [("nextPageToken" in p, "nextSyncToken" in p) for p in pages] == [(True, False)] * 2 + [(False, True)]
    assert {e["id"] for e in items} == {e["id"] for e in events}


def test_changes_made_while_paging_are_not_lost(emu, service):
    emu.insert_events(ANN, [timed(5, h, h + 1) for h in range(0, 4)])
    first = service.events().list(calendarId="primary", maxResults=2).execute()
    late = emu.insert_event(ANN, timed(6, 10, 11, summary="late"))
    rest = service.events().list(calendarId="primary", maxResults=2, pageToken=first["nextPageToken"]).execute()
    delta = service.events().list(calendarId="primary", syncToken=rest["nextSyncToken"]).execute()
    assert late["id"] in [e["id"] for e in delta["items"]]


def test_invalidated_sync_token_is_410_full_sync_required(emu, service):
    token = service.events().list(calendarId="primary").execute()["nextSyncToken"]
    emu.invalidate_sync_tokens(ANN)
    with pytest.raises(HttpError) as caught:
        service.events().list(calendarId="primary", syncToken=token).execute()
    assert caught.value.status_code == 410
    assert caught.value.reason == "Sync token is no longer valid, a full sync is required."
    assert json.loads(caught.value.content) == {
        "error": {
            "errors": [
                {
                    "domain": "calendar",
                    "reason": "fullSyncRequired",
                    "message": "Sync token is no longer valid, a full sync is required.",
                    "locationType": "parameter",
                    "location": "syncToken",
                }
            ],
            "code": 410,
            "message": "Sync token is no longer valid, a full sync is required.",
        }
    }
    fresh = service.events().list(calendarId="primary").execute()["nextSyncToken"]
    assert service.events().list(calendarId="primary", syncToken=fresh).execute()["items"] == []
    with pytest.raises(HttpError):
        service.events().list(calendarId="primary", syncToken="garbage").execute()


@pytest.mark.parametrize(
    "extra",
    [
        {"timeMin": "2030-01-01T00:00:00Z"},
        {"timeMax": "2030-01-01T00:00:00Z"},
        {"q": "x"},
        {"orderBy": "updated"},
        {"iCalUID": "x@google.com"},
        {"updatedMin": "2030-01-01T00:00:00Z"},
        {"privateExtendedProperty": "a=b"},
        {"sharedExtendedProperty": "a=b"},
    ],
)
def test_sync_token_cannot_be_combined_with_filters(emu, service, extra):
    token = service.events().list(calendarId="primary").execute()["nextSyncToken"]
    with pytest.raises(HttpError) as caught:
        service.events().list(calendarId="primary", syncToken=token, **extra).execute()
    assert caught.value.status_code == 400


def test_events_get_and_unknown_event(emu, service):
    with pytest.raises(HttpError) as caught:
        service.events().get(calendarId="primary", eventId="doesnotexist").execute()
    assert caught.value.status_code == 404


def test_calendar_list_pages(emu, service):
    for number in range(3):
        emu.add_calendar(ANN, calendar_id=f"c{number}@group.calendar.google.com", summary=f"C{number}")
    first = service.calendarList().list(maxResults=2).execute()
    assert len(first["items"]) == 2 and "nextSyncToken" not in first
    rest = service.calendarList().list(maxResults=2, pageToken=first["nextPageToken"]).execute()
    assert len(rest["items"]) == 2 and rest["nextSyncToken"] and "nextPageToken" not in rest
    with pytest.raises(HttpError) as caught:
        service.calendarList().list(pageToken=first["nextPageToken"], showHidden=True).execute()
    assert caught.value.status_code == 400


def test_access_token_query_parameter(emu, creds):
    answer = requests.get(
        emu.api_root + "calendar/v3/users/me/calendarList", params={"access_token": creds.token}, timeout=5
    )
    assert answer.status_code == 200 and answer.json()["items"][0]["id"] == ANN
