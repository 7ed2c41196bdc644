"""Disconnect: revoke at Google, stop channels, delete tokens, keep or delete synced blocks;
completes locally when Google is down; reconnecting reuses the record."""

import datetime as dt

import pytest
from django.test import override_settings
from django.utils import timezone

from integrations.models import CalendarConnection, ExternalCalendar, SyncRun, WatchChannel
from scheduling.models import BlockedTime
from tests.conftest import api_client_for
from tests.integrations.conftest import STATUS_URL, connect

pytestmark = pytest.mark.usefixtures("quiet_google")


@pytest.fixture
def synced_block(google_connected):
    return BlockedTime.objects.create(
        merchant=google_connected.connection.merchant,
        start=timezone.now() + dt.timedelta(days=1),
        end=timezone.now() + dt.timedelta(days=1, hours=1),
        source="google",
        calendar=google_connected.calendar,
        external_key="evt-1",
    )


@pytest.fixture
def manual_block(google_connected):
    return BlockedTime.objects.create(
        merchant=google_connected.connection.merchant,
        start=timezone.now() + dt.timedelta(days=2),
        end=timezone.now() + dt.timedelta(days=2, hours=1),
        note="lunch",
    )


def _assert_disconnected(pk):
    connection = CalendarConnection.objects.get(pk=pk)
    assert connection.status == "disconnected"
    assert connection.access_token is None and connection.refresh_token is None
    # The calendars stay, unselected and without a cursor, with their sync history (SPEC §9).
    calendars = ExternalCalendar.objects.filter(connection=connection)
    assert not calendars.filter(selected=True).exists() and not calendars.exclude(sync_cursor="").exists()
    assert SyncRun.objects.filter(calendar__connection=connection).exists()
    return connection


def test_disconnect_keeps_synced_blocks_as_manual(google_connected, api, synced_block, manual_block, google_emulator):
    refresh_token = CalendarConnection.objects.get(pk=google_connected.connection.pk).refresh_token
    channels = list(WatchChannel.objects.filter(calendar=google_connected.calendar, status="active"))

    response = api.delete(STATUS_URL)

    assert response.status_code == 204
    _assert_disconnected(google_connected.connection.pk)
    kept = BlockedTime.objects.get(pk=synced_block.pk)
    assert (kept.source, kept.calendar_id, kept.external_key) == ("manual", None, synced_block.external_key)
    assert kept.kept_group is not None  # one group per calendar, removable at once (SPEC §9)
    assert (kept.start, kept.end) == (synced_block.start, synced_block.end)
    assert BlockedTime.objects.filter(pk=manual_block.pk).exists()
    # Revoked at Google, and channels stopped there.
    assert refresh_token in google_emulator.revoked_tokens()
    assert {c.channel_id for c in channels} <= {
        c["body"]["id"] for c in google_emulator.calls("channels.stop")
    } or not channels
    assert api.get(STATUS_URL).json()["status"] == "not_connected"


def test_disconnect_can_delete_synced_blocks(google_connected, api, synced_block, manual_block):
    response = api.delete(STATUS_URL + "?delete_blocked_times=true")
    assert response.status_code == 204
    _assert_disconnected(google_connected.connection.pk)
    assert not BlockedTime.objects.filter(pk=synced_block.pk).exists()
    assert BlockedTime.objects.filter(pk=manual_block.pk).exists()  # the merchant's own stay


def test_disconnect_completes_when_google_is_down(google_connected, api, synced_block):
    with override_settings(
        GOOGLE_OAUTH_REVOKE_URI="http://127.0.0.1:9/revoke",
        GOOGLE_API_ROOT="http://127.0.0.1:9/",
        GOOGLE_OAUTH_TOKEN_URI="http://127.0.0.1:9/token",
        GOOGLE_API_MAX_ATTEMPTS=2,
    ):
        response = api.delete(STATUS_URL)
    assert response.status_code == 204
    _assert_disconnected(google_connected.connection.pk)
    assert BlockedTime.objects.get(pk=synced_block.pk).source == "manual"


def test_disconnect_completes_when_google_answers_errors(google_connected, api, google_emulator):
    google_emulator.inject_fault("revoke", status=503, times=10)
    assert api.delete(STATUS_URL).status_code == 204
    _assert_disconnected(google_connected.connection.pk)


