"""The provider contract (the allauth pattern): the same tests for every provider.

A provider's test module subclasses :class:`ProviderContract` and supplies a ``harness``
fixture speaking to its own emulator or test server (:class:`Harness`). The tests drive the
product's real client (``integrations.services.clients.connection_client``) over HTTP and
check only what the sync engine relies on: calendars, full listings over pages, incremental
changes, cursor expiry, removals, channel lifecycle where the provider pushes, and the
typed errors of ``providers/base.py`` for 401, 403, 404, 410, 429 and 5xx.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Protocol

import pytest

from integrations.providers.base import (
    GROUP_SEPARATOR,
    CalendarClient,
    CursorExpired,
    EventPage,
    EventStatus,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    RateLimited,
    ReauthRequired,
    RemoteEvent,
    TransientError,
)

HOUR = dt.timedelta(hours=1)


class Harness(Protocol):
    """What a provider's test server must let the contract do."""

    pushes: bool
    calendar_id: str  # the provider's id of the connected primary calendar

    def client(self) -> CalendarClient: ...
    def add_event(self, start: dt.datetime, end: dt.datetime) -> str: ...
    def move_event(self, event_id: str, start: dt.datetime, end: dt.datetime) -> None: ...
    def remove_event(self, event_id: str) -> None: ...
    def expire_cursor(self) -> None: ...
    def set_page_size(self, size: int) -> None: ...
    def fail_listing(self, status: int, *, retry_after: float | None = None) -> None:
        """Every event listing answers ``status`` from now on (with ``Retry-After`` when given)."""

    def revoke_grant(self) -> None: ...
    def webhook_address(self) -> str: ...


