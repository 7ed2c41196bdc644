"""Graph change and lifecycle notifications through the product's endpoints (SPEC §8.1).

The emulator creates real subscriptions (with the validation handshake to our endpoints),
and its deliveries are handed to Django's test client in the test's own thread
(``deliver_notifications``), so the webhook sees this test's database.
"""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from integrations.models import SyncRun, WatchChannel
from integrations.tasks import watch_channels_renew_task
from scheduling.models import BlockedTime
from tests.emulators.microsoft.support import timed
from tests.integrations.microsoft.test_connect_platform import browser_for, connect

WATCH = "/api/v1/merchant/integrations/microsoft/calendar/watch"
LIFECYCLE = "/api/v1/merchant/integrations/microsoft/calendar/lifecycle"


def django_sender(client: Client):
    def send(url, headers, body):
        parts = urlsplit(url)
        path = f"{parts.path}?{parts.query}" if parts.query else parts.path
        answer = client.post(path, data=body or b"", content_type=headers.get("Content-Type", "text/plain"))
        return answer.status_code, answer.get("Content-Type", ""), answer.content.decode()

    return send


@pytest.fixture
def subscribed(ms, merchant, settings, django_capture_on_commit_callbacks):
    """A merchant connected to Outlook, the primary calendar subscribed through our endpoints."""
    settings.PUBLIC_BASE_URL = "http://testserver"
    settings.MICROSOFT_WEBHOOK_URL = "http://127.0.0.1" + WATCH  # loopback: usable, like an emulator
    ms.set_auto_approve(True)
    webhook = Client()
    ms.set_notification_sender(django_sender(webhook))
    ms.pause_notifications()
    finished = connect(browser_for(merchant), django_capture_on_commit_callbacks)
    assert finished["Location"] == "/app/integrations?microsoft=connected"
    channel = WatchChannel.objects.get(calendar__connection__merchant=merchant, status="active")
    return channel, webhook


def _runs(channel) -> int:
    return SyncRun.objects.filter(calendar=channel.calendar, trigger="notification").count()


@pytest.mark.parametrize("path", [WATCH, LIFECYCLE])
def test_the_validation_handshake_echoes_the_token_as_plain_text(path, db):
    answer = Client().post(f"{path}?validationToken=Validation%3A+Testing+client+application")
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/plain")
    assert answer.content == b"Validation: Testing client application"


def test_connecting_subscribes_with_a_secret_client_state_through_a_real_handshake(subscribed, ms):
    channel, _ = subscribed
    [subscription] = [s for s in ms.subscriptions() if s["id"] == channel.channel_id]
    assert subscription["notificationUrl"].endswith(WATCH)
    assert subscription["lifecycleNotificationUrl"].endswith(LIFECYCLE)
    assert subscription["resource"].endswith(f"calendars/{channel.calendar.external_id}/events")
    assert len(channel.token) >= 32  # the clientState, encrypted at rest
    assert any(v["ok"] for v in ms.validations())


def test_a_change_reaches_the_blocked_times_through_a_notification(subscribed, ms, merchant):
    channel, webhook = subscribed
    tomorrow = (timezone.now() + dt.timedelta(days=1)).date().isoformat()
    ms.insert_event(channel.calendar.external_id, timed("Physio", tomorrow, 14, 15))
    [delivery] = [d for d in ms.deliver_notifications(sender=django_sender(webhook)) if d["kind"] != "lifecycle"]
    assert delivery["status"] == 202
    block = BlockedTime.objects.get(merchant=merchant, source="microsoft")
    assert block.start == dt.datetime.fromisoformat(tomorrow + "T14:00:00+00:00")


@pytest.mark.parametrize(
    "item",
    [
        {"subscriptionId": "not-ours", "clientState": "x"},
        {"clientState": "x"},
        "WRONG_STATE",
        {"subscriptionId": 7},
    ],
)
def test_forged_notifications_answer_202_and_sync_nothing(subscribed, item):
    channel, webhook = subscribed
    if item == "WRONG_STATE":
        item = {"subscriptionId": channel.channel_id, "clientState": "guessed"}
    before = _runs(channel)
    for body in (json.dumps({"value": [item]}), "not json", json.dumps({"value": "x"}), ""):
        answer = webhook.post(WATCH, data=body, content_type="application/json")
        assert (answer.status_code, answer.content) == (202, b"")
    assert _runs(channel) == before


