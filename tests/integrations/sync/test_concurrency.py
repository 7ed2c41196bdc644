"""Two syncs of one calendar at the same moment, from two workers (threads, so two database sessions)."""

import threading

import pytest
from django.db import connection

from integrations.models import SyncRun
from integrations.services.sync import calendar_sync_request, calendar_sync_run
from scheduling.models import BlockedTime
from tests.integrations.sync.conftest import at, timed_event


def run_together(*targets):
    barrier = threading.Barrier(len(targets))
    results, errors = {}, []

    def worker(name, target):
        try:
            barrier.wait(timeout=10)
            results[name] = target()
        except Exception as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, t)) for i, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_syncs_of_one_calendar_at_once_end_with_exactly_the_right_blocked_times(gcal):
    busy = {gcal.add(timed_event(at(2 + i))) for i in range(30)}
    gcal.add(timed_event(at(40), transparency="transparent"))
    gcal.emulator.set_page_size(7)  # several pages, so a second writer would interleave
    gcal.emulator.inject_fault("events.list", delay=0.5, times=1)  # the first listing is slow
    calendar_id = gcal.calendar.pk
    before = SyncRun.objects.count()

    results = run_together(
        lambda: calendar_sync_run(calendar_id=calendar_id, trigger=SyncRun.Trigger.MANUAL),
        lambda: calendar_sync_run(calendar_id=calendar_id, trigger=SyncRun.Trigger.MANUAL),
    )

    # One held the lock and synced; the other found it held and left.
    assert sorted(len(runs) for runs in results.values()) == [0, 1]
    new_runs = SyncRun.objects.order_by("pk")[before:]
    assert [r.status for r in new_runs] == [SyncRun.Status.SUCCEEDED]
    assert set(gcal.blocks()) == busy
    assert BlockedTime.objects.filter(calendar_id=calendar_id).count() == 30


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_sync_requested_while_another_runs_is_done_right_after_it(gcal):
    first = {gcal.add(timed_event(at(2 + i))) for i in range(5)}
    gcal.emulator.inject_fault("events.list", delay=0.5, times=1)
    calendar_id = gcal.calendar.pk
    added_during_run = []

    def late_request():
        # Wait until the first sync is listing, then change the calendar and ask again.
        for _ in range(2000):
            if SyncRun.objects.filter(calendar_id=calendar_id, status="running").exists():
                break
            threading.Event().wait(0.005)
        added_during_run.append(gcal.add(timed_event(at(20))))
        return calendar_sync_request(calendar_id=calendar_id, trigger=SyncRun.Trigger.NOTIFICATION)

    results = run_together(
        lambda: calendar_sync_request(calendar_id=calendar_id, trigger=SyncRun.Trigger.PERIODIC),
        late_request,
    )
    assert results == {0: True, 1: True}
    assert set(gcal.blocks()) == first | set(added_during_run)
    runs = list(SyncRun.objects.filter(calendar_id=calendar_id).order_by("pk"))[-2:]
    assert [(r.trigger, r.status) for r in runs] == [("periodic", "succeeded"), ("notification", "succeeded")]
