"""Secrets (SPEC §5): tokens encrypted at rest, keys rotated without downtime, and no token or
key in any log, admin page, web page or API response.

The whole-run scan itself is ``tests/reliability/secret_scan.py`` (it fails any test of the
suite whose logs or responses carry a secret); this module checks the scanner can see what
it must, drives a whole connection lifecycle with every credential in play, renders every
admin page, and reads the database with raw SQL.
"""

from __future__ import annotations

import logging

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.contrib import admin
from django.core.management import call_command
from django.db import connection as db
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from integrations.models import CalendarConnection, SyncRun, WatchChannel
from integrations.services.sync import calendar_sync_request
from tests.integrations.conftest import STATUS_URL
from tests.integrations.sync.conftest import at, deliver_pushes, timed_event
from tests.reliability import figures, secret_scan
from tests.reliability.conftest import connect_as

ENCRYPTED = {
    "integrations_calendarconnection": ("access_token", "refresh_token"),
    "integrations_watchchannel": ("token",),
    "integrations_oauthstate": ("secret",),
}


def raw_rows(table: str, columns: tuple[str, ...]) -> list[tuple]:
    with db.cursor() as cursor:
        cursor.execute(f"SELECT id, {', '.join(columns)} FROM {table}")
        return cursor.fetchall()


def every_value_in_the_database() -> list[tuple[str, str]]:
    """Every row of every table of the project, as text, read with raw SQL."""
    found = []
    with db.cursor() as cursor:
        for table in db.introspection.django_table_names(only_existing=True, include_views=False):
            cursor.execute(f"SELECT * FROM {db.ops.quote_name(table)}")
            found += [(table, repr(row)) for row in cursor.fetchall()]
    return found


def plaintexts(emulator) -> dict[str, str]:
    """The credentials Google (the emulator) issued, and our channel tokens."""
    return secret_scan.emulator_secrets(emulator)


# --- the scanner sees what it must ------------------------------------------------------------


def test_the_scanner_finds_a_secret_raw_or_url_encoded():
    secret = "ya29.a0AfB_byC-secret/with+symbols=="
    texts = [("log INFO x", "nothing here"), ("response GET /x", f"?t={secret}"), ("log", "t=ya29.a0AfB_byC-secret%2F")]
    assert secret_scan.leaks({"access token": secret}, texts) == ["access token (ya29...) in response GET /x"]
    encoded = [("response GET /y", "token=ya29.a0AfB_byC-secret%2Fwith%2Bsymbols%3D%3D")]
    assert secret_scan.leaks({"access token": secret}, encoded)
    assert secret_scan.leaks({"short": "abc"}, [("log", "abc")]) == []  # too short to mean anything


def test_the_scanner_captures_log_records_and_responses(merchant, api, caplog):
    marker = "capture-check-" + Fernet.generate_key().decode()[:16]
    logging.getLogger("integrations.anything").debug("debug record %s", marker)  # DEBUG: the suite logs at DEBUG
    body = {"start": "2031-01-06T10:00:00Z", "end": "2031-01-06T11:00:00Z", "note": marker}
    response = api.post("/api/v1/merchant/blocked-times", body, format="json")
    assert response.status_code == 201
    texts = list(secret_scan._texts)
    assert any(source.startswith("log DEBUG integrations.anything") and marker in text for source, text in texts)
    assert any(source == "response POST /api/v1/merchant/blocked-times" and marker in t for source, t in texts)
    assert secret_scan.leaks({"planted": marker}, texts)  # and the teardown would fail on it...
    secret_scan._texts.clear()  # ...which is not what this test is about


# --- at rest ------------------------------------------------------------------------------------


def test_tokens_are_encrypted_at_rest_and_no_table_holds_a_credential(google_connected, google_emulator, settings):
    stored = CalendarConnection.objects.get(pk=google_connected.connection.pk)
    channel = WatchChannel.objects.get(calendar=google_connected.calendar)
    plain = {"access": stored.access_token, "refresh": stored.refresh_token, "channel": channel.token}
    assert all(plain.values())
    fernet = Fernet(settings.FIELD_ENCRYPTION_KEYS[0].encode())
    [(_, raw_access, raw_refresh)] = raw_rows(
        "integrations_calendarconnection", ENCRYPTED["integrations_calendarconnection"]
    )
    [(_, raw_channel)] = raw_rows("integrations_watchchannel", ENCRYPTED["integrations_watchchannel"])
    for name, raw in (("access", raw_access), ("refresh", raw_refresh), ("channel", raw_channel)):
        assert plain[name] not in raw
        assert fernet.decrypt(raw.encode()).decode() == plain[name]
    # No credential anywhere in the database in clear: not in errors, sessions, states or logs of runs.
    secrets = {**plaintexts(google_emulator), **secret_scan.configured_secrets()}
    rows = every_value_in_the_database()
    assert secret_scan.leaks(secrets, rows) == []
    figures.count("secrets.database_rows_scanned", len(rows))


# --- key rotation -------------------------------------------------------------------------------


