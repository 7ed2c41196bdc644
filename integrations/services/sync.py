"""Starting and running calendar syncs: coalesced requests, one run at a time per calendar.

A request sets a per-calendar "sync pending" key and queues a task only when the key was
not already set (``cache.add``), so a burst of push notifications queues one task (on Redis,
a notification's bookkeeping, message number, pending key and time, is one Lua script). The
task takes the calendar's lock and clears the key as it starts syncing; a request that
arrives meanwhile sets the key again, and its task, finding the lock held, leaves the
work to the holder, which checks the key after releasing the lock and syncs once more.
A burst therefore costs at most two syncs, with or without a Celery worker (eager mode).

With a worker, a burst can outlast a sync (10,000 notifications take seconds to arrive),
so a notification coming less than ``CALENDAR_NOTIFICATION_SETTLE_SECONDS`` after the
previous one does not sync at once: its task waits until notifications have been quiet
that long (or ``CALENDAR_NOTIFICATION_MAX_DELAY_SECONDS`` have passed), so the first
notification of a burst syncs right away and the rest share one more sync. In eager mode
tasks run inline, with nothing to wait on, so this settling is skipped.
The sync itself is ``integrations.sync.engine``; retries are the task's business.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
import time

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache, RedisSerializer
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from integrations.models import CalendarConnection, ExternalCalendar, SyncRun
from integrations.providers.base import ProviderError
from integrations.services.clients import connection_client
from integrations.sync.engine import calendar_sync
from integrations.sync.locks import calendar_sync_lock

logger = logging.getLogger(__name__)

PENDING_TTL_SECONDS = 10 * 60  # a lost task blocks new requests at most this long
MAX_ROUNDS = 3  # syncs one task runs back to back before handing over to a fresh task
# Requests that may ride on one already queued; the others always queue their own task.
COALESCED_TRIGGERS = frozenset({SyncRun.Trigger.NOTIFICATION, SyncRun.Trigger.PERIODIC, SyncRun.Trigger.HORIZON})
# Triggers that list the whole window and reconcile; the rest are incremental when they can be.
FULL_TRIGGERS = frozenset(
    {SyncRun.Trigger.INITIAL, SyncRun.Trigger.SELECTION, SyncRun.Trigger.MANUAL, SyncRun.Trigger.HORIZON}
)
HORIZON_SLACK = dt.timedelta(hours=12)  # a window this close to the horizon is not rolled yet
SYNCABLE_STATUSES = (CalendarConnection.Status.ACTIVE, CalendarConnection.Status.ERROR)


def _pending_key(calendar_id: int) -> str:
    return f"integrations:sync-pending:{calendar_id}"


def _notified_key(calendar_id: int) -> str:
    return f"integrations:sync-notified:{calendar_id}"  # when the latest notification came


def _settling_key(calendar_id: int) -> str:
    return f"integrations:sync-settling:{calendar_id}"  # a settling task waits; since when


def _settling_enabled() -> bool:
    from integrations.tasks import calendar_sync_task

    return not calendar_sync_task.app.conf.task_always_eager


def calendar_sync_enqueue(*, calendar_id: int, trigger: str) -> None:
    """Queue a sync of one calendar once the current transaction commits."""
    transaction.on_commit(lambda: calendar_sync_request(calendar_id=calendar_id, trigger=trigger))


def calendar_sync_request(*, calendar_id: int, trigger: str, message: tuple[str, int] | None = None) -> bool | None:
    """Ask for a sync now; returns whether a task was queued (False: one is already waiting).

    ``message``: ``(key, number)`` of a numbered push notification. Numbers only grow on a
    channel and a sync requested for a later message covers every earlier change, so when a
    message numbered ``number`` or higher is already noted under ``key``, nothing is
    requested and None is returned; otherwise ``number`` is noted there.
    """
    from integrations.tasks import calendar_sync_task

    if trigger in COALESCED_TRIGGERS:
        noted = _request_note(calendar_id=calendar_id, trigger=trigger, message=message)
        if noted is None:
            return None
        added, previous = noted
        if not added:
            return False
        if _in_burst(previous):
            _settling_task_queue(calendar_id=calendar_id, trigger=trigger)
            return True
    else:
        cache.set(_pending_key(calendar_id), trigger, timeout=PENDING_TTL_SECONDS)
    calendar_sync_task.delay(calendar_id, trigger)
    return True


def _in_burst(previous: float | None) -> bool:
    """Whether a notification whose predecessor came at ``previous`` is part of a burst (the
    previous one came less than the settle time ago) and a worker can wait for its end."""
    return (
        previous is not None
        and time.time() - previous < settings.CALENDAR_NOTIFICATION_SETTLE_SECONDS
        and _settling_enabled()
    )


def _request_note(
    *, calendar_id: int, trigger: str, message: tuple[str, int] | None
) -> tuple[bool, float | None] | None:
    """Note a coalesced request: None when ``message`` is a repeat (see ``calendar_sync_request``);
    else whether the pending key was added and, for a notification that added it, when the
    previous notification came (each notification notes its time).

    On Redis this is one round trip (``_REQUEST_NOTE``); elsewhere the same steps through the
    cache API. Both read and write the same keys and values, so either reads the other's.
    """
    now = time.time()
    notified = _notified_key(calendar_id) if trigger == SyncRun.Trigger.NOTIFICATION else None
    script = _request_note_script()
    if script is not None:
        return _request_note_redis(script, calendar_id, trigger, message, notified, now)
    if message is not None:
        last = cache.get(message[0])
        if last is not None and message[1] <= last:
            return None
        cache.set(message[0], message[1], timeout=MESSAGE_TTL_SECONDS)
    added = cache.add(_pending_key(calendar_id), trigger, timeout=PENDING_TTL_SECONDS)
    previous = None
    if notified is not None:
        previous = cache.get(notified) if added else None
        cache.set(notified, now, timeout=PENDING_TTL_SECONDS)
    return added, previous


MESSAGE_TTL_SECONDS = 32 * 24 * 3600  # a channel's highest message number: longer than any channel lives

# KEYS: pending, notified ("" for other triggers), message key ("" when none).
# ARGV: pending value, pending TTL, now, message number (canonical decimal, not negative), its TTL.
# Numbers are compared as decimal strings (length first): exact beyond 2^53, unlike Lua's numbers.
_REQUEST_NOTE = """
if KEYS[3] ~= '' then
  local last = redis.call('GET', KEYS[3])
  if last and (#last > #ARGV[4] or (#last == #ARGV[4] and last >= ARGV[4])) then
    return false
  end
  redis.call('SET', KEYS[3], ARGV[4], 'EX', ARGV[5])
end
local added = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2])
local previous = false
if KEYS[2] ~= '' then
  if added then
    previous = redis.call('GET', KEYS[2])
  end
  redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[2])
