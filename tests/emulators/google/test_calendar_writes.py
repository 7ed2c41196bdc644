"""Calendar v3 writes through googleapiclient: calendars.insert, events.insert/update/patch/delete,
scope enforcement (read-only grants, ``calendar.app.created``), and the write log."""

from __future__ import annotations

import json

import pytest
from googleapiclient.errors import HttpError

from tests.emulators.google.conftest import ANN, calendar_service, credentials_for
from tests.emulators.google.support import CAL, READONLY, assert_error_body, assert_schema

APP_CREATED = CAL + ".app.created"


def timed(hour: int, **extra) -> dict:
    return {
        "start": {"dateTime": f"2030-01-07T{hour:02d}:00:00+01:00", "timeZone": "Europe/Berlin"},
        "end": {"dateTime": f"2030-01-07T{hour + 1:02d}:00:00+01:00", "timeZone": "Europe/Berlin"},
        **extra,
    }


def service_with(emu, *scopes, client_id=None):
    if client_id is None:
        return calendar_service(emu, credentials_for(emu, scopes=scopes))
    tokens = emu.issue_tokens(ANN, scopes=list(scopes), client_id=client_id)
    from google.oauth2.credentials import Credentials

    return calendar_service(emu, Credentials(token=tokens["access_token"]))


@pytest.fixture
def writer(emu):
    """What the product holds after turning two-way on: read-only plus ``calendar.app.created``."""
    return service_with(emu, READONLY, APP_CREATED)


@pytest.fixture
def bookings(writer):
    return writer.calendars().insert(body={"summary": "Studio bookings", "timeZone": "Europe/Berlin"}).execute()


def refused(call) -> tuple[int, dict]:
    with pytest.raises(HttpError) as caught:
        call.execute()
    return caught.value.status_code, json.loads(caught.value.content)["error"]


# --- calendars.insert -----------------------------------------------------------------------


def test_calendars_insert_makes_an_owned_secondary_calendar_on_the_list(emu, writer, bookings):
    assert_schema(bookings, "Calendar")
    assert bookings["id"].endswith("@group.calendar.google.com")
    assert bookings["summary"] == "Studio bookings" and bookings["timeZone"] == "Europe/Berlin"
    assert bookings["id"] in emu.calendar_ids(ANN)
    assert emu.calendar_creator(bookings["id"]) == "test-client-id"
    entries = writer.calendarList().list().execute()["items"]
    [entry] = [e for e in entries if e["id"] == bookings["id"]]
    assert entry["accessRole"] == "owner" and not entry.get("primary")


def test_calendars_insert_needs_a_title(writer):
    status, error = refused(writer.calendars().insert(body={"timeZone": "Europe/Berlin"}))
    assert (status, error["errors"][0]["reason"]) == (400, "required")


def test_a_read_only_grant_creates_no_calendar(emu):
    service = service_with(emu, READONLY)
    before = emu.calendar_ids(ANN)
    with pytest.raises(HttpError) as caught:
        service.calendars().insert(body={"summary": "x"}).execute()
    error = assert_error_body(caught.value.content, 403, "insufficientPermissions")
    assert error["message"] == "Request had insufficient authentication scopes."
    assert error["status"] == "PERMISSION_DENIED"
    assert emu.calendar_ids(ANN) == before


# --- scope enforcement on event writes -----------------------------------------------------------


def test_a_read_only_grant_writes_no_event(emu):
    service = service_with(emu, READONLY)
    with pytest.raises(HttpError) as caught:
        service.events().insert(calendarId="primary", body=timed(10)).execute()
    assert_error_body(caught.value.content, 403, "insufficientPermissions")
    assert emu.list_stored_events(ANN) == []