def test_key_rotation_rewrites_every_encrypted_value_and_the_old_key_can_go(
    google_connected, google_emulator, settings, django_capture_on_commit_callbacks
):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    connection_pk = google_connected.connection.pk
    before = {table: raw_rows(table, columns) for table, columns in ENCRYPTED.items()}
    values = sum(len(row) - 1 for rows in before.values() for row in rows)
    assert values == 4  # two tokens, a channel token and the spent OAuth state's (wiped) secret

    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key, old_key]):
        call_command("rotate_encryption_keys", "--dry-run")
        assert {table: raw_rows(table, columns) for table, columns in ENCRYPTED.items()} == before
        call_command("rotate_encryption_keys")

    after = {table: raw_rows(table, columns) for table, columns in ENCRYPTED.items()}
    only_new, only_old = Fernet(new_key.encode()), Fernet(old_key.encode())
    for table, rows in after.items():
        for old_row, new_row in zip(before[table], rows, strict=True):
            for old_value, new_value in zip(old_row[1:], new_row[1:], strict=True):
                assert new_value != old_value
                assert only_new.decrypt(new_value.encode()) == only_old.decrypt(old_value.encode())
    figures.count("secrets.values_rotated", values)

    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key]):  # the old key is gone
        # The tokens still work at Google: a refresh and a sync.
        CalendarConnection.objects.filter(pk=connection_pk).update(token_expires_at=timezone.now())
        event_id = google_emulator.insert_event(google_connected.email, timed_event(at(2)))["id"]
        runs = calendar_sync_request(calendar_id=google_connected.calendar.pk, trigger=SyncRun.Trigger.MANUAL)
        assert runs is True
        run = SyncRun.objects.filter(calendar=google_connected.calendar).first()
        assert run.status == "succeeded", run.error
        assert google_connected.calendar.blocked_times.filter(external_key=event_id).exists()
        # The channel token still authenticates Google's pushes.
        deliver_pushes(google_emulator, Client())
        google_emulator.insert_event(google_connected.email, timed_event(at(3)))
        entries = deliver_pushes(google_emulator, Client())
        assert [e["status"] for e in entries] == [200]
        assert SyncRun.objects.filter(calendar=google_connected.calendar, trigger="notification").exists()
        # New writes are under the new key only.
        [(_, access, _refresh)] = raw_rows(
            "integrations_calendarconnection", ENCRYPTED["integrations_calendarconnection"]
        )
        only_new.decrypt(access.encode())
        assert google_connected.client.get(STATUS_URL).json()["status"] == "active"


# --- nothing in logs, pages or responses ---------------------------------------------------------


def _admin_urls() -> list[str]:
    urls = []
    for model in admin.site._registry:
        opts = model._meta
        urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        for obj in model.objects.all()[:5]:
            urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
            urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_delete", args=[obj.pk]))
        urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist") + "?q=ya29")
    return urls


@pytest.mark.django_db(transaction=False)
def test_a_whole_lifecycle_leaves_no_credential_in_logs_pages_or_responses(
    merchant, google_emulator, google_account, admin_client, settings, django_capture_on_commit_callbacks, caplog
):
    """Connect, sync, push, refresh, 401, rate limits, reauth, reconnect, disconnect, with every
    log record at DEBUG, then every admin page, web page and API response: no token, no key."""
    settings.GOOGLE_API_RETRY_BASE_SECONDS = 0.001
    google_emulator.pause_notifications()
    client = Client()
    client.force_login(merchant.user)
    with caplog.at_level(logging.DEBUG):
        assert connect_as(client, google_account, django_capture_on_commit_callbacks)["Location"].endswith("connected")
        calendar = CalendarConnection.objects.get(merchant=merchant).calendars.get(primary=True)
        deliver_pushes(google_emulator, Client())
        for day in range(2, 5):
            google_emulator.insert_event(google_account, timed_event(at(day)))
        deliver_pushes(google_emulator, Client())
        CalendarConnection.objects.filter(merchant=merchant).update(token_expires_at=timezone.now())  # a refresh
        google_emulator.inject_fault("events.list", status=401, times=1)  # a refresh on a 401
        google_emulator.inject_fault("events.list", kind="rate_limit_403", times=1)
        calendar_sync_request(calendar_id=calendar.pk, trigger=SyncRun.Trigger.MANUAL)
        google_emulator.revoke_grant(google_account)  # invalid_grant on the next refresh
        CalendarConnection.objects.filter(merchant=merchant).update(token_expires_at=timezone.now())
        calendar_sync_request(calendar_id=calendar.pk, trigger=SyncRun.Trigger.MANUAL)
        assert CalendarConnection.objects.get(merchant=merchant).status == "reauth_required"
        pages = [client.get("/app/integrations"), client.get("/app/"), client.get(STATUS_URL)]
        assert connect_as(client, google_account, django_capture_on_commit_callbacks)["Location"].endswith("connected")
        pages += [client.get(STATUS_URL), client.get("/api/v1/merchant/blocked-times"), client.get("/app/integrations")]
        pages += [client.get(url) for url in _admin_urls()]
        pages += [admin_client.get(url) for url in _admin_urls()]
        pages += [client.get("/api/v1/schema/"), client.get("/api/v1/docs/"), client.get("/health/")]
        response = client.delete(STATUS_URL)
        assert response.status_code == 204
    assert all(page.status_code < 500 for page in pages)
    admin_pages = [p for p in pages if p.wsgi_request.path.startswith("/admin/")]
    assert len([p for p in admin_pages if p.status_code == 200]) >= 20
    figures.count("secrets.admin_pages_rendered", len(admin_pages))
    secrets = {**plaintexts(google_emulator), **secret_scan.configured_secrets()}
    assert len([k for k in secrets if k.startswith(("access", "refresh"))]) >= 4  # several generations of tokens
    texts = [*secret_scan._texts, ("caplog", caplog.text)]
    assert secret_scan.leaks(secrets, texts) == []
    # The revoked tokens (sent to Google's revoke endpoint) did not show up either.
    assert google_emulator.revoked_tokens()


def test_models_with_encrypted_fields_are_the_ones_checked():
    """A new encrypted column must be added to ENCRYPTED above (and so to the rotation check)."""
    from integrations.fields import EncryptedTextField

    found = {
        model._meta.db_table: tuple(f.column for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField))
        for model in apps.get_models()
    }
    assert {table: columns for table, columns in found.items() if columns} == ENCRYPTED
