"""Celery tasks, the beat schedule, retry timing and the sync_calendars command."""

import datetime as dt
import logging
import re
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from config.celery import app
from integrations.models import ExternalCalendar, SyncRun
from integrations.services.sync import calendar_sync_request
from integrations.tasks import calendars_sync_periodic_task, retry_countdown
from tests.integrations.sync.conftest import at, timed_event


def test_beat_schedule_runs_renewal_periodic_sync_and_horizon_roll():
    app.loader.import_default_modules()
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert tasks == {
        "integrations.tasks.watch_channels_renew_due_task",
        "integrations.tasks.watch_channels_renew_task",
        "integrations.tasks.calendars_sync_periodic_task",
        "integrations.tasks.calendars_horizon_roll_task",
        "integrations.tasks.booking_copies_retry_task",
    }
    assert tasks <= set(app.tasks)
    assert app.conf.beat_schedule == settings.CELERY_BEAT_SCHEDULE


def test_retry_countdown_grows_exponentially_with_jitter_and_honours_retry_after(settings):
    settings.CALENDAR_SYNC_RETRY_BASE_SECONDS = 10
    settings.CALENDAR_SYNC_RETRY_MAX_SECONDS = 300
    for retries in range(8):
        ceiling = min(300, 10 * 2**retries)
        samples = {retry_countdown(retries) for _ in range(50)}
        assert all(ceiling / 2 <= s <= ceiling for s in samples)
        assert len(samples) > 1  # jitter
    assert retry_countdown(0, retry_after=120) >= 120
    assert retry_countdown(7, retry_after=1) >= 150


def test_a_long_retry_after_is_left_to_the_task_which_waits_at_least_that_long(gcal, settings, caplog):
    settings.CALENDAR_SYNC_MAX_RETRIES = 1
    # Longer than the client's own retry cap (GOOGLE_API_RETRY_MAX_WAIT_SECONDS): no in-call retry.
    gcal.emulator.inject_fault("events.list", status=429, retry_after=900, times=1)
    with caplog.at_level(logging.INFO, logger="integrations.tasks"):
        calendar_sync_request(calendar_id=gcal.calendar.pk, trigger=SyncRun.Trigger.MANUAL)
    [countdown] = [float(m) for m in re.findall(r"retrying in ([\d.]+) s", caplog.text)]
    assert countdown >= 900
    runs = list(SyncRun.objects.filter(calendar=gcal.calendar, trigger="manual").order_by("pk"))
    assert [r.status for r in runs] == ["failed", "succeeded"]  # eager mode retries at once
    assert "RateLimited" in runs[0].error


def test_permanent_errors_are_recorded_and_not_retried(gcal):
    gcal.emulator.inject_fault("events.list", status=403, reason="insufficientPermissions", times=None)
    calendar_sync_request(calendar_id=gcal.calendar.pk, trigger=SyncRun.Trigger.MANUAL)
    runs = list(SyncRun.objects.filter(calendar=gcal.calendar, trigger="manual"))
    assert [r.status for r in runs] == ["failed"]
    assert "PermissionDenied" in runs[0].error
    gcal.emulator.clear_faults()
    # Nothing stays "pending": the next request syncs.
    assert calendar_sync_request(calendar_id=gcal.calendar.pk, trigger=SyncRun.Trigger.NOTIFICATION)
    assert SyncRun.objects.filter(calendar=gcal.calendar).first().status == "succeeded"


def test_periodic_task_syncs_only_calendars_not_synced_lately(gcal, settings):
    settings.CALENDAR_PERIODIC_SYNC_INTERVAL = dt.timedelta(hours=3)
    event_id = gcal.add(timed_event(at(2)))
    calendars_sync_periodic_task.delay()
    assert gcal.blocks() == {}  # synced at connect, minutes ago
    calendar = ExternalCalendar.objects.get(pk=gcal.calendar.pk)
    waits = calendar.next_poll_at - calendar.last_synced_at
    assert dt.timedelta(hours=1.5) <= waits <= dt.timedelta(hours=3, minutes=1)  # the safety net, spread
    ExternalCalendar.objects.filter(pk=calendar.pk).update(next_poll_at=timezone.now() - dt.timedelta(seconds=1))
    calendars_sync_periodic_task.delay()
    run = SyncRun.objects.filter(calendar=gcal.calendar).first()
    assert (run.trigger, run.kind) == ("periodic", "incremental")
    assert set(gcal.blocks()) == {event_id}


@pytest.mark.parametrize("full", [False, True])
def test_sync_calendars_command_syncs_every_selected_calendar(gcal, full):
    event_id = gcal.add(timed_event(at(2)))
    other = gcal.emulator.add_calendar(gcal.connected.email, summary="Team")
    ExternalCalendar.objects.create(
        connection=gcal.connected.connection, external_id=other["id"], summary="Team", selected=False
    )
    out = StringIO()
    call_command("sync_calendars", *(["--full"] if full else []), stdout=out)
    assert out.getvalue().count("calendar ") == 1
    assert ("full sync" if full else "incremental sync") in out.getvalue()
    assert set(gcal.blocks()) == {event_id}
