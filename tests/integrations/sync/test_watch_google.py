"""The watch endpoint with real pushes from the emulator: sync on change, duplicates, bursts, stale channels."""

import threading

import pytest
from django.db import connection
from django.test import Client

from integrations.models import ExternalCalendar, SyncRun, WatchChannel
from integrations.services.sync import calendar_sync_request
from integrations.webhooks import held_channels_forget
from tests.integrations.sync.conftest import at, deliver_pushes, timed_event


def emulator_channel(gcal, channel_id):
    return next(c for c in gcal.emulator.channels() if c["id"] == channel_id)


def test_the_channel_sync_message_does_nothing(gcal, anon):
    calls = gcal.list_calls()
    entries = deliver_pushes(gcal.emulator, anon)
    assert [(e["state"], e["status"]) for e in entries if e["outcome"] == "delivered"] == [("sync", 200)]
    assert gcal.list_calls() == calls


def test_a_change_at_google_reaches_the_blocked_times_through_a_notification(gcal, anon):
    deliver_pushes(gcal.emulator, anon)  # the channel's sync message
    event_id = gcal.add(timed_event(at(2)))
    runs_before = SyncRun.objects.count()
    entries = deliver_pushes(gcal.emulator, anon)
    assert [(e["state"], e["status"], e["outcome"]) for e in entries] == [("exists", 200, "delivered")]
    run = SyncRun.objects.first()
    assert SyncRun.objects.count() == runs_before + 1
    assert (run.trigger, run.kind, run.status) == ("notification", "incremental", "succeeded")
    assert set(gcal.blocks()) == {event_id}
    assert entries[0]["headers"]["X-Goog-Channel-Token"] == gcal.calendar.channels.get().token


def test_a_redelivered_or_late_notification_triggers_nothing_more(gcal, anon):
    deliver_pushes(gcal.emulator, anon)
    gcal.add(timed_event(at(2)))
    gcal.emulator.pause_notifications()
    [message] = [m for m in gcal.emulator.push._heap]  # the queued "exists" message
    headers = message[2].headers()
    client_headers = {k: v for k, v in headers.items() if k.startswith("X-Goog")}
    first = anon.post("/api/v1/merchant/integrations/google/calendar/watch", headers=client_headers)
    calls = gcal.list_calls()
    again = anon.post("/api/v1/merchant/integrations/google/calendar/watch", headers=client_headers)
    late = {**client_headers, "X-Goog-Message-Number": str(int(client_headers["X-Goog-Message-Number"]) - 1)}
    late_response = anon.post("/api/v1/merchant/integrations/google/calendar/watch", headers=late)
    assert (first.status_code, again.status_code, again.content, late_response.status_code) == (200, 200, b"", 200)
    assert gcal.list_calls() == calls
    assert len(gcal.blocks()) == 1


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_notifications_costs_at_most_two_syncs(gcal):
    """Twenty changes notified while a sync is running: one more sync picks them all up."""
    deliver_pushes(gcal.emulator, Client())
    calendar_id = gcal.calendar.pk
    ids = {gcal.add(timed_event(at(2, 0) + i * (at(0, 1) - at(0, 0)))) for i in range(20)}
    assert len(gcal.emulator.push._heap) == 20  # twenty notifications queued, one per change
    gcal.emulator.clear_calls()
    gcal.emulator.inject_fault("events.list", delay=1.5, times=1)  # a slow first listing
    errors = []

    def running_sync():
        try:
            calendar_sync_request(calendar_id=calendar_id, trigger=SyncRun.Trigger.PERIODIC)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    def burst():
        try:
            for _ in range(2000):  # until the sync has started (its run row is committed)
                if SyncRun.objects.filter(calendar_id=calendar_id, status="running").exists():
                    break
                threading.Event().wait(0.005)
            entries = deliver_pushes(gcal.emulator, Client())
            assert [e["status"] for e in entries] == [200] * 20
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=running_sync), threading.Thread(target=burst)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert gcal.list_calls() == 2
    assert set(gcal.blocks()) == ids
    runs = SyncRun.objects.filter(calendar_id=calendar_id).order_by("pk")
    assert [r.status for r in runs][-2:] == ["succeeded", "succeeded"]


def test_notification_on_a_channel_we_no_longer_hold_stops_it_at_google(gcal, anon):
    deliver_pushes(gcal.emulator, anon)
    channel = gcal.calendar.channels.get()
    # Our stop never reached Google (say it was down): Google keeps notifying.
    WatchChannel.objects.filter(pk=channel.pk).update(status=WatchChannel.Status.STOPPED)
    held_channels_forget()  # as if HELD_CHANNEL_CACHE_SECONDS had passed
    gcal.add(timed_event(at(2)))
    calls = gcal.list_calls()
    entries = deliver_pushes(gcal.emulator, anon)
    assert [e["status"] for e in entries] == [200]
    assert gcal.list_calls() == calls  # no sync
    assert emulator_channel(gcal, channel.channel_id)["stopped"]
    stop = gcal.emulator.calls("channels.stop")[-1]
    assert stop["body"] == {"id": channel.channel_id, "resourceId": channel.resource_id}


def test_a_channel_let_go_moments_ago_still_syncs_nothing_and_is_stopped_after_the_cache_time(gcal, anon):
    """A held channel's row is reused for HELD_CHANNEL_CACHE_SECONDS: a notification in that
    window requests a sync, which re-checks the calendar and does nothing; the first one after it
    stops the channel."""
    deliver_pushes(gcal.emulator, anon)
    gcal.add(timed_event(at(1)))
    deliver_pushes(gcal.emulator, anon)  # a change: the channel's row is now in memory
    channel = gcal.calendar.channels.get()
    ExternalCalendar.objects.filter(pk=gcal.calendar.pk).update(selected=False)
    gcal.add(timed_event(at(2)))
    calls, blocks = gcal.list_calls(), gcal.blocks()
    deliver_pushes(gcal.emulator, anon)
    assert gcal.list_calls() == calls
    assert gcal.blocks() == blocks
    assert not emulator_channel(gcal, channel.channel_id)["stopped"]
    held_channels_forget()  # as if HELD_CHANNEL_CACHE_SECONDS had passed
    gcal.add(timed_event(at(3)))
    deliver_pushes(gcal.emulator, anon)
    assert gcal.list_calls() == calls
    assert emulator_channel(gcal, channel.channel_id)["stopped"]
    assert WatchChannel.objects.get(pk=channel.pk).status == WatchChannel.Status.STOPPED


def test_notification_for_a_deselected_calendar_syncs_nothing_and_stops_the_channel(gcal, anon):
    deliver_pushes(gcal.emulator, anon)
    channel = gcal.calendar.channels.get()
    ExternalCalendar.objects.filter(pk=gcal.calendar.pk).update(selected=False)
    held_channels_forget()  # as if HELD_CHANNEL_CACHE_SECONDS had passed
    gcal.add(timed_event(at(2)))
    calls = gcal.list_calls()
    deliver_pushes(gcal.emulator, anon)
    assert gcal.list_calls() == calls
    assert gcal.blocks() == {}
    assert emulator_channel(gcal, channel.channel_id)["stopped"]
    assert WatchChannel.objects.get(pk=channel.pk).status == WatchChannel.Status.STOPPED
