"""Google's failures, injected at the emulator, each handled as SPEC §5 says, with the
connection's status, the calendar, the sync runs, the status API and the admin telling the truth.

- Transient (5xx, 408, 429, rate-limit 403s, timeouts, dropped connections, malformed JSON),
  on the Calendar API and on the token endpoint: retried with backoff inside the call; when
  short-lived nobody sees anything but the right blocked times; when lasting, every attempt
  is a failed run with its error, the task retries, the status says ``error`` with the reason
  until a sync succeeds, and then ``active`` with no error.
- 410: the cursor is dropped and the same run lists everything and reconciles.
- 401: one refresh, then success; ``invalid_grant``: ``reauth_required``, channels stopped,
  no retry, manual sync refused until the merchant reconnects (which repairs everything).
- Other 4xx (403 forbidden, 404, 400): recorded, not retried.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from integrations.models import CalendarConnection, SyncRun
from integrations.services.sync import calendar_sync_pending, calendar_sync_request
from tests.integrations.conftest import STATUS_URL, SYNC_URL, connect, session_client
from tests.integrations.sync.conftest import at, deliver_pushes, timed_event
from tests.reliability import figures
from tests.reliability.conftest import connect_as

TIMEOUT = 0.25  # GOOGLE_API_TIMEOUT_SECONDS in these tests; a "timeout" fault answers later than this
TRANSIENT = {
    "500": {"status": 500},
    "502": {"status": 502},
    "503": {"status": 503},
    "504": {"status": 504},
    "408": {"status": 408},
    "429": {"status": 429},
    "429-retry-after": {"status": 429, "retry_after": 0.01},
    "403-rateLimitExceeded": {"kind": "rate_limit_403"},
    "403-userRateLimitExceeded": {"kind": "user_rate_limit_403"},
    "403-quotaExceeded": {"kind": "quota_403"},
    "malformed-json": {"kind": "malformed_json"},
    "timeout": {"delay": TIMEOUT * 2.5},
    "dropped-connection": {"kind": "disconnect"},
}
TOKEN_TRANSIENT = {
    "500": {"status": 500},
    "503": {"status": 503},
    "429": {"status": 429},
    "timeout": {"delay": TIMEOUT * 2.5},
    "dropped-connection": {"kind": "disconnect"},
}


@pytest.fixture(autouse=True)
def _short_timeouts(settings):
    settings.GOOGLE_API_TIMEOUT_SECONDS = TIMEOUT


def inject(emulator, endpoint: str, fault: dict, times: int | None) -> None:
    emulator.inject_fault(endpoint, times=times, **fault)


class Truth:
    """What the merchant, the admin and the database say about the calendar."""

    def __init__(self, gcal):
        self.gcal = gcal
        self.client = gcal.connected.client

    def status(self) -> dict:
        response = self.client.get(STATUS_URL)
        assert response.status_code == 200
        return response.json()

    def runs(self, since: int) -> list[SyncRun]:
        return list(SyncRun.objects.filter(calendar=self.gcal.calendar, pk__gt=since).order_by("pk"))

    def last_run_pk(self) -> int:
        last = SyncRun.objects.order_by("-pk").first()
        return last.pk if last else 0

    def assert_healthy(self) -> None:
        status = self.status()
        assert status["status"] == "active", status
        assert status["last_error"] is None
        [calendar] = [c for c in status["calendars"] if c["primary"]]
        assert calendar["last_error"] is None
        connection = CalendarConnection.objects.get(pk=self.gcal.connected.connection.pk)
        assert (connection.status, connection.last_error) == ("active", "")

    def assert_failing(self, error: str, status_name: str = "error") -> dict:
        status = self.status()
        assert status["status"] == status_name, status
        assert error in status["last_error"], status["last_error"]
        [calendar] = [c for c in status["calendars"] if c["primary"]]
        assert error in calendar["last_error"]
        assert status["recent_sync_runs"][0]["status"] == "failed"
        assert error in status["recent_sync_runs"][0]["error"]
        return status

    def admin_shows(self, text: str) -> None:
        """Staff see the failed run and its error in the admin."""
        from django.contrib.auth import get_user_model

        staff = get_user_model().objects.filter(is_superuser=True).first() or get_user_model().objects.create_superuser(
            "staff@example.com", "staff@example.com", "x"
        )
        admin = Client()
        admin.force_login(staff)
        page = admin.get(reverse("admin:integrations_syncrun_changelist") + "?status__exact=failed")
        assert page.status_code == 200
        assert text in page.content.decode()


@pytest.fixture
def truth(gcal) -> Truth:
    return Truth(gcal)


# --- transient, short-lived: retried inside the call, nobody notices -------------------------


@pytest.mark.parametrize("name", list(TRANSIENT))
def test_a_short_calendar_api_fault_is_retried_within_the_call(gcal, truth, name):
    event_id = gcal.add(timed_event(at(2)))
    since = truth.last_run_pk()
    inject(gcal.emulator, "events.list", TRANSIENT[name], times=2)
    assert calendar_sync_request(calendar_id=gcal.calendar.pk, trigger=SyncRun.Trigger.NOTIFICATION)
    [run] = truth.runs(since)
    assert (run.status, run.error) == ("succeeded", "")
    assert set(gcal.blocks()) == {event_id}
    truth.assert_healthy()


@pytest.mark.parametrize("name", list(TOKEN_TRANSIENT))
def test_a_short_token_endpoint_fault_during_a_refresh_is_retried(gcal, truth, name):
    """The access token is due for a refresh and Google's token endpoint hiccups."""
    CalendarConnection.objects.filter(pk=gcal.connected.connection.pk).update(token_expires_at=timezone.now())
    event_id = gcal.add(timed_event(at(2)))
    since = truth.last_run_pk()
    inject(gcal.emulator, "token", TOKEN_TRANSIENT[name], times=1)
    calendar_sync_request(calendar_id=gcal.calendar.pk, trigger=SyncRun.Trigger.NOTIFICATION)
    [run] = truth.runs(since)
    assert run.status == "succeeded", run.error
    assert set(gcal.blocks()) == {event_id}
    truth.assert_healthy()
    stored = CalendarConnection.objects.get(pk=gcal.connected.connection.pk)
    assert stored.token_expires_at > timezone.now() + dt.timedelta(minutes=30)  # the refresh was saved


