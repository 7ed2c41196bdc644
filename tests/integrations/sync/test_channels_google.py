"""Push channels against the emulator: created with a secret, renewed before expiry, stopped."""

import datetime as dt

import pytest
from django.utils import timezone

from integrations.models import WatchChannel
from integrations.selectors import webhook_url_usable
from integrations.services.channels import calendar_watch_open
from integrations.tasks import watch_channels_renew_task
from tests.integrations.conftest import CALENDARS_URL, CONNECT_URL


def emulator_channels(gcal) -> dict[str, dict]:
    return {c["id"]: c for c in gcal.emulator.channels()}


def test_connecting_opens_a_channel_with_a_secret_token(gcal, settings):
    channel = gcal.calendar.channels.get()
    at_google = emulator_channels(gcal)[channel.channel_id]
    assert at_google["address"] == settings.GOOGLE_WEBHOOK_URL
    assert at_google["token"] == channel.token
    assert len(channel.token) >= 40 and channel.token not in (channel.channel_id, channel.resource_id)
    assert channel.resource_id == at_google["resourceId"]
    assert channel.expires_at == dt.datetime.fromtimestamp(int(at_google["expiration"]) / 1000, tz=dt.UTC)
    assert channel.status == WatchChannel.Status.ACTIVE
    # Stored encrypted: the column does not hold the token in clear.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT token FROM integrations_watchchannel WHERE id = %s", [channel.pk])
        assert channel.token not in cursor.fetchone()[0]


def test_opening_again_keeps_the_current_channel(gcal):
    channel = gcal.calendar.channels.get()
    assert calendar_watch_open(calendar_id=gcal.calendar.pk) == channel
    assert len(gcal.emulator.channels()) == 1


@pytest.mark.parametrize(
    ("url", "usable"),
    [
        ("https://app.example.com/api/v1/merchant/integrations/google/calendar/watch", True),
        ("http://127.0.0.1:8000/api/v1/merchant/integrations/google/calendar/watch", True),
        ("http://localhost:8000/api/v1/merchant/integrations/google/calendar/watch", True),
        ("http://[::1]:8000/api/v1/merchant/integrations/google/calendar/watch", True),
        ("http://app.example.com/api/v1/merchant/integrations/google/calendar/watch", False),
        ("http://10.0.0.5/api/v1/merchant/integrations/google/calendar/watch", False),
        ("", False),
    ],
)
def test_which_webhook_urls_google_can_reach(url, usable):
    assert webhook_url_usable(url) is usable


def test_no_channel_when_the_webhook_url_is_not_usable(gcal, settings):
    settings.GOOGLE_WEBHOOK_URL = "http://app.example.com/api/v1/merchant/integrations/google/calendar/watch"
    WatchChannel.objects.all().delete()
    watch_calls = len(gcal.emulator.calls("events.watch"))
    assert calendar_watch_open(calendar_id=gcal.calendar.pk) is None
    watch_channels_renew_task.delay()
    assert not WatchChannel.objects.exists()
    assert len(gcal.emulator.calls("events.watch")) == watch_calls


def test_channels_are_renewed_before_expiry_new_first_then_old_stopped(gcal):
    old = gcal.calendar.channels.get()
    WatchChannel.objects.filter(pk=old.pk).update(expires_at=timezone.now() + dt.timedelta(hours=3))
    gcal.emulator.clear_calls()
    watch_channels_renew_task.delay()
    old.refresh_from_db()
    new = gcal.calendar.channels.get(status=WatchChannel.Status.ACTIVE)
    assert new.pk != old.pk and new.channel_id != old.channel_id and new.token != old.token
    assert old.status == WatchChannel.Status.STOPPED and old.stopped_at is not None
    assert [c["endpoint"] for c in gcal.emulator.calls()] == ["events.watch", "channels.stop"]
    at_google = emulator_channels(gcal)
    assert at_google[old.channel_id]["stopped"] and not at_google[new.channel_id]["stopped"]


def test_a_channel_not_due_is_left_alone(gcal):
    gcal.emulator.clear_calls()
    watch_channels_renew_task.delay()
    assert gcal.emulator.calls() == []


def test_when_the_successor_cannot_be_opened_the_old_channel_stays(gcal):
    old = gcal.calendar.channels.get()
    WatchChannel.objects.filter(pk=old.pk).update(expires_at=timezone.now() + dt.timedelta(hours=3))
    gcal.emulator.inject_fault("events.watch", status=503, times=None)
    watch_channels_renew_task.delay()
    old.refresh_from_db()
    assert old.status == WatchChannel.Status.ACTIVE
    assert not emulator_channels(gcal)[old.channel_id]["stopped"]
    gcal.emulator.clear_faults()
    watch_channels_renew_task.delay()  # the next hourly run succeeds
    old.refresh_from_db()
    assert old.status == WatchChannel.Status.STOPPED
    assert gcal.calendar.channels.filter(status=WatchChannel.Status.ACTIVE).count() == 1


def test_a_calendar_whose_watch_failed_gets_a_channel_from_the_periodic_task(gcal):
    WatchChannel.objects.all().delete()
    watch_channels_renew_task.delay()
    assert gcal.calendar.channels.filter(status=WatchChannel.Status.ACTIVE).count() == 1


def test_stopped_channels_are_forgotten_once_expired(gcal):
    channel = gcal.calendar.channels.get()
    WatchChannel.objects.filter(pk=channel.pk).update(
        status=WatchChannel.Status.STOPPED, expires_at=timezone.now() - dt.timedelta(days=2)
    )
    watch_channels_renew_task.delay()
    assert not WatchChannel.objects.filter(pk=channel.pk).exists()


def test_deselecting_a_calendar_stops_its_channel_at_google(gcal, django_capture_on_commit_callbacks):
    channel = gcal.calendar.channels.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = gcal.connected.client.patch(
            CALENDARS_URL, [{"id": gcal.calendar.pk, "selected": False}], content_type="application/json"
        )
    assert response.status_code == 200, response.content
    channel.refresh_from_db()
    assert channel.status == WatchChannel.Status.STOPPED
    assert emulator_channels(gcal)[channel.channel_id]["stopped"]


def test_disconnecting_stops_every_channel_at_google(gcal):
    channel = gcal.calendar.channels.get()
    response = gcal.connected.client.delete(CONNECT_URL)
    assert response.status_code == 204, response.content
    assert not WatchChannel.objects.filter(status=WatchChannel.Status.ACTIVE).exists()
    assert emulator_channels(gcal)[channel.channel_id]["stopped"]
