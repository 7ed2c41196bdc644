"""Bursts with a real broker: the first notification syncs at once, the rest of a burst once it settles.

Tasks go to Redis (not run inline) so their countdowns and arguments can be read off the
queue; the syncs themselves run here, as the worker would run them.
"""

from __future__ import annotations

import base64
import json
import time

import pytest
import redis

from integrations.models import SyncRun
from integrations.services.sync import calendar_sync_request, calendar_sync_run
from tests.integrations.sync.conftest import at, timed_event
from tests.integrations.test_worker import queue_to_redis, redis_url  # noqa: F401 - fixtures

pytestmark = [pytest.mark.redis, pytest.mark.postgres]
NOTIFICATION = SyncRun.Trigger.NOTIFICATION


def queued(url: str) -> list[dict]:
    """The sync tasks waiting in the broker, oldest first."""
    tasks = []
    for raw in reversed(redis.Redis.from_url(url).lrange("celery", 0, -1)):
        message = json.loads(raw)
        args, kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        tasks.append({"args": args, "kwargs": kwargs, "eta": message["headers"].get("eta")})
    return tasks


def test_a_burst_syncs_once_at_its_start_and_once_after_it_settles(gcal, queue_to_redis, settings):  # noqa: F811
    settings.CALENDAR_NOTIFICATION_SETTLE_SECONDS = 2.0
    calendar_id = gcal.calendar.pk
    broker = redis.Redis.from_url(queue_to_redis)

    assert calendar_sync_request(calendar_id=calendar_id, trigger=NOTIFICATION) is True
    [first] = queued(queue_to_redis)
    assert (first["args"], first["kwargs"], first["eta"]) == ([calendar_id, NOTIFICATION], {}, None)
    # While that sync is still queued, the burst rides on it: it starts later and covers them.
    assert calendar_sync_request(calendar_id=calendar_id, trigger=NOTIFICATION) is False
    assert len(queued(queue_to_redis)) == 1
    [leading] = calendar_sync_run(calendar_id=calendar_id, trigger=NOTIFICATION)  # the worker runs it
    assert leading.status == SyncRun.Status.SUCCEEDED
    broker.delete("celery")

    # The burst goes on after that sync began: one trailing task, due later; the rest ride on it.
    event_id = gcal.add(timed_event(at(3)))
    assert calendar_sync_request(calendar_id=calendar_id, trigger=NOTIFICATION) is True
    [trailing_task] = queued(queue_to_redis)
    assert trailing_task["kwargs"] == {"settle": True} and trailing_task["eta"] is not None
    assert calendar_sync_request(calendar_id=calendar_id, trigger=NOTIFICATION) is True
    assert len(queued(queue_to_redis)) == 1  # still the one trailing task
    broker.delete("celery")
    # Notifications still arriving: the task puts itself back instead of syncing.
    assert calendar_sync_run(calendar_id=calendar_id, trigger=NOTIFICATION, settle=True) == []
    assert [t["kwargs"] for t in queued(queue_to_redis)] == [{"settle": True}]
    assert event_id not in gcal.blocks()

    time.sleep(settings.CALENDAR_NOTIFICATION_SETTLE_SECONDS)  # quiet
    [trailing] = calendar_sync_run(calendar_id=calendar_id, trigger=NOTIFICATION, settle=True)
    assert trailing.status == SyncRun.Status.SUCCEEDED and event_id in gcal.blocks()
    # Another copy of the task finds nothing scheduled any more: no third sync.
    assert calendar_sync_run(calendar_id=calendar_id, trigger=NOTIFICATION, settle=True) == []
    assert SyncRun.objects.filter(calendar_id=calendar_id, trigger=NOTIFICATION).count() == 2


def test_a_burst_that_never_settles_still_syncs_after_the_max_delay(gcal, queue_to_redis, settings):  # noqa: F811
    settings.CALENDAR_NOTIFICATION_SETTLE_SECONDS = 60.0
    settings.CALENDAR_NOTIFICATION_MAX_DELAY_SECONDS = 0.0
    calendar_id = gcal.calendar.pk
    calendar_sync_request(calendar_id=calendar_id, trigger=NOTIFICATION)
    calendar_sync_run(calendar_id=calendar_id, trigger=NOTIFICATION)
    event_id = gcal.add(timed_event(at(4)))
    assert calendar_sync_request(calendar_id=calendar_id, trigger=NOTIFICATION) is True
    [run] = calendar_sync_run(calendar_id=calendar_id, trigger=NOTIFICATION, settle=True)
    assert run.status == SyncRun.Status.SUCCEEDED and event_id in gcal.blocks()
