"""Graph writes on the emulator (two-way, SPEC §10): Calendars.ReadWrite enforcement with
Graph's 403 body, incremental consent, calendars created through Graph, event create/update/
delete with single-value extended properties ($expand round trip, $filter), transactionId,
and writes showing up in calendarView, delta and the write log."""

from __future__ import annotations

import datetime as dt

import pytest
import requests

from tests.emulators.microsoft.conftest import ANN, graph_session
from tests.emulators.microsoft.support import EVENT, shape_errors
from tests.emulators.microsoft.test_identity import REDIRECT, app_for, consent

PROP = "String {7d0b7a8e-1d3c-4a55-9a76-3f0c2b1a9e10} Name merchantCalendarBooking"
OTHER = "String {00000000-0000-0000-0000-000000000000} Name x"
WINDOW = {"startDateTime": "2030-01-01T00:00:00Z", "endDateTime": "2030-02-01T00:00:00Z"}


def event_json(subject="Ada (booking)", day=5, **extra) -> dict:
    return {
        "subject": subject,
        "body": {"contentType": "text", "content": "ada@example.com"},
        "start": {"dateTime": f"2030-01-{day:02d}T10:00:00", "timeZone": "Europe/Berlin"},
        "end": {"dateTime": f"2030-01-{day:02d}T11:00:00", "timeZone": "Europe/Berlin"},
        **extra,
    }


def marker(value: str) -> dict:
    return {"singleValueExtendedProperties": [{"id": PROP, "value": value}]}


@pytest.fixture
def writer(emu):
    session = graph_session(emu, scopes=("User.Read", "Calendars.ReadWrite"))
    yield session
    session.close()


@pytest.fixture
def bookings(emu, writer) -> str:
    answer = writer.post(emu.graph_root + "me/calendars", json={"name": "Studio bookings"})
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def test_without_calendars_readwrite_every_write_is_403_error_access_denied(emu, graph, calendar_id):
    attempts = [
        graph.post(emu.graph_root + "me/calendars", json={"name": "Studio bookings"}),
        graph.post(emu.graph_root + f"me/calendars/{calendar_id}/events", json=event_json()),
        graph.post(emu.graph_root + "me/events", json=event_json()),
    ]
    event_id = emu.insert_event(calendar_id, event_json())["id"]
    attempts += [
        graph.patch(emu.graph_root + f"me/events/{event_id}", json={"subject": "changed"}),
        graph.delete(emu.graph_root + f"me/calendars/{calendar_id}/events/{event_id}"),
    ]
    for answer in attempts:
        assert answer.status_code == 403
        error = answer.json()["error"]
        assert error["code"] == "ErrorAccessDenied"
        assert error["message"] == "Access is denied. Check credentials and try again."
        assert error["innerError"]["request-id"]
    assert emu.calendar_ids(ANN) == [calendar_id]
    [stored] = emu.stored_events(calendar_id)
    assert stored["subject"] == "Ada (booking)"
    assert [w["status"] for w in emu.writes()] == [403] * 5


def test_incremental_consent_adds_calendars_readwrite_and_the_token_names_everything_granted(emu):
    app = app_for(emu)
    flow = app.initiate_auth_code_flow(["User.Read", "Calendars.Read"], redirect_uri=REDIRECT)
    first = app.acquire_token_by_auth_code_flow(flow, consent(emu, flow["auth_uri"]))
    assert "Calendars.ReadWrite" not in first["scope"].split()

    later = app_for(emu)  # another day, another msal app: only the grant remembers
    flow = later.initiate_auth_code_flow(["Calendars.ReadWrite"], redirect_uri=REDIRECT)
    second = later.acquire_token_by_auth_code_flow(flow, consent(emu, flow["auth_uri"]))
    assert {"User.Read", "Calendars.Read", "Calendars.ReadWrite"} <= set(second["scope"].split())
    answer = requests.post(
        emu.graph_root + "me/calendars",
        json={"name": "Studio bookings"},
        headers={"Authorization": "Bearer " + second["access_token"]},
        timeout=10,
    )
    assert answer.status_code == 201
    refreshed = later.acquire_token_by_refresh_token(second["refresh_token"], ["Calendars.ReadWrite"])
    assert "Calendars.ReadWrite" in refreshed["scope"].split()


def test_a_created_calendar_is_listed_and_its_name_cannot_be_taken_twice(emu, writer, bookings):
    listed = writer.get(emu.graph_root + "me/calendars").json()["value"]
    [created] = [c for c in listed if c["id"] == bookings]
    assert created["name"] == "Studio bookings" and created["canEdit"] and not created["isDefaultCalendar"]
    again = writer.post(emu.graph_root + "me/calendars", json={"name": "studio BOOKINGS"})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "ErrorFolderExists"
    assert bookings in emu.calendar_ids(ANN)


