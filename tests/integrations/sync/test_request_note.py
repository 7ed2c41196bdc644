"""A coalesced request's bookkeeping, the same through the cache API and through Redis's one round trip."""

from __future__ import annotations

import os
import time
import uuid

import pytest
from django.core.cache import cache

from integrations.models import SyncRun
from integrations.services.sync import (
    IN_BURST,
    IN_BURST_SCHEDULED,
    _notified_key,
    _pending_key,
    _request_note,
    _trailing_key,
)

NOTIFICATION = SyncRun.Trigger.NOTIFICATION


@pytest.fixture(params=["locmem", "redis"])
def any_cache(request, settings):
    if request.param == "redis":
        url = os.environ.get("REDIS_URL")
        if not url:
            pytest.skip("REDIS_URL is not set")
        prefix = f"test-{uuid.uuid4()}"  # the database may be shared: own keys, no flush
        settings.CACHES = {
            "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url, "KEY_PREFIX": prefix}
        }
    return request.param


def note(number: int | None, calendar_id: int = 7):
    message = ("integrations:push-seen:1", number) if number is not None else None
    return _request_note(calendar_id=calendar_id, trigger=NOTIFICATION, message=message)


@pytest.fixture(autouse=True)
def no_bursts(settings):
    settings.CALENDAR_NOTIFICATION_SETTLE_SECONDS = 0  # every notification starts its own burst


def test_repeated_and_late_numbers_are_repeats(any_cache):
    assert note(5) is True
    assert note(5) is None
    assert note(4) is None
    assert note(6) is False  # pending already: no new task
    assert cache.get("integrations:push-seen:1") == 6
    assert cache.get(_pending_key(7)) == NOTIFICATION


def test_numbers_beyond_double_precision_compare_exactly(any_cache):
    big = 2**60
    assert note(big) is True
    assert note(big + 1) is not None
    assert note(big + 1) is None
    assert note(99) is None  # fewer digits: lower
    assert cache.get("integrations:push-seen:1") == big + 1


def test_a_notification_inside_a_burst_touches_no_pending_key(any_cache, settings):
    settings.CALENDAR_NOTIFICATION_SETTLE_SECONDS = 60
    assert note(None) is True
    first = cache.get(_notified_key(7))
    assert isinstance(first, int)  # whole milliseconds, readable by Lua and the cache alike
    cache.delete(_pending_key(7))
    assert note(None) == IN_BURST
    assert cache.get(_pending_key(7)) is None
    assert cache.get(_notified_key(7)) >= first


def test_only_the_first_notification_of_a_burst_asks_for_its_trailing_sync(any_cache, settings):
    settings.CALENDAR_NOTIFICATION_SETTLE_SECONDS = 60
    assert note(None) is True
    cache.delete(_pending_key(7))  # the worker took the burst's first sync
    assert note(None) == IN_BURST
    since = cache.get(_trailing_key(7))
    assert isinstance(since, int)
    assert note(None) == IN_BURST_SCHEDULED
    assert note(None) == IN_BURST_SCHEDULED
    assert cache.get(_trailing_key(7)) == since
    assert cache.get(_pending_key(7)) is None


def test_a_notification_after_the_settle_time_starts_a_new_burst(any_cache, settings):
    settings.CALENDAR_NOTIFICATION_SETTLE_SECONDS = 0.05
    assert note(None) is True
    cache.delete(_pending_key(7))
    time.sleep(0.06)
    assert note(None) is True


def test_other_coalesced_triggers_note_no_time(any_cache):
    assert _request_note(calendar_id=8, trigger=SyncRun.Trigger.PERIODIC, message=None) is True
    assert _request_note(calendar_id=8, trigger=SyncRun.Trigger.PERIODIC, message=None) is False
    assert cache.get(_notified_key(8)) is None
    assert cache.get(_pending_key(8)) == SyncRun.Trigger.PERIODIC
