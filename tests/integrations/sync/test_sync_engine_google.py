"""The sync machinery against the emulator: recurrence, paging, 410, idempotency, batching, retries."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from integrations.models import CalendarConnection, ExternalCalendar, SyncRun
from integrations.services.sync import calendar_sync_request
from scheduling.models import BlockedTime
from tests.integrations.sync.conftest import at, rfc3339, timed_event


def instance_id(master_id: str, start: dt.datetime) -> str:
    return f"{master_id}_{start.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}"


def daily_series(first: dt.datetime, **fields) -> dict:
    return {
        "start": {"dateTime": first.replace(tzinfo=None).isoformat(), "timeZone": "UTC"},
        "end": {"dateTime": (first + dt.timedelta(hours=1)).replace(tzinfo=None).isoformat(), "timeZone": "UTC"},
        "recurrence": ["RRULE:FREQ=DAILY"],
        **fields,
    }


# --- recurring events -----------------------------------------------------------------------


def test_infinite_series_blocks_every_instance_to_the_horizon_with_a_moved_and_a_cancelled_one(gcal, settings):
    settings.CALENDAR_SYNC_HORIZON_DAYS = 60
    first = at(1, 8)
    master = gcal.add(daily_series(first))
    gcal.sync(SyncRun.Trigger.MANUAL)
    window_end = gcal.calendar.window_end
    blocks = gcal.blocks()
    expected_days = [d for d in range(1, 62) if at(d, 8) < window_end]
    assert set(blocks) == {instance_id(master, at(d, 8)) for d in expected_days}
    assert len(blocks) >= 59
    assert all(end - start == dt.timedelta(hours=1) for start, end, _ in blocks.values())

    moved, cancelled = instance_id(master, at(5, 8)), instance_id(master, at(7, 8))
    gcal.update(moved, {"start": {"dateTime": rfc3339(at(5, 15))}, "end": {"dateTime": rfc3339(at(5, 17))}})
    gcal.delete(cancelled)
    run = gcal.sync()
    assert run.kind == SyncRun.Kind.INCREMENTAL
    after = gcal.blocks()
    assert after[moved] == (at(5, 15), at(5, 17), False)
    assert cancelled not in after
    assert {k: v for k, v in after.items() if k != moved} == {
        k: v for k, v in blocks.items() if k not in (moved, cancelled)
    }
    # A full sync (reconcile) agrees with the incremental result.
    gcal.sync(SyncRun.Trigger.MANUAL)
    assert gcal.blocks() == after


def test_horizon_rolls_forward_daily(gcal, settings):
    settings.CALENDAR_SYNC_HORIZON_DAYS = 30
    master = gcal.add(daily_series(at(1, 8)))
    gcal.sync(SyncRun.Trigger.MANUAL)
    before = set(gcal.blocks())
    # Pretend the last full sync was two days ago: its window ends two days short.
    calendar = gcal.calendar
    lagging = calendar.window_end - dt.timedelta(days=2)
    ExternalCalendar.objects.filter(pk=calendar.pk).update(window_end=lagging)
    BlockedTime.objects.filter(calendar=calendar, start__gte=lagging).delete()
    from integrations.tasks import calendars_horizon_roll_task

    calendars_horizon_roll_task.delay()
    run = SyncRun.objects.filter(calendar=calendar).first()
    assert (run.trigger, run.kind, run.status) == (SyncRun.Trigger.HORIZON, SyncRun.Kind.FULL, SyncRun.Status.SUCCEEDED)
    assert set(gcal.blocks()) == before
    assert gcal.calendar.window_end > lagging + dt.timedelta(days=2)
    assert instance_id(master, at(29, 8)) in before


def test_an_incremental_sync_after_a_day_rolls_the_horizon_by_itself(gcal):
    ExternalCalendar.objects.filter(pk=gcal.calendar.pk).update(window_end=timezone.now())
    assert gcal.sync().kind == SyncRun.Kind.FULL


def test_incremental_results_outside_the_window_are_dropped(gcal, settings):
    settings.CALENDAR_SYNC_HORIZON_DAYS = 30
    gcal.sync(SyncRun.Trigger.MANUAL)
    inside = gcal.add(timed_event(at(5)))
    gcal.add(timed_event(at(200)))  # returned by the incremental listing, beyond the window
    gcal.sync()
    assert set(gcal.blocks()) == {inside}


# --- paging, 410, idempotency, batching -----------------------------------------------------


def test_full_sync_reads_every_page(gcal):
    gcal.emulator.set_page_size(3)
    ids = {gcal.add(timed_event(at(2 + i))) for i in range(10)}
    gcal.emulator.clear_calls()
    run = gcal.sync(SyncRun.Trigger.MANUAL)
    assert (run.kind, run.pages, run.events_seen, run.blocks_upserted) == (SyncRun.Kind.FULL, 4, 10, 10)
    assert set(gcal.blocks()) == ids
    assert gcal.list_calls() == 4
    assert gcal.calendar.sync_cursor  # the last page's token


def test_incremental_sync_reads_every_page(gcal):
    gcal.emulator.set_page_size(2)
    ids = {gcal.add(timed_event(at(2 + i))) for i in range(5)}
    run = gcal.sync()
    assert (run.kind, run.pages, run.events_seen) == (SyncRun.Kind.INCREMENTAL, 3, 5)
    assert set(gcal.blocks()) == ids


def test_expired_sync_token_means_a_full_sync_that_reconciles(gcal):
    kept = gcal.add(timed_event(at(2)))
    gone = gcal.add(timed_event(at(3)))
    gcal.sync()
    old_cursor = gcal.calendar.sync_cursor
    # Deleted while our token was going stale; the full listing has no tombstone for it.
    gcal.emulator.delete_event(gcal.google_id, gone, notify=False)
    gcal.emulator.invalidate_sync_tokens(gcal.google_id)
    run = gcal.sync()
    assert (run.kind, run.status, run.blocks_deleted) == (SyncRun.Kind.FULL, SyncRun.Status.SUCCEEDED, 1)
    assert set(gcal.blocks()) == {kept}
    assert gcal.calendar.sync_cursor not in ("", old_cursor)
    statuses = [c["status"] for c in gcal.emulator.calls("events.list")[-2:]]
    assert statuses == [410, 200]


def test_syncing_twice_changes_nothing(gcal):
    gcal.add(timed_event(at(2)))
    gcal.add({"start": {"date": at(4).date().isoformat()}, "end": {"date": at(6).date().isoformat()}})
    gcal.add(daily_series(at(1, 7)))
    gcal.sync(SyncRun.Trigger.MANUAL)
    snapshot = list(BlockedTime.objects.order_by("pk").values_list("pk", "external_key", "start", "end", "updated_at"))
    for trigger in (SyncRun.Trigger.MANUAL, SyncRun.Trigger.PERIODIC, SyncRun.Trigger.MANUAL):
        run = gcal.sync(trigger)
        assert (run.blocks_upserted, run.blocks_deleted) == (0, 0)
    assert list(BlockedTime.objects.order_by("pk").values_list("pk", "external_key", "start", "end", "updated_at")) == (
        snapshot
    )


def _full_sync_queries(gcal, events_per_page: int, pages: int) -> int:
    BlockedTime.objects.filter(calendar_id=gcal.calendar.pk).delete()
    for event in gcal.emulator.list_stored_events(gcal.google_id):
        if event.get("status") != "cancelled":
            gcal.emulator.delete_event(gcal.google_id, event["id"], notify=False)
    gcal.emulator.insert_events(
        gcal.google_id,
        [timed_event(at(1, 0, 0) + dt.timedelta(minutes=30 * i), minutes=20) for i in range(events_per_page * pages)],
    )
    gcal.emulator.set_page_size(events_per_page)
    with CaptureQueriesContext(connection) as queries:
        run = gcal.sync(SyncRun.Trigger.MANUAL)
    assert (run.pages, run.blocks_upserted) == (pages, events_per_page * pages)
    return len(queries)


def test_queries_grow_with_pages_not_with_events(gcal, django_assert_max_num_queries):
    one_page_small = _full_sync_queries(gcal, events_per_page=5, pages=1)
    one_page_large = _full_sync_queries(gcal, events_per_page=60, pages=1)
    five_pages = _full_sync_queries(gcal, events_per_page=12, pages=5)
    assert one_page_large == one_page_small
    per_page = 5  # savepoint, SELECT existing, INSERT, release... (+ UPDATE/DELETE when needed)
    assert five_pages <= one_page_small + 4 * per_page
    with django_assert_max_num_queries(one_page_small + 4 * per_page):
        gcal.sync(SyncRun.Trigger.MANUAL)  # 5 pages of nothing new: no writes at all


# --- failures and retries -------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [{"status": 503}, {"status": 500}, {"status": 429, "retry_after": 0.01}, {"kind": "rate_limit_403"}],
    ids=["503", "500", "429-retry-after", "403-rate-limit"],
)
def test_transient_errors_are_retried_within_the_call(gcal, fault):
    event_id = gcal.add(timed_event(at(2)))
    gcal.emulator.inject_fault("events.list", times=2, **fault)
    run = gcal.sync()
    assert run.status == SyncRun.Status.SUCCEEDED
    assert set(gcal.blocks()) == {event_id}
    assert [c["status"] for c in gcal.emulator.calls("events.list")[-3:]][-1] == 200


def test_errors_outliving_the_call_retries_are_recorded_and_retried_by_the_task(gcal, settings):
    settings.GOOGLE_API_MAX_ATTEMPTS = 2
    event_id = gcal.add(timed_event(at(2)))
    gcal.emulator.inject_fault("events.list", status=503, times=4)  # two task attempts fail
    calendar_sync_request(calendar_id=gcal.calendar.pk, trigger=SyncRun.Trigger.NOTIFICATION)
    runs = list(SyncRun.objects.filter(calendar=gcal.calendar, trigger=SyncRun.Trigger.NOTIFICATION).order_by("pk"))
    assert [r.status for r in runs] == [SyncRun.Status.FAILED, SyncRun.Status.FAILED, SyncRun.Status.SUCCEEDED]
    assert "TransientError" in runs[0].error and "503" in runs[0].error
    assert runs[0].duration_ms is not None and runs[0].finished_at is not None
    assert set(gcal.blocks()) == {event_id}
    connection_row = CalendarConnection.objects.get(pk=gcal.connected.connection.pk)
    assert (connection_row.status, connection_row.last_error) == (CalendarConnection.Status.ACTIVE, "")
    assert gcal.calendar.last_error == ""


def test_a_failure_shows_on_the_calendar_and_connection_until_a_success(gcal, settings):
    settings.GOOGLE_API_MAX_ATTEMPTS = 1
    settings.CALENDAR_SYNC_MAX_RETRIES = 0
    gcal.emulator.inject_fault("events.list", status=500, times=1)
    calendar_sync_request(calendar_id=gcal.calendar.pk, trigger=SyncRun.Trigger.MANUAL)
    connection_row = CalendarConnection.objects.get(pk=gcal.connected.connection.pk)
    assert connection_row.status == CalendarConnection.Status.ERROR
    assert "500" in connection_row.last_error
    assert "500" in gcal.calendar.last_error
    gcal.sync()
    connection_row.refresh_from_db()
    assert (connection_row.status, connection_row.last_error) == (CalendarConnection.Status.ACTIVE, "")


def test_revoked_grant_marks_reauth_required_and_stops_channels(gcal):
    assert gcal.calendar.channels.filter(status="active").exists()
    gcal.emulator.revoke_grant(gcal.connected.email)
    gcal.emulator.expire_access_tokens()
    calendar_sync_request(calendar_id=gcal.calendar.pk, trigger=SyncRun.Trigger.MANUAL)
    connection_row = CalendarConnection.objects.get(pk=gcal.connected.connection.pk)
    assert connection_row.status == CalendarConnection.Status.REAUTH_REQUIRED
    run = SyncRun.objects.filter(calendar=gcal.calendar).first()
    assert run.status == SyncRun.Status.FAILED and run.error
    assert not gcal.calendar.channels.filter(status="active").exists()
    # Nothing more is attempted for a connection that needs reconnecting.
    calls = gcal.list_calls()
    calendar_sync_request(calendar_id=gcal.calendar.pk, trigger=SyncRun.Trigger.PERIODIC)
    assert gcal.list_calls() == calls


def test_a_run_cut_off_by_a_dead_worker_is_closed_by_the_next_run(gcal):
    dead = SyncRun.objects.create(calendar=gcal.calendar, trigger="notification", kind="incremental")
    gcal.sync()
    dead.refresh_from_db()
    assert dead.status == SyncRun.Status.FAILED
    assert "Interrupted" in dead.error


def test_deselected_calendars_are_not_synced(gcal):
    ExternalCalendar.objects.filter(pk=gcal.calendar.pk).update(selected=False)
    from integrations.services.sync import calendar_sync_run

    assert calendar_sync_run(calendar_id=gcal.calendar.pk, trigger="periodic") == []


class KilledAfterFirstPage:
    """The real client, but the worker dies (SIGKILL-like: no exception handling) after page one."""

    def __init__(self, client):
        self.client = client

    def list_events(self, *args, **kwargs):
        pages = self.client.list_events(*args, **kwargs)
        yield next(pages)
        raise KeyboardInterrupt


def test_a_sync_killed_midway_leaves_consistent_data_and_the_next_run_completes_it(gcal):
    from integrations.providers import client_for
    from integrations.sync.engine import calendar_sync

    ids = {gcal.add(timed_event(at(2 + i))) for i in range(9)}
    gcal.emulator.set_page_size(4)
    calendar = ExternalCalendar.objects.select_related("connection__merchant").get(pk=gcal.calendar.pk)
    cursor_before = calendar.sync_cursor
    with pytest.raises(KeyboardInterrupt):
        calendar_sync(calendar=calendar, client=KilledAfterFirstPage(client_for(calendar.connection)), trigger="manual")
    partial = gcal.blocks()
    assert len(partial) == 4 and set(partial) <= ids  # the first page, whole
    assert gcal.calendar.sync_cursor == cursor_before  # no cursor for a listing never finished
    killed = SyncRun.objects.filter(calendar=calendar).first()
    assert killed.status == SyncRun.Status.RUNNING
    run = gcal.sync()
    assert run.status == SyncRun.Status.SUCCEEDED
    assert set(gcal.blocks()) == ids
    killed.refresh_from_db()
    assert killed.status == SyncRun.Status.FAILED and "Interrupted" in killed.error
