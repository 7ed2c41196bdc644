"""Tokens: encrypted at rest (Fernet, rotation), refreshed before expiry and once on a 401,
``reauth_required`` after a revoked grant, never logged or shown."""

import datetime as dt
import logging

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.management import call_command
from django.db import connection as db_connection
from django.test import override_settings
from django.utils import timezone

from integrations.fields import DecryptionError
from integrations.models import CalendarConnection
from integrations.providers.base import ReauthRequired
from integrations.services.clients import connection_client as client_for
from tests.integrations.conftest import STATUS_URL, connect, session_client

pytestmark = pytest.mark.usefixtures("quiet_google")


def _raw_tokens(pk: int) -> tuple[str, str]:
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT access_token, refresh_token FROM integrations_calendarconnection WHERE id = %s", [pk])
        return cursor.fetchone()


def _refreshes(google_emulator) -> int:
    return sum(1 for call in google_emulator.calls("token") if call["form"].get("grant_type") == "refresh_token")


def test_tokens_are_not_stored_in_plain_text(google_connected):
    connection = CalendarConnection.objects.get(pk=google_connected.connection.pk)
    raw_access, raw_refresh = _raw_tokens(connection.pk)
    assert connection.access_token and connection.refresh_token
    for plain, raw in ((connection.access_token, raw_access), (connection.refresh_token, raw_refresh)):
        assert raw != plain
        assert plain not in raw
        # Fernet ciphertext under the configured key.
        assert Fernet(settings.FIELD_ENCRYPTION_KEYS[0].encode()).decrypt(raw.encode()).decode() == plain


def test_key_rotation_keeps_old_rows_readable_and_rewrites_them(google_connected):
    pk = google_connected.connection.pk
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    plain = CalendarConnection.objects.get(pk=pk).refresh_token
    new_key = Fernet.generate_key().decode()

    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key]), pytest.raises(DecryptionError):
        CalendarConnection.objects.get(pk=pk)  # the old key is really needed

    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key, old_key]):
        assert CalendarConnection.objects.get(pk=pk).refresh_token == plain  # old rows stay readable
        call_command("rotate_encryption_keys")
        raw_access, raw_refresh = _raw_tokens(pk)
        assert Fernet(new_key.encode()).decrypt(raw_refresh.encode()).decode() == plain
        Fernet(new_key.encode()).decrypt(raw_access.encode())

    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key]):
        assert CalendarConnection.objects.get(pk=pk).refresh_token == plain  # the old key can go


def test_rotation_reports_values_no_key_decrypts(google_connected):
    from django.core.management.base import CommandError

    with override_settings(FIELD_ENCRYPTION_KEYS=[Fernet.generate_key().decode()]), pytest.raises(CommandError):
        call_command("rotate_encryption_keys", "--dry-run")


def test_access_token_is_refreshed_before_it_expires(google_connected, google_emulator):
    connection = google_connected.connection
    old_token = CalendarConnection.objects.get(pk=connection.pk).access_token
    # Two minutes left: inside google-auth's safety margin, so no request goes out with it.
    CalendarConnection.objects.filter(pk=connection.pk).update(
        token_expires_at=timezone.now() + dt.timedelta(minutes=2)
    )
    refreshes = _refreshes(google_emulator)

    calendars = client_for(CalendarConnection.objects.get(pk=connection.pk)).list_calendars()

    assert [c.id for c in calendars if c.primary] == [google_connected.email]
    assert _refreshes(google_emulator) == refreshes + 1
    stored = CalendarConnection.objects.get(pk=connection.pk)
    assert stored.access_token != old_token
    assert stored.token_expires_at > timezone.now() + dt.timedelta(minutes=30)
    assert stored.status == "active"


def test_a_401_refreshes_once_and_retries(google_connected, google_emulator):
    connection = CalendarConnection.objects.get(pk=google_connected.connection.pk)
    old_token = connection.access_token
    google_emulator.expire_access_tokens()  # Google-side: our expiry still says it is valid
    refreshes = _refreshes(google_emulator)

    calendars = client_for(connection).list_calendars()

    assert calendars
    assert _refreshes(google_emulator) == refreshes + 1
    stored = CalendarConnection.objects.get(pk=connection.pk).access_token
    assert stored and stored != old_token  # the refreshed token was saved