def window(now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    now = now or dt.datetime.now(dt.UTC)
    return now - dt.timedelta(days=1), now + dt.timedelta(days=60)


def slot(days: int, hour: int = 10) -> tuple[dt.datetime, dt.datetime]:
    start = (dt.datetime.now(dt.UTC) + dt.timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)
    return start, start + HOUR


def listing(client: CalendarClient, calendar_id: str, cursor: str | None = None) -> list[EventPage]:
    start, end = window()
    return list(client.list_events(calendar_id, cursor=cursor, window_start=start, window_end=end))


def apply(state: dict[str, RemoteEvent], pages: Iterable[EventPage]) -> dict[str, RemoteEvent]:
    """What the store keeps after ``pages``: live events by id (the store's semantics)."""
    for page in pages:
        for group in page.replaced_groups:
            for key in [k for k in state if k.startswith(group + GROUP_SEPARATOR)]:
                del state[key]
        for event in page.events:
            if event.status == EventStatus.CANCELLED:
                state.pop(event.id, None)
            else:
                state[event.id] = event
    return state


def starts(state: dict[str, RemoteEvent]) -> set[dt.datetime]:
    return {event.start for event in state.values() if event.start is not None}


class ProviderContract:
    """Subclass with a ``harness`` fixture; every test here then runs for that provider."""

    def test_lists_the_connected_calendar(self, harness):
        calendars = harness.client().list_calendars()
        assert harness.calendar_id in {c.id for c in calendars}
        assert all(c.id and c.summary is not None for c in calendars)

    def test_a_full_listing_goes_over_every_page_and_ends_with_a_cursor(self, harness):
        slots = [slot(days) for days in range(1, 8)]
        for start, end in slots:
            harness.add_event(start, end)
        harness.set_page_size(2)
        pages = listing(harness.client(), harness.calendar_id)
        assert len(pages) >= 2
        assert all(page.next_cursor is None for page in pages[:-1])
        assert pages[-1].next_cursor
        assert starts(apply({}, pages)) >= {start for start, _ in slots}

    def test_incremental_listings_carry_additions_moves_and_removals(self, harness):
        moved = harness.add_event(*slot(2))
        removed = harness.add_event(*slot(3))
        client = harness.client()
        pages = listing(client, harness.calendar_id)
        state = apply({}, pages)
        cursor = pages[-1].next_cursor

        added_at, _ = slot(4)
        harness.add_event(added_at, added_at + HOUR)
        new_start, new_end = slot(5, hour=15)
        harness.move_event(moved, new_start, new_end)
        harness.remove_event(removed)
        changes = listing(client, harness.calendar_id, cursor=cursor)

        assert changes[-1].next_cursor
        state = apply(state, changes)
        assert added_at in starts(state)
        assert new_start in starts(state) and slot(2)[0] not in starts(state)
        assert slot(3)[0] not in starts(state)
        [moved_event] = [e for e in state.values() if e.start == new_start]
        assert moved_event.end == new_end

    def test_an_unchanged_calendar_lists_no_changes(self, harness):
        harness.add_event(*slot(2))
        client = harness.client()
        cursor = listing(client, harness.calendar_id)[-1].next_cursor
        changes = listing(client, harness.calendar_id, cursor=cursor)
        assert apply({}, changes) == {}
        assert changes[-1].next_cursor

    def test_an_expired_cursor_raises_cursor_expired(self, harness):
        harness.add_event(*slot(2))
        client = harness.client()
        cursor = listing(client, harness.calendar_id)[-1].next_cursor
        harness.expire_cursor()
        harness.add_event(*slot(3))  # a change, so that even a cheap "unchanged?" check looks further
        with pytest.raises(CursorExpired):
            listing(client, harness.calendar_id, cursor=cursor)

    def test_channel_lifecycle_where_the_provider_pushes(self, harness):
        client = harness.client()
        if not harness.pushes:  # a polled provider refuses to open a channel
            with pytest.raises(InvalidRequest):
                client.watch(harness.calendar_id, address=harness.webhook_address(), channel_id="c-1", token="t")
            return
        info = client.watch(harness.calendar_id, address=harness.webhook_address(), channel_id="c-1", token="s3cr3t")
        assert info.channel_id and info.resource_id
        assert info.expires_at > dt.datetime.now(dt.UTC)
        renewed = client.renew_channel(channel_id=info.channel_id, resource_id=info.resource_id)
        assert renewed is None or renewed.expires_at >= info.expires_at
        client.stop_channel(channel_id=info.channel_id, resource_id=info.resource_id)

    # -- typed errors: providers raise, services decide

    def test_a_dead_grant_raises_reauth_required(self, harness):
        harness.revoke_grant()
        with pytest.raises(ReauthRequired):
            listing(harness.client(), harness.calendar_id)

    def test_401_that_survives_a_refresh_raises_reauth_required(self, harness):
        harness.fail_listing(401)
        with pytest.raises(ReauthRequired):
            listing(harness.client(), harness.calendar_id)

    def test_403_raises_permission_denied(self, harness):
        harness.fail_listing(403)
        with pytest.raises(PermissionDenied):
            listing(harness.client(), harness.calendar_id)

    def test_404_raises_not_found(self, harness):
        harness.fail_listing(404)
        with pytest.raises(NotFound):
            listing(harness.client(), harness.calendar_id)

    def test_410_raises_cursor_expired(self, harness):
        harness.fail_listing(410)
        with pytest.raises(CursorExpired):
            listing(harness.client(), harness.calendar_id, cursor="any")

    def test_429_raises_rate_limited_with_retry_after(self, harness):
        harness.fail_listing(429, retry_after=3600)
        with pytest.raises(RateLimited) as caught:
            listing(harness.client(), harness.calendar_id)
        assert caught.value.retry_after == pytest.approx(3600, abs=5)

    @pytest.mark.parametrize("status", [500, 503])
    def test_5xx_raises_a_transient_error(self, harness, status):
        harness.fail_listing(status)
        with pytest.raises(TransientError) as caught:
            listing(harness.client(), harness.calendar_id)
        assert caught.value.retryable
