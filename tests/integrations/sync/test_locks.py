"""The per-calendar sync lock: exclusive across workers, and gone with a dead holder."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import connection

from integrations.sync.locks import ADVISORY_NAMESPACE, AdvisoryLock, CacheLock, calendar_sync_lock, sync_lock_for

ROOT = Path(__file__).resolve().parents[3]


def in_other_thread(fn):
    """Run ``fn`` in another thread (so another database connection, as another worker has)."""
    result = {}

    def target():
        try:
            result["value"] = fn()
        finally:
            connection.close()

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(timeout=30)
    return result["value"]


def try_lock(calendar_id):
    lock = sync_lock_for(calendar_id)
    acquired = lock.acquire()
    lock.release()
    return acquired


@pytest.mark.django_db(transaction=True)
def test_a_second_worker_is_refused_until_the_first_releases():
    with calendar_sync_lock(41) as first:
        assert first.acquired
        assert in_other_thread(lambda: try_lock(41)) is False
        assert in_other_thread(lambda: try_lock(42)) is True  # other calendars are independent
    assert in_other_thread(lambda: try_lock(41)) is True


def test_cache_lock_of_a_dead_holder_frees_itself_when_its_key_expires():
    dead = CacheLock(7)
    assert dead.acquire()
    assert not CacheLock(7).acquire()
    cache.delete(dead.key)  # what the TTL does to a holder that never released
    assert CacheLock(7).acquire()


def test_cache_lock_release_never_frees_someone_elses_lock():
    stale = CacheLock(8)
    assert stale.acquire()
    cache.delete(stale.key)  # expired...
    fresh = CacheLock(8)
    assert fresh.acquire()  # ...and taken by another worker
    stale.release()
    assert not CacheLock(8).acquire()
    fresh.release()
    assert CacheLock(8).acquire()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_advisory_lock_dies_with_a_killed_worker():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: run with DATABASE_URL=postgres://...")
    params = connection.get_connection_params()
    dsn = {k: params[k] for k in ("host", "port", "dbname", "user", "password") if params.get(k)}
    script = textwrap.dedent(
        f"""
        import time, psycopg
        conn = psycopg.connect(**{dsn!r}, autocommit=True)
        conn.execute("SELECT pg_advisory_lock(%s, %s)", [{ADVISORY_NAMESPACE}, 99])
        print("locked", flush=True)
        time.sleep(600)
        """
    )
    worker = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert worker.stdout.readline().strip() == "locked"
        assert not AdvisoryLock(99).acquire()
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
        for _ in range(600):  # the server notices the closed socket and ends the session
            lock = AdvisoryLock(99)
            if lock.acquire():
                lock.release()
                break
            time.sleep(0.05)
        else:
            pytest.fail("the advisory lock outlived its killed holder")
    finally:
        if worker.poll() is None:
            worker.kill()
