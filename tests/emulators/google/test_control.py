"""The JSON control API and ``EmulatorControl``: the same operations from another process."""

from __future__ import annotations

import pytest
import requests

from integrations.emulators.google import EmulatorControl
from integrations.emulators.google.control import OPERATIONS, EmulatorControlError
from tests.emulators.google.conftest import calendar_service, credentials_for


@pytest.fixture
def control(google_emulator):
    return EmulatorControl(google_emulator.base_url)


def test_control_client_drives_the_emulator(google_emulator, control):
    assert control.token_uri == google_emulator.token_uri and control.api_root == google_emulator.api_root
    control.add_account("ann@example.com", name="Ann", time_zone="Europe/Berlin")
    control.add_calendar("ann@example.com", calendar_id="team@group.calendar.google.com", summary="Team")
    created = control.insert_event(
        "ann@example.com",
        {"summary": "x", "start": {"dateTime": "2030-01-05T10:00:00Z"}, "end": {"dateTime": "2030-01-05T11:00:00Z"}},
    )
    assert created["id"] and created["summary"] == "x"
    control.update_event("ann@example.com", created["id"], {"summary": "y"})
    assert control.get_event("ann@example.com", created["id"])["summary"] == "y"
    service = calendar_service(google_emulator, credentials_for(google_emulator, "ann@example.com"))
    token = service.events().list(calendarId="primary").execute()["nextSyncToken"]
    control.delete_event("ann@example.com", created["id"])
    delta = service.events().list(calendarId="primary", syncToken=token).execute()
    assert delta["items"][0]["status"] == "cancelled"
    control.invalidate_sync_tokens("ann@example.com")
    control.inject_fault("events.list", status=503)
    assert control.calls("events.list")[-1]["status"] == 200
    control.revoke_grant("ann@example.com")
    assert control.revoked_tokens()
    assert [a["email"] for a in control.state()["accounts"]] == ["ann@example.com"]
    control.reset()
    assert control.state()["accounts"] == []


def test_every_operation_is_an_emulator_method(google_emulator):
    for name in OPERATIONS:
        assert name == "seed_demo" or callable(getattr(google_emulator, name)), name
        assert callable(getattr(EmulatorControl, name))


def test_control_errors(google_emulator, control):
    with pytest.raises(EmulatorControlError, match="Unknown calendar"):
        control.insert_event("nobody@example.com", {"start": {"date": "2030-01-01"}})
    assert requests.post(google_emulator.base_url + "_emulator/not_an_operation", timeout=5).status_code == 404


def test_seed_demo_and_index_page(google_emulator, control):
    seeded = control.seed_demo()
    assert seeded["email"] == "demo.merchant@example.com"
    page = requests.get(google_emulator.base_url, timeout=5)
    assert page.status_code == 200 and "demo.merchant@example.com" in page.text
    events = control.list_stored_events("demo.merchant@example.com")
    assert any(e.get("recurrence") for e in events) and any(e.get("transparency") for e in events)