def test_app_created_cannot_write_in_the_merchants_own_calendar(emu, writer):
    for call in (
        writer.events().insert(calendarId="primary", body=timed(10)),
        writer.events().insert(calendarId=ANN, body=timed(10)),
    ):
        status, error = refused(call)
        assert (status, error["errors"][0]["reason"]) == (403, "requiredAccessLevel")
    own = emu.insert_event(ANN, timed(12))
    status, _ = refused(writer.events().update(calendarId=ANN, eventId=own["id"], body=timed(13)))
    assert status == 403
    status, _ = refused(writer.events().delete(calendarId=ANN, eventId=own["id"]))
    assert status == 403
    [stored] = emu.list_stored_events(ANN)
    assert stored["start"] == own["start"] and stored["status"] == "confirmed"


def test_app_created_cannot_write_in_a_calendar_another_client_created(emu, bookings):
    emu.add_client("other-client", "other-secret")
    other = service_with(emu, READONLY, APP_CREATED, client_id="other-client")
    status, error = refused(other.events().insert(calendarId=bookings["id"], body=timed(10)))
    assert (status, error["errors"][0]["reason"]) == (403, "requiredAccessLevel")
    assert emu.list_stored_events(bookings["id"]) == []


def test_app_created_alone_sees_only_its_own_calendars(emu, bookings):
    only = service_with(emu, APP_CREATED)
    status, error = refused(only.events().list(calendarId="primary"))
    assert (status, error["errors"][0]["reason"]) == (404, "notFound")
    status, _ = refused(only.events().insert(calendarId="primary", body=timed(10)))
    assert status == 404
    only.events().insert(calendarId=bookings["id"], body=timed(10)).execute()
    assert len(only.events().list(calendarId=bookings["id"]).execute()["items"]) == 1


def test_the_full_calendar_scope_writes_anywhere_the_role_allows(emu):
    service = service_with(emu, CAL)
    service.events().insert(calendarId="primary", body=timed(10)).execute()
    assert len(emu.list_stored_events(ANN)) == 1
    emu.add_calendar(ANN, "holidays@group.v.calendar.google.com", summary="Holidays", access_role="reader")
    status, error = refused(service.events().insert(calendarId="holidays@group.v.calendar.google.com", body=timed(10)))
    assert (status, error["errors"][0]["reason"]) == (403, "requiredAccessLevel")


# --- events.insert / update / patch / delete -------------------------------------------------------


def test_insert_with_a_client_id_keeps_private_properties_and_refuses_a_second_insert(emu, writer, bookings):
    body = timed(10, id="mcb0123456789abcdef", summary="Ada (booking)")
    body["extendedProperties"] = {"private": {"merchantCalendarBooking": "b-1"}}
    created = writer.events().insert(calendarId=bookings["id"], body=body).execute()
    assert_schema(created, "Event")
    assert created["id"] == "mcb0123456789abcdef"
    assert created["iCalUID"] == "mcb0123456789abcdef@google.com"
    assert created["extendedProperties"] == {"private": {"merchantCalendarBooking": "b-1"}}
    with pytest.raises(HttpError) as caught:
        writer.events().insert(calendarId=bookings["id"], body=body).execute()
    error = assert_error_body(caught.value.content, 409, "duplicate")
    assert error["message"] == "The requested identifier already exists."
    assert len(emu.list_stored_events(bookings["id"])) == 1
    listed = writer.events().list(calendarId=bookings["id"], privateExtendedProperty="merchantCalendarBooking=b-1")
    assert [e["id"] for e in listed.execute()["items"]] == [created["id"]]
    fetched = writer.events().get(calendarId=bookings["id"], eventId=created["id"]).execute()
    assert fetched["extendedProperties"]["private"]["merchantCalendarBooking"] == "b-1"


def test_private_properties_come_with_incremental_listings(emu, writer, bookings):
    cursor = writer.events().list(calendarId=bookings["id"]).execute()["nextSyncToken"]
    body = timed(10, extendedProperties={"private": {"merchantCalendarBooking": "b-2"}})
    writer.events().insert(calendarId=bookings["id"], body=body).execute()
    [item] = writer.events().list(calendarId=bookings["id"], syncToken=cursor).execute()["items"]
    assert item["extendedProperties"]["private"] == {"merchantCalendarBooking": "b-2"}


