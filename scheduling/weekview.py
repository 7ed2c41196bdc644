"""The merchant's week as a time grid, for ``templates/app/week.html``.

Pure layout: which bookings and blocked times fall on which local day, where each piece
sits on the grid (in hours from the grid's top edge) and which pieces share the width
because they overlap. Data comes from ``scheduling.selectors``; nothing is written here.

Synced blocked times carry no event detail (SPEC §4): they show as "Busy" with their
calendar's and provider's names ("Busy · Work · Google") and, in the detail panel, why they
block (``BlockedTime.reason``). A piece that covers a whole local day (an all-day event, a multi-day
off-site, a manual "all day" block) goes to the day's all-day lane instead of the grid.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from merchants.models import Merchant
from scheduling import selectors
from scheduling.localtime import local_midnight

DEFAULT_FIRST_HOUR, DEFAULT_LAST_HOUR = 8, 18


PROVIDER_NAMES = {"google": "Google", "microsoft": "Microsoft", "caldav": "CalDAV"}
REASONS = {
    "busy": "a busy event in this calendar",
    "tentative": "a tentative event, because you chose to block tentative events",
    "all_day": "an all-day event, because you chose to block all-day events",
}
REASON_UNKNOWN = "an event this calendar shows as busy"


@dataclass(frozen=True)
class Entry:
    kind: str  # "booking", "manual" or "synced"
    start: dt.datetime  # in the merchant's zone
    end: dt.datetime
    title: str
    detail: str
    blocked_time_id: int | None = None  # set for manual blocks, which the merchant may remove
    booking_id: int | None = None
    email: str = ""  # a booking's customer email
    provider: str = ""  # a synced block's provider name ("Google")
    reason: str = ""  # why a synced block blocks, in words
    synced_id: int | None = None

    @property
    def key(self) -> str:
        """What ``?entry=`` names to open this entry's detail panel."""
        if self.booking_id is not None:
            return f"booking-{self.booking_id}"
        return f"block-{self.blocked_time_id or self.synced_id}"


@dataclass
class Piece:
    """The part of an entry that falls on one local day."""

    entry: Entry
    starts_before: bool  # began on an earlier day
    ends_after: bool  # goes on to a later day
    top: float = 0.0  # hours below the grid's first hour
    length: float = 0.0  # hours
    column: int = 0
    columns: int = 1

    @property
    def style(self) -> str:
        return f"--top:{self.top:.4f};--len:{self.length:.4f};--col:{self.column};--cols:{self.columns}"

    @property
    def short(self) -> bool:
        return self.length < 0.75


@dataclass
class Band:
    top: float
    length: float

    @property
    def style(self) -> str:
        return f"--top:{self.top:.4f};--len:{self.length:.4f}"


@dataclass
class Day:
    date: dt.date
    is_today: bool
    hours_text: list[str]
    open_bands: list[Band] = field(default_factory=list)
    all_day: list[Piece] = field(default_factory=list)
    timed: list[Piece] = field(default_factory=list)
    now: Band | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.all_day or self.timed)


@dataclass
class Week:
    monday: dt.date
    days: list[Day]
    first_hour: int
    last_hour: int

    def entry(self, key: str | None) -> Entry | None:
        """The entry ``?entry=`` names, if it is on this week."""
        if not key:
            return None
        for day in self.days:
            for piece in day.all_day + day.timed:
                if piece.entry.key == key:
                    return piece.entry
        return None

    @property
    def hour_labels(self) -> list[str]:
        return [f"{hour:02d}:00" for hour in range(self.first_hour, self.last_hour)]

    @property
    def style(self) -> str:
        return f"--hours:{self.last_hour - self.first_hour}"

    @property
    def counts(self) -> dict[str, int]:
        seen: dict[str, set] = {"booking": set(), "manual": set(), "synced": set()}
        for day in self.days:
            for piece in day.all_day + day.timed:
                seen[piece.entry.kind].add(id(piece.entry))
        return {kind: len(entries) for kind, entries in seen.items()}


