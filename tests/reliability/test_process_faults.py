"""Process faults with real Celery workers on Redis and PostgreSQL (SPEC §5: "a sync killed
midway leaves consistent data and the next run completes it"; "one sync at a time per
calendar, even with several workers"; notifications are not guaranteed, the periodic sync is).

- A worker SIGKILLed in the middle of a large full sync, the calendar changed while it is
  dead, a new worker started: the task comes back (acks_late, Redis visibility timeout) and
  the calendar ends with exactly the right blocked times.
- Redis stopped while Google pushes changes: the watch endpoint still answers 200 to every
  push; Redis restarted (empty): the periodic sync brings the calendar up to date.
- Two workers given syncs of the same calendar at once, with changes landing mid-sync: runs
  never overlap, no duplicate and no lost blocked time.
- A paused worker and a burst of 1,000 real pushes over HTTP: one queued task, one sync.

Each test runs its own ``redis-server`` (see ``processes.py``); the test process queues to it
and serves the watch endpoint from pytest-django's live server.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time

import pytest
from django.test import Client
from django.utils import timezone

from integrations.models import CalendarConnection, ExternalCalendar, SyncRun, WatchChannel
from integrations.services.sync import calendar_sync_request
from scheduling.models import BlockedTime
from tests.integrations.conftest import STATUS_URL, session_client
from tests.integrations.sync.conftest import at, timed_event
from tests.reliability import figures
from tests.reliability.conftest import connect_as
from tests.reliability.processes import RedisServer, Worker, require_services, wait_for
from tests.workers import worker_environment

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

VISIBILITY_TIMEOUT = 3  # seconds before a task taken by a dead worker is handed out again


@pytest.fixture
def redis_server(tmp_path):
    require_services()
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def queue_here(redis_server, settings):
    """This process (and its live server thread): cache and broker on the test's Redis."""
    from config.celery import app

    url = redis_server.url()
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}}
    settings.REDIS_URL = url  # what /health/ checks
    saved = {key: app.conf[key] for key in ("task_always_eager", "broker_url")}
    app.conf.update(task_always_eager=False, broker_url=url)
    app._pool = None  # producers are built from broker_url on first use
    app.amqp._producer_pool = None
    yield url
    app.conf.update(saved)
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def workers(queue_here, google_emulator, tmp_path, settings):
    """Start workers with ``workers.start(**env)``; all are stopped, and their logs scanned, at the end."""

    class Workers(list):
        def start(self, **extra) -> Worker:
            env = worker_environment(queue_here, CELERY_VISIBILITY_TIMEOUT_SECONDS=str(VISIBILITY_TIMEOUT), **extra)
            worker = Worker(env, tmp_path / f"worker-{len(self) + 1}.log")
            self.append(worker)
            return worker.start()

    started = Workers()
    yield started
    for worker in started:
        worker.stop()
        worker.hand_log_to_secret_scan()


def logs(workers) -> tuple:
    return tuple(w.log for w in workers)


def connect_merchant(merchant, emulator) -> ExternalCalendar:
    """Connect through the real flow; the initial sync and the channel are queued to the workers."""
    emulator.set_auto_approve(True)
    response = connect_as(session_client(merchant), merchant.user.email)
    assert response["Location"] == "/app/integrations?google=connected", response["Location"]
    return CalendarConnection.objects.get(merchant=merchant).calendars.get(primary=True)


def fill_calendar(emulator, email: str, zone, count: int) -> tuple[dict[str, tuple], list[str]]:
    """``count`` events over the next 300 days: most busy, some free, tentative, cancelled or all-day.
    Returns the blocked times they must become (key -> (start, end, all_day)) and the busy timed ids."""
    events, kinds = [], []
    base = at(1, 6)
    for i in range(count):
        start = base + dt.timedelta(minutes=140 * i)  # 3,000 events: under 300 days, inside the horizon
        kind = ("busy", "busy", "busy", "busy", "free", "tentative", "all-day", "busy", "cancelled", "busy")[i % 10]
        if kind == "all-day":
            day = start.astimezone(zone).date()
            events.append(
                {
                    "summary": "Holiday",
                    "start": {"date": day.isoformat()},
                    "end": {"date": (day + dt.timedelta(days=1)).isoformat()},
                }
            )
        else:
            event = timed_event(start, minutes=30 + i % 90)
            if kind == "free":
                event["transparency"] = "transparent"
            if kind == "tentative":
                event["status"] = "tentative"
            events.append(event)
        kinds.append(kind)
    ids = emulator.insert_events(email, events, notify=False, return_events=False)
    expected, busy_timed = {}, []
    for event_id, event, kind in zip(ids, events, kinds, strict=True):
        if kind == "cancelled":
            emulator.delete_event(email, event_id, notify=False)
        elif kind == "busy":
            expected[event_id] = (_instant(event["start"]), _instant(event["end"]), False)
            busy_timed.append(event_id)
        elif kind == "all-day":
            first = dt.date.fromisoformat(event["start"]["date"])
            expected[event_id] = (_midnight(first, zone), _midnight(first + dt.timedelta(days=1), zone), True)
    return expected, busy_timed