def test_a_batch_of_1000_items_costs_one_sync(subscribed):
    channel, webhook = subscribed
    before = _runs(channel)
    item = {"subscriptionId": channel.channel_id, "clientState": channel.token, "changeType": "updated"}
    answer = webhook.post(WATCH, data=json.dumps({"value": [item] * 1000}), content_type="application/json")
    assert answer.status_code == 202
    assert _runs(channel) - before == 1


def test_missed_requests_a_sync(subscribed, ms):
    channel, webhook = subscribed
    before = _runs(channel)
    assert ms.send_lifecycle_notification(channel.channel_id, "missed")
    [delivery] = ms.deliver_notifications(sender=django_sender(webhook))
    assert delivery["status"] == 202
    assert _runs(channel) == before + 1


def test_reauthorization_required_renews_the_subscription_in_place(subscribed, ms):
    channel, webhook = subscribed
    expires = WatchChannel.objects.get(pk=channel.pk).expires_at
    WatchChannel.objects.filter(pk=channel.pk).update(expires_at=timezone.now() + dt.timedelta(hours=2))
    assert ms.send_lifecycle_notification(channel.channel_id, "reauthorizationRequired")
    ms.deliver_notifications(sender=django_sender(webhook))
    renewed = WatchChannel.objects.get(pk=channel.pk)
    assert renewed.status == "active" and renewed.expires_at >= expires - dt.timedelta(minutes=5)
    assert ms.calls("subscriptions.update")  # a PATCH at Graph, not a new subscription


def test_subscription_removed_opens_a_new_one(subscribed, ms):
    channel, webhook = subscribed
    assert ms.send_lifecycle_notification(channel.channel_id, "subscriptionRemoved")
    ms.deliver_notifications(sender=django_sender(webhook))
    assert WatchChannel.objects.get(pk=channel.pk).status == "stopped"
    [fresh] = WatchChannel.objects.filter(calendar=channel.calendar, status="active")
    assert fresh.channel_id != channel.channel_id
    assert fresh.channel_id in {s["id"] for s in ms.subscriptions()}


def test_the_periodic_task_renews_before_expiry(subscribed, ms):
    channel, _ = subscribed
    WatchChannel.objects.filter(pk=channel.pk).update(expires_at=timezone.now() + dt.timedelta(hours=3))
    watch_channels_renew_task()
    renewed = WatchChannel.objects.get(pk=channel.pk)
    assert renewed.status == "active" and renewed.expires_at > timezone.now() + dt.timedelta(days=1)
    [subscription] = [s for s in ms.subscriptions() if s["id"] == channel.channel_id]
    assert dt.datetime.fromisoformat(subscription["expirationDateTime"].replace("Z", "+00:00")) > timezone.now()


def test_deselecting_and_disconnecting_delete_the_subscription(subscribed, ms, merchant):
    channel, _ = subscribed
    api = browser_for(merchant)
    answer = api.delete("/api/v1/merchant/integrations/microsoft/calendar")
    assert answer.status_code == 204
    assert channel.channel_id not in {s["id"] for s in ms.subscriptions()}
    assert WatchChannel.objects.get(pk=channel.pk).status == "stopped"


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_1000_notifications_costs_at_most_two_syncs(subscribed, ms, merchant):
    """Separate requests, as Graph sends them under load: coalesced exactly like Google's pushes."""
    import time

    channel, webhook = subscribed
    before = _runs(channel)
    tomorrow = (timezone.now() + dt.timedelta(days=1)).date().isoformat()
    ms.insert_event(channel.calendar.external_id, timed("Late change", tomorrow, 16, 17), notify=False)
    item = {"subscriptionId": channel.channel_id, "clientState": channel.token, "changeType": "updated"}
    body = json.dumps({"value": [item]})
    for _ in range(1000):
        assert webhook.post(WATCH, data=body, content_type="application/json").status_code == 202
    deadline = time.monotonic() + 15
    while not BlockedTime.objects.filter(merchant=merchant, source="microsoft").exists():
        assert time.monotonic() < deadline, "the burst's changes never arrived"
        time.sleep(0.1)
    time.sleep(1.5)  # long enough for any further sync to have started
    assert 1 <= _runs(channel) - before <= 2
