"""Starting and running calendar syncs: coalesced requests, one run at a time per calendar.

A request sets a per-calendar "sync pending" key and queues a task only when the key was
not already set (``cache.add``). The task takes the calendar's lock and clears the key as
it starts syncing; a request that arrives meanwhile sets the key again, and its task,
finding the lock held, leaves the work to the holder, which checks the key after releasing
the lock and syncs once more. A manual request is absorbed whole by a sync that is queued
or running (SPEC §12).

Bursts of notifications (docs/calendar-sync.md). A *burst* is a run of notifications for
one calendar each less than ``CALENDAR_NOTIFICATION_SETTLE_SECONDS`` after the previous
one. Its first notification syncs at once; a later one that finds that sync still queued
rides on it, and any other only makes sure that one *trailing* sync is scheduled, which
runs once notifications have been quiet for the settle time, or
``CALENDAR_NOTIFICATION_MAX_DELAY_SECONDS`` after the trailing sync was first asked for,
whichever comes first, and does nothing when a sync that began after the burst's last
notification has covered it. So a burst shorter than the maximum delay costs at most two
syncs whatever its pace, and no change waits longer than the maximum delay (a longer burst
costs one more sync per maximum delay). Burst notifications never make a running sync run
again. With a worker the trailing sync is a task with a countdown; in eager mode (no
broker: development, the demo) a daemon thread waits for it, so the webhook still answers
at once. On Redis a notification's bookkeeping (message number, its time, the burst test,
the pending key and the burst's trailing key) is one Lua script, one round trip; elsewhere
the same steps through the cache API, on the same keys and values.
The sync itself is ``integrations.sync.engine``; retries are the task's business.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
import threading
import time

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache, RedisSerializer
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from integrations.models import CalendarConnection, ExternalCalendar, SyncRun
from integrations.providers import PROVIDERS
from integrations.providers.base import ProviderError
from integrations.selectors import next_poll_at, poll_interval
from integrations.services.clients import connection_client
from integrations.services.incidents import calendar_failures_check, calendar_success_check
from integrations.sync.engine import calendar_sync, needs_full_sync
from integrations.sync.locks import calendar_sync_lock

logger = logging.getLogger(__name__)

PENDING_TTL_SECONDS = 10 * 60  # a lost task blocks new requests at most this long
MAX_ROUNDS = 3  # syncs one task runs back to back before handing over to a fresh task
# Requests that may ride on one already queued; the others always queue their own task.
COALESCED_TRIGGERS = frozenset(
    {
        SyncRun.Trigger.NOTIFICATION,
        SyncRun.Trigger.PERIODIC,
        SyncRun.Trigger.HORIZON,
        SyncRun.Trigger.PREFERENCES,
    }
)
# Triggers that list the whole window and reconcile; the rest are incremental when they can be.
FULL_TRIGGERS = frozenset(
    {
        SyncRun.Trigger.INITIAL,
        SyncRun.Trigger.SELECTION,
        SyncRun.Trigger.MANUAL,
        SyncRun.Trigger.HORIZON,
        SyncRun.Trigger.PREFERENCES,
    }
)
HORIZON_SLACK = dt.timedelta(hours=12)  # a window this close to the horizon is not rolled yet
SYNCABLE_STATUSES = (CalendarConnection.Status.ACTIVE, CalendarConnection.Status.ERROR)
# A due calendar whose connection cannot sync (reauth required) is looked at again this much
# later, not every minute; reconnecting syncs it, and that run sets its next time.
PARKED_FOR = dt.timedelta(days=1)
MESSAGE_TTL_SECONDS = 32 * 24 * 3600  # a channel's highest message number: longer than any channel lives
IN_BURST = "in_burst"  # a notification inside a burst that asked for the burst's trailing sync
IN_BURST_SCHEDULED = "in_burst_scheduled"  # inside a burst whose trailing sync is already scheduled


def _pending_key(calendar_id: int) -> str:
    return f"integrations:sync-pending:{calendar_id}"


def _notified_key(calendar_id: int) -> str:
    return f"integrations:sync-notified:{calendar_id}"  # when the latest notification came (ms)


def _synced_key(calendar_id: int) -> str:
    return f"integrations:sync-started:{calendar_id}"  # when the latest sync began listing (ms)


def _burst_clock_key(calendar_id: int) -> str:
    return f"integrations:sync-burst-clock:{calendar_id}"  # when the latest notification sync ended (ms)


def _trailing_key(calendar_id: int) -> str:
    return f"integrations:sync-trailing:{calendar_id}"  # a trailing sync is scheduled; since when (ms)


def _now_ms() -> int:
    # Whole milliseconds: stored as a plain integer, so Lua and Django's cache read the same value.
    return int(time.time() * 1000)


def _eager() -> bool:
    from integrations.tasks import calendar_sync_task

    return bool(calendar_sync_task.app.conf.task_always_eager)


def calendar_sync_enqueue(*, calendar_id: int, trigger: str) -> None:
    """Queue a sync of one calendar once the current transaction commits."""
    transaction.on_commit(lambda: calendar_sync_request(calendar_id=calendar_id, trigger=trigger))


def calendar_sync_request(*, calendar_id: int, trigger: str, message: tuple[str, int] | None = None) -> bool | None:
    """Ask for a sync now; returns whether a sync was queued or scheduled (False: absorbed).

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
        if noted == IN_BURST:
            _trailing_sync_start(calendar_id=calendar_id)
            return True
        if noted == IN_BURST_SCHEDULED:
            return True
        if not noted:
            return False
    elif trigger == SyncRun.Trigger.MANUAL:
        # Running first: adding the pending key while a sync runs would make it run again.
        if _sync_running(calendar_id) or not cache.add(_pending_key(calendar_id), trigger, timeout=PENDING_TTL_SECONDS):
            return False  # a queued or running sync absorbs a manual request
    else:
        cache.set(_pending_key(calendar_id), trigger, timeout=PENDING_TTL_SECONDS)
    calendar_sync_task.delay(calendar_id, trigger)
    return True


