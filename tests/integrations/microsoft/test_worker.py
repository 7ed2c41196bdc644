"""End to end with a real Celery worker on Redis: a change in the Microsoft emulator -> Graph's
change notification (HTTPS emulator -> the live server's watch endpoint) -> a task on Redis ->
a separate ``celery worker`` process -> the sync -> the blocked-times API."""

from __future__ import annotations

import datetime as dt
import os

import pytest
import requests
from django.conf import settings
from django.utils import timezone

from integrations.models import SyncRun, WatchChannel
from tests.conftest import api_token_for
from tests.emulators.microsoft.support import timed
from tests.integrations.microsoft.test_connect_platform import browser_for, connect
from tests.integrations.test_worker import queue_to_redis, redis_url, wait_for, worker_process  # noqa: F401 - fixtures
from tests.workers import worker_environment

WATCH = "/api/v1/merchant/integrations/microsoft/calendar/watch"
pytestmark = [pytest.mark.redis, pytest.mark.postgres]


@pytest.fixture
def microsoft_worker(queue_to_redis, live_server, ms, tmp_path):  # noqa: F811
    log = tmp_path / "worker.log"
    settings.MICROSOFT_WEBHOOK_URL = live_server.url + WATCH
    env = worker_environment(
        queue_to_redis,
        MICROSOFT_OAUTH_CLIENT_ID=settings.MICROSOFT_OAUTH_CLIENT_ID,
        MICROSOFT_OAUTH_CLIENT_SECRET=settings.MICROSOFT_OAUTH_CLIENT_SECRET,
        MICROSOFT_AUTHORITY_HOST=settings.MICROSOFT_AUTHORITY_HOST,
        MICROSOFT_GRAPH_ROOT=settings.MICROSOFT_GRAPH_ROOT,
        MICROSOFT_WEBHOOK_URL=settings.MICROSOFT_WEBHOOK_URL,
        REQUESTS_CA_BUNDLE=os.environ["REQUESTS_CA_BUNDLE"],
        SSL_CERT_FILE=os.environ["SSL_CERT_FILE"],
        MICROSOFT_API_RETRY_BASE_SECONDS="0.01",
    )
    with worker_process(env, log, "ms"):
        yield log


@pytest.mark.django_db(transaction=True)
def test_a_change_in_outlook_reaches_the_blocked_times_api_through_a_notification_and_a_worker(
    microsoft_worker, live_server, ms, merchant, settings, django_capture_on_commit_callbacks
):
    log = microsoft_worker
    settings.PUBLIC_BASE_URL = "http://testserver"
    ms.set_auto_approve(True)
    finished = connect(browser_for(merchant), django_capture_on_commit_callbacks)
    assert finished["Location"] == "/app/integrations?microsoft=connected"
    wait_for(
        lambda: SyncRun.objects.filter(trigger="initial", status="succeeded").exists(), "the initial sync", log=log
    )
    channel = wait_for(lambda: WatchChannel.objects.filter(status="active").first(), "the subscription", log=log)
    assert any(v["ok"] for v in ms.validations())  # Graph's handshake reached the live server

    tomorrow = (timezone.now() + dt.timedelta(days=1)).date().isoformat()
    ms.insert_event(channel.calendar.external_id, timed("Physio", tomorrow, 14, 15))
    token = api_token_for(merchant.user)

    def synced():
        answer = requests.get(
            live_server.url + "/api/v1/merchant/blocked-times",
            headers={"Authorization": f"Token {token}"},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        items = body["results"] if isinstance(body, dict) and "results" in body else body
        return [b for b in items if b["source"] == "microsoft"]

    [block] = wait_for(synced, "the notified change in the blocked-times API", log=log)
    assert block["start"].startswith(tomorrow)
    delivered = [n for n in ms.notifications() if n.get("kind") != "lifecycle"]
    assert delivered and delivered[-1]["status"] == 202
    run = SyncRun.objects.filter(trigger="notification", status="succeeded").first()
    assert run is not None and run.kind == "incremental"
    assert "calendar_sync_task[" in log.read_text()  # the sync ran in the worker process