def moved_to(start: dt.datetime, minutes: int) -> dict:
    end = start + dt.timedelta(minutes=minutes)
    return {"start": {"dateTime": start.isoformat()}, "end": {"dateTime": end.isoformat()}}


def _instant(value: dict) -> dt.datetime:
    return dt.datetime.fromisoformat(value["dateTime"].replace("Z", "+00:00"))


def _midnight(day: dt.date, zone) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(dt.UTC)


def blocks_of(calendar_id: int) -> dict[str, tuple]:
    rows = BlockedTime.objects.filter(calendar_id=calendar_id).values_list("external_key", "start", "end", "all_day")
    found = {key: (start, end, all_day) for key, start, end, all_day in rows}
    assert len(found) == len(rows), "duplicate blocked times"
    return found


def assert_exactly(calendar_id: int, expected: dict[str, tuple]) -> None:
    actual = blocks_of(calendar_id)
    missing, extra = set(expected) - set(actual), set(actual) - set(expected)
    assert not missing and not extra, f"{len(missing)} missing, {len(extra)} extra blocked times"
    wrong = [key for key in expected if actual[key] != expected[key]]
    assert not wrong, f"{len(wrong)} blocked times at the wrong time, e.g. {wrong[:3]}"
    figures.count("blocked_times.checked", len(expected))


# --- SIGKILL mid-sync --------------------------------------------------------------------------


def test_a_worker_killed_mid_full_sync_and_restarted_ends_with_exactly_the_right_blocked_times(
    merchant, google_emulator, workers, settings
):
    settings.GOOGLE_WEBHOOK_URL = "http://example.invalid/watch"  # no channels: this is about the sync
    email = merchant.user.email
    google_emulator.add_account(email)
    expected, busy = fill_calendar(google_emulator, email, merchant.zone, 3000)
    google_emulator.set_page_size(100)  # 30 pages
    google_emulator.inject_fault("events.list", delay=0.15, times=None)  # a slow Google: ~5 s per full listing
    first = workers.start(GOOGLE_WEBHOOK_URL=settings.GOOGLE_WEBHOOK_URL)

    calendar = connect_merchant(merchant, google_emulator)
    # Kill the worker once several pages are in, well before the end.
    wait_for(lambda: BlockedTime.objects.filter(calendar=calendar).count() >= 600, "a few pages", logs=logs(workers))
    first.kill()
    killed_at = time.monotonic()
    partial = blocks_of(calendar.pk)
    assert 600 <= len(partial) < len(expected)
    assert set(partial) <= set(expected)  # whole pages only: nothing half-written
    [killed_run] = SyncRun.objects.filter(calendar=calendar)
    assert (killed_run.status, killed_run.trigger, killed_run.kind) == ("running", "initial", "full")
    assert calendar.__class__.objects.get(pk=calendar.pk).sync_cursor == ""  # no cursor for an unfinished listing

    # While no worker runs, the merchant's calendar changes at Google.
    for event_id in busy[:150]:
        google_emulator.delete_event(email, event_id, notify=False)
        del expected[event_id]
    for event_id in busy[150:250]:
        start = expected[event_id][0] + dt.timedelta(hours=1)
        google_emulator.update_event(email, event_id, moved_to(start, minutes=20), notify=False)
        expected[event_id] = (start, start + dt.timedelta(minutes=20), False)
    for i in range(100):
        event = timed_event(at(200, 7) + dt.timedelta(hours=5 * i), minutes=45)
        expected[google_emulator.insert_event(email, event, notify=False)["id"]] = (
            _instant(event["start"]),
            _instant(event["end"]),
            False,
        )

    # A new worker, once the dead one's task is due again (Redis visibility timeout).
    time.sleep(max(0.0, VISIBILITY_TIMEOUT + 1 - (time.monotonic() - killed_at)))
    second = workers.start(GOOGLE_WEBHOOK_URL=settings.GOOGLE_WEBHOOK_URL)
    done = wait_for(
        lambda: SyncRun.objects.filter(calendar=calendar, status="succeeded").first(),
        "the redelivered sync to finish",
        logs=logs(workers),
    )
    assert second.syncs_received() >= 1  # the killed worker's task, handed out again
    assert (done.trigger, done.kind) == ("initial", "full")
    assert_exactly(calendar.pk, expected)
    killed_run.refresh_from_db()
    assert killed_run.status == "failed" and "Interrupted" in killed_run.error
    status = session_client(merchant).get(STATUS_URL).json()
    assert (status["status"], status["last_error"]) == ("active", None)
    figures.count("process_faults.workers_killed")
    figures.count("process_faults.blocked_times_after_kill", len(expected))
    figures.count("process_faults.events_in_killed_sync", 3000)