def test_disconnect_after_reauth_required(google_connected, api, google_emulator):
    CalendarConnection.objects.filter(pk=google_connected.connection.pk).update(status="reauth_required")
    google_emulator.revoke_grant(google_connected.email)
    assert api.delete(STATUS_URL).status_code == 204
    _assert_disconnected(google_connected.connection.pk)


def test_disconnect_bad_query_is_400(google_connected, api):
    assert api.delete(STATUS_URL + "?delete_blocked_times=perhaps").status_code == 400
    assert api.delete(STATUS_URL + "?colour=red").status_code == 400
    assert CalendarConnection.objects.get(pk=google_connected.connection.pk).status == "active"


def test_disconnect_is_idempotent_and_per_merchant(google_connected, api, other_merchant):
    assert api_client_for(other_merchant).delete(STATUS_URL).status_code == 204
    assert CalendarConnection.objects.get(pk=google_connected.connection.pk).status == "active"
    assert api.delete(STATUS_URL).status_code == 204
    assert api.delete(STATUS_URL).status_code == 204


def test_reconnect_after_disconnect_reuses_the_record(
    merchant, google_connected, api, django_capture_on_commit_callbacks
):
    pk = google_connected.connection.pk
    api.patch(STATUS_URL, {"preferences": {"block_tentative": True}}, format="json")
    assert api.delete(STATUS_URL).status_code == 204

    response = connect(google_connected.client, django_capture_on_commit_callbacks)

    assert response["Location"] == "/app/integrations?google=connected"
    connection = CalendarConnection.objects.get(merchant=merchant)
    assert connection.pk == pk and connection.status == "active"
    assert connection.block_tentative is True  # preferences survive a disconnect
    assert connection.calendars.get(primary=True).selected
    body = api.get(STATUS_URL).json()
    assert body["connected"] is True and body["account_email"] == google_connected.email


def test_disconnect_works_when_tokens_cannot_be_decrypted(google_connected, api, synced_block):
    from cryptography.fernet import Fernet
    from django.db import connection as db_connection

    foreign = Fernet(Fernet.generate_key())
    with db_connection.cursor() as cursor:
        cursor.execute(
            "UPDATE integrations_calendarconnection SET access_token = %s, refresh_token = %s WHERE id = %s",
            [foreign.encrypt(b"a").decode(), foreign.encrypt(b"r").decode(), google_connected.connection.pk],
        )
    assert api.delete(STATUS_URL).status_code == 204
    _assert_disconnected(google_connected.connection.pk)
    assert BlockedTime.objects.get(pk=synced_block.pk).source == "manual"


def test_reconnecting_the_same_account_adopts_kept_blocks_instead_of_doubling_them(
    google_connected, api, google_emulator, django_capture_on_commit_callbacks
):
    """SPEC §9: disconnect with "keep", reconnect: each busy time shows once, synced again."""
    for day in (1, 2, 3):
        start = timezone.now().replace(microsecond=0) + dt.timedelta(days=day)
        google_emulator.insert_event(
            google_connected.email,
            {
                "start": {"dateTime": start.isoformat()},
                "end": {"dateTime": (start + dt.timedelta(hours=1)).isoformat()},
            },
        )
    with django_capture_on_commit_callbacks(execute=True):
        api.post("/api/v1/merchant/integrations/google/calendar/sync")
    merchant = google_connected.connection.merchant
    synced = set(BlockedTime.objects.filter(merchant=merchant).values_list("external_key", "start"))
    assert len(synced) == 3

    assert api.delete(STATUS_URL).status_code == 204
    kept = BlockedTime.objects.filter(merchant=merchant)
    assert {b.source for b in kept} == {"manual"} and kept.filter(kept_group__isnull=False).count() == 3

    connect(google_connected.client, django_capture_on_commit_callbacks)

    blocks = BlockedTime.objects.filter(merchant=merchant)
    assert set(blocks.values_list("external_key", "start")) == synced  # once each, not twice
    assert {b.source for b in blocks} == {"google"} and not blocks.filter(kept_group__isnull=False).exists()
    assert not merchant.kept_block_groups.exists()
    # The history of the calendar survived the disconnect.
    assert SyncRun.objects.filter(calendar=google_connected.calendar, trigger="manual").exists()