def _entries(merchant: Merchant, start: dt.datetime, end: dt.datetime) -> list[Entry]:
    zone = merchant.zone
    entries = [
        Entry(
            "booking",
            b.start.astimezone(zone),
            b.end.astimezone(zone),
            b.customer_name,
            b.customer_email,
            booking_id=b.pk,
            email=b.customer_email,
        )
        for b in selectors.bookings_in_range(merchant=merchant, start=start, end=end)
    ]
    for blocked in selectors.blocked_times_in_range(merchant=merchant, start=start, end=end):
        local_start, local_end = blocked.start.astimezone(zone), blocked.end.astimezone(zone)
        if blocked.is_synced:
            calendar = blocked.calendar.summary if blocked.calendar_id else blocked.get_source_display()
            entries.append(
                Entry(
                    "synced",
                    local_start,
                    local_end,
                    "Busy",
                    calendar,
                    provider=PROVIDER_NAMES.get(blocked.source, blocked.get_source_display()),
                    reason=REASONS.get(blocked.reason, REASON_UNKNOWN),
                    synced_id=blocked.pk,
                )
            )
        else:
            entries.append(
                Entry("manual", local_start, local_end, blocked.note or "Blocked", "Blocked by you", blocked.pk)
            )
    return sorted(entries, key=lambda e: (e.start, e.end))


def _wall_hours(moment: dt.datetime) -> float:
    return moment.hour + moment.minute / 60 + moment.second / 3600


def _assign_columns(pieces: list[Piece]) -> None:
    """Overlapping pieces share the day's width: greedy columns per cluster of overlaps."""
    pieces.sort(key=lambda p: (p.top, -p.length))
    cluster: list[Piece] = []
    column_ends: list[float] = []
    cluster_end = -1.0
    for piece in pieces:
        if cluster and piece.top >= cluster_end:
            for member in cluster:
                member.columns = len(column_ends)
            cluster, column_ends = [], []
        for index, column_end in enumerate(column_ends):
            if column_end <= piece.top:
                piece.column, column_ends[index] = index, piece.top + piece.length
                break
        else:
            piece.column = len(column_ends)
            column_ends.append(piece.top + piece.length)
        cluster.append(piece)
        cluster_end = max(cluster_end, piece.top + piece.length)
    for member in cluster:
        member.columns = len(column_ends)


def week_build(*, merchant: Merchant, monday: dt.date, now: dt.datetime) -> Week:
    """Lay out the week starting on ``monday`` (a local date) for the merchant's week page."""
    zone = merchant.zone
    today = now.astimezone(zone).date()
    week_start, week_end = local_midnight(monday, zone), local_midnight(monday + dt.timedelta(days=7), zone)
    entries = _entries(merchant, week_start, week_end)
    opening: dict[int, list[tuple[dt.time, dt.time]]] = {}
    for hours in merchant.business_hours.all():
        opening.setdefault(hours.weekday, []).append((hours.start, hours.end))

    days: list[Day] = []
    first, last = float(DEFAULT_FIRST_HOUR), float(DEFAULT_LAST_HOUR)
    for offset in range(7):
        date = monday + dt.timedelta(days=offset)
        day_start, day_end = local_midnight(date, zone), local_midnight(date + dt.timedelta(days=1), zone)
        intervals = opening.get(date.weekday(), [])
        day = Day(
            date=date,
            is_today=date == today,
            hours_text=[f"{opens:%H:%M}\u2013{closes:%H:%M}" for opens, closes in intervals],
        )
        for opens, closes in intervals:
            top, bottom = _wall_hours(dt.datetime.combine(date, opens)), _wall_hours(dt.datetime.combine(date, closes))
            day.open_bands.append(Band(top, bottom - top))
            first, last = min(first, top), max(last, bottom)
        for entry in entries:
            if not (entry.start < day_end and entry.end > day_start):
                continue
            piece = Piece(entry, starts_before=entry.start < day_start, ends_after=entry.end > day_end)
            if entry.start <= day_start and entry.end >= day_end:
                day.all_day.append(piece)
                continue
            top = 0.0 if piece.starts_before else _wall_hours(entry.start)
            bottom = 24.0 if piece.ends_after or entry.end >= day_end else _wall_hours(entry.end)
            piece.top, piece.length = top, max(bottom - top, 0.25)
            first, last = min(first, top), max(last, top + piece.length)
            day.timed.append(piece)
        if day.is_today:
            day.now = Band(_wall_hours(now.astimezone(zone)), 0)
        days.append(day)

    first_hour, last_hour = max(0, math.floor(first)), min(24, math.ceil(last))
    for day in days:
        _assign_columns(day.timed)
        for item in [*day.timed, *day.open_bands]:
            item.top -= first_hour
        if day.now is not None:
            day.now = Band(day.now.top - first_hour, 0) if first_hour <= day.now.top <= last_hour else None
    return Week(monday=monday, days=days, first_hour=first_hour, last_hour=last_hour)
