"""Injected faults as Google's client libraries see them."""

from __future__ import annotations

import json
import socket

import google.auth.transport.requests
import httplib2
import pytest
import requests
from google.auth.exceptions import RefreshError, TransportError
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient.errors import HttpError

from tests.emulators.google.conftest import ANN, calendar_service
from tests.emulators.google.support import assert_error_body


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
def test_status_faults_are_retried_by_the_client_library(emu, service, status):
    emu.inject_fault("events.list", status=status, times=2)
    with pytest.raises(HttpError) as caught:
        service.events().list(calendarId="primary").execute()
    assert caught.value.status_code == status
    assert_error_body(caught.value.content, status, json.loads(caught.value.content)["error"]["errors"][0]["reason"])
    # the second fault, then a normal answer: googleapiclient's own retry gets through
    request = service.events().list(calendarId="primary")
    request._sleep = lambda seconds: None  # skip the library's backoff pause
    assert request.execute(num_retries=1)["kind"] == "calendar#events"
    assert [c["status"] for c in emu.calls("events.list")] == [status, status, 200]


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("rate_limit_403", "rateLimitExceeded"),
        ("user_rate_limit_403", "userRateLimitExceeded"),
        ("quota_403", "quotaExceeded"),
    ],
)
def test_rate_limit_403_bodies(emu, service, kind, reason):
    emu.inject_fault("calendarList.list", kind=kind)
    with pytest.raises(HttpError) as caught:
        service.calendarList().list().execute()
    error = assert_error_body(caught.value.content, 403, reason)
    assert error["errors"][0]["domain"] == "usageLimits"


def test_reason_parameter_and_retry_after(emu, service):
    emu.inject_fault("events.list", status=429, retry_after=120)
    with pytest.raises(HttpError) as caught:
        service.events().list(calendarId="primary").execute()
    assert caught.value.resp["retry-after"] == "120"
    emu.inject_fault("events.list", status=403, reason="userRateLimitExceeded")
    with pytest.raises(HttpError) as caught:
        service.events().list(calendarId="primary").execute()
    assert_error_body(caught.value.content, 403, "userRateLimitExceeded")


def test_times_none_fails_until_cleared(emu, service):
    emu.inject_fault("events.list", status=500, times=None)
    for _ in range(3):
        with pytest.raises(HttpError):
            service.events().list(calendarId="primary").execute()
    emu.clear_faults()
    assert service.events().list(calendarId="primary").execute()


def test_faults_only_hit_their_endpoint(emu, service):
    emu.inject_fault("events.watch", status=500)
    assert service.calendarList().list().execute()
    assert service.events().list(calendarId="primary").execute()


def test_malformed_json(emu, service):
    emu.inject_fault("events.list", kind="malformed_json")
    # googleapiclient hands back the undecodable text instead of a dict
    answer = service.events().list(calendarId="primary").execute()
    assert isinstance(answer, str) and answer.startswith('{"kind": "calendar#events"')
    with pytest.raises(json.JSONDecodeError):
        json.loads(answer)


def test_delay_makes_a_client_time_out(emu, creds):
    emu.inject_fault("events.list", delay=1.0)
    http = AuthorizedHttp(creds, http=httplib2.Http(timeout=0.2))
    service = calendar_service(emu, creds)
    with pytest.raises((TimeoutError, socket.timeout)):
        service.events().list(calendarId="primary").execute(http=http)
    # without the fault the same call answers normally
    assert service.events().list(calendarId="primary").execute()


def test_disconnect(emu, service):
    emu.inject_fault("events.list", kind="disconnect", times=2)  # httplib2 retries a dropped connection once
    with pytest.raises((ConnectionError, httplib2.error.ServerNotFoundError, OSError)):
        service.events().list(calendarId="primary").execute()
    assert [c["status"] for c in emu.calls("events.list")] == [None, None]


@pytest.fixture
def no_backoff(monkeypatch):
    """google-auth sleeps between its own refresh retries; not needed against a local emulator."""
    import google.auth._exponential_backoff as backoff

    monkeypatch.setattr(backoff, "time", type("NoSleep", (), {"sleep": staticmethod(lambda seconds: None)}))


def test_token_endpoint_faults(emu, creds, no_backoff):
    emu.inject_fault("token", status=503, times=None)  # google-auth retries retryable refresh errors itself
    with pytest.raises(RefreshError) as caught:
        creds.refresh(google.auth.transport.requests.Request())
    assert caught.value.retryable
    assert len(emu.calls("token")) > 1
    emu.clear_faults()
    emu.inject_fault("token", kind="invalid_grant")
    with pytest.raises(RefreshError) as caught:
        creds.refresh(google.auth.transport.requests.Request())
    assert caught.value.args[1]["error"] == "invalid_grant" and not caught.value.retryable
    creds.refresh(google.auth.transport.requests.Request())
    assert creds.valid


def test_token_endpoint_disconnect(emu, creds, no_backoff):
    emu.inject_fault("token", kind="disconnect", times=None)
    with pytest.raises(TransportError):
        creds.refresh(google.auth.transport.requests.Request())


def test_revoke_and_auth_faults(emu):
    emu.inject_fault("revoke", status=500)
    answer = requests.post(emu.revoke_uri, data={"token": "x"}, timeout=5)
    assert answer.status_code == 500 and answer.json()["error"] == "internal_failure"
    emu.inject_fault("auth", status=500)
    assert requests.get(emu.auth_uri, timeout=5).status_code == 500


def test_calls_are_recorded(emu, service):
    service.events().list(calendarId="primary", singleEvents=True, eventTypes=["default"]).execute()
    (call,) = emu.calls("events.list")
    assert set(call) >= {"endpoint", "method", "path", "params", "status", "time"}
    assert call["method"] == "GET" and call["status"] == 200
    assert call["params"]["singleEvents"] == "true" and call["params"]["alt"] == "json"
    assert call["query"]["eventTypes"] == ["default"]
    assert call["headers"]["authorization"].startswith("Bearer ")
    emu.clear_calls()
    assert emu.calls() == []


def test_unknown_fault_kind_is_refused(emu):
    with pytest.raises(ValueError):
        emu.inject_fault("events.list", kind="gremlins")


def test_empty_page_still_carries_a_page_token(emu, service):
    emu.insert_events(ANN, [{"start": {"date": f"2030-01-{day:02d}"}} for day in range(1, 4)])
    emu.inject_fault("events.list", kind="empty_page")
    first = service.events().list(calendarId="primary").execute()
    assert first["items"] == [] and first["nextPageToken"] and "nextSyncToken" not in first
    rest = service.events().list(calendarId="primary", pageToken=first["nextPageToken"]).execute()
    assert len(rest["items"]) == 3 and rest["nextSyncToken"]
