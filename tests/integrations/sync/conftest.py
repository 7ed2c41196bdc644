"""Fixtures for sync tests: a connected merchant, its Google calendar in the emulator, helpers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from integrations.models import SyncRun
from integrations.services.sync import calendar_sync_run
from scheduling.models import BlockedTime

WATCH_PATH = "/api/v1/merchant/integrations/google/calendar/watch"


def rfc3339(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def at(days: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    """A whole-minute UTC instant ``days`` from today."""
    today = timezone.now().astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today + dt.timedelta(days=days, hours=hour, minutes=minute)


def timed_event(start: dt.datetime, minutes: int = 60, **fields) -> dict:
    return {
        "summary": "Private: dentist",
        "start": {"dateTime": rfc3339(start)},
        "end": {"dateTime": rfc3339(start + dt.timedelta(minutes=minutes))},
        **fields,
    }


def all_day_event(day: dt.date, days: int = 1, **fields) -> dict:
    return {
        "summary": "Holiday",
        "start": {"date": day.isoformat()},
        "end": {"date": (day + dt.timedelta(days=days)).isoformat()},
        **fields,
    }


@dataclass
class Gcal:
    """The connected calendar, seen from both sides."""

    emulator: object
    connected: object

    @property
    def calendar(self):
        self.connected.calendar.refresh_from_db()
        return self.connected.calendar

    @property
    def google_id(self) -> str:
        return self.connected.calendar.external_id

    def add(self, event: dict) -> str:
        return self.emulator.insert_event(self.google_id, event)["id"]

    def update(self, event_id: str, patch: dict) -> None:
        self.emulator.update_event(self.google_id, event_id, patch)

    def delete(self, event_id: str) -> None:
        self.emulator.delete_event(self.google_id, event_id)

    def sync(self, trigger: str = SyncRun.Trigger.PERIODIC) -> SyncRun:
        runs = calendar_sync_run(calendar_id=self.connected.calendar.pk, trigger=trigger)
        assert len(runs) == 1, runs
        return runs[0]

    def blocks(self) -> dict[str, tuple[dt.datetime, dt.datetime, bool]]:
        return {
            b.external_key: (b.start, b.end, b.all_day)
            for b in BlockedTime.objects.filter(calendar_id=self.connected.calendar.pk)
        }

    def list_calls(self) -> int:
        return len(self.emulator.calls("events.list"))


def deliver_pushes(emulator, client) -> list[dict]:
    """Deliver the emulator's queued push notifications through Django's test client, in this
    thread (so the webhook sees this test's transaction); returns the delivery log entries."""

    def send(address: str, headers: dict[str, str]) -> int:
        return client.post(urlsplit(address).path, headers=headers).status_code

    return emulator.deliver_notifications(sender=send)


@pytest.fixture
def pushes_held(google_emulator):
    """Push notifications wait in the emulator until a test delivers them (``deliver_pushes``)."""
    google_emulator.pause_notifications()
    return google_emulator


@pytest.fixture
def gcal(pushes_held, google_connected, google_emulator) -> Gcal:
    """A connected merchant (Europe/Berlin) whose primary Google calendar was initially synced
    and watched; push notifications are held (see ``deliver_pushes``)."""
    assert SyncRun.objects.filter(calendar=google_connected.calendar, status=SyncRun.Status.SUCCEEDED).exists()
    return Gcal(emulator=google_emulator, connected=google_connected)
