"""Graph v1.0 reads with plain requests: me, calendars, calendarView, events, instances, auth errors,
each answer checked against the documented resource shape."""

from __future__ import annotations

import requests

from tests.emulators.microsoft.conftest import ANN, graph_session
from tests.emulators.microsoft.support import CALENDAR, EVENT, USER, shape_errors, timed, when

WINDOW = {"startDateTime": "2030-01-01T00:00:00Z", "endDateTime": "2030-02-01T00:00:00Z"}


def test_me_has_the_documented_user_shape(emu, graph):
    me = graph.get(emu.graph_root + "me").json()
    assert shape_errors(me, USER) == []
    assert me["userPrincipalName"] == ANN and me["mail"] == ANN and me["displayName"] == "Ann Example"


def test_calendars_page_with_next_links_and_the_default_first(emu, graph):
    for name in ("Work", "Family", "Holidays"):
        emu.add_calendar(ANN, name)
    graph.headers["Prefer"] = "odata.maxpagesize=2"
    url, seen = emu.graph_root + "me/calendars", []
    while url:
        body = graph.get(url).json()
        assert len(body["value"]) <= 2
        seen += body["value"]
        url = body.get("@odata.nextLink")
    assert [c["name"] for c in seen] == ["Calendar", "Work", "Family", "Holidays"]
    assert seen[0]["isDefaultCalendar"] and not any(c["isDefaultCalendar"] for c in seen[1:])
    for calendar in seen:
        assert shape_errors(calendar, CALENDAR) == []


def test_calendar_view_expands_series_without_masters(emu, graph, calendar_id):
    emu.insert_event(calendar_id, timed("One-off", "2030-01-03", 9, 10))
    master = emu.insert_event(
        calendar_id,
        {
            **timed("Daily", "2030-01-06", 8, 9),
            "recurrence": {
                "pattern": {"type": "daily", "interval": 1},
                "range": {"type": "numbered", "startDate": "2030-01-06", "numberOfOccurrences": 3},
            },
        },
    )
    body = graph.get(emu.graph_root + f"me/calendars/{calendar_id}/calendarView", params=WINDOW).json()
    items = body["value"]
    assert [i["type"] for i in items] == ["singleInstance", "occurrence", "occurrence", "occurrence"]
    assert all(i["seriesMasterId"] == master["id"] for i in items[1:]) and items[0]["seriesMasterId"] is None
    assert [i["start"]["dateTime"] for i in items[1:]] == [
        "2030-01-06T08:00:00.0000000",
        "2030-01-07T08:00:00.0000000",
        "2030-01-08T08:00:00.0000000",
    ]
    assert items[1]["originalStart"] == "2030-01-06T08:00:00Z"
    for item in items:
        assert shape_errors(item, EVENT) == []
    assert master["type"] == "seriesMaster" and master["recurrence"]["pattern"]["type"] == "daily"


def test_calendar_view_pages_by_top_and_needs_a_window(emu, graph, calendar_id):
    emu.insert_events(calendar_id, [timed(f"E{n}", f"2030-01-{n + 1:02d}", 9, 10) for n in range(25)])
    url, pages, subjects = emu.graph_root + "me/calendarView", 0, []
    params = dict(WINDOW)
    while url:
        body = graph.get(url, params=params).json()
        params = None
        pages += 1
        subjects += [i["subject"] for i in body["value"]]
        url = body.get("@odata.nextLink")
    assert pages == 3 and subjects == [f"E{n}" for n in range(25)]  # default page size 10
    missing = graph.get(emu.graph_root + f"me/calendars/{calendar_id}/calendarView")
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "ErrorInvalidParameter"


def test_outlook_timezone_changes_timed_events_but_not_all_day_ones(emu, graph, calendar_id):
    emu.insert_event(calendar_id, timed("Timed", "2030-01-10", 9, 10, tz="W. Europe Standard Time"))
    emu.insert_event(
        calendar_id, {"subject": "Fair", "isAllDay": True, "start": when("2030-01-11"), "end": when("2030-01-13")}
    )
    utc = graph.get(emu.graph_root + "me/calendarView", params=WINDOW).json()["value"]
    assert utc[0]["start"] == {"dateTime": "2030-01-10T08:00:00.0000000", "timeZone": "UTC"}
    graph.headers["Prefer"] = 'outlook.timezone="Pacific Standard Time"'
    pacific = graph.get(emu.graph_root + "me/calendarView", params=WINDOW).json()["value"]
    assert pacific[0]["start"] == {"dateTime": "2030-01-10T00:00:00.0000000", "timeZone": "Pacific Standard Time"}
    assert pacific[1]["isAllDay"] and pacific[1]["start"]["dateTime"] == "2030-01-11T00:00:00.0000000"
    assert pacific[1]["end"]["dateTime"] == "2030-01-13T00:00:00.0000000"
    assert pacific[0]["originalStartTimeZone"] == "W. Europe Standard Time"


