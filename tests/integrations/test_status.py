"""Status GET, preferences PATCH, calendars PATCH and manual sync POST (SPEC §3)."""

import datetime as dt

import pytest
from django.utils import timezone

from integrations.models import CalendarConnection, ExternalCalendar, SyncRun
from scheduling.models import BlockedTime
from tests.conftest import api_client_for
from tests.integrations.conftest import CALENDARS_URL, STATUS_URL, SYNC_URL

pytestmark = pytest.mark.usefixtures("quiet_google")

STATUS_KEYS = {
    "provider",
    "push",
    "next_sync_at",
    "connected",
    "status",
    "account_email",
    "connected_at",
    "last_synced_at",
    "last_error",
    "calendars",
    "channel_expires_at",
    "preferences",
    "bookings_calendar",
    "recent_sync_runs",
}


def test_not_connected(api):
    response = api.get(STATUS_URL)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == STATUS_KEYS
    assert body["connected"] is False and body["status"] == "not_connected"
    assert body["provider"] == "google" and body["next_sync_at"] is None
    assert body["calendars"] == [] and body["account_email"] is None
    assert body["preferences"] == {"block_tentative": False, "block_all_day": True, "write_bookings": False}
    assert body["bookings_calendar"] is None


def test_status_needs_authentication(anon, db):
    response = anon.get(STATUS_URL)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_connected_status(google_connected, api):
    body = api.get(STATUS_URL).json()
    assert set(body) == STATUS_KEYS
    assert body["connected"] is True
    assert body["status"] == "active"
    assert body["account_email"] == google_connected.email
    assert body["connected_at"] and body["last_synced_at"]
    assert body["last_error"] is None
    [calendar] = [c for c in body["calendars"] if c["primary"]]
    assert (body["provider"], body["push"], body["next_sync_at"]) == ("google", True, None)
    assert calendar == {
        "id": google_connected.calendar.pk,
        "external_id": google_connected.email,
        "summary": calendar["summary"],
        "primary": True,
        "selected": True,
        "last_synced_at": calendar["last_synced_at"],
        "last_error": None,
    }
    assert calendar["last_synced_at"]
    assert body["recent_sync_runs"][0]["trigger"] == "initial"
    assert body["recent_sync_runs"][0]["status"] == "succeeded"
    # Timestamps carry the merchant's offset, like every other instant of the API.
    connected_at = dt.datetime.fromisoformat(body["connected_at"])
    assert connected_at.utcoffset() == connected_at.astimezone(google_connected.connection.merchant.zone).utcoffset()


def test_status_reports_syncing_while_a_run_is_running(google_connected, api):
    SyncRun.objects.create(calendar=google_connected.calendar, trigger="manual", kind="full", status="running")
    assert api.get(STATUS_URL).json()["status"] == "syncing"


def test_status_reports_errors(google_connected, api):
    CalendarConnection.objects.filter(pk=google_connected.connection.pk).update(
        status="error", last_error="Google Calendar API answered 503"
    )
    body = api.get(STATUS_URL).json()
    assert body["status"] == "error" and body["last_error"] == "Google Calendar API answered 503"


def test_each_merchant_sees_only_their_own_connection(google_connected, other_merchant):
    body = api_client_for(other_merchant).get(STATUS_URL).json()
    assert body["connected"] is False and body["calendars"] == []


# --- preferences -----------------------------------------------------------------------------


def test_preferences_patch_saves_and_resyncs(google_connected, api, django_capture_on_commit_callbacks):
    runs = SyncRun.objects.filter(calendar=google_connected.calendar).count()
    with django_capture_on_commit_callbacks(execute=True):
        response = api.patch(STATUS_URL, {"preferences": {"block_tentative": True}}, format="json")
    assert response.status_code == 200
    assert response.json()["preferences"] == {"block_tentative": True, "block_all_day": True, "write_bookings": False}
    connection = CalendarConnection.objects.get(pk=google_connected.connection.pk)
    assert connection.block_tentative is True
    # The rules changed: every selected calendar is listed again in full.
    assert SyncRun.objects.filter(calendar=google_connected.calendar).count() == runs + 1
    assert SyncRun.objects.filter(calendar=google_connected.calendar).first().kind == "full"


