"""Busy rules (SPEC §4): one provider-neutral event -> the interval it blocks, or None.

Pure functions over :class:`~integrations.providers.base.RemoteEvent`; no database, no
provider code. All-day events are placed in the *merchant's* time zone with zoneinfo, so
a day that has a DST change blocks 23 or 25 hours.
https://docs.python.org/3/library/zoneinfo.html
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

from integrations.providers.base import EventKind, EventStatus, RemoteEvent, Response

# Status types that are never busy, whatever their transparency says (SPEC §4).
NEVER_BUSY_KINDS = frozenset({EventKind.WORKING_LOCATION, EventKind.BIRTHDAY})
TENTATIVE_RESPONSES = frozenset({Response.TENTATIVE, Response.NEEDS_ACTION})


@dataclass(frozen=True, slots=True)
class BusyPreferences:
    """The merchant's choices on one connection."""

    block_tentative: bool = False
    block_all_day: bool = True


class BlockReason(StrEnum):
    """Why a block blocks (the values of ``BlockedTime.Reason``), never what the event was."""

    BUSY = "busy"
    TENTATIVE = "tentative"  # blocks only because block_tentative is on
    ALL_DAY = "all_day"  # an all-day event (blocks only because block_all_day is on)


@dataclass(frozen=True, slots=True)
class BlockInterval:
    """What a busy event blocks: aware UTC instants, end exclusive, and why."""

    start: dt.datetime
    end: dt.datetime
    all_day: bool = False
    reason: BlockReason = BlockReason.BUSY


@dataclass(frozen=True, slots=True)
class Window:
    """The stretch of time a calendar is synced over; blocks outside it are not kept."""

    start: dt.datetime
    end: dt.datetime

    def overlaps(self, interval: BlockInterval) -> bool:
        return interval.end > self.start and interval.start < self.end


def is_busy(event: RemoteEvent, prefs: BusyPreferences) -> bool:
    """Whether ``event`` makes the merchant busy, before looking at its timing."""
    if event.ours:
        return False  # a booking's copy (SPEC §10): the booking itself holds the time
    if event.status == EventStatus.CANCELLED:
        return False
    if event.transparent:
        return False
    if event.kind in NEVER_BUSY_KINDS:
        return False
    if event.own_response == Response.DECLINED:
        return False
    if is_tentative(event) and not prefs.block_tentative:
        return False
    return not (event.all_day and not prefs.block_all_day)


def is_tentative(event: RemoteEvent) -> bool:
    """Tentative: the organizer marked it so, or the merchant answered "maybe" or not at all."""
    return event.status == EventStatus.TENTATIVE or event.own_response in TENTATIVE_RESPONSES


def block_reason(event: RemoteEvent) -> BlockReason:
    """Why a busy ``event`` blocks. A tentative all-day event is ``tentative``: that setting is
    the one the merchant is least likely to see from the block itself (all-day blocks look all-day)."""
    if is_tentative(event):
        return BlockReason.TENTATIVE
    if event.all_day:
        return BlockReason.ALL_DAY
    return BlockReason.BUSY


def local_midnight(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    """00:00 of ``day`` in ``zone`` as a UTC instant.

    Where midnight itself is skipped by a DST jump (e.g. America/Santiago), zoneinfo's
    ``fold=0`` reading maps it onto the instant the day really starts.
    """
    return dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(dt.UTC)


def _span(event: RemoteEvent, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime, bool] | None:
    """(start, end, all_day) of the instants ``event`` covers, or None when missing or empty."""
    if event.start_date is not None:  # all-day
        if event.end_date is None:
            return None
        start, end = local_midnight(event.start_date, zone), local_midnight(event.end_date, zone)
        all_day = True
    else:
        start, end = event.start, event.end
        if start is None or end is None:
            return None
        if start.tzinfo is None or end.tzinfo is None:
            return None  # an instant without an offset is not an instant
        start, end = start.astimezone(dt.UTC), end.astimezone(dt.UTC)  # already UTC: no copy
        all_day = False
    if end <= start:
        return None
    return start, end, all_day


def event_interval(event: RemoteEvent, zone: ZoneInfo) -> BlockInterval | None:
    """The instants ``event`` covers, or None when its timing is missing or empty."""
    span = _span(event, zone)
    return None if span is None else BlockInterval(start=span[0], end=span[1], all_day=span[2])


def event_block(
    event: RemoteEvent,
    *,
    prefs: BusyPreferences,
    zone: ZoneInfo,
    window: Window | None = None,
) -> BlockInterval | None:
    """The blocked time ``event`` should have (with its reason), or None when it should have none.

    ``window`` drops intervals outside the synced stretch: incremental listings carry no
    time bounds, so they can hold instances far past the horizon.
    """
    if not is_busy(event, prefs):
        return None
    span = _span(event, zone)
    if span is None:
        return None
    start, end, all_day = span
    if window is not None and not (end > window.start and start < window.end):
        return None
    return BlockInterval(start=start, end=end, all_day=all_day, reason=block_reason(event))


def page_blocks(
    events: Iterable[RemoteEvent], *, prefs: BusyPreferences, zone: ZoneInfo, window: Window | None = None
) -> dict[str, BlockInterval | None]:
    """:func:`event_block` of each event, keyed by event id; a repeated id within a page: the
    later entry is the newer state."""
    return {event.id: event_block(event, prefs=prefs, zone=zone, window=window) for event in events}
