"""Fault injection, the latency knob, the call log, the control API over HTTPS (and its refusal of
cross-origin requests), the events page and the demo seed."""

from __future__ import annotations

import time

import msal
import pytest
import requests

from integrations.emulators.microsoft import EmulatorControl, EmulatorControlError
from integrations.emulators.microsoft.demo import seed_demo
from integrations.emulators.microsoft.pytest_plugin import TEST_CLIENT_ID, TEST_CLIENT_SECRET
from tests.emulators.microsoft.conftest import ANN
from tests.emulators.microsoft.support import timed

WINDOW = {"startDateTime": "2030-01-01T00:00:00Z", "endDateTime": "2030-02-01T00:00:00Z"}


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (429, "ApplicationThrottled"),
        (503, "serviceNotAvailable"),
        (500, "generalException"),
        (404, "ErrorItemNotFound"),
    ],
)
def test_graph_faults_have_graph_bodies_and_retry_after(emu, graph, status, code):
    emu.inject_fault("me", status=status, retry_after=7)
    answer = graph.get(emu.graph_root + "me")
    assert answer.status_code == status and answer.json()["error"]["code"] == code
    assert answer.headers["Retry-After"] == "7"
    assert graph.get(emu.graph_root + "me").status_code == 200  # fired once


def test_fault_kinds_on_graph(emu, graph, calendar_id):
    emu.inject_fault("calendarView.delta", kind="sync_state_not_found")
    url = emu.graph_root + f"me/calendars/{calendar_id}/calendarView/delta"
    assert graph.get(url, params=WINDOW).json()["error"]["code"] == "SyncStateNotFound"
    emu.inject_fault("calendarView.delta", kind="resync_required")
    assert graph.get(url, params=WINDOW).status_code == 410
    emu.inject_fault("me", kind="malformed_json")
    with pytest.raises(requests.JSONDecodeError):
        graph.get(emu.graph_root + "me").json()
    emu.inject_fault("me", kind="disconnect")
    with pytest.raises(requests.ConnectionError):
        graph.get(emu.graph_root + "me")
    emu.inject_fault("*", status=401, times=2)
    unauthorized = graph.get(emu.graph_root + "me/calendars")
    assert unauthorized.status_code == 401 and "WWW-Authenticate" in unauthorized.headers
    assert graph.get(emu.graph_root + "me").status_code == 401
    assert graph.get(emu.graph_root + "me").status_code == 200


def test_token_endpoint_faults_as_msal_sees_them(emu):
    tokens = emu.issue_tokens(ANN)
    app = msal.ConfidentialClientApplication(
        TEST_CLIENT_ID,
        client_credential=TEST_CLIENT_SECRET,
        authority=emu.authority(),
        instance_discovery=emu.authority_host + "/common/discovery/instance",
    )
    emu.inject_fault("token", kind="invalid_grant", aadsts=700082)
    refused = app.acquire_token_by_refresh_token(tokens["refresh_token"], ["Calendars.Read"])
    assert refused["error"] == "invalid_grant" and refused["error_codes"] == [700082]
    emu.inject_fault("token", kind="temporarily_unavailable", retry_after=1)
    with pytest.raises(msal.exceptions.MsalServiceError, match="503"):  # msal raises on 5xx
        app.acquire_token_by_refresh_token(tokens["refresh_token"], ["User.Read"])
    assert [c["status"] for c in emu.calls("token")] == [400, 503]


def test_a_delay_fault_and_the_latency_knob_slow_answers_down(emu, graph):
    emu.set_graph_latency(0.2)
    started = time.monotonic()
    assert graph.get(emu.graph_root + "me").status_code == 200
    assert time.monotonic() - started >= 0.2
    emu.set_graph_latency(0)
    emu.inject_fault("me", delay=0.2)
    started = time.monotonic()
    assert graph.get(emu.graph_root + "me").status_code == 200
    assert time.monotonic() - started >= 0.2


def test_the_call_log_counts_requests_with_headers(emu, graph, calendar_id):
    graph.headers["Prefer"] = "odata.maxpagesize=50"
    graph.get(emu.graph_root + f"me/calendars/{calendar_id}/calendarView", params=WINDOW)
    graph.get(emu.graph_root + "me")
    (view,) = emu.calls("calendarView")
    assert view["headers"]["prefer"] == "odata.maxpagesize=50" and view["query"]["startDateTime"] == [
        WINDOW["startDateTime"]
    ]
    assert [c["endpoint"] for c in emu.calls()] == ["calendarView", "me"]
    emu.clear_calls()
    assert emu.calls() == []


def control(emu) -> EmulatorControl:
    return EmulatorControl(emu.base_url, ca_bundle=emu.ca_bundle_path)


