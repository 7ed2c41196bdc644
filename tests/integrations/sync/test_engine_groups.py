"""The engine's two provider-neutral hooks for grouped providers (CalDAV's objects):

- ``EventPage.replaced_groups`` on incremental pages removes a group's occurrences that the
  page no longer lists;
- the ``horizon`` trigger re-expands from the client's own store when it offers
  ``list_events_stored`` (no ``list_events`` call, cursor kept), and lists as usual otherwise.

A scripted in-memory client: the CalDAV tests run the same paths against a real Radicale.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from integrations.models import CalendarConnection, ExternalCalendar, SyncRun
from integrations.providers.base import EventPage, RemoteEvent
from integrations.sync.engine import calendar_sync
from scheduling.models import BlockedTime

pytestmark = pytest.mark.django_db


def occurrence(key: str, days: int) -> RemoteEvent:
    start = timezone.now().replace(microsecond=0) + dt.timedelta(days=days)
    return RemoteEvent(id=key, start=start, end=start + dt.timedelta(hours=1))


class ScriptedClient:
    def __init__(self, pages: list[EventPage]):
        self.pages = pages
        self.listed = 0

    def list_events(self, calendar_id, *, cursor, window_start, window_end):
        self.listed += 1
        yield from self.pages


class StoringClient(ScriptedClient):
    def __init__(self, pages, stored: list[EventPage]):
        super().__init__(pages)
        self.stored = stored
        self.windows = []

    def list_events_stored(self, calendar_id, *, window_start, window_end):
        self.windows.append((window_start, window_end))
        yield from self.stored


@pytest.fixture
def calendar(merchant):
    connection = CalendarConnection.objects.create(merchant=merchant, provider="caldav", account_email="me")
    calendar = ExternalCalendar.objects.create(connection=connection, external_id="https://dav/c/", selected=True)
    return ExternalCalendar.objects.select_related("connection__merchant").get(pk=calendar.pk)


def keys(calendar) -> set[str]:
    return set(BlockedTime.objects.filter(calendar=calendar).values_list("external_key", flat=True))


def test_incremental_pages_replace_their_groups(calendar):
    first = EventPage(
        events=[occurrence("/c/a.ics#1", 1), occurrence("/c/a.ics#2", 2), occurrence("/c/b.ics#1", 3)],
        replaced_groups=["/c/a.ics", "/c/b.ics"],
        next_cursor="t1",
    )
    calendar_sync(calendar=calendar, client=ScriptedClient([first]), trigger="initial")
    assert keys(calendar) == {"/c/a.ics#1", "/c/a.ics#2", "/c/b.ics#1"}
    calendar.refresh_from_db()
    changed = EventPage(events=[occurrence("/c/a.ics#2", 2)], replaced_groups=["/c/a.ics"])
    removed = EventPage(replaced_groups=["/c/b.ics"], next_cursor="t2")
    run = calendar_sync(calendar=calendar, client=ScriptedClient([changed, removed]), trigger="periodic")
    assert run.kind == SyncRun.Kind.INCREMENTAL
    assert keys(calendar) == {"/c/a.ics#2"}
    assert run.blocks_deleted == 2


def test_the_horizon_roll_uses_the_clients_store_and_keeps_the_cursor(calendar):
    initial = EventPage(events=[occurrence("/c/a.ics#1", 1)], replaced_groups=["/c/a.ics"], next_cursor="server-token")
    calendar_sync(calendar=calendar, client=ScriptedClient([initial]), trigger="initial")
    calendar.refresh_from_db()
    stored = [
        EventPage(events=[occurrence("/c/a.ics#1", 1), occurrence("/c/a.ics#9", 300)], replaced_groups=["/c/a.ics"])
    ]
    client = StoringClient([], stored)
    run = calendar_sync(calendar=calendar, client=client, trigger="horizon", full=True)
    assert (run.kind, run.status) == (SyncRun.Kind.FULL, SyncRun.Status.SUCCEEDED)
    assert client.listed == 0 and len(client.windows) == 1
    assert keys(calendar) == {"/c/a.ics#1", "/c/a.ics#9"}
    calendar.refresh_from_db()
    assert calendar.sync_cursor == "server-token"
    assert calendar.window_end == client.windows[0][1]


def test_other_triggers_and_clients_without_a_store_list_from_the_provider(calendar):
    initial = EventPage(events=[occurrence("/c/a.ics#1", 1)], next_cursor="t1")
    calendar_sync(calendar=calendar, client=ScriptedClient([initial]), trigger="initial")
    calendar.refresh_from_db()
    plain = ScriptedClient([EventPage(events=[occurrence("/c/a.ics#1", 1)], next_cursor="t2")])
    calendar_sync(calendar=calendar, client=plain, trigger="horizon", full=True)
    assert plain.listed == 1
    storing = StoringClient([EventPage(next_cursor="t3")], [])
    calendar.refresh_from_db()
    calendar_sync(calendar=calendar, client=storing, trigger="manual", full=True)
    assert storing.listed == 1 and storing.windows == []
