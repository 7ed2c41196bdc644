"""The two-way contract (SPEC §10, §11 live check): the same tests for every provider.

A provider's contract module adds :class:`TwoWayContract` to its test class and its harness
grows the methods of :class:`TwoWayHarness`. Everything is checked at the provider's side
(the emulator's state or Radicale's store), never through the client that wrote it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Protocol

import pytest

from integrations.providers.base import BookingEvent, CalendarClient, PermissionDenied
from integrations.sync.rules import BusyPreferences, event_block
from tests.integrations.contract.base import listing, slot


@dataclass(frozen=True)
class StoredEvent:
    """An event as the provider holds it."""

    id: str
    title: str
    description: str
    start: dt.datetime
    end: dt.datetime


class TwoWayHarness(Protocol):
    calendar_id: str
    # False where the connection can always write (CalDAV: the password covers it).
    write_needs_consent: bool

    def client(self) -> CalendarClient: ...
    def add_event(self, start: dt.datetime, end: dt.datetime) -> str: ...
    def grant_booking_writes(self) -> None:
        """Give the connection what writing needs (Google/Microsoft: the consent round trip)."""

    def stored_events(self, calendar_id: str) -> list[StoredEvent]:
        """The events the provider holds in ``calendar_id``, read at the provider."""

    def calendar_ids(self) -> set[str]:
        """Every calendar the account has, read at the provider."""


def booking(
    start: dt.datetime, end: dt.datetime, *, uid: str | None = None, name: str = "Ada Lovelace"
) -> BookingEvent:
    return BookingEvent(
        booking_uid=uid or str(uuid.uuid4()),
        title=f"{name} (booking)",
        description="ada@example.com\nhttps://calendar.example.com/app/bookings/1",
        start=start,
        end=end,
        time_zone="Europe/Berlin",
    )


def busy(events, start: dt.datetime, end: dt.datetime) -> bool:
    """What the live check concludes from ``busy_between``'s answer."""
    zone = dt.UTC
    prefs = BusyPreferences()
    for event in events:
        block = event_block(event, prefs=prefs, zone=zone)  # type: ignore[arg-type]
        if block is not None and block.start < end and block.end > start:
            return True
    return False


class TwoWayContract:
    """Mix into a provider's contract class (with a ``harness`` fixture)."""

    def test_without_the_write_grant_creating_the_bookings_calendar_is_refused(self, harness):
        before = harness.calendar_ids()
        if not harness.write_needs_consent:
            # CalDAV: the password that reads also writes; creating needs no consent round trip.
            calendar = harness.client().bookings_calendar_create("Studio bookings", time_zone="Europe/Berlin")
            assert harness.calendar_ids() == before | {calendar.id}
            return
        with pytest.raises(PermissionDenied):
            harness.client().bookings_calendar_create("Studio bookings", time_zone="Europe/Berlin")
        assert harness.calendar_ids() == before

    def test_bookings_calendar_is_created_and_holds_one_event_per_booking(self, harness):
        harness.grant_booking_writes()
        client = harness.client()
        calendar = client.bookings_calendar_create("Studio bookings", time_zone="Europe/Berlin")
        assert calendar.id in harness.calendar_ids()
        assert calendar.id != harness.calendar_id

        start, end = slot(3)
        copy = booking(start, end)
        client.booking_event_put(calendar.id, copy)
        client.booking_event_put(calendar.id, copy)  # a retry after a lost answer
        [stored] = harness.stored_events(calendar.id)
        assert stored.title == "Ada Lovelace (booking)"
        assert "ada@example.com" in stored.description
        assert (stored.start, stored.end) == (start, end)

        moved = booking(start + dt.timedelta(hours=2), end + dt.timedelta(hours=2), uid=copy.booking_uid)
        client.booking_event_put(calendar.id, moved)
        [stored] = harness.stored_events(calendar.id)
        assert (stored.start, stored.end) == (moved.start, moved.end)

        client.booking_event_delete(calendar.id, copy.booking_uid)
        assert harness.stored_events(calendar.id) == []
        client.booking_event_delete(calendar.id, copy.booking_uid)  # already gone: not an error

    def test_nothing_is_written_to_the_merchants_own_calendar(self, harness):
        harness.grant_booking_writes()
        client = harness.client()
        own_before = harness.stored_events(harness.calendar_id)
        calendar = client.bookings_calendar_create("Studio bookings", time_zone="Europe/Berlin")
        client.booking_event_put(calendar.id, booking(*slot(4)))
        assert harness.stored_events(harness.calendar_id) == own_before

    def test_a_booking_copy_lists_as_ours(self, harness):
        harness.grant_booking_writes()
        client = harness.client()
        calendar = client.bookings_calendar_create("Studio bookings", time_zone="Europe/Berlin")
        client.booking_event_put(calendar.id, booking(*slot(5)))
        events = [event for page in listing(client, calendar.id) for event in page.events]
        assert events
        assert all(event.ours for event in events)

    def test_busy_between_sees_a_busy_event_and_only_in_its_interval(self, harness):
        start, end = slot(6)
        harness.add_event(start, end)
        client = harness.client()
        assert busy(client.busy_between([harness.calendar_id], start=start, end=end), start, end)
        inside = start + dt.timedelta(minutes=15), start + dt.timedelta(minutes=45)
        assert busy(client.busy_between([harness.calendar_id], start=inside[0], end=inside[1]), *inside)
        later = end + dt.timedelta(hours=1), end + dt.timedelta(hours=2)
        assert not busy(client.busy_between([harness.calendar_id], start=later[0], end=later[1]), *later)