def test_control_api_over_https_drives_the_emulator(emu):
    remote = control(emu)
    account = remote.add_account("carl@contoso.com", name="Carl")
    event = remote.insert_event(account["default_calendar"], timed("Remote", "2030-01-02", 9, 10))
    assert remote.get_event(account["default_calendar"], event["id"])["subject"] == "Remote"
    assert remote.configure(delta_page_size=3)["delta_page_size"] == 3
    assert any(a["email"] == "carl@contoso.com" for a in remote.state()["accounts"])
    with pytest.raises(EmulatorControlError, match="Unknown calendar"):
        remote.insert_event("nope", timed("X", "2030-01-02", 9, 10))


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "null"},
        {"Host": "evil.example"},  # DNS rebinding: evil.example resolving to 127.0.0.1
    ],
)
def test_control_api_refuses_cross_origin_requests(emu, headers):
    answer = requests.post(
        emu.base_url + "_emulator/add_account",
        json={"args": ["mallory@contoso.com"]},
        headers=headers,
    )
    assert answer.status_code == 403
    page = requests.post(emu.base_url + "_emulator/ui", data={"action": "delete"}, headers=headers)
    assert page.status_code == 403
    assert emu.snapshot()["accounts"][0]["email"] == ANN and len(emu.snapshot()["accounts"]) == 1


def test_control_api_takes_json_only(emu):
    form = requests.post(emu.base_url + "_emulator/reset", data={"args": "[]"})
    assert form.status_code == 415
    same_origin = requests.post(
        emu.base_url + "_emulator/add_account",
        json={"args": ["dora@contoso.com"]},
        headers={"Origin": emu.authority_host},
    )
    assert same_origin.status_code == 200


def test_events_page_adds_moves_and_deletes_and_notifies(emu, graph, receiver, calendar_id):
    emu.configure(max_subscription_minutes=10**8)
    created = graph.post(
        emu.graph_root + "subscriptions",
        json={
            "changeType": "created,updated,deleted",
            "notificationUrl": receiver.url,
            "resource": f"me/calendars/{calendar_id}/events",
            "expirationDateTime": "2099-01-01T00:00:00Z",
        },
    )
    assert created.status_code == 201
    page = requests.get(emu.base_url + "_emulator/ui")
    assert page.status_code == 200 and "Change events" in page.text
    today = emu.clock.now_dt().date().isoformat()
    added = requests.post(
        emu.base_url + "_emulator/ui",
        data={
            "action": "add",
            "calendar": calendar_id,
            "subject": "Haircut",
            "date": today,
            "start": "14:00",
            "end": "15:00",
        },
        allow_redirects=False,
    )
    assert added.status_code == 302 and "msg=" in added.headers["Location"]
    (event,) = emu.stored_events(calendar_id)
    assert event["subject"] == "Haircut"
    requests.post(
        emu.base_url + "_emulator/ui",
        data={
            "action": "move",
            "calendar": calendar_id,
            "event": event["id"],
            "date": today,
            "start": "16:00",
            "end": "17:00",
        },
    )
    assert "Haircut" in requests.get(emu.base_url + "_emulator/ui").text
    requests.post(
        emu.base_url + "_emulator/ui", data={"action": "delete", "calendar": calendar_id, "event": event["id"]}
    )
    assert emu.stored_events(calendar_id) == []
    assert emu.wait_for_notifications(5)
    assert [i["changeType"] for i in receiver.items()] == ["created", "updated", "deleted"]


def test_index_page_and_demo_seed(emu, graph):
    seeded = seed_demo(emu)
    assert len(seeded["calendars"]) == 2
    session_tokens = emu.issue_tokens(seeded["email"])
    now = emu.clock.now_dt()
    params = {
        "startDateTime": (now.replace(hour=0, minute=0) - __import__("datetime").timedelta(days=7)).isoformat(),
        "endDateTime": (now + __import__("datetime").timedelta(days=14)).isoformat(),
        "$top": "200",
    }
    items = requests.get(
        emu.graph_root + f"me/calendars/{seeded['calendars'][0]}/calendarView",
        params=params,
        headers={"Authorization": "Bearer " + session_tokens["access_token"]},
    ).json()["value"]
    show_as = {i["showAs"] for i in items}
    assert {"busy", "free", "tentative", "oof", "workingElsewhere"} <= show_as
    assert {"occurrence", "exception", "singleInstance"} <= {i["type"] for i in items}
    assert any(i["isCancelled"] for i in items) and any(i["isAllDay"] for i in items)
    assert {i["responseStatus"]["response"] for i in items} >= {"declined", "notResponded", "none"}
    index = requests.get(emu.base_url)
    assert index.status_code == 200 and "demo.merchant@outlook.com" in index.text