# --- Redis stopped ---------------------------------------------------------------------------------


@pytest.fixture
def watched(live_server, settings):
    settings.GOOGLE_WEBHOOK_URL = live_server.url + settings.GOOGLE_WEBHOOK_PATH
    return settings.GOOGLE_WEBHOOK_URL


def test_with_redis_down_pushes_get_200_and_once_it_is_back_the_periodic_sync_catches_up(
    merchant, google_emulator, workers, redis_server, watched, settings
):
    email = merchant.user.email
    google_emulator.add_account(email)
    first_ids = [google_emulator.insert_event(email, timed_event(at(2 + i)), notify=False)["id"] for i in range(5)]
    workers.start()
    calendar = connect_merchant(merchant, google_emulator)
    wait_for(
        lambda: SyncRun.objects.filter(calendar=calendar, status="succeeded").exists(),
        "the initial sync",
        logs=logs(workers),
    )
    wait_for(
        lambda: WatchChannel.objects.filter(calendar=calendar, status="active").exists(),
        "the channel",
        logs=logs(workers),
    )
    assert google_emulator.wait_for_notifications(timeout=10)  # the channel's "sync" message
    assert set(blocks_of(calendar.pk)) == set(first_ids)
    pushes_before = len(google_emulator.notifications())

    redis_server.stop()
    assert Client().get("/health/").json()["broker"].startswith("error")  # the truth, for operators

    # Google keeps pushing changes while Redis is down.
    added = [google_emulator.insert_event(email, timed_event(at(10 + i, 14)))["id"] for i in range(6)]
    google_emulator.delete_event(email, first_ids[0])
    moved_start = at(20, 8)
    google_emulator.update_event(email, first_ids[1], moved_to(moved_start, minutes=60))
    assert google_emulator.wait_for_notifications(timeout=60)
    pushes = google_emulator.notifications()[pushes_before:]
    assert len(pushes) == 8
    assert [(p["status"], p["outcome"]) for p in pushes] == [(200, "delivered")] * 8
    figures.count("process_faults.pushes_while_redis_down", len(pushes))
    assert set(blocks_of(calendar.pk)) == set(first_ids)  # nothing could be synced meanwhile

    redis_server.start()  # empty: the queue and every cache key are gone
    wait_for(lambda: Client().get("/health/").status_code == 200, "the broker to be back")
    # Time passes (the periodic interval), then beat's entry fires: its task, sent as beat sends it.
    ExternalCalendar.objects.filter(pk=calendar.pk).update(
        last_synced_at=timezone.now() - settings.CALENDAR_PERIODIC_SYNC_INTERVAL - dt.timedelta(minutes=1),
        next_poll_at=timezone.now() - dt.timedelta(minutes=1),  # its safety net has come
    )
    from integrations.schedule import BEAT_SCHEDULE
    from integrations.tasks import calendars_sync_periodic_task

    assert any(entry["task"] == calendars_sync_periodic_task.name for entry in BEAT_SCHEDULE.values())
    calendars_sync_periodic_task.delay()
    expected = set(first_ids[1:]) | set(added)
    wait_for(lambda: set(blocks_of(calendar.pk)) == expected, "the periodic sync to catch up", logs=logs(workers))
    run = SyncRun.objects.filter(calendar=calendar).first()
    assert (run.trigger, run.status) == ("periodic", "succeeded")
    assert blocks_of(calendar.pk)[first_ids[1]][0] == moved_start
    figures.count("blocked_times.checked", len(expected))
    figures.count("process_faults.redis_restarts")
    figures.count("process_faults.blocked_times_after_redis_outage", len(expected))


# --- two workers, one calendar ----------------------------------------------------------------------