def _sync_running(calendar_id: int) -> bool:
    return SyncRun.objects.filter(calendar_id=calendar_id, status=SyncRun.Status.RUNNING).exists()


def _request_note(*, calendar_id: int, trigger: str, message: tuple[str, int] | None) -> bool | str | None:
    """Note a coalesced request: None when ``message`` is a repeat; for a notification less
    than the settle time after the previous one (it touches no pending key), False when a
    queued sync covers it, else :data:`IN_BURST` when it added the burst's trailing key (the
    caller starts the trailing sync) or :data:`IN_BURST_SCHEDULED` when that key was there;
    otherwise whether the pending key was added. Every notification notes its time. On Redis
    all of it is one round trip (the webhook's only one).
    """
    now = _now_ms()
    notified = _notified_key(calendar_id) if trigger == SyncRun.Trigger.NOTIFICATION else None
    script = _request_note_script()
    if script is not None:
        return _request_note_redis(script, calendar_id, trigger, message, notified, now)
    if message is not None:
        last = cache.get(message[0])
        if last is not None and message[1] <= last:
            return None
        cache.set(message[0], message[1], timeout=MESSAGE_TTL_SECONDS)
    if notified is not None:
        previous = max(cache.get_many([notified, _burst_clock_key(calendar_id)]).values(), default=None)
        cache.set(notified, now, timeout=PENDING_TTL_SECONDS)
        if previous is not None and now - previous < _settle_ms():
            # A sync still queued starts later and covers this one; else the burst's trailing sync.
            if cache.get(_pending_key(calendar_id)) is not None:
                return False
            added = cache.add(_trailing_key(calendar_id), now, timeout=PENDING_TTL_SECONDS)
            return IN_BURST if added else IN_BURST_SCHEDULED
    return cache.add(_pending_key(calendar_id), trigger, timeout=PENDING_TTL_SECONDS)


