"""One sync at a time per calendar, across every worker, with a lock a dead worker drops.

- PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``). It belongs to the
  worker's database connection, so a killed worker's lock goes with its connection.
  (Re-entrant within one session: two holders must be two connections, i.e. two threads
  or processes, which is what workers are.)
- Anything else (SQLite in development and tests): an expiring key in the Django cache,
  ``add()`` = ``SET NX EX`` on Redis; the TTL frees the lock of a dead worker and
  :meth:`CacheLock.extend` keeps it while a long listing is still making progress. With
  the local-memory cache (no Redis) it only spans one process, which is all eager mode has.

Locks are tried, never waited for: whoever finds one held leaves the work to the holder
(see ``integrations.services.sync``).
https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS
https://redis.io/docs/latest/commands/set/
"""

from __future__ import annotations

import logging
import secrets
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.cache import cache
from django.db import DatabaseError, connection

logger = logging.getLogger(__name__)

LOCK_TTL_SECONDS = 15 * 60  # longer than one page can take; refreshed after every page
ADVISORY_NAMESPACE = zlib.crc32(b"integrations.calendar_sync") & 0x7FFFFFFF


class CacheLock:
    """An expiring cache key holding a random token."""

    def __init__(self, calendar_id: int):
        self.calendar_id = calendar_id
        self.acquired = False
        self.key = f"integrations:sync-lock:{calendar_id}"
        self._token = secrets.token_hex(16)

    def acquire(self) -> bool:
        self.acquired = cache.add(self.key, self._token, timeout=LOCK_TTL_SECONDS)
        return self.acquired

    def extend(self) -> None:
        if self.acquired:
            cache.touch(self.key, timeout=LOCK_TTL_SECONDS)

    def release(self) -> None:
        if self.acquired:
            self.acquired = False
            if cache.get(self.key) == self._token:
                # Only our own key: after an expiry someone else may hold a fresh one.
                cache.delete(self.key)


class AdvisoryLock:
    """A PostgreSQL session-level advisory lock on (namespace, calendar id)."""

    def __init__(self, calendar_id: int):
        self.calendar_id = calendar_id
        self.acquired = False

    def acquire(self) -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [ADVISORY_NAMESPACE, self.calendar_id])
            self.acquired = bool(cursor.fetchone()[0])
        return self.acquired

    def extend(self) -> None:
        """Nothing to do: the lock lasts as long as the session."""

    def release(self) -> None:
        if not self.acquired:
            return
        self.acquired = False
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [ADVISORY_NAMESPACE, self.calendar_id])
        except DatabaseError:
            # A broken connection has already dropped the lock with its session.
            logger.warning("could not release the sync lock of calendar %s", self.calendar_id, exc_info=True)


SyncLock = CacheLock | AdvisoryLock


def sync_lock_for(calendar_id: int) -> SyncLock:
    return AdvisoryLock(calendar_id) if connection.vendor == "postgresql" else CacheLock(calendar_id)


@contextmanager
def calendar_sync_lock(calendar_id: int) -> Iterator[SyncLock]:
    """Try the lock; ``lock.acquired`` says whether the body may sync. Released on exit."""
    lock = sync_lock_for(calendar_id)
    lock.acquire()
    try:
        yield lock
    finally:
        lock.release()