# --- transient, lasting: every attempt recorded, status says error until a success --------------


LASTING = ["500", "503", "429", "403-rateLimitExceeded", "malformed-json", "timeout", "dropped-connection"]


@pytest.mark.parametrize("name", LASTING)
def test_a_lasting_fault_is_retried_by_the_task_recorded_and_shown_until_a_sync_succeeds(gcal, truth, settings, name):
    settings.GOOGLE_API_MAX_ATTEMPTS = 2
    settings.CALENDAR_SYNC_MAX_RETRIES = 2
    event_id = gcal.add(timed_event(at(2)))
    since = truth.last_run_pk()
    inject(gcal.emulator, "events.list", TRANSIENT[name], times=None)

    calendar_sync_request(calendar_id=gcal.calendar.pk, trigger=SyncRun.Trigger.NOTIFICATION)

    runs = truth.runs(since)
    assert [r.status for r in runs] == ["failed"] * 3  # the first attempt and two task retries
    assert all(r.error and r.finished_at and r.duration_ms is not None for r in runs)
    assert all(r.error.startswith(("TransientError", "RateLimited")) for r in runs), [r.error for r in runs]
    # Each attempt retried once inside the call (httplib2 itself re-sends once on a dropped connection).
    [fault] = gcal.emulator.faults.list()
    assert fault["fired"] >= 3 * 2
    status = truth.assert_failing(runs[-1].error.split(":")[0])
    assert status["connected"] is True
    assert gcal.blocks() == {}  # nothing half-applied
    assert not calendar_sync_pending(calendar_id=gcal.calendar.pk)
    truth.admin_shows(runs[-1].error.split(":")[0])
    figures.count("google_faults.failed_runs_recorded", len(runs))

    gcal.emulator.clear_faults()
    calendar_sync_request(calendar_id=gcal.calendar.pk, trigger=SyncRun.Trigger.PERIODIC)
    assert truth.runs(since)[-1].status == "succeeded"
    assert set(gcal.blocks()) == {event_id}
    truth.assert_healthy()


