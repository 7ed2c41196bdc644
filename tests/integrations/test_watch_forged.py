"""The watch endpoint refuses what it cannot verify: always 200, empty body, nothing triggered."""

import datetime as dt
import logging

import pytest
from django.utils import timezone

from integrations.models import CalendarConnection, ExternalCalendar, SyncRun, WatchChannel
from integrations.services.sync import calendar_sync_pending

WATCH_URL = "/api/v1/merchant/integrations/google/calendar/watch"


@pytest.fixture
def channel(merchant):
    connection = CalendarConnection.objects.create(merchant=merchant, provider="google", account_email="m@example.com")
    calendar = ExternalCalendar.objects.create(connection=connection, external_id="m@example.com", selected=True)
    return WatchChannel.objects.create(
        calendar=calendar,
        channel_id="0b6a4cbe-8a3c-4f57-9d1e-0d0f3f0c2a11",
        token="s3cret-token",
        resource_id="res-1",
        expires_at=timezone.now() + dt.timedelta(days=7),
    )


def notify(client, *, channel_id, token, resource_id, state="exists", number="5"):
    headers = {
        "X-Goog-Channel-ID": channel_id,
        "X-Goog-Resource-ID": resource_id,
        "X-Goog-Resource-State": state,
        "X-Goog-Resource-URI": "https://www.googleapis.com/calendar/v3/calendars/m%40example.com/events",
        "X-Goog-Message-Number": number,
    }
    if token is not None:
        headers["X-Goog-Channel-Token"] = token
    return client.post(WATCH_URL, headers=headers, content_type="application/json")


def assert_nothing_triggered(channel):
    assert not SyncRun.objects.exists()
    assert not calendar_sync_pending(calendar_id=channel.calendar_id)


@pytest.mark.parametrize(
    ("change", "logged"),
    [
        ({"channel_id": "not-a-channel-of-ours"}, "unknown channel"),
        ({"token": "s3cret-tokeN"}, "wrong token"),
        ({"token": None}, "wrong token"),
        ({"token": ""}, "wrong token"),
        ({"resource_id": "res-2"}, "mismatched resource id"),
        ({"state": "teleported"}, "unknown state"),
    ],
    ids=["unknown-channel", "wrong-token", "no-token", "empty-token", "other-resource", "unknown-state"],
)
def test_forged_or_unknown_notifications_trigger_nothing_and_are_logged(anon, channel, caplog, change, logged):
    fields = {"channel_id": channel.channel_id, "token": "s3cret-token", "resource_id": "res-1", **change}
    with caplog.at_level(logging.WARNING, logger="integrations.webhooks"):
        response = notify(anon, **fields)
    assert response.status_code == 200
    assert response.content == b""
    assert_nothing_triggered(channel)
    assert logged in caplog.text
    assert "s3cret" not in caplog.text


def test_sync_message_does_nothing(anon, channel):
    response = notify(anon, channel_id=channel.channel_id, token="s3cret-token", resource_id="res-1", state="sync")
    assert (response.status_code, response.content) == (200, b"")
    assert_nothing_triggered(channel)


def test_no_headers_at_all(anon, channel):
    response = anon.post(WATCH_URL)
    assert (response.status_code, response.content) == (200, b"")
    assert_nothing_triggered(channel)


def test_other_methods_are_answered_200_and_ignored(anon, channel):
    response = anon.get(WATCH_URL, headers={"X-Goog-Channel-ID": channel.channel_id})
    assert (response.status_code, response.content) == (200, b"")
    assert_nothing_triggered(channel)


def test_no_authentication_or_csrf_needed(channel):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = notify(client, channel_id=channel.channel_id, token="s3cret-token", resource_id="res-1", state="sync")
    assert response.status_code == 200


def test_the_endpoint_costs_one_query_for_a_forged_notification(anon, channel, django_assert_num_queries):
    with django_assert_num_queries(1):
        notify(anon, channel_id=channel.channel_id, token="forged", resource_id="res-1")
