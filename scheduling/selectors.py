"""Reads for scheduling: blocked times and bookings in a range, business hours as instants, free slots.

Availability (SPEC §3) is business hours minus bookings minus blocked times:

1. every business-hours interval of every local date touching the range becomes a pair of
   instants (``scheduling.localtime`` handles the DST gap and fold); contiguous intervals
   merge, so 09:00-12:00 and 12:00-17:00 behave like 09:00-17:00;
2. slots are ``duration`` long and step by ``duration`` from each interval's start, in
   real (elapsed) time, so a slot is always exactly ``duration`` long, also across a DST
   change;
3. a slot is offered when it lies inside the requested range, starts at or after *now*
   and overlaps no booking and no blocked time (one sweep over the busy intervals, read
   with a single ``values_list`` query each).
"""

import datetime as dt
from collections.abc import Iterable

from django.db.models import QuerySet
from django.utils import timezone

from merchants.models import Merchant
from scheduling.localtime import local_to_instant
from scheduling.models import BlockedTime, Booking

Interval = tuple[dt.datetime, dt.datetime]


def blocked_times_in_range(*, merchant: Merchant, start: dt.datetime, end: dt.datetime) -> QuerySet[BlockedTime]:
    """The merchant's blocked times overlapping ``[start, end)``, with their calendar."""
    return (
        BlockedTime.objects.filter(merchant=merchant, start__lt=end, end__gt=start)
        .select_related("calendar")
        .order_by("start", "id")
    )


def bookings_in_range(*, merchant: Merchant, start: dt.datetime, end: dt.datetime) -> QuerySet[Booking]:
    """The merchant's bookings overlapping ``[start, end)``."""
    return Booking.objects.filter(merchant=merchant, start__lt=end, end__gt=start).order_by("start", "id")


def _merged(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, non-overlapping, with touching intervals joined."""
    merged: list[list[dt.datetime]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1][1] = end
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def business_intervals(*, merchant: Merchant, start: dt.datetime, end: dt.datetime) -> list[Interval]:
    """The merchant's opening hours overlapping ``[start, end)`` as merged, sorted instants (not clipped)."""
    zone = merchant.zone
    by_weekday: dict[int, list[tuple[dt.time, dt.time]]] = {}
    for weekday, opens, closes in merchant.business_hours.values_list("weekday", "start", "end"):
        by_weekday.setdefault(weekday, []).append((opens, closes))
    if not by_weekday:
        return []
    day = start.astimezone(zone).date()
    last_day = end.astimezone(zone).date()
    intervals = []
    while day <= last_day:
        for opens, closes in by_weekday.get(day.weekday(), ()):
            interval_start = local_to_instant(dt.datetime.combine(day, opens), zone)
            interval_end = local_to_instant(dt.datetime.combine(day, closes), zone)
            if interval_start < interval_end and interval_start < end and interval_end > start:
                intervals.append((interval_start, interval_end))
        day += dt.timedelta(days=1)
    return _merged(intervals)


def busy_intervals(*, merchant: Merchant, start: dt.datetime, end: dt.datetime) -> list[Interval]:
    """Bookings and blocked times overlapping ``[start, end)``, merged; no detail beyond the instants."""
    blocked = BlockedTime.objects.filter(merchant=merchant, start__lt=end, end__gt=start).values_list("start", "end")
    booked = Booking.objects.filter(merchant=merchant, start__lt=end, end__gt=start).values_list("start", "end")
    return _merged([*blocked, *booked])


def availability_slots(
    *,
    merchant: Merchant,
    start: dt.datetime,
    end: dt.datetime,
    duration: dt.timedelta,
    now: dt.datetime | None = None,
) -> list[Interval]:
    """Free slots of ``duration`` inside ``[start, end)`` that start no earlier than ``now``."""
    earliest = max(start, now or timezone.now())
    if earliest >= end:
        return []
    opening = business_intervals(merchant=merchant, start=earliest, end=end)
    if not opening:
        return []
    busy = busy_intervals(merchant=merchant, start=opening[0][0], end=opening[-1][1])
    slots: list[Interval] = []
    i = 0  # busy[i] is the first busy interval that may still overlap a later slot
    for interval_start, interval_end in opening:
        slot_start = interval_start
        if slot_start < earliest:
            steps = -((interval_start - earliest) // duration)  # ceiling division
            slot_start = interval_start + steps * duration
        last_start = min(interval_end, end) - duration
        while slot_start <= last_start:
            slot_end = slot_start + duration
            while i < len(busy) and busy[i][1] <= slot_start:
                i += 1
            if i < len(busy) and busy[i][0] < slot_end:
                # Jump past the busy interval, staying on the interval's grid.
                blocked_until = busy[i][1]
                slot_start += -((slot_start - blocked_until) // duration) * duration
                continue
            slots.append((slot_start, slot_end))
            slot_start = slot_end
    return slots


def interval_within_business_hours(*, merchant: Merchant, start: dt.datetime, end: dt.datetime) -> bool:
    return any(
        opens <= start and end <= closes
        for opens, closes in business_intervals(merchant=merchant, start=start, end=end)
    )


def interval_is_free(*, merchant: Merchant, start: dt.datetime, end: dt.datetime) -> bool:
    """No booking and no blocked time overlaps ``[start, end)``."""
    return not (
        BlockedTime.objects.filter(merchant=merchant, start__lt=end, end__gt=start).exists()
        or Booking.objects.filter(merchant=merchant, start__lt=end, end__gt=start).exists()
    )