def test_a_lasting_token_endpoint_outage_is_an_error_not_a_reauth(gcal, truth, settings):
    """Google's token endpoint down is Google's problem, not the merchant's grant. (google-auth
    itself tries a refresh three times with backoff, so one attempt here is enough to wait for.)"""
    settings.GOOGLE_API_MAX_ATTEMPTS = 1
    settings.CALENDAR_SYNC_MAX_RETRIES = 1
    CalendarConnection.objects.filter(pk=gcal.connected.connection.pk).update(token_expires_at=timezone.now())
    since = truth.last_run_pk()
    inject(gcal.emulator, "token", {"status": 503}, times=None)
    calendar_sync_request(calendar_id=gcal.calendar.pk, trigger=SyncRun.Trigger.MANUAL)
    runs = truth.runs(since)
    assert [r.status for r in runs] == ["failed", "failed"]
    truth.assert_failing("TransientError")
    gcal.emulator.clear_faults()
    calendar_sync_request(calendar_id=gcal.calendar.pk, trigger=SyncRun.Trigger.MANUAL)
    truth.assert_healthy()


# --- 410 ----------------------------------------------------------------------------------------


def test_410_discards_the_cursor_and_the_same_run_reconciles_in_full(gcal, truth):
    kept = gcal.add(timed_event(at(2)))
    gone = gcal.add(timed_event(at(3)))
    gcal.sync()
    assert set(gcal.blocks()) == {kept, gone}
    gcal.delete(gone)
    gcal.emulator.invalidate_sync_tokens(gcal.google_id)  # and the tombstone is beyond the cursor's reach
    since = truth.last_run_pk()
    inject(gcal.emulator, "events.list", {"status": 410}, times=1)
    calendar_sync_request(calendar_id=gcal.calendar.pk, trigger=SyncRun.Trigger.NOTIFICATION)
    [run] = truth.runs(since)
    assert (run.status, run.kind, run.blocks_deleted) == ("succeeded", "full", 1)
    assert set(gcal.blocks()) == {kept}
    assert gcal.calendar.sync_cursor  # a fresh cursor
    truth.assert_healthy()


# --- 401 and invalid_grant ----------------------------------------------------------------------


def test_a_401_refreshes_the_token_once_and_the_sync_succeeds(gcal, truth):
    event_id = gcal.add(timed_event(at(2)))
    since = truth.last_run_pk()
    refreshes = len(gcal.emulator.calls("token"))
    inject(gcal.emulator, "events.list", {"status": 401}, times=1)
    calendar_sync_request(calendar_id=gcal.calendar.pk, trigger=SyncRun.Trigger.NOTIFICATION)
    [run] = truth.runs(since)
    assert run.status == "succeeded"
    assert len(gcal.emulator.calls("token")) == refreshes + 1
    assert set(gcal.blocks()) == {event_id}
    truth.assert_healthy()


def test_a_401_that_survives_the_refresh_means_reauth_without_a_loop(gcal, truth):
    since = truth.last_run_pk()
    refreshes = len(gcal.emulator.calls("token"))
    inject(gcal.emulator, "events.list", {"status": 401}, times=None)
    calendar_sync_request(calendar_id=gcal.calendar.pk, trigger=SyncRun.Trigger.NOTIFICATION)
    [run] = truth.runs(since)
    assert run.status == "failed" and "ReauthRequired" in run.error
    assert len(gcal.emulator.calls("token")) == refreshes + 1
    truth.assert_failing("ReauthRequired", status_name="reauth_required")