end
return {added and 1 or 0, previous}
"""
_serializer = RedisSerializer()


def _request_note_redis(script, calendar_id, trigger, message, notified, now) -> tuple[bool, float | None] | None:
    keys = [cache.make_key(_pending_key(calendar_id)), cache.make_key(notified) if notified else ""]
    keys.append(cache.make_key(message[0]) if message is not None else "")
    argv = [_serializer.dumps(trigger), PENDING_TTL_SECONDS, _serializer.dumps(now)]
    argv += [str(message[1]) if message is not None else "", MESSAGE_TTL_SECONDS]
    result = script(keys=keys, args=argv)
    if result is None:
        return None
    added, previous = result
    return bool(added), (_serializer.loads(previous) if previous is not None else None)


def _request_note_script():
    """``_REQUEST_NOTE`` on the default cache's (primary) server when that cache is Redis, else None."""
    if not isinstance(caches["default"], RedisCache):
        return None
    location = settings.CACHES["default"]["LOCATION"]
    return _request_note_script_on(re.split("[;,]", location)[0] if isinstance(location, str) else location[0])


@functools.lru_cache(maxsize=4)
def _request_note_script_on(location: str):
    # One client per process and server: Django's cache builds a new client object (~0.2 ms) per operation.
    import redis

    return redis.Redis.from_url(location).register_script(_REQUEST_NOTE)


def _settling_task_queue(*, calendar_id: int, trigger: str) -> None:
    """Queue one task that syncs once notifications have settled (none when one already waits)."""
    from integrations.tasks import calendar_sync_task

    if cache.add(_settling_key(calendar_id), time.time(), timeout=PENDING_TTL_SECONDS):
        calendar_sync_task.apply_async(
            (calendar_id, trigger), {"settle": True}, countdown=settings.CALENDAR_NOTIFICATION_SETTLE_SECONDS
        )