def _settle_ms() -> int:
    return int(settings.CALENDAR_NOTIFICATION_SETTLE_SECONDS * 1000)


# KEYS: pending, notified ("" for other triggers), message key ("" when none), burst clock,
# trailing. ARGV: pending value, pending TTL, now (ms), message number (canonical decimal, not
# negative), its TTL, settle time (ms). Numbers are compared as decimal strings (length first):
# exact beyond 2^53, unlike Lua's numbers. Returns false (a repeat), -1 (in a burst, no sync
# queued, trailing key added: start the trailing sync), -2 (in a burst, trailing sync already
# scheduled), 1 (pending added: sync now) or 0 (a queued sync covers it).
_REQUEST_NOTE = """
if KEYS[3] ~= '' then
  local last = redis.call('GET', KEYS[3])
  if last and (#last > #ARGV[4] or (#last == #ARGV[4] and last >= ARGV[4])) then
    return false
  end
  redis.call('SET', KEYS[3], ARGV[4], 'EX', ARGV[5])
end
if KEYS[2] ~= '' then
  local previous = tonumber(redis.call('GET', KEYS[2]) or '')
  local clock = tonumber(redis.call('GET', KEYS[4]) or '')
  if clock and (not previous or clock > previous) then previous = clock end
  redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[2])
  if previous and tonumber(ARGV[3]) - previous < tonumber(ARGV[6]) then
    if redis.call('EXISTS', KEYS[1]) == 1 then
      return 0
    end
    if redis.call('SET', KEYS[5], ARGV[3], 'NX', 'EX', ARGV[2]) then
      return -1
    end
    return -2
  end
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then
  return 1
end
return 0
"""
_serializer = RedisSerializer()


def _request_note_redis(script, calendar_id, trigger, message, notified, now) -> bool | str | None:
    keys = [cache.make_key(_pending_key(calendar_id)), cache.make_key(notified) if notified else ""]
    keys.append(cache.make_key(message[0]) if message is not None else "")
    keys += [cache.make_key(_burst_clock_key(calendar_id)), cache.make_key(_trailing_key(calendar_id))]
    argv = [_serializer.dumps(trigger), PENDING_TTL_SECONDS, now]
    argv += [str(message[1]) if message is not None else "", MESSAGE_TTL_SECONDS, _settle_ms()]
    result = script(keys=keys, args=argv)
    if result is None:
        return None
    if result < 0:
        return IN_BURST if result == -1 else IN_BURST_SCHEDULED
    return bool(result)


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


# --- the trailing sync of a burst -------------------------------------------------------------


def _trailing_sync_start(*, calendar_id: int) -> None:
    """Schedule the trailing sync of the burst going on; its trailing key was just added
    (by :func:`_request_note`), so this runs once per burst."""
    if _eager():
        threading.Thread(target=_trailing_sync_wait, args=(calendar_id,), daemon=True).start()
        return
    from integrations.tasks import calendar_sync_task

    calendar_sync_task.apply_async(
        (calendar_id, SyncRun.Trigger.NOTIFICATION),
        {"settle": True},
        countdown=settings.CALENDAR_NOTIFICATION_SETTLE_SECONDS,
    )


def _trailing_remaining(calendar_id: int) -> float | None:
    """Seconds the trailing sync must still wait; None when none is scheduled any more."""
    since = cache.get(_trailing_key(calendar_id))
    if since is None:
        return None
    last = cache.get(_notified_key(calendar_id)) or since
    due = min(last + _settle_ms(), since + int(settings.CALENDAR_NOTIFICATION_MAX_DELAY_SECONDS * 1000))
    return max(0.0, (due - _now_ms()) / 1000)


