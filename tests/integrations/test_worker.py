"""End to end with a real Celery worker on Redis and PostgreSQL.

A change in the emulator's calendar -> Google's push (HTTP) -> the watch endpoint in the
live server -> a task on Redis -> a separate ``celery worker`` process -> the sync -> the
blocked-times API. Only this test leaves eager mode: the test process queues to Redis for
its duration, and the worker reads the *test* database through DATABASE_URL.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from django.conf import settings
from django.db import connection

from integrations.models import SyncRun, WatchChannel
from tests.conftest import api_token_for
from tests.integrations.conftest import connect, session_client
from tests.integrations.sync.conftest import at, rfc3339, timed_event
from tests.workers import worker_environment

ROOT = Path(__file__).resolve().parents[2]
WORKER_REDIS_DB = 13  # our own Redis database: its queue and keys are flushed around the test
WAIT_SECONDS = 90

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


def wait_for(condition, what: str, timeout: float = WAIT_SECONDS, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    tail = log.read_text()[-4000:] if log and log.exists() else ""
    pytest.fail(f"timed out waiting for {what}\n--- worker log ---\n{tail}")


@contextlib.contextmanager
def worker_process(env: dict[str, str], log: Path, name: str):
    """A ``celery -A config worker`` subprocess (solo pool) with ``env``, logging to ``log``;
    yields once it is ready and stops it (terminate, then kill) however the test ends."""
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "--loglevel", "INFO"]
    command += [
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-n",
        f"{name}-{uuid.uuid4().hex[:8]}@%h",
    ]
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: process.poll() is not None or " ready." in log.read_text(), "the worker to start", log=log)
        assert process.poll() is None, log.read_text()[-4000:]
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture
def redis_url():
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("REDIS_URL is not set: this test needs Redis for a real Celery worker")
    if connection.vendor != "postgresql":
        pytest.fail("the real-worker test needs DATABASE_URL=postgres://... (the worker must see the test database)")
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{WORKER_REDIS_DB}", parts.query, ""))


@pytest.fixture
def queue_to_redis(redis_url, settings):
    """This process: cache and broker on Redis, tasks queued instead of run in-process."""
    import redis

    from config.celery import app

    redis.Redis.from_url(redis_url).flushdb()
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}}
    saved = {key: app.conf[key] for key in ("task_always_eager", "broker_url")}
    app.conf.update(task_always_eager=False, broker_url=redis_url)
    app._pool = None  # producers are built from broker_url on first use
    app.amqp._producer_pool = None
    yield redis_url
    app.conf.update(saved)
    app._pool = None
    app.amqp._producer_pool = None
    redis.Redis.from_url(redis_url).flushdb()


@pytest.fixture
def celery_worker(queue_to_redis, live_server, google_emulator, tmp_path):
    """A ``celery -A config worker`` process on the same Redis, database and emulator."""
    log = tmp_path / "worker.log"
    env = worker_environment(queue_to_redis, GOOGLE_WEBHOOK_URL=live_server.url + settings.GOOGLE_WEBHOOK_PATH)
    settings.GOOGLE_WEBHOOK_URL = env["GOOGLE_WEBHOOK_URL"]
    with worker_process(env, log, "test"):
        yield log


@pytest.mark.django_db(transaction=True)
def test_a_change_at_google_reaches_the_blocked_times_api_through_a_push_and_a_worker(
    celery_worker, live_server, google_emulator, google_account, merchant
):
    log = celery_worker
    # Connect the way a merchant does; the initial sync and the channel are queued to the worker.
    response = connect(session_client(merchant))
    assert response["Location"] == "/app/integrations?google=connected"
    wait_for(
        lambda: SyncRun.objects.filter(trigger="initial", status="succeeded").exists(), "the initial sync", log=log
    )
    channel = wait_for(lambda: WatchChannel.objects.filter(status="active").first(), "the watch channel", log=log)
    assert google_emulator.channels()[0]["address"] == live_server.url + settings.GOOGLE_WEBHOOK_PATH

    start = at(3, 9, 15)
    google_emulator.insert_event(google_account, timed_event(start, minutes=45))

    token = api_token_for(merchant.user)
    url = live_server.url + "/api/v1/merchant/blocked-times"
    params = {"start": rfc3339(at(0)), "end": rfc3339(at(10))}

    def synced_block():
        answer = requests.get(url, params=params, headers={"Authorization": f"Token {token}"}, timeout=10)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        items = body["results"] if isinstance(body, dict) and "results" in body else body
        return [b for b in items if b["source"] == "google"]

    [block] = wait_for(synced_block, "the pushed change in the blocked-times API", log=log)
    assert block["start"].startswith(start.astimezone(merchant.zone).isoformat()[:16])
    assert block["all_day"] is False
    delivered = [n for n in google_emulator.notifications() if n["state"] == "exists"]
    assert delivered and delivered[0]["status"] == 200 and delivered[0]["channelId"] == channel.channel_id
    run = SyncRun.objects.filter(trigger="notification", status="succeeded").first()
    assert run is not None and run.kind == "incremental" and run.blocks_upserted == 1
    # Both syncs ran in the worker process, not in this one.
    wait_for(lambda: log.read_text().count("calendar_sync_task[") >= 4, "the worker's task log", log=log)
    done = [line for line in log.read_text().splitlines() if "calendar_sync_task[" in line and "succeeded" in line]
    assert len(done) >= 2, log.read_text()[-4000:]


@pytest.fixture
def retrying_worker(queue_to_redis, live_server, google_emulator, tmp_path):
    """A worker whose task retries wait a fraction of a second (the production backoff, scaled down)."""
    log = tmp_path / "worker.log"
    env = worker_environment(
        queue_to_redis,
        GOOGLE_WEBHOOK_URL="",
        CALENDAR_SYNC_RETRY_BASE_SECONDS="0.2",
        CALENDAR_SYNC_RETRY_MAX_SECONDS="1",
        GOOGLE_API_MAX_ATTEMPTS="1",
    )
    with worker_process(env, log, "test"):
        yield log


@pytest.mark.django_db(transaction=True)
def test_google_down_during_a_booking_the_worker_retries_the_copy_until_it_lands(
    retrying_worker, live_server, google_emulator, google_account, merchant
):
    """SPEC §10: the booking is confirmed at once; the worker's retries with backoff write its copy."""
    from integrations.models import BookingCopy
    from tests.integrations.conftest import STATUS_URL, callback, consent
    from tests.scheduling.helpers import at as local_at
    from tests.scheduling.helpers import next_weekday

    log = retrying_worker
    client = session_client(merchant)
    assert connect(client)["Location"] == "/app/integrations?google=connected"
    refused = client.patch(STATUS_URL, {"write_bookings": True}, content_type="application/json")
    assert callback(client, consent(refused.json()["authorization_url"]))["Location"].endswith("google=connected")
    google_emulator.inject_fault("calendars.insert", status=503, times=3)  # Google down for the first attempts

    monday = next_weekday(0)
    start, end = local_at(monday, "10:00"), local_at(monday, "10:30")
    answer = requests.post(
        f"{live_server.url}/api/v1/public/merchants/{merchant.slug}/bookings",
        json={"start": start.isoformat(), "end": end.isoformat(), "customer_name": "Ada", "customer_email": "a@x.org"},
        timeout=10,
    )
    assert answer.status_code == 201, answer.text

    copy = wait_for(
        lambda: BookingCopy.objects.filter(state=BookingCopy.State.WRITTEN).first(), "the copy to land", log=log
    )
    assert copy.attempts == 4  # three refused by Google, the fourth landed
    calendar_id = copy.connection.bookings_calendar_id
    events = [e for e in google_emulator.list_stored_events(calendar_id) if e["status"] != "cancelled"]
    assert [e["summary"] for e in events] == ["Ada (booking)"]
    assert log.read_text().count("booking_copy_write_task[") >= 4
