"""A burst of notifications costs at most two listings whatever its pace (SPEC §5, docs/calendar-sync.md).

Checked from outside over HTTP: notifications are POSTed to the live server's watch
endpoint at a given pace, with the app in-process (eager tasks, the trailing sync waits in
a thread) and with a real Celery worker on Redis; listings are counted at the emulator.
A burst is notifications closer together than the settle time; one longer than the
maximum delay costs one more listing per maximum delay, never one per notification.
"""

from __future__ import annotations

import math
import time

import pytest
import requests
from django.conf import settings

from integrations.models import SyncRun, WatchChannel
from tests.integrations.sync.conftest import at, timed_event
from tests.integrations.test_worker import queue_to_redis, redis_url, wait_for, worker_process  # noqa: F401 - fixtures
from tests.workers import worker_environment

SETTLE = 0.5  # the default
MAX_DELAY = 5.0  # longer than any of these bursts takes to send
SHORT_MAX_DELAY = 1.0  # shorter than LONG takes to send
PACES = {  # name: (notifications, seconds between two)
    "all-at-once": (40, 0.0),
    "25ms-apart": (40, 0.025),
    "200ms-apart": (8, 0.2),
}
LONG = (60, 0.05)  # over 3 s: longer than SHORT_MAX_DELAY


@pytest.fixture
def max_delay() -> float:
    return MAX_DELAY  # tests override it with @pytest.mark.parametrize("max_delay", [...])


@pytest.fixture
def timing(settings, max_delay):
    settings.CALENDAR_NOTIFICATION_SETTLE_SECONDS = SETTLE
    settings.CALENDAR_NOTIFICATION_MAX_DELAY_SECONDS = max_delay


@pytest.fixture
def worker(queue_to_redis, live_server, google_emulator, tmp_path, timing, max_delay):  # noqa: F811
    """A ``celery worker`` process with the same burst timing."""
    log = tmp_path / "worker.log"
    env = worker_environment(
        queue_to_redis,
        GOOGLE_WEBHOOK_URL=live_server.url + settings.GOOGLE_WEBHOOK_PATH,
        CALENDAR_NOTIFICATION_SETTLE_SECONDS=str(SETTLE),
        CALENDAR_NOTIFICATION_MAX_DELAY_SECONDS=str(max_delay),
    )
    with worker_process(env, log, "burst"):
        yield log


def _headers(channel: WatchChannel, number: int) -> dict[str, str]:
    return {
        "X-Goog-Channel-ID": channel.channel_id,
        "X-Goog-Channel-Token": channel.token,
        "X-Goog-Resource-ID": channel.resource_id,
        "X-Goog-Resource-State": "exists",
        "X-Goog-Message-Number": str(number),
    }


def _burst(gcal, live_server, count: int, gap: float) -> tuple[str, str, float]:
    """POST ``count`` notifications ``gap`` apart; a change lands before the first and before the last.
    Returns both changes' event ids and how long sending took."""
    channel = WatchChannel.objects.get(calendar=gcal.connected.calendar, status="active")
    url = live_server.url + settings.GOOGLE_WEBHOOK_PATH
    first = gcal.add(timed_event(at(2, 9)))
    last = None
    started = time.monotonic()
    with requests.Session() as session:
        for number in range(1, count + 1):
            if number == count:
                last = gcal.add(timed_event(at(2, 14)))
            answer = session.post(url, headers=_headers(channel, 1000 + number), timeout=10)
            assert (answer.status_code, answer.content) == (200, b"")
            if gap:
                time.sleep(gap)
    return first, last, time.monotonic() - started


def _listings_after_settling(gcal, expect_keys: set[str], timeout: float = 30.0) -> int:
    """Wait until no sync runs and none is due, then count the listings made by the burst."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(SETTLE + 0.2)
        busy = SyncRun.objects.filter(calendar=gcal.connected.calendar, status="running").exists()
        if not busy and expect_keys <= set(gcal.blocks()):
            time.sleep(SETTLE + 0.2)  # nothing more may start
            if not SyncRun.objects.filter(calendar=gcal.connected.calendar, status="running").exists():
                return gcal.list_calls()
    pytest.fail(f"the burst's changes did not arrive: {set(gcal.blocks())} lacks {expect_keys}")


def _run(gcal, live_server, count, gap) -> tuple[int, float]:
    gcal.emulator.clear_calls()
    first, last, took = _burst(gcal, live_server, count, gap)
    return _listings_after_settling(gcal, {first, last}), took


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("pace", list(PACES))
def test_in_process_a_burst_costs_at_most_two_listings(gcal, live_server, timing, pace):
    count, gap = PACES[pace]
    listings, took = _run(gcal, live_server, count, gap)
    assert took < MAX_DELAY, "the burst took longer to send than the maximum delay: not what is tested here"
    assert 1 <= listings <= 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("max_delay", [SHORT_MAX_DELAY])
def test_in_process_a_burst_longer_than_the_max_delay_costs_one_more_listing_per_max_delay(
    gcal, live_server, timing, max_delay
):
    count, gap = LONG
    listings, took = _run(gcal, live_server, count, gap)
    assert took > max_delay
    assert 2 <= listings <= 2 + math.ceil(took / max_delay), (listings, took)


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("pace", list(PACES))
def test_with_a_worker_a_burst_costs_at_most_two_listings(gcal, worker, live_server, pace):
    count, gap = PACES[pace]
    listings, took = _run(gcal, live_server, count, gap)
    assert took < MAX_DELAY, "the burst took longer to send than the maximum delay: not what is tested here"
    assert 1 <= listings <= 2


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("max_delay", [SHORT_MAX_DELAY])
def test_with_a_worker_a_long_burst_costs_one_more_listing_per_max_delay(gcal, worker, live_server, max_delay):
    count, gap = LONG
    listings, took = _run(gcal, live_server, count, gap)
    assert took > max_delay
    assert 2 <= listings <= 2 + math.ceil(took / max_delay), (listings, took)
