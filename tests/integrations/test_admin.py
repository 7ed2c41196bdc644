"""Django admin for connections, calendars, channels and sync runs: visible state, no tokens."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from integrations.models import CalendarConnection, ExternalCalendar, SyncRun, WatchChannel
from scheduling.models import BlockedTime

pytestmark = pytest.mark.usefixtures("quiet_google")

ACCESS = "ya29.admin-test-access-token-0123456789"
REFRESH = "1//admin-test-refresh-token-0123456789"
CHANNEL_TOKEN = "channel-secret-0123456789"


@pytest.fixture
def connection(merchant):
    connection = CalendarConnection.objects.create(
        merchant=merchant,
        provider="google",
        account_email="owner@example.com",
        access_token=ACCESS,
        refresh_token=REFRESH,
        token_expires_at=timezone.now() + dt.timedelta(hours=1),
        connected_at=timezone.now(),
        last_error="Google Calendar API answered 503 (backendError)",
    )
    calendar = ExternalCalendar.objects.create(
        connection=connection, external_id="owner@example.com", summary="Owner", primary=True, selected=True
    )
    WatchChannel.objects.create(
        calendar=calendar,
        channel_id="chan-1",
        token=CHANNEL_TOKEN,
        resource_id="res-1",
        expires_at=timezone.now() + dt.timedelta(days=7),
    )
    SyncRun.objects.create(calendar=calendar, trigger="initial", kind="full", status="failed", error="boom")
    return connection


def _assert_no_secret(html: str):
    for secret in (ACCESS, REFRESH, CHANNEL_TOKEN):
        assert secret not in html


def test_connection_pages_show_state_but_never_a_token(admin_client, connection):
    listing = admin_client.get(reverse("admin:integrations_calendarconnection_changelist"))
    assert listing.status_code == 200
    html = listing.content.decode()
    assert "owner@example.com" in html and "backendError" in html
    _assert_no_secret(html)
    detail = admin_client.get(reverse("admin:integrations_calendarconnection_change", args=[connection.pk]))
    assert detail.status_code == 200
    html = detail.content.decode()
    assert "owner@example.com" in html
    _assert_no_secret(html)
    # Not even the ciphertext is shown.
    assert "access_token" not in html and "refresh_token" not in html


@pytest.mark.parametrize(
    "name", ["externalcalendar", "watchchannel", "syncrun"], ids=["calendars", "channels", "sync-runs"]
)
def test_other_pages_render_without_secrets(admin_client, connection, name):
    obj = {
        "externalcalendar": ExternalCalendar,
        "watchchannel": WatchChannel,
        "syncrun": SyncRun,
    }[name].objects.first()
    for url in (
        reverse(f"admin:integrations_{name}_changelist"),
        reverse(f"admin:integrations_{name}_change", args=[obj.pk]),
    ):
        response = admin_client.get(url)
        assert response.status_code == 200, url
        _assert_no_secret(response.content.decode())


def test_sync_runs_can_be_filtered_by_status(admin_client, connection):
    response = admin_client.get(reverse("admin:integrations_syncrun_changelist") + "?status__exact=failed")
    assert response.status_code == 200
    assert "boom" in response.content.decode()


def test_admin_disconnect_action_keeps_blocks_as_manual(admin_client, connection, google_emulator):
    calendar = connection.calendars.get()
    BlockedTime.objects.create(
        merchant=connection.merchant,
        start=timezone.now(),
        end=timezone.now() + dt.timedelta(hours=1),
        source="google",
        calendar=calendar,
        external_key="evt1",
    )
    response = admin_client.post(
        reverse("admin:integrations_calendarconnection_changelist"),
        {"action": "disconnect_keep_blocks", "_selected_action": [connection.pk]},
    )
    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.status == "disconnected"
    assert connection.access_token is None and connection.refresh_token is None
    block = BlockedTime.objects.get()
    assert (block.source, block.calendar, block.kept_group is not None) == ("manual", None, True)


def test_admin_sync_now_action_queues_selected_calendars(
    admin_client, google_connected, django_capture_on_commit_callbacks
):
    before = SyncRun.objects.filter(calendar=google_connected.calendar, trigger="manual").count()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:integrations_calendarconnection_changelist"),
            {"action": "sync_now", "_selected_action": [google_connected.connection.pk]},
        )
    assert response.status_code == 302
    assert SyncRun.objects.filter(calendar=google_connected.calendar, trigger="manual").count() == before + 1


def test_staff_cannot_delete_connections_or_sync_runs_around_the_disconnect_service(admin_client, connection):
    run = SyncRun.objects.filter(calendar__connection=connection).first()
    for url in (
        f"/admin/integrations/calendarconnection/{connection.pk}/delete/",
        f"/admin/integrations/syncrun/{run.pk}/delete/",
        f"/admin/integrations/externalcalendar/{run.calendar_id}/delete/",
    ):
        assert admin_client.post(url, {"post": "yes"}).status_code == 403
    listing = admin_client.get("/admin/integrations/calendarconnection/").content.decode()
    assert "delete_selected" not in listing
    assert CalendarConnection.objects.filter(pk=connection.pk).exists() and SyncRun.objects.filter(pk=run.pk).exists()


def test_a_disconnected_connection_keeps_its_sync_history_in_the_admin(admin_client, connection, google_emulator):
    runs = SyncRun.objects.filter(calendar__connection=connection).count()
    admin_client.post(
        "/admin/integrations/calendarconnection/",
        {"action": "disconnect_keep_blocks", "_selected_action": [connection.pk]},
    )
    assert CalendarConnection.objects.get(pk=connection.pk).status == "disconnected"
    assert SyncRun.objects.filter(calendar__connection=connection).count() == runs > 0
    assert admin_client.get("/admin/integrations/syncrun/").status_code == 200


def test_times_show_in_the_merchants_zone_and_in_utc(admin_client, connection):
    run = SyncRun.objects.filter(calendar__connection=connection).first()
    zone = connection.merchant.zone
    html = admin_client.get("/admin/integrations/syncrun/").content.decode()
    local, utc = run.started_at.astimezone(zone), run.started_at.astimezone(dt.UTC)
    assert f"{local:%Y-%m-%d %H:%M} {zone.key} ({utc:%H:%M} UTC" in html


def test_deleting_a_merchant_disconnects_through_the_service(admin_client, connection, google_emulator):
    merchant = connection.merchant
    revokes = len(google_emulator.calls("revoke"))
    response = admin_client.post(f"/admin/merchants/merchant/{merchant.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert len(google_emulator.calls("revoke")) == revokes + 1  # the grant was revoked at Google
    assert not CalendarConnection.objects.filter(pk=connection.pk).exists()
