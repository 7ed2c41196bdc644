"""Connection incidents (SPEC §9): opened by a dead grant or an hour of failures, a banner on
every merchant page, one email per incident through a real SMTP server, resolved by itself."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from django.utils import timezone

from integrations.models import ConnectionIncident, ExternalCalendar, SyncRun
from integrations.providers.base import ProviderError
from integrations.services.sync import calendar_sync_run

pytestmark = pytest.mark.usefixtures("quiet_google")


def _sync(calendar_id: int) -> None:
    # The failure is what these tests are about: it is recorded, then raised.
    with contextlib.suppress(ProviderError):
        calendar_sync_run(calendar_id=calendar_id, trigger=SyncRun.Trigger.PERIODIC)


def test_a_revoked_grant_opens_one_incident_emailed_once(
    google_connected, google_emulator, smtp_server, django_capture_on_commit_callbacks, settings
):
    settings.GOOGLE_API_RETRY_BASE_SECONDS = 0.001
    google_emulator.revoke_grant(google_connected.email)
    with django_capture_on_commit_callbacks(execute=True):
        _sync(google_connected.calendar.pk)
        _sync(google_connected.calendar.pk)  # the same incident: no second one, no second email

    [incident] = ConnectionIncident.objects.filter(connection=google_connected.connection)
    assert incident.kind == "reauth_required" and incident.resolved_at is None and incident.emailed_at
    [message] = smtp_server.wait_for(1)
    assert message.envelope_to == [google_connected.connection.merchant.user.email]
    assert "Reconnect Google Calendar" in message["Subject"]
    assert "/app/integrations" in message.text

    page = google_connected.client.get("/app/").content.decode()
    assert 'data-testid="incident-banner"' in page and "Google Calendar needs to be reconnected" in page


def test_failures_open_an_incident_only_after_an_hour_and_a_success_resolves_it(
    google_connected, google_emulator, smtp_server, django_capture_on_commit_callbacks, settings
):
    settings.GOOGLE_API_MAX_ATTEMPTS = 1
    calendar_id = google_connected.calendar.pk
    google_emulator.inject_fault("events.list", status=503, times=None)
    with django_capture_on_commit_callbacks(execute=True):
        _sync(calendar_id)
    assert not ConnectionIncident.objects.exists()  # failing, but not for an hour yet

    ExternalCalendar.objects.filter(pk=calendar_id).update(failing_since=timezone.now() - dt.timedelta(minutes=61))
    with django_capture_on_commit_callbacks(execute=True):
        _sync(calendar_id)
    [incident] = ConnectionIncident.objects.filter(resolved_at=None)
    assert incident.kind == "sync_failing"
    [message] = smtp_server.wait_for(1)
    assert "has not synced for over an hour" in message["Subject"]

    google_emulator.clear_faults()
    _sync(calendar_id)
    incident.refresh_from_db()
    assert incident.resolved_at is not None
    assert 'data-testid="incident-banner"' not in google_connected.client.get("/app/").content.decode()


def test_a_mail_server_that_is_down_never_fails_the_sync_machinery(
    google_connected, google_emulator, smtp_down, django_capture_on_commit_callbacks
):
    google_emulator.revoke_grant(google_connected.email)
    with django_capture_on_commit_callbacks(execute=True):
        _sync(google_connected.calendar.pk)
    [incident] = ConnectionIncident.objects.all()
    assert incident.emailed_at is None and incident.resolved_at is None  # retried by the task later