def _trailing_sync_run(calendar_id: int) -> list[SyncRun]:
    """The burst has settled (or waited long enough): sync once, unless a sync that began
    after the burst's last notification has covered it, or one is queued already."""
    cache.delete(_trailing_key(calendar_id))
    started, last = cache.get(_synced_key(calendar_id)), cache.get(_notified_key(calendar_id))
    if started is not None and last is not None and started >= last:
        return []  # a worker busy elsewhere synced after the whole burst had arrived
    if not cache.add(_pending_key(calendar_id), SyncRun.Trigger.NOTIFICATION, timeout=PENDING_TTL_SECONDS):
        return []  # a queued sync, or the one running, picks the burst's changes up
    return calendar_sync_run(calendar_id=calendar_id, trigger=SyncRun.Trigger.NOTIFICATION)


def _trailing_sync_wait(calendar_id: int) -> None:
    """Eager mode: wait in this daemon thread for the burst to settle, then sync."""
    try:
        while (remaining := _trailing_remaining(calendar_id)) is not None and remaining > 0:
            time.sleep(remaining)
        if remaining is not None:
            _trailing_sync_run(calendar_id)
    except Exception:
        logger.exception("the trailing sync of calendar %s failed", calendar_id)
    finally:
        db_connection.close()


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

    ``settle``: this is a burst's trailing sync; it waits (re-queued) until notifications
    are quiet or the maximum delay has passed. Provider errors propagate after being
    recorded (the task retries transient ones).
    """
    if settle:
        wait = _trailing_remaining(calendar_id)
        if wait is None:
            return []
        if wait > 0:
            from integrations.tasks import calendar_sync_task

            calendar_sync_task.apply_async((calendar_id, trigger), {"settle": True}, countdown=wait)
            return []
        return _trailing_sync_run(calendar_id)
    runs: list[SyncRun] = []
    key = _pending_key(calendar_id)
    client = None
    if trigger == SyncRun.Trigger.PERIODIC:
        unchanged, client = _poll_check(calendar_id, trigger)
        if unchanged:
            return runs
    while True:
        with calendar_sync_lock(calendar_id) as lock:
            if not lock.acquired:
                logger.info("calendar %s is being synced elsewhere; the holder takes the request", calendar_id)
                return runs
            cache.delete(key)
            cache.set(_synced_key(calendar_id), _now_ms(), timeout=PENDING_TTL_SECONDS)
            calendar = _calendar_for_sync(calendar_id)
            if calendar is None:
                logger.info("calendar %s is gone, deselected or not connected: nothing to sync", calendar_id)
                if trigger == SyncRun.Trigger.PERIODIC:
                    # Due, but its connection cannot sync (reauth required): not asked every minute.
                    ExternalCalendar.objects.filter(pk=calendar_id, selected=True).update(
                        next_poll_at=timezone.now() + PARKED_FOR
                    )
                return runs
            try:
                run = _calendar_sync_once(calendar=calendar, trigger=trigger, heartbeat=lock.extend, client=client)
                runs.append(run)
                client = None
            except ProviderError as exc:
                if not exc.retryable:
                    # Nothing will retry this run: later requests must queue their own task.
                    cache.delete(key)
                raise
            finally:
                if trigger == SyncRun.Trigger.NOTIFICATION:
                    # The burst's clock counts from the end of its sync: a sender that waits for
                    # our answer (eager mode syncs before answering) is still the same burst.
                    cache.set(_burst_clock_key(calendar_id), _now_ms(), timeout=PENDING_TTL_SECONDS)
        # Requests made while we held the lock left their work to us.
        pending = cache.get(key)
        if pending is None:
            return runs
        if len(runs) >= MAX_ROUNDS:
            from integrations.tasks import calendar_sync_task

            calendar_sync_task.delay(calendar_id, pending)
            return runs
        trigger = pending


def _calendar_sync_once(*, calendar: ExternalCalendar, trigger: str, heartbeat, client=None) -> SyncRun:
    """One run; the calendar's ``next_poll_at`` then moves to its next slot, failed or not
    (a failing server too is asked once a slot). ``client``: the poll check's, which holds
    what it read."""
    # A ReauthRequired marks the connection on its way out of the client (services.clients).
    try:
        run = calendar_sync(
            calendar=calendar,
            client=client or connection_client(calendar.connection),
            trigger=trigger,
            full=trigger in FULL_TRIGGERS,
            heartbeat=heartbeat,
        )
    except ProviderError:
        calendar_failures_check(calendar_id=calendar.pk)
        raise
    finally:
        _next_poll_store(calendar)
    calendar_success_check(connection_id=calendar.connection_id)
    return run


def _next_poll_at(calendar: ExternalCalendar, now: dt.datetime) -> dt.datetime:
    return next_poll_at(calendar_id=calendar.pk, provider=calendar.connection.provider, after=now)


def _next_poll_store(calendar: ExternalCalendar) -> None:
    """After a run, failed or not: the calendar's next slot from now (one UPDATE)."""
    calendar.next_poll_at = _next_poll_at(calendar, timezone.now())
    ExternalCalendar.objects.filter(pk=calendar.pk).update(next_poll_at=calendar.next_poll_at)