def _settle_remaining(calendar_id: int) -> float | None:
    """Seconds a settling task must still wait; None when nothing is pending any more."""
    if cache.get(_pending_key(calendar_id)) is None:
        return None
    now = time.time()
    last = cache.get(_notified_key(calendar_id)) or 0.0
    since = cache.get(_settling_key(calendar_id)) or now
    quiet_at = last + settings.CALENDAR_NOTIFICATION_SETTLE_SECONDS
    return max(0.0, min(quiet_at, since + settings.CALENDAR_NOTIFICATION_MAX_DELAY_SECONDS) - now)


def calendar_sync_pending(*, calendar_id: int) -> bool:
    return cache.get(_pending_key(calendar_id)) is not None


def _calendar_for_sync(calendar_id: int) -> ExternalCalendar | None:
    return (
        ExternalCalendar.objects.select_related("connection__merchant")
        .filter(pk=calendar_id, selected=True, connection__status__in=SYNCABLE_STATUSES)
        .first()
    )


def calendar_sync_run(*, calendar_id: int, trigger: str, settle: bool = False) -> list[SyncRun]:
    """Sync one calendar unless another worker is syncing it; returns the runs made here.

    ``settle``: a burst is going on; wait (re-queued) until notifications are quiet, and
    do nothing if a sync has taken the request meanwhile. Provider errors propagate after
    being recorded (the task retries transient ones).
    """
    runs: list[SyncRun] = []
    key = _pending_key(calendar_id)
    if settle:
        wait = _settle_remaining(calendar_id)
        if wait is None:
            cache.delete(_settling_key(calendar_id))
            return runs
        if wait > 0:
            from integrations.tasks import calendar_sync_task

            calendar_sync_task.apply_async((calendar_id, trigger), {"settle": True}, countdown=wait)
            return runs
    while True:
        with calendar_sync_lock(calendar_id) as lock:
            if not lock.acquired:
                logger.info("calendar %s is being synced elsewhere; the holder takes the request", calendar_id)
                return runs
            cache.delete_many([key, _settling_key(calendar_id)])
            calendar = _calendar_for_sync(calendar_id)
            if calendar is None:
                logger.info("calendar %s is gone, deselected or not connected: nothing to sync", calendar_id)
                return runs
            try:
                runs.append(_calendar_sync_once(calendar=calendar, trigger=trigger, heartbeat=lock.extend))
            except ProviderError as exc:
                if not exc.retryable:
                    # Nothing will retry this run: later requests must queue their own task.
                    cache.delete(key)
                raise
        # Requests made while we held the lock left their work to us.
        pending = cache.get(key)
        if pending is None:
            return runs
        if pending == SyncRun.Trigger.NOTIFICATION and _settling_enabled():
            # Notifications came during the sync: likely a burst; sync once it has settled.
            _settling_task_queue(calendar_id=calendar_id, trigger=pending)
            return runs
        if len(runs) >= MAX_ROUNDS:
            from integrations.tasks import calendar_sync_task

            calendar_sync_task.delay(calendar_id, pending)
            return runs
        trigger = pending


def _calendar_sync_once(*, calendar: ExternalCalendar, trigger: str, heartbeat) -> SyncRun:
    # A ReauthRequired marks the connection on its way out of the client (services.clients).
    return calendar_sync(
        calendar=calendar,
        client=connection_client(calendar.connection),
        trigger=trigger,
        full=trigger in FULL_TRIGGERS,
        heartbeat=heartbeat,
    )


def calendars_due_for_periodic_sync() -> list[int]:
    """Selected calendars of usable connections whose last sync is older than the interval."""
    cutoff = timezone.now() - settings.CALENDAR_PERIODIC_SYNC_INTERVAL
    return list(
        ExternalCalendar.objects.filter(selected=True, connection__status__in=SYNCABLE_STATUSES)
        .filter(Q(last_synced_at__isnull=True) | Q(last_synced_at__lt=cutoff))
        .values_list("pk", flat=True)
    )


def calendars_due_for_horizon_roll() -> list[int]:
    """Selected calendars whose window ends more than half a day short of the horizon."""
    lagging = timezone.now() + dt.timedelta(days=settings.CALENDAR_SYNC_HORIZON_DAYS) - HORIZON_SLACK
    return list(
        ExternalCalendar.objects.filter(selected=True, connection__status__in=SYNCABLE_STATUSES)
        .filter(Q(window_end__isnull=True) | Q(window_end__lt=lagging))
        .values_list("pk", flat=True)
    )
