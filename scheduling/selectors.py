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
   with a single ``values_list`` query each, as whole Unix seconds: see
   ``scheduling.expressions``).
"""

import datetime as dt
import math
from collections.abc import Iterable
from typing import TypeVar

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from merchants.models import Merchant
from scheduling.expressions import EpochCeil, EpochFloor
from scheduling.localtime import UTC, local_to_instant
from scheduling.models import BlockedTime, Booking

Interval = tuple[dt.datetime, dt.datetime]
T = TypeVar("T", dt.datetime, int)


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


def _merged(intervals: Iterable[tuple[T, T]]) -> list[tuple[T, T]]:
    """Sorted, non-overlapping, with touching intervals joined."""
    merged: list[list[T]] = []
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


def _busy_seconds(*, merchant: Merchant, start: int, end: int) -> list[tuple[int, int]]:
    """Bookings and blocked times overlapping ``[start, end)`` (Unix seconds), merged, in whole seconds."""
    window_start, window_end = _instant(start), _instant(end)
    pairs: list[tuple[int, int]] = []
    for model in (BlockedTime, Booking):
        query = (
            model.objects.filter(merchant=merchant, start__lt=window_end, end__gt=window_start)
            .annotate(start_s=EpochFloor("start"), end_s=EpochCeil("end"))
            .order_by()
            .values_list("start_s", "end_s")
        )
        # A plain cursor: the integers need none of the ORM's per-value converters.
        sql, params = query.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            pairs += cursor.fetchall()
    return _merged(pairs)


def _instant(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, UTC)


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
    # The sweep runs on whole Unix seconds (see scheduling.expressions); slot bounds are whole
    # seconds because business hours and durations are.
    step = int(duration.total_seconds())
    first_allowed, last_allowed_end = math.ceil(earliest.timestamp()), math.floor(end.timestamp())
    busy = _busy_seconds(merchant=merchant, start=int(opening[0][0].timestamp()), end=int(opening[-1][1].timestamp()))
    slots: list[tuple[int, int]] = []
    i = 0  # busy[i] is the first busy interval that may still overlap a later slot
    for interval_start, interval_end in opening:
        origin = int(interval_start.timestamp())
        slot_start = origin
        if slot_start < first_allowed:
            slot_start += -((origin - first_allowed) // step) * step  # next grid point, ceiling division
        last_start = min(int(interval_end.timestamp()), last_allowed_end) - step
        while slot_start <= last_start:
            slot_end = slot_start + step
            while i < len(busy) and busy[i][1] <= slot_start:
                i += 1
            if i < len(busy) and busy[i][0] < slot_end:
                # Jump to the first grid point at or after the end of the busy interval.
                slot_start += -((slot_start - busy[i][1]) // step) * step
                continue
            slots.append((slot_start, slot_end))
            slot_start = slot_end
    return [(_instant(s), _instant(e)) for s, e in slots]


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
