"""Attacks on the watch endpoint (SPEC §3, §5): every forged, malformed or replayed notification
answers 200 with an empty body and triggers nothing; a real burst costs at most two syncs.

The target is a real channel: a merchant connected through the OAuth flow whose primary
calendar was synced and watched through the emulator, plus a second merchant's channel (its
token and resource id are the forger's best material). "Triggers nothing" is checked on
both sides: no SyncRun, no sync-pending key, no ``events.list`` and no ``channels.stop`` at
the emulator, and the channel keeps working for the real notifications that follow.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid

import pytest
from django.db import connection
from django.test import Client

from integrations.models import SyncRun, WatchChannel
from integrations.services.sync import calendar_sync_pending, calendar_sync_request
from tests.integrations.sync.conftest import at, deliver_pushes, timed_event
from tests.reliability import figures

WATCH_URL = "/api/v1/merchant/integrations/google/calendar/watch"
FLOOD = 1000


def real_headers(channel: WatchChannel, number: int, state: str = "exists") -> dict[str, str]:
    """What Google sends for ``channel`` (header names as Google spells them)."""
    return {
        "X-Goog-Channel-ID": channel.channel_id,
        "X-Goog-Channel-Token": channel.token,
        "X-Goog-Channel-Expiration": "Tue, 19 Nov 2030 01:13:52 GMT",
        "X-Goog-Resource-ID": channel.resource_id,
        "X-Goog-Resource-URI": channel.resource_uri or "https://www.googleapis.com/calendar/v3/calendars/x/events",
        "X-Goog-Resource-State": state,
        "X-Goog-Message-Number": str(number),
    }


def post(client: Client, headers: dict[str, str | None]):
    sent = {name: value for name, value in headers.items() if value is not None}
    return client.post(WATCH_URL, headers=sent)


class Target:
    """The watched calendar, with the checks that nothing was triggered."""

    def __init__(self, gcal, channel: WatchChannel, other: WatchChannel):
        self.gcal = gcal
        self.channel = channel
        self.other = other
        self.client = Client()
        self.number = 10

    def next_number(self) -> int:
        self.number += 1
        return self.number

    def baseline(self) -> tuple[int, int, int]:
        emulator = self.gcal.emulator
        return SyncRun.objects.count(), len(emulator.calls("events.list")), len(emulator.calls("channels.stop"))

    def forged(self, headers: dict[str, str | None]) -> None:
        """Send one forged notification and check it answered 200, empty, and triggered nothing."""
        before = self.baseline()
        response = post(self.client, headers)
        figures.count("webhook.forged_requests")
        assert (response.status_code, response.content) == (200, b"")
        assert not response.cookies
        assert self.baseline() == before, "a forged notification triggered a sync or a stop"
        assert not calendar_sync_pending(calendar_id=self.channel.calendar_id)
        assert not calendar_sync_pending(calendar_id=self.other.calendar_id)

    def assert_still_works(self) -> None:
        """A real notification after the attack still syncs: nothing was poisoned."""
        event_id = self.gcal.add(timed_event(at(3, 11)))
        runs = SyncRun.objects.filter(calendar_id=self.channel.calendar_id).count()
        response = post(self.client, real_headers(self.channel, self.next_number() + 10**6))
        figures.count("webhook.real_notifications")
        assert response.status_code == 200
        assert SyncRun.objects.filter(calendar_id=self.channel.calendar_id).count() == runs + 1
        assert event_id in self.gcal.blocks()


@pytest.fixture
def other_channel(other_connected) -> WatchChannel:
    """A second merchant's channel, on its own Google account."""
    return WatchChannel.objects.get(calendar=other_connected.calendar, status="active")


@pytest.fixture
def target(gcal, other_channel) -> Target:
    deliver_pushes(gcal.emulator, Client())  # the channels' own "sync" messages
    channel = WatchChannel.objects.get(calendar=gcal.calendar, status="active")
    assert channel.token and channel.resource_id
    assert (channel.token, channel.resource_id) != (other_channel.token, other_channel.resource_id)
    return Target(gcal, channel, other_channel)