def test_insert_refuses_an_id_outside_base32hex(writer, bookings):
    status, error = refused(writer.events().insert(calendarId=bookings["id"], body=timed(10, id="Not-Base32")))
    assert (status, error["errors"][0]["reason"]) == (400, "invalid")


def test_insert_needs_start_and_end(writer, bookings):
    body = timed(10)
    del body["end"]
    status, error = refused(writer.events().insert(calendarId=bookings["id"], body=body))
    assert (status, error["errors"][0]["reason"]) == (400, "required")


def test_update_replaces_the_whole_event_and_patch_only_what_it_names(emu, writer, bookings):
    body = timed(10, id="mcbupdate0001", summary="A", description="first")
    writer.events().insert(calendarId=bookings["id"], body=body).execute()
    updated = writer.events().update(calendarId=bookings["id"], eventId="mcbupdate0001", body=timed(14, summary="B"))
    updated = updated.execute()
    assert updated["summary"] == "B" and "description" not in updated
    assert updated["start"]["dateTime"].startswith("2030-01-07T14:00:00")
    patched = writer.events().patch(calendarId=bookings["id"], eventId="mcbupdate0001", body={"description": "x"})
    patched = patched.execute()
    assert patched["summary"] == "B" and patched["description"] == "x"
    status, error = refused(writer.events().update(calendarId=bookings["id"], eventId="mcbunknown01", body=timed(9)))
    assert (status, error["errors"][0]["reason"]) == (404, "notFound")


def test_delete_twice_is_410_deleted_and_unknown_is_404(emu, writer, bookings):
    writer.events().insert(calendarId=bookings["id"], body=timed(10, id="mcbdelete0001")).execute()
    writer.events().delete(calendarId=bookings["id"], eventId="mcbdelete0001").execute()
    with pytest.raises(HttpError) as caught:
        writer.events().delete(calendarId=bookings["id"], eventId="mcbdelete0001").execute()
    error = assert_error_body(caught.value.content, 410, "deleted")
    assert error["message"] == "Resource has been deleted"
    status, error = refused(writer.events().delete(calendarId=bookings["id"], eventId="mcbnever00001"))
    assert (status, error["errors"][0]["reason"]) == (404, "notFound")
    # A deleted event still holds its id: inserting it again is a duplicate; an update brings it back.
    status, error = refused(writer.events().insert(calendarId=bookings["id"], body=timed(11, id="mcbdelete0001")))
    assert (status, error["errors"][0]["reason"]) == (409, "duplicate")
    back = writer.events().update(calendarId=bookings["id"], eventId="mcbdelete0001", body=timed(11)).execute()
    assert back["status"] == "confirmed"


def test_writes_reach_watch_channels(emu, writer, bookings, receiver):
    writer.events().watch(
        calendarId=bookings["id"], body={"id": "ch-writes", "type": "web_hook", "address": receiver.url}
    ).execute()
    writer.events().insert(calendarId=bookings["id"], body=timed(10)).execute()
    assert emu.wait_for_notifications(5)
    assert receiver.states() == ["sync", "exists"]


# --- the write log ------------------------------------------------------------------------------


def test_calendar_writes_log_every_write_with_its_calendar(emu, writer, bookings):
    writer.events().insert(calendarId=bookings["id"], body=timed(10, id="mcblog000001")).execute()
    refused(writer.events().insert(calendarId="primary", body=timed(10)))
    writer.events().delete(calendarId=bookings["id"], eventId="mcblog000001").execute()
    writer.events().list(calendarId=bookings["id"]).execute()  # a read: not a write
    log = emu.calendar_writes()
    assert [(w["endpoint"], w["calendar_id"], w["status"]) for w in log] == [
        ("calendars.insert", None, 200),
        ("events.insert", bookings["id"], 200),
        ("events.insert", "primary", 403),
        ("events.delete", bookings["id"], 204),
    ]
    assert log[1]["method"] == "POST" and log[1]["body"]["id"] == "mcblog000001"
    assert emu.calls("events.list")[-1]["calendar_id"] == bookings["id"]
