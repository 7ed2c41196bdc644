"""One sync at a time per calendar, across every worker, with a lock a dead worker drops.

- PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``). It belongs to the
  worker's database connection, so a killed worker's lock goes with its connection.
- Anything else (SQLite in development and tests): an expiring key in the Django cache,
  ``add()`` = ``SET NX EX`` on Redis; the TTL frees the lock of a dead worker and
  :meth:`SyncLock.extend` keeps it while a long listing is still making progress. With the
  local-memory cache (no Redis) it only spans one process, which is all eager mode has.

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
_ADVISORY_NAMESPACE = zlib.crc32(b"integrations.calendar_sync") & 0x7FFFFFFF


class SyncLock:
    """A held (or not) lock on one calendar's sync."""

    def __init__(self, calendar_id: int):
        self.calendar_id = calendar_id
        self.acquired = False
        self._token = secrets.token_hex(16)
        self._advisory = connection.vendor == "postgresql"

    @property
    def _key(self) -> str:
        return f"integrations:sync-lock:{self.calendar_id}"

    def acquire(self) -> bool:
        if self._advisory:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_ADVISORY_NAMESPACE, self.calendar_id])
                self.acquired = bool(cursor.fetchone()[0])
        else:
            self.acquired = cache.add(self._key, self._token, timeout=LOCK_TTL_SECONDS)
        return self.acquired

    def extend(self) -> None:
        """Push the expiry back (cache locks only; an advisory lock lasts as long as the session)."""
        if self.acquired and not self._advisory:
            cache.touch(self._key, timeout=LOCK_TTL_SECONDS)

    def release(self) -> None:
        if not self.acquired:
            return
        self.acquired = False
        if self._advisory:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_ADVISORY_NAMESPACE, self.calendar_id])
            except DatabaseError:
                # A broken connection has already dropped the lock with its session.
                logger.warning("could not release the sync lock of calendar %s", self.calendar_id, exc_info=True)
        elif cache.get(self._key) == self._token:
            # Only our own key: after an expiry someone else may hold a fresh one.
            cache.delete(self._key)


@contextmanager
def calendar_sync_lock(calendar_id: int) -> Iterator[SyncLock]:
    """Try the lock; ``lock.acquired`` says whether the body may sync. Released on exit."""
    lock = SyncLock(calendar_id)
    lock.acquire()
    try:
        yield lock
    finally:
        lock.release()
