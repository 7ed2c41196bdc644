"""The provider-neutral sync engine (``integrations.sync.engine``) driving the real Microsoft
client against the emulator: Graph changes become blocked times with source ``microsoft``."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from integrations.models import ExternalCalendar, SyncRun
from integrations.providers.microsoft.provider import MicrosoftProvider
from integrations.sync.engine import calendar_sync
from scheduling.models import BlockedTime
from tests.emulators.microsoft.support import timed


@pytest.fixture
def calendar(ms, connection, calendar_id):
    return ExternalCalendar.objects.select_related("connection__merchant").create(
        connection=connection, external_id=calendar_id, summary="Calendar", primary=True, selected=True
    )


def day(offset: int) -> str:
    return (timezone.now() + dt.timedelta(days=offset)).date().isoformat()


def sync(calendar, saved):
    calendar = ExternalCalendar.objects.select_related("connection__merchant").get(pk=calendar.pk)
    client = MicrosoftProvider.client(calendar.connection, on_tokens=saved)
    return calendar_sync(calendar=calendar, client=client, trigger=SyncRun.Trigger.MANUAL)


def blocks(calendar) -> list[tuple[str, int]]:
    return sorted(
        (b.start.date().isoformat(), b.start.hour)
        for b in BlockedTime.objects.filter(calendar=calendar, source=BlockedTime.Source.MICROSOFT)
    )


def test_full_then_incremental_then_410_recovery(ms, calendar, calendar_id, saved):
    busy = ms.insert_event(calendar_id, timed("Busy", day(1), 9, 10))
    ms.insert_event(calendar_id, timed("Free", day(1), 12, 13, showAs="free"))
    ms.insert_event(
        calendar_id,
        {
            **timed("Series", day(2), 8, 9),
            "recurrence": {
                "pattern": {"type": "daily", "interval": 1},
                "range": {"type": "numbered", "startDate": day(2), "numberOfOccurrences": 2},
            },
        },
    )
    first = sync(calendar, saved)
    assert first.kind == SyncRun.Kind.FULL and first.status == SyncRun.Status.SUCCEEDED
    assert blocks(calendar) == [(day(1), 9), (day(2), 8), (day(3), 8)]

    moved = ms.insert_event(calendar_id, timed("New", day(4), 14, 15))
    ms.delete_event(calendar_id, busy["id"])
    second = sync(calendar, saved)
    assert second.kind == SyncRun.Kind.INCREMENTAL
    assert blocks(calendar) == [(day(2), 8), (day(3), 8), (day(4), 14)]

    ms.invalidate_delta_tokens(calendar_id)
    ms.delete_event(calendar_id, moved["id"])
    third = sync(calendar, saved)
    assert third.kind == SyncRun.Kind.FULL and third.status == SyncRun.Status.SUCCEEDED
    assert blocks(calendar) == [(day(2), 8), (day(3), 8)]
    cursor = ExternalCalendar.objects.get(pk=calendar.pk).sync_cursor
    assert "$deltatoken=" in cursor and cursor.startswith(ms.graph_root)
