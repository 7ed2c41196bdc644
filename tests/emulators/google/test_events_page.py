"""The emulator's event page (``_emulator/ui``): add, move and delete events by hand; watchers get pushes."""

from __future__ import annotations

import pytest
import requests

ANN = "ann@example.com"


@pytest.fixture
def emu(google_emulator):
    google_emulator.add_account(ANN, name="Ann", time_zone="Europe/Berlin")
    return google_emulator


def post(emu, **form) -> requests.Response:
    return requests.post(emu.base_url + "_emulator/ui", data=form, timeout=10)


def test_add_move_and_delete(emu):
    page = post(emu, action="add", calendar=ANN, summary="Dentist", date="2030-01-07", start="10:00", end="11:00")
    assert page.status_code == 200 and "Added “Dentist”. Nobody is watching it." in page.text
    [event] = emu.list_stored_events(ANN)
    assert (event["start"]["dateTime"], event["end"]["dateTime"]) == (
        "2030-01-07T10:00:00+01:00",
        "2030-01-07T11:00:00+01:00",
    )
    assert "Dentist" in page.text and "Mon 07 Jan · 10:00\u201311:00" in page.text

    post(emu, action="move", calendar=ANN, event=event["id"], date="2030-01-08", start="08:00", end="08:30")
    [moved] = emu.list_stored_events(ANN)
    assert moved["start"]["dateTime"] == "2030-01-08T08:00:00+01:00"

    page = post(emu, action="delete", calendar=ANN, event=event["id"])
    assert "Deleted the event." in page.text
    assert [e["status"] for e in emu.list_stored_events(ANN)] == ["cancelled"]
    assert "Dentist" not in page.text.split("</form>", 1)[1]


def test_all_day_and_free_events(emu):
    post(emu, action="add", calendar=ANN, summary="Trip", date="2030-01-07", all_day="1", show_as="free")
    [event] = emu.list_stored_events(ANN)
    assert event["start"] == {"date": "2030-01-07"} and event["end"] == {"date": "2030-01-08"}
    assert event["transparency"] == "transparent"


@pytest.mark.parametrize(
    "form",
    [
        {"action": "add", "calendar": ANN, "date": "not a date", "start": "10:00", "end": "11:00"},
        {"action": "add", "calendar": ANN, "date": "2030-01-07", "start": "11:00", "end": "10:00"},
        {"action": "add", "calendar": "nobody@example.com", "date": "2030-01-07", "start": "10:00", "end": "11:00"},
        {"action": "move", "calendar": ANN, "event": "missing", "date": "2030-01-07", "start": "10:00", "end": "11:00"},
        {"action": "explode", "calendar": ANN},
    ],
)
def test_mistakes_are_shown_not_raised(emu, form):
    page = post(emu, **form)
    assert page.status_code == 200 and "That did not work" in page.text
    assert emu.list_stored_events(ANN) == []


def test_a_watched_calendar_gets_a_push(emu):
    received = []
    emu.set_notification_sender(lambda address, headers: received.append(headers["X-Goog-Resource-State"]) or 200)
    tokens = emu.issue_tokens(ANN)
    requests.post(
        emu.calendar_endpoint + f"calendars/{ANN}/events/watch",
        json={"id": "channel-1", "type": "web_hook", "address": "https://app.example.com/watch"},
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=10,
    ).raise_for_status()

    page = post(emu, action="add", calendar=ANN, summary="Haircut", date="2030-01-07", start="14:00", end="15:00")
    assert "Push notification sent to 1 watch channel(s)." in page.text
    assert emu.wait_for_notifications(timeout=5)
    assert received == ["sync", "exists"]