def test_a_401_after_a_successful_refresh_is_not_retried_forever(google_connected, google_emulator):
    connection = CalendarConnection.objects.get(pk=google_connected.connection.pk)
    google_emulator.inject_fault("calendarList.list", status=401, times=5)
    refreshes = _refreshes(google_emulator)
    with pytest.raises(ReauthRequired):
        client_for(connection).list_calendars()
    assert _refreshes(google_emulator) == refreshes + 1


def test_revoked_grant_sets_reauth_required(google_connected, google_emulator):
    google_emulator.revoke_grant(google_connected.email)
    connection = CalendarConnection.objects.get(pk=google_connected.connection.pk)

    with pytest.raises(ReauthRequired):
        client_for(connection).list_calendars()

    stored = CalendarConnection.objects.get(pk=connection.pk)
    assert stored.status == "reauth_required"
    assert stored.last_error
    assert not stored.calendars.filter(channels__status="active").exists()
    body = google_connected.client.get(STATUS_URL).json()
    assert body["status"] == "reauth_required" and body["connected"] is True


def test_reconnect_after_reauth_required_reuses_the_record(
    merchant, google_connected, google_emulator, django_capture_on_commit_callbacks
):
    pk, calendar_pk = google_connected.connection.pk, google_connected.calendar.pk
    google_emulator.revoke_grant(google_connected.email)
    with pytest.raises(ReauthRequired):
        client_for(CalendarConnection.objects.get(pk=pk)).list_calendars()

    response = connect(google_connected.client, django_capture_on_commit_callbacks)

    assert response["Location"] == "/app/integrations?google=connected"
    connection = CalendarConnection.objects.get(merchant=merchant)
    assert connection.pk == pk and connection.status == "active" and connection.last_error == ""
    assert connection.calendars.get(primary=True).pk == calendar_pk  # selection and history kept
    assert client_for(connection).list_calendars()


def test_tokens_never_reach_logs_or_responses(
    merchant, google_emulator, google_account, caplog, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.DEBUG)
    client = session_client(merchant)
    connect(client, django_capture_on_commit_callbacks)
    connection = CalendarConnection.objects.get(merchant=merchant)
    CalendarConnection.objects.filter(pk=connection.pk).update(token_expires_at=timezone.now())
    client_for(CalendarConnection.objects.get(pk=connection.pk)).list_calendars()
    refreshed = CalendarConnection.objects.get(pk=connection.pk)
    status_body = client.get(STATUS_URL).content.decode()

    secrets = {connection.access_token, connection.refresh_token, refreshed.access_token}
    assert all(secrets)
    for secret in secrets:
        assert secret not in caplog.text
        assert secret not in status_body


def test_lost_key_status_still_works_and_reconnecting_repairs(
    merchant, google_connected, django_capture_on_commit_callbacks
):
    """Tokens encrypted under a key nobody has any more: the merchant still sees their
    status, and reconnecting replaces the unreadable tokens instead of failing."""
    pk = google_connected.connection.pk
    foreign = Fernet(Fernet.generate_key())
    with db_connection.cursor() as cursor:
        cursor.execute(
            "UPDATE integrations_calendarconnection SET access_token = %s, refresh_token = %s WHERE id = %s",
            [foreign.encrypt(b"a").decode(), foreign.encrypt(b"r").decode(), pk],
        )
    with pytest.raises(DecryptionError):
        CalendarConnection.objects.get(pk=pk)
    assert google_connected.client.get(STATUS_URL).json()["connected"] is True

    response = connect(google_connected.client, django_capture_on_commit_callbacks)

    assert response["Location"] == "/app/integrations?google=connected"
    repaired = CalendarConnection.objects.get(pk=pk)
    assert repaired.refresh_token and repaired.refresh_token != "r"
    assert client_for(repaired).list_calendars()