def forgeries(channel: WatchChannel, other: WatchChannel, number: int) -> dict[str, dict[str, str | None]]:
    """Named header sets, each wrong in one way (the rest copied from a real notification)."""
    real = real_headers(channel, number)
    token = channel.token
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    huge = "x" * 1_000_000
    return {
        "unknown channel id": {**real, "X-Goog-Channel-ID": str(uuid.uuid4())},
        "empty channel id": {**real, "X-Goog-Channel-ID": ""},
        "no channel id": {**real, "X-Goog-Channel-ID": None},
        "channel id in upper case": {**real, "X-Goog-Channel-ID": channel.channel_id.upper()},
        "channel id with a suffix": {**real, "X-Goog-Channel-ID": channel.channel_id + "-x"},
        "wrong token, last character changed": {**real, "X-Goog-Channel-Token": flipped},
        "wrong token, a prefix of the real one": {**real, "X-Goog-Channel-Token": token[:16]},
        "wrong token, the real one plus a suffix": {**real, "X-Goog-Channel-Token": token + "x"},
        "wrong token, padded with spaces": {**real, "X-Goog-Channel-Token": f" {token} "},
        "wrong token, empty": {**real, "X-Goog-Channel-Token": ""},
        "no token": {**real, "X-Goog-Channel-Token": None},
        "another merchant's channel token": {**real, "X-Goog-Channel-Token": other.token},
        "the resource id as the token": {**real, "X-Goog-Channel-Token": channel.resource_id},
        "another merchant's channel id with our token": {**real, "X-Goog-Channel-ID": other.channel_id},
        "another merchant's channel id and resource id with our token": {
            **real,
            "X-Goog-Channel-ID": other.channel_id,
            "X-Goog-Resource-ID": other.resource_id,
        },
        "right token, another calendar's resource id": {**real, "X-Goog-Resource-ID": other.resource_id},
        "right token, wrong resource id": {**real, "X-Goog-Resource-ID": "not-the-resource"},
        "right token, empty resource id": {**real, "X-Goog-Resource-ID": ""},
        "right token, no resource id": {**real, "X-Goog-Resource-ID": None},
        "right token, no state": {**real, "X-Goog-Resource-State": None},
        "right token, unknown state": {**real, "X-Goog-Resource-State": "teleported"},
        "right token, state in upper case": {**real, "X-Goog-Resource-State": "EXISTS"},
        "no headers at all": {},
        "only a channel id": {"X-Goog-Channel-ID": channel.channel_id},
        "1 MB channel id": {**real, "X-Goog-Channel-ID": huge},
        "1 MB token": {**real, "X-Goog-Channel-Token": huge},
        "1 MB resource id": {**real, "X-Goog-Resource-ID": huge},
        "1 MB state": {**real, "X-Goog-Resource-State": huge},
        "1 MB message number, wrong token": {**real, "X-Goog-Channel-Token": flipped, "X-Goog-Message-Number": huge},
        "20,000-digit message number, wrong token": {
            **real,
            "X-Goog-Channel-Token": flipped,
            "X-Goog-Message-Number": "9" * 20_000,
        },
        "negative message number, wrong token": {
            **real,
            "X-Goog-Channel-Token": flipped,
            "X-Goog-Message-Number": "-5",
        },
        "non-ASCII channel id": {**real, "X-Goog-Channel-ID": "ch\u00e4nn\u00e9l-\u2603-\U0001f600"},
        "non-ASCII token": {**real, "X-Goog-Channel-Token": token[:-1] + "\u00e9"},
        "NUL and CRLF in the token": {**real, "X-Goog-Channel-Token": token + "\x00\r\nX-Evil: 1"},
        "SQL in the channel id": {**real, "X-Goog-Channel-ID": "' OR '1'='1' --"},
        "SQL in the token": {**real, "X-Goog-Channel-Token": "' OR '1'='1' --"},
        "LIKE wildcards in the channel id": {**real, "X-Goog-Channel-ID": channel.channel_id[:8] + "%"},
        "the real channel id with a 1 MB tail": {**real, "X-Goog-Channel-ID": channel.channel_id + huge},
    }


def test_every_forgery_answers_200_empty_and_triggers_nothing(target):
    cases = forgeries(target.channel, target.other, target.next_number())
    for name, headers in cases.items():
        try:
            target.forged(headers)
        except AssertionError as exc:
            raise AssertionError(f"{name}: {exc}") from exc
    figures.count("webhook.forgery_kinds", len(cases))
    target.assert_still_works()


def test_authentic_notifications_with_odd_extras_sync_once_each(target, settings):
    """The channel id, token and resource id authenticate; the rest may be odd and still count once."""
    settings.CALENDAR_NOTIFICATION_SETTLE_SECONDS = 0  # each its own burst: one sync each
    odd = [
        {"X-Goog-Resource-URI": "../../../etc/passwd"},
        {"X-Goog-Resource-URI": None, "X-Goog-Channel-Expiration": None},
        {"X-Goog-Message-Number": None},
        {"X-Goog-Message-Number": "not-a-number"},
        {"X-Goog-Resource-State": "not_exists"},
    ]
    for extra in odd:
        runs = SyncRun.objects.count()
        response = post(target.client, {**real_headers(target.channel, target.next_number()), **extra})
        figures.count("webhook.real_notifications")
        assert (response.status_code, response.content) == (200, b"")
        assert SyncRun.objects.count() == runs + 1, extra


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete", "head", "options"])
def test_other_methods_with_real_headers_answer_200_and_trigger_nothing(target, method):
    before = target.baseline()
    headers = real_headers(target.channel, target.next_number())
    response = getattr(target.client, method)(WATCH_URL, headers=headers)
    figures.count("webhook.forged_requests")
    assert response.status_code == 200
    assert response.content == b""
    assert target.baseline() == before