def test_preferences_flat_form(google_connected, api):
    response = api.patch(STATUS_URL, {"block_all_day": False}, format="json")
    assert response.status_code == 200
    assert response.json()["preferences"]["block_all_day"] is False


@pytest.mark.parametrize(
    "body",
    [
        {"preferences": {"block_tentative": "yes"}},
        {"preferences": {"block_tentative": 1}},
        {"preferences": {"colour": "red"}},
        {"preferences": {}},
        {"block_tentative": True, "extra": 1},
        {"preferences": "on"},
    ],
)
def test_preferences_bad_input_is_400(google_connected, api, body):
    response = api.patch(STATUS_URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert CalendarConnection.objects.get(pk=google_connected.connection.pk).block_tentative is False


# --- calendars -------------------------------------------------------------------------------


@pytest.fixture
def secondary(google_connected):
    return ExternalCalendar.objects.create(
        connection=google_connected.connection, external_id="team@group.calendar.google.com", summary="Team"
    )


def test_deselecting_removes_blocks_and_channels(google_connected, api):
    calendar = google_connected.calendar
    BlockedTime.objects.create(
        merchant=google_connected.connection.merchant,
        start=timezone.now(),
        end=timezone.now() + dt.timedelta(hours=1),
        source="google",
        calendar=calendar,
        external_key="evt-x",
    )
    response = api.patch(CALENDARS_URL, [{"id": calendar.pk, "selected": False}], format="json")
    assert response.status_code == 200
    [entry] = [c for c in response.json()["calendars"] if c["id"] == calendar.pk]
    assert entry["selected"] is False
    assert not BlockedTime.objects.filter(calendar=calendar).exists()
    assert not calendar.channels.filter(status="active").exists()


def test_selecting_syncs_the_calendar(google_connected, api, secondary, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.patch(CALENDARS_URL, [{"id": secondary.pk, "selected": True}], format="json")
    assert response.status_code == 200
    secondary.refresh_from_db()
    assert secondary.selected
    assert SyncRun.objects.filter(calendar=secondary, trigger="selection").exists()


def test_another_merchants_calendar_is_404(google_connected, other_merchant):
    response = api_client_for(other_merchant).patch(
        CALENDARS_URL, [{"id": google_connected.calendar.pk, "selected": False}], format="json"
    )
    assert response.status_code in (404, 409)
    assert ExternalCalendar.objects.get(pk=google_connected.calendar.pk).selected


def test_unknown_calendar_is_404(google_connected, api):
    response = api.patch(CALENDARS_URL, [{"id": 999999, "selected": True}], format="json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "body",
    [
        [],
        [{"id": "abc", "selected": True}],
        [{"id": 1, "selected": "true"}],
        [{"id": 1}],
        [{"id": 1, "selected": True, "colour": "red"}],
        {"id": 1, "selected": True},
        [{"id": 1, "selected": True}, {"id": 1, "selected": False}],
    ],
)
def test_calendars_bad_input_is_400(google_connected, api, body):
    assert api.patch(CALENDARS_URL, body, format="json").status_code == 400


def test_calendars_when_not_connected(api):
    response = api.patch(CALENDARS_URL, [{"id": 1, "selected": True}], format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_connected"


# --- manual sync -----------------------------------------------------------------------------


def test_manual_sync_is_accepted(google_connected, api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(SYNC_URL)
    assert response.status_code == 202
    assert response.json() == {"queued_calendars": [google_connected.calendar.pk]}
    assert SyncRun.objects.filter(calendar=google_connected.calendar, trigger="manual").exists()


def test_manual_sync_needs_a_usable_connection(api, google_connected):
    CalendarConnection.objects.filter(pk=google_connected.connection.pk).update(status="reauth_required")
    response = api.post(SYNC_URL)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "reauth_required"


def test_manual_sync_when_not_connected(api):
    assert api.post(SYNC_URL).status_code == 409