# What a poll check reads (compiling the full three-table SELECT was half its CPU); fields
# deferred here are loaded if a client needs them, and the run reloads the calendar anyway.
_POLL_FIELDS = (
    *("connection_id", "external_id", "sync_cursor", "window_end", "last_error", "failing_since", "next_poll_at"),
    *("connection__provider", "connection__status", "connection__account_email", "connection__access_token"),
    *("connection__server_url", "connection__calendar_user_addresses", "connection__merchant__time_zone"),
)


def _calendar_for_poll(calendar_id: int) -> ExternalCalendar | None:
    rows = (
        ExternalCalendar.objects.select_related("connection__merchant")
        .only(*_POLL_FIELDS)
        .filter(pk=calendar_id, selected=True, connection__status__in=SYNCABLE_STATUSES)
        .order_by()[:1]
    )
    return next(iter(rows), None)


# One statement on PostgreSQL for both writes of an unchanged poll (the ORM's two UPDATEs
# were a fifth of the poll's CPU: docs/BENCHMARKS.md §7).
_POLL_CHECKED_SQL = (
    "WITH polled AS (UPDATE integrations_externalcalendar SET last_synced_at = %s, next_poll_at = %s"
    " WHERE id = %s RETURNING connection_id)"
    " UPDATE integrations_calendarconnection SET last_synced_at = %s"
    " WHERE id IN (SELECT connection_id FROM polled) AND status = %s"
)


def _poll_checked_store(calendar: ExternalCalendar, now: dt.datetime, planned: dt.datetime) -> None:
    """The calendar's and its connection's time, and the calendar's next slot."""
    calendar.last_synced_at, calendar.next_poll_at = now, planned
    active = CalendarConnection.Status.ACTIVE
    if db_connection.vendor == "postgresql":
        with db_connection.cursor() as cursor:
            cursor.execute(_POLL_CHECKED_SQL, [now, planned, calendar.pk, now, str(active)])
        return
    ExternalCalendar.objects.filter(pk=calendar.pk).update(last_synced_at=now, next_poll_at=planned)
    CalendarConnection.objects.filter(pk=calendar.connection_id, status=active).update(last_synced_at=now)