def test_select_narrows_calendar_view_fields(emu, graph, calendar_id):
    emu.insert_event(calendar_id, timed("Busy", "2030-01-10", 9, 10))
    params = {**WINDOW, "$select": "showAs,start,end"}
    item = graph.get(emu.graph_root + "me/calendarView", params=params).json()["value"][0]
    assert set(item) == {"@odata.etag", "id", "showAs", "start", "end"}


def test_event_get_and_instances_show_exceptions_and_cancelled_occurrences(emu, graph, calendar_id):
    master = emu.insert_event(
        calendar_id,
        {
            **timed("Weekly", "2030-01-07", 9, 10),
            "recurrence": {
                "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
                "range": {"type": "endDate", "startDate": "2030-01-07", "endDate": "2030-01-28"},
            },
        },
    )
    occurrences = emu.instances(calendar_id, master["id"], "2030-01-01T00:00:00Z", "2030-02-01T00:00:00Z")
    assert len(occurrences) == 4
    emu.update_event(
        calendar_id, occurrences[1]["id"], {"start": when("2030-01-14", 11), "end": when("2030-01-14", 12)}
    )
    emu.delete_event(calendar_id, occurrences[2]["id"])
    body = graph.get(emu.graph_root + f"me/events/{master['id']}/instances", params=WINDOW).json()
    kinds = [(i["type"], i["start"]["dateTime"][:16]) for i in body["value"]]
    assert kinds == [
        ("occurrence", "2030-01-07T09:00"),
        ("exception", "2030-01-14T11:00"),
        ("occurrence", "2030-01-28T09:00"),
    ]
    assert body["value"][1]["originalStart"] == "2030-01-14T09:00:00Z"
    one = graph.get(emu.graph_root + f"me/events/{occurrences[1]['id']}").json()
    assert one["type"] == "exception" and one["seriesMasterId"] == master["id"]
    gone = graph.get(emu.graph_root + f"me/events/{occurrences[2]['id']}")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "ErrorItemNotFound"


def test_busy_fields_come_back_as_stored(emu, graph, calendar_id):
    emu.insert_event(
        calendar_id,
        timed(
            "Invite",
            "2030-01-10",
            9,
            10,
            isOrganizer=False,
            showAs="tentative",
            responseStatus={"response": "tentativelyAccepted", "time": "2029-12-01T10:00:00Z"},
            sensitivity="private",
        ),
    )
    emu.insert_event(calendar_id, timed("Own", "2030-01-11", 9, 10))
    emu.insert_event(calendar_id, timed("Unanswered", "2030-01-12", 9, 10, isOrganizer=False))
    items = graph.get(emu.graph_root + "me/calendarView", params=WINDOW).json()["value"]
    assert [(i["showAs"], i["isOrganizer"], i["responseStatus"]["response"]) for i in items] == [
        ("tentative", False, "tentativelyAccepted"),
        ("busy", True, "none"),
        ("busy", False, "notResponded"),
    ]
    assert items[0]["sensitivity"] == "private" and items[1]["responseStatus"]["time"] == "0001-01-01T00:00:00Z"


def test_auth_errors_have_graph_shape_and_www_authenticate(emu, calendar_id):
    empty = requests.get(emu.graph_root + "me")
    assert empty.status_code == 401 and empty.json()["error"]["code"] == "InvalidAuthenticationToken"
    assert empty.headers["WWW-Authenticate"].startswith("Bearer realm=")
    assert {"date", "request-id", "client-request-id"} <= set(empty.json()["error"]["innerError"])
    unknown = requests.get(emu.graph_root + "me", headers={"Authorization": "Bearer nonsense"})
    assert unknown.status_code == 401 and "CompactToken" in unknown.json()["error"]["message"]
    session = graph_session(emu)
    emu.expire_access_tokens()
    expired = session.get(emu.graph_root + "me/calendars")
    assert expired.status_code == 401 and expired.json()["error"]["message"].startswith("Access token has expired")
    calendars_only = graph_session(emu, scopes=["Calendars.Read"])
    assert calendars_only.get(emu.graph_root + "me").status_code == 403
    assert calendars_only.get(emu.graph_root + "me/calendars").status_code == 200
    other = emu.add_account("eve@fabrikam.com")["default_calendar"]
    foreign = calendars_only.get(emu.graph_root + f"me/calendars/{other}/calendarView", params=WINDOW)
    assert foreign.status_code == 404 and foreign.json()["error"]["code"] == "ErrorItemNotFound"