def test_two_workers_syncing_the_same_calendar_at_once_lose_nothing_and_duplicate_nothing(
    merchant, google_emulator, workers, settings
):
    settings.GOOGLE_WEBHOOK_URL = "http://example.invalid/watch"
    email = merchant.user.email
    google_emulator.add_account(email)
    expected, _ = fill_calendar(google_emulator, email, merchant.zone, 1000)
    env = {"GOOGLE_WEBHOOK_URL": settings.GOOGLE_WEBHOOK_URL}
    one, two = workers.start(**env), workers.start(**env)
    calendar = connect_merchant(merchant, google_emulator)
    wait_for(
        lambda: SyncRun.objects.filter(calendar=calendar, status="succeeded").exists(),
        "the initial sync",
        logs=logs(workers),
    )
    assert_exactly(calendar.pk, expected)
    received = (one.syncs_received(), two.syncs_received())

    google_emulator.set_page_size(50)  # 20 pages...
    google_emulator.inject_fault("events.list", delay=0.1, times=None)  # ...of a slow listing
    for _ in range(2):  # two manual syncs at once: one per worker
        calendar_sync_request(calendar_id=calendar.pk, trigger=SyncRun.Trigger.MANUAL)
    wait_for(lambda: SyncRun.objects.filter(calendar=calendar, status="running").exists(), "a sync to start")
    # Changes land while it lists; Google's notification asks for one more sync (a third task).
    added = {}
    for i in range(40):
        event = timed_event(at(100, 7) + dt.timedelta(hours=3 * i), minutes=30)
        added[google_emulator.insert_event(email, event, notify=False)["id"]] = (
            _instant(event["start"]),
            _instant(event["end"]),
            False,
        )
    expected |= added
    calendar_sync_request(calendar_id=calendar.pk, trigger=SyncRun.Trigger.NOTIFICATION)

    def settled():
        runs = SyncRun.objects.filter(calendar=calendar).exclude(trigger="initial")
        return (
            runs.exists()
            and not runs.filter(status="running").exists()
            and set(blocks_of(calendar.pk)) == set(expected)
        )

    wait_for(settled, "the syncs to settle", logs=logs(workers))
    time.sleep(1)  # anything still queued would start now
    wait_for(lambda: not SyncRun.objects.filter(calendar=calendar, status="running").exists(), "quiet")
    # Both workers took one of the simultaneous syncs; one of them found the lock held and left.
    assert one.syncs_received() > received[0] and two.syncs_received() > received[1]
    assert "being synced elsewhere" in one.text() + two.text()
    runs = list(SyncRun.objects.filter(calendar=calendar).order_by("started_at"))
    assert all(r.status == "succeeded" for r in runs), [(r.status, r.error) for r in runs]
    for earlier, later in itertools.pairwise(runs):
        assert earlier.finished_at <= later.started_at, "two syncs of one calendar overlapped"
    assert_exactly(calendar.pk, expected)
    figures.count("process_faults.concurrent_sync_requests", 3)
    figures.count("process_faults.sync_runs_in_concurrency_test", len(runs))
    figures.count("process_faults.blocked_times_two_workers", len(expected))


# --- a burst over HTTP with a real worker -------------------------------------------------------------


def test_a_burst_of_1000_pushes_over_http_queues_one_task_and_costs_one_sync(
    merchant, google_emulator, workers, redis_server, watched
):
    email = merchant.user.email
    google_emulator.add_account(email)
    worker = workers.start()
    calendar = connect_merchant(merchant, google_emulator)
    wait_for(
        lambda: WatchChannel.objects.filter(calendar=calendar, status="active").exists(),
        "the channel",
        logs=logs(workers),
    )
    wait_for(lambda: SyncRun.objects.filter(calendar=calendar, status="succeeded").exists(), "the initial sync")
    assert google_emulator.wait_for_notifications(timeout=10)
    pushes_before = len(google_emulator.notifications())
    received_before = worker.syncs_received()
    worker.pause()  # busy elsewhere: the burst piles up in front of it
    try:
        ids = {
            google_emulator.insert_event(email, timed_event(at(3) + dt.timedelta(minutes=20 * i), minutes=15))["id"]
            for i in range(1000)
        }
        assert google_emulator.wait_for_notifications(timeout=120)
        pushes = google_emulator.notifications()[pushes_before:]
        assert len(pushes) == 1000
        assert {(p["status"], p["outcome"]) for p in pushes} == {(200, "delivered")}
    finally:
        worker.resume()
    wait_for(lambda: set(blocks_of(calendar.pk)) == ids, "the one sync", logs=logs(workers))
    time.sleep(1)
    assert worker.syncs_received() - received_before == 1  # a thousand pushes, one queued task
    runs = SyncRun.objects.filter(calendar=calendar, trigger="notification")
    assert runs.count() == 1 and runs.get().status == "succeeded"
    figures.count("webhook.real_notifications", 1000)
    figures.count("process_faults.burst_syncs", runs.count())
    figures.count("blocked_times.checked", len(ids))