def test_extended_property_round_trip_on_create_patch_and_expand(emu, writer, bookings):
    created = writer.post(emu.graph_root + f"me/calendars/{bookings}/events", json={**event_json(), **marker("b-1")})
    assert created.status_code == 201
    body = created.json()
    assert not shape_errors(body, EVENT)
    assert "singleValueExtendedProperties" not in body  # only with $expand
    event_id = body["id"]
    expand = f"singleValueExtendedProperties($filter=id eq '{PROP}')"

    got = writer.get(emu.graph_root + f"me/events/{event_id}", params={"$expand": expand}).json()
    assert got["singleValueExtendedProperties"] == [{"id": PROP, "value": "b-1"}]
    assert got["subject"] == "Ada (booking)" and got["body"]["content"] == "ada@example.com"
    other = writer.get(
        emu.graph_root + f"me/events/{event_id}",
        params={"$expand": f"singleValueExtendedProperties($filter=id eq '{OTHER}')"},
    ).json()
    assert "singleValueExtendedProperties" not in other

    patched = writer.patch(
        emu.graph_root + f"me/calendars/{bookings}/events/{event_id}",
        json={"start": event_json(day=6)["start"], "end": event_json(day=6)["end"], **marker("b-2")},
    )
    assert patched.status_code == 200
    assert patched.json()["start"]["dateTime"].startswith("2030-01-06T09:00:00")
    got = writer.get(emu.graph_root + f"me/events/{event_id}", params={"$expand": expand}).json()
    assert got["singleValueExtendedProperties"] == [{"id": PROP, "value": "b-2"}]

    view = writer.get(
        emu.graph_root + f"me/calendars/{bookings}/calendarView", params={**WINDOW, "$expand": expand}
    ).json()["value"]
    assert [(e["id"], e["singleValueExtendedProperties"][0]["value"]) for e in view] == [(event_id, "b-2")]


def test_events_are_filtered_by_the_property(emu, writer, bookings, calendar_id):
    url = emu.graph_root + f"me/calendars/{bookings}/events"
    first = writer.post(url, json={**event_json(day=5), **marker("b-1")}).json()["id"]
    second = writer.post(url, json={**event_json(day=6), **marker("B-2")}).json()["id"]
    writer.post(url, json=event_json(day=7))  # no marker
    emu.insert_event(calendar_id, {**event_json(day=8), **marker("b-3")})  # another calendar

    def ids(path: str, condition: str) -> set[str]:
        query = {
            "$filter": f"singleValueExtendedProperties/Any(ep: ep/id eq '{PROP}' and {condition})",
            "$select": "id",
        }
        answer = writer.get(emu.graph_root + path, params=query)
        assert answer.status_code == 200, answer.text
        return {e["id"] for e in answer.json()["value"]}

    assert ids(f"me/calendars/{bookings}/events", "ep/value eq 'b-1'") == {first}
    assert ids(f"me/calendars/{bookings}/events", "ep/value eq 'b-2'") == {second}  # values ignore case
    assert ids(f"me/calendars/{bookings}/events", "ep/value ne ''") == {first, second}
    assert ids(f"me/calendars/{bookings}/events", "startswith(ep/value, 'b-')") == {first, second}
    assert len(ids("me/events", "ep/value ne ''")) == 3  # the whole mailbox
    bad = writer.get(emu.graph_root + "me/events", params={"$filter": "subject eq 'x'"})
    assert bad.status_code == 400


def test_a_retried_create_with_the_same_transaction_id_makes_one_event(emu, writer, bookings):
    url = emu.graph_root + f"me/calendars/{bookings}/events"
    body = {**event_json(), "transactionId": "7E163156-7762-4BEB-A1C6-729EA81755A7"}
    first = writer.post(url, json=body).json()
    again = writer.post(url, json=body)
    assert again.status_code == 201 and again.json()["id"] == first["id"]
    assert first["transactionId"] == "7E163156-7762-4BEB-A1C6-729EA81755A7"
    assert len(emu.stored_events(bookings)) == 1
    refused = writer.patch(emu.graph_root + f"me/events/{first['id']}", json={"transactionId": "other"})
    assert refused.status_code == 400


def test_writes_appear_in_calendar_view_and_delta_and_deletes_leave(emu, writer, bookings):
    delta = writer.get(emu.graph_root + f"me/calendars/{bookings}/calendarView/delta", params=WINDOW).json()
    assert delta["value"] == []
    created = writer.post(emu.graph_root + f"me/calendars/{bookings}/events", json=event_json()).json()
    changes = writer.get(delta["@odata.deltaLink"]).json()
    assert [e["id"] for e in changes["value"]] == [created["id"]]
    view = writer.get(emu.graph_root + f"me/calendars/{bookings}/calendarView", params=WINDOW).json()["value"]
    assert [(e["id"], e["showAs"], e["isCancelled"], e["responseStatus"]["response"]) for e in view] == [
        (created["id"], "busy", False, "none")
    ]
    assert writer.delete(emu.graph_root + f"me/calendars/{bookings}/events/{created['id']}").status_code == 204
    assert writer.delete(emu.graph_root + f"me/events/{created['id']}").status_code == 404
    removed = writer.get(changes["@odata.deltaLink"]).json()["value"]
    assert removed == [
        {"@odata.type": "#microsoft.graph.event", "id": created["id"], "@removed": {"reason": "deleted"}}
    ]
    assert [(w["method"], w["status"]) for w in emu.writes()] == [
        ("POST", 201),
        ("POST", 201),
        ("DELETE", 204),
        ("DELETE", 404),
    ]


def test_a_calendar_shared_with_the_user_is_not_writable(emu, writer):
    owner = emu.add_account("bob@contoso.com")["default_calendar"]
    emu.add_calendar(ANN, "Bob", shared_from=owner)
    answer = writer.post(emu.graph_root + f"me/calendars/{owner}/events", json=event_json())
    assert answer.status_code == 403
    assert emu.stored_events(owner) == []


def test_a_graph_write_notifies_subscribers(emu, writer, bookings, receiver):
    created = writer.post(
        emu.graph_root + "subscriptions",
        json={
            "changeType": "created,updated,deleted",
            "notificationUrl": receiver.url,
            "resource": f"me/calendars/{bookings}/events",
            "expirationDateTime": (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "clientState": "s",
        },
    )
    assert created.status_code == 201, created.text
    writer.post(emu.graph_root + f"me/calendars/{bookings}/events", json=event_json())
    assert emu.wait_for_notifications(timeout=5)
    kinds = [item["changeType"] for n in emu.notifications() if n["kind"] == "change" for item in n["value"]]
    assert kinds == ["created"]