def _poll_check(calendar_id: int, trigger: str) -> tuple[bool, object | None]:
    """A poll (SPEC §8.2): one cheap request, and a calendar in good standing whose server
    says nothing changed since its cursor is done: ``(True, None)``. No sync run is recorded
    (a check is not a sync: 288 rows a day per calendar otherwise) and no lock is taken (it
    only reads the server, and writes nothing a concurrent run would miss): one SELECT and
    one UPDATE of the calendar's time and next slot and the connection's time (two elsewhere
    than PostgreSQL). Otherwise
    ``(False, client)``: the run goes on under the lock with this client, which keeps what
    the check read (a changed state, or the error to record), so nothing is asked twice.
    Only for providers with the optional ``client.unchanged`` (CalDAV's ctag/sync-token)."""
    calendar = _calendar_for_poll(calendar_id)
    now = timezone.now()
    if (
        calendar is None
        or poll_interval(calendar.connection.provider) is None
        or not calendar.sync_cursor
        or calendar.last_error
        or calendar.failing_since is not None
        or calendar.connection.status != CalendarConnection.Status.ACTIVE
        or needs_full_sync(calendar, now)
    ):
        return False, None  # the run decides (and records) what happens
    try:
        client = connection_client(calendar.connection)
    except ProviderError:
        return False, None
    check = getattr(client.provider_client, "unchanged", None)
    if check is None:
        return False, client
    key = _pending_key(calendar_id)
    cache.delete(key)  # as a run starts: what is asked from now on comes after this check
    try:
        unchanged = check(calendar.external_id, cursor=calendar.sync_cursor)
    except ProviderError:
        unchanged = False
    if not unchanged:
        cache.add(key, trigger, timeout=PENDING_TTL_SECONDS)  # the locked run (or its holder) takes it
        return False, client
    now = timezone.now()
    _poll_checked_store(calendar, now, _next_poll_at(calendar, now))
    logger.info("calendar %s unchanged at the server (poll)", calendar.pk)
    return True, None  # a request made since the check found no pending key: it queued its own task


# --- what beat's periodic tasks select (integrations/schedule.py) ---------------------------


def _polled_providers() -> list[str]:
    return [key for key in PROVIDERS if poll_interval(key) is not None]


def calendars_due(*, now: dt.datetime | None = None) -> list[int]:
    """Every selected calendar whose ``next_poll_at`` has come: CalDAV polls and the push
    providers' safety net alike (each stores its own kind of next time). One read of the
    partial index, nothing joined: it grows with what is due, not with the tables (a join
    with the connections let the planner hash or scan all of them: docs/BENCHMARKS.md). A
    calendar whose connection cannot sync is parked by its run (``PARKED_FOR``). Not leased:
    a 2,000-row UPDATE per tick cost more than the selection; the run sets the next slot,
    and one still queued at the next tick is absorbed by its pending key."""
    now = now or timezone.now()
    return list(
        ExternalCalendar.objects.filter(selected=True, next_poll_at__lte=now)
        .order_by("next_poll_at")
        .values_list("pk", flat=True)
    )


def _due_of(providers: list[str], now: dt.datetime | None) -> list[int]:
    due = set(calendars_due(now=now))
    return [
        pk
        for pk in ExternalCalendar.objects.filter(
            pk__in=due, connection__provider__in=providers, connection__status__in=SYNCABLE_STATUSES
        )
        .order_by("next_poll_at")
        .values_list("pk", flat=True)
    ]


def calendars_due_for_poll(*, now=None) -> list[int]:
    """The due calendars of push-less providers (CalDAV): each polls every ``poll_interval``
    at its own offset (``next_poll_at``: no herd). For tools and tests; beat takes
    :func:`calendars_due` whole."""
    return _due_of(_polled_providers(), now)


def calendars_due_for_periodic_sync(*, now=None) -> list[int]:
    """The due calendars of push providers: the safety net (``next_poll_at`` between half and
    all of ``CALENDAR_PERIODIC_SYNC_INTERVAL`` after their last run, spread)."""
    polled = set(_polled_providers())
    return _due_of([key for key in PROVIDERS if key not in polled], now)


def calendars_due_for_horizon_roll() -> list[int]:
    """Selected calendars whose window ends more than half a day short of the horizon."""
    lagging = timezone.now() + dt.timedelta(days=settings.CALENDAR_SYNC_HORIZON_DAYS) - HORIZON_SLACK
    return list(
        ExternalCalendar.objects.filter(selected=True, connection__status__in=SYNCABLE_STATUSES)
        .filter(Q(window_end__isnull=True) | Q(window_end__lt=lagging))
        .values_list("pk", flat=True)
    )