def test_a_body_is_ignored(target):
    """Google sends no body; a forger's JSON changes nothing."""
    before = target.baseline()
    response = target.client.post(
        WATCH_URL,
        data={"channel_id": target.channel.channel_id, "token": "guess", "state": "exists"},
        content_type="application/json",
        headers={**real_headers(target.channel, target.next_number()), "X-Goog-Channel-Token": "guess"},
    )
    figures.count("webhook.forged_requests")
    assert (response.status_code, response.content) == (200, b"")
    assert target.baseline() == before


def test_replayed_and_late_message_numbers_trigger_nothing_more(target, settings):
    settings.CALENDAR_NOTIFICATION_SETTLE_SECONDS = 0  # no burst: each new number syncs at once
    target.gcal.add(timed_event(at(2)))
    headers = real_headers(target.channel, target.next_number())
    runs = SyncRun.objects.count()
    assert post(target.client, headers).status_code == 200
    figures.count("webhook.real_notifications")
    assert SyncRun.objects.count() == runs + 1
    before = target.baseline()
    number = int(headers["X-Goog-Message-Number"])
    replays = [headers] * 100 + [{**headers, "X-Goog-Message-Number": str(n)} for n in range(1, number)]
    for replay in replays:
        target.forged(replay)
    figures.count("webhook.replays", len(replays))
    assert target.baseline() == before
    target.assert_still_works()


def test_a_flood_of_1000_forged_notifications_triggers_nothing(target):
    """A thousand forgeries of every kind, cycled with fresh message numbers and ids."""
    before = target.baseline()
    for i in range(FLOOD):
        kinds = forgeries(target.channel, target.other, 10_000 + i)
        name = list(kinds)[i % len(kinds)]
        headers = dict(kinds[name])
        if name == "unknown channel id":
            headers["X-Goog-Channel-ID"] = str(uuid.uuid4())
        response = post(target.client, headers)
        assert (response.status_code, response.content) == (200, b""), name
    figures.count("webhook.forged_requests", FLOOD)
    figures.count("webhook.forged_flood", FLOOD)
    assert target.baseline() == before
    assert not calendar_sync_pending(calendar_id=target.channel.calendar_id)
    target.assert_still_works()


@pytest.mark.django_db(transaction=True)
def test_a_flood_of_1000_real_notifications_during_a_sync_costs_at_most_two_syncs(gcal):
    """A thousand changes at Google, each pushed, all arriving while a (slow) sync is listing:
    the running sync plus one more, and every change ends up blocked."""
    deliver_pushes(gcal.emulator, Client())
    calendar_id = gcal.calendar.pk
    start = at(2, 0)
    ids = {gcal.add(timed_event(start + dt.timedelta(minutes=15 * i), minutes=10)) for i in range(FLOOD)}
    assert len(gcal.emulator.push._heap) == FLOOD
    gcal.emulator.clear_calls()
    # The running sync's listing is slow, so the whole flood lands while it runs.
    gcal.emulator.inject_fault("events.list", delay=8, times=1)
    errors: list[BaseException] = []
    delivered: list[dict] = []
    flood_done_while_running: list[bool] = []

    def running_sync():
        try:
            calendar_sync_request(calendar_id=calendar_id, trigger=SyncRun.Trigger.PERIODIC)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    def flood():
        try:
            for _ in range(4000):
                if SyncRun.objects.filter(calendar_id=calendar_id, status="running").exists():
                    break
                time.sleep(0.005)
            delivered.extend(deliver_pushes(gcal.emulator, Client()))
            flood_done_while_running.append(SyncRun.objects.filter(calendar_id=calendar_id, status="running").exists())
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=running_sync), threading.Thread(target=flood)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert flood_done_while_running == [True], "the flood outlasted the slow listing: not a burst"
    assert [e["status"] for e in delivered] == [200] * FLOOD
    figures.count("webhook.real_notifications", FLOOD)
    syncs = SyncRun.objects.filter(calendar_id=calendar_id).exclude(trigger="initial")
    assert syncs.count() <= 2
    assert len(gcal.emulator.calls("events.list")) <= 2
    figures.count("webhook.real_burst_syncs", syncs.count())
    assert set(gcal.blocks()) == ids
    figures.count("blocked_times.checked", len(ids))