@pytest.mark.parametrize("how", ["invalid_grant-fault", "grant-revoked-at-google"])
def test_invalid_grant_marks_reauth_required_stops_channels_and_retries_nothing(
    gcal, truth, how, django_capture_on_commit_callbacks
):
    deliver_pushes(gcal.emulator, Client())
    connection_pk = gcal.connected.connection.pk
    CalendarConnection.objects.filter(pk=connection_pk).update(token_expires_at=timezone.now())
    if how == "invalid_grant-fault":
        inject(gcal.emulator, "token", {"kind": "invalid_grant"}, times=None)
    else:
        gcal.emulator.revoke_grant(gcal.connected.email)
    since = truth.last_run_pk()
    calls = gcal.list_calls()

    calendar_sync_request(calendar_id=gcal.calendar.pk, trigger=SyncRun.Trigger.NOTIFICATION)

    [run] = truth.runs(since)  # not retried: only the merchant can fix it
    assert run.status == "failed" and "ReauthRequired" in run.error
    assert gcal.list_calls() == calls  # no Calendar call with a dead grant
    status = truth.assert_failing("ReauthRequired", status_name="reauth_required")
    assert status["channel_expires_at"] is None
    assert not gcal.calendar.channels.filter(status="active").exists()
    assert not calendar_sync_pending(calendar_id=gcal.calendar.pk)
    # The merchant is told to reconnect; syncing is refused until then, and so are pushes.
    response = truth.client.post(SYNC_URL)
    assert response.status_code == 409 and response.json()["error"]["code"] == "reauth_required"
    page = truth.client.get("/app/integrations")
    assert page.status_code == 200 and "Reconnect" in page.content.decode()
    event_id = gcal.add(timed_event(at(2)))
    deliver_pushes(gcal.emulator, Client())
    calendar_sync_request(calendar_id=gcal.calendar.pk, trigger=SyncRun.Trigger.PERIODIC)
    assert truth.runs(since) == [run]
    truth.admin_shows("ReauthRequired")

    # Reconnecting repairs it: a fresh grant, active, synced and watched again.
    gcal.emulator.clear_faults()
    response = connect_as(truth.client, gcal.connected.email, django_capture_on_commit_callbacks)
    assert response["Location"] == "/app/integrations?google=connected"
    truth.assert_healthy()
    assert set(gcal.blocks()) == {event_id}
    assert gcal.calendar.channels.filter(status="active").exists()


# --- other 4xx: recorded, not retried ----------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ({"status": 403, "reason": "insufficientPermissions"}, "PermissionDenied"),
        ({"status": 403, "reason": "forbidden"}, "PermissionDenied"),
        ({"status": 404}, "NotFound"),
        ({"status": 400}, "InvalidRequest"),
    ],
    ids=["403-insufficientPermissions", "403-forbidden", "404", "400"],
)
def test_a_permanent_fault_is_recorded_once_and_not_retried(gcal, truth, fault, error, settings):
    settings.CALENDAR_NOTIFICATION_SETTLE_SECONDS = 0  # two notifications, two bursts: each syncs at once
    since = truth.last_run_pk()
    calls = gcal.list_calls()
    inject(gcal.emulator, "events.list", fault, times=None)
    calendar_sync_request(calendar_id=gcal.calendar.pk, trigger=SyncRun.Trigger.NOTIFICATION)
    [run] = truth.runs(since)
    assert run.status == "failed" and run.error.startswith(error)
    assert gcal.list_calls() == calls + 1
    truth.assert_failing(error)
    assert not calendar_sync_pending(calendar_id=gcal.calendar.pk)
    gcal.emulator.clear_faults()
    calendar_sync_request(calendar_id=gcal.calendar.pk, trigger=SyncRun.Trigger.NOTIFICATION)
    truth.assert_healthy()


# --- faults while connecting and disconnecting ----------------------------------------------------


@pytest.mark.parametrize(
    ("endpoint", "fault", "times"),
    [
        ("token", {"status": 500}, 1),
        ("token", {"delay": TIMEOUT * 4}, 1),
        ("token", {"kind": "malformed_json"}, 1),
        ("calendarList.list", {"status": 503}, None),
        ("calendarList.list", {"kind": "malformed_json"}, None),
    ],
    ids=["token-500", "token-timeout", "token-malformed", "calendarList-503", "calendarList-malformed"],
)
def test_faults_while_connecting_store_nothing(
    merchant, google_emulator, google_account, settings, endpoint, fault, times
):
    settings.GOOGLE_API_MAX_ATTEMPTS = 2
    google_emulator.set_notifications_enabled(False)
    if "delay" in fault:
        settings.GOOGLE_API_TIMEOUT_SECONDS = TIMEOUT * 2
    inject(google_emulator, endpoint, fault, times=times)
    response = connect(session_client(merchant))
    assert response["Location"] == "/app/integrations?google=error&reason=token_exchange_failed"
    assert not CalendarConnection.objects.filter(merchant=merchant).exists()


def test_disconnect_completes_when_google_fails_every_call(google_connected, google_emulator, api):
    google_emulator.set_notifications_enabled(False)
    inject(google_emulator, "*", {"status": 503}, times=None)
    response = api.delete(STATUS_URL + "?delete_blocked_times=true")
    assert response.status_code == 204
    connection = CalendarConnection.objects.get(pk=google_connected.connection.pk)
    assert (connection.status, connection.access_token, connection.refresh_token) == ("disconnected", None, None)
    assert api.get(STATUS_URL).json()["status"] == "not_connected"
