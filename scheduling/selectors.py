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

Booking rules (SPEC §11, fields of ``Merchant``) narrow this for customers
(:func:`public_slots`): only offered lengths, starts no sooner than the minimum notice and
no later than the booking horizon, and the buffer after every booking kept free: a slot
``[a, b)`` needs ``[a, b + buffer)`` free, and a booking ``[s, e)`` takes ``[s, e + buffer)``.
Only confirmed bookings take time; a cancelled one frees its time at once.
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
    """The merchant's confirmed bookings overlapping ``[start, end)``."""
    return Booking.objects.filter(
        merchant=merchant, status=Booking.Status.CONFIRMED, start__lt=end, end__gt=start
    ).order_by("start", "id")


def booking_for_merchant(*, merchant: Merchant, booking_id: int) -> Booking | None:
    return Booking.objects.filter(merchant=merchant, pk=booking_id).first()


def active_bookings_count(*, merchant: Merchant, customer_email: str, now: dt.datetime) -> int:
    """Confirmed bookings of this customer email with this merchant that have not begun."""
    return Booking.objects.filter(
        merchant=merchant, status=Booking.Status.CONFIRMED, customer_email__iexact=customer_email, start__gte=now
    ).count()


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


def _busy_seconds(*, merchant: Merchant, start: int, end: int, buffer: int = 0) -> list[tuple[int, int]]:
    """Bookings (plus ``buffer`` seconds after each) and blocked times overlapping ``[start, end)``
    (Unix seconds), merged, in whole seconds."""
    window_start, window_end = _instant(start), _instant(end)
    pairs: list[tuple[int, int]] = []
    queries = (
        (BlockedTime.objects.filter(merchant=merchant, start__lt=window_end, end__gt=window_start), 0),
        (
            Booking.objects.filter(
                merchant=merchant,
                status=Booking.Status.CONFIRMED,
                start__lt=window_end,
                end__gt=window_start - dt.timedelta(seconds=buffer),
            ),
            buffer,
        ),
    )
    for queryset, extra in queries:
        query = queryset.annotate(start_s=EpochFloor("start"), end_s=EpochCeil("end")).order_by()
        # A plain cursor: the integers need none of the ORM's per-value converters.
        sql, params = query.values_list("start_s", "end_s").query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        pairs += [(s, e + extra) for s, e in rows] if extra else rows
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
    buffer: dt.timedelta = dt.timedelta(0),
    latest_start: dt.datetime | None = None,
) -> list[Interval]:
    """Free slots of ``duration`` inside ``[start, end)`` that start no earlier than ``now``
    (nor later than ``latest_start``), each followed by ``buffer`` free of anything, with
    ``buffer`` kept free after every booking."""
    earliest = max(start, now or timezone.now())
    if latest_start is not None:
        end = min(end, latest_start + duration)
    if earliest >= end:
        return []
    opening = business_intervals(merchant=merchant, start=earliest, end=end)
    if not opening:
        return []
    # The sweep runs on whole Unix seconds (see scheduling.expressions); slot bounds are whole
    # seconds because business hours and durations are.
    step = int(duration.total_seconds())
    pad = int(buffer.total_seconds())
    first_allowed, last_allowed_end = math.ceil(earliest.timestamp()), math.floor(end.timestamp())
    busy = _busy_seconds(
        merchant=merchant, start=int(opening[0][0].timestamp()), end=int(opening[-1][1].timestamp()) + pad, buffer=pad
    )
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
            if i < len(busy) and busy[i][0] < slot_end + pad:
                # Jump to the first grid point at or after the end of the busy interval.
                slot_start += -((slot_start - busy[i][1]) // step) * step
                continue
            slots.append((slot_start, slot_end))
            slot_start = slot_end
    return [(_instant(s), _instant(e)) for s, e in slots]


def public_slots(
    *, merchant: Merchant, start: dt.datetime, end: dt.datetime, duration: dt.timedelta, now: dt.datetime | None = None
) -> list[Interval]:
    """What customers may book: :func:`availability_slots` under the merchant's booking rules
    (the caller checks that ``duration`` is an offered length)."""
    now = now or timezone.now()
    return availability_slots(
        merchant=merchant,
        start=start,
        end=end,
        duration=duration,
        now=now + merchant.minimum_notice,
        buffer=merchant.buffer,
        latest_start=now + merchant.booking_horizon,
    )


def opening_containing(*, merchant: Merchant, start: dt.datetime, end: dt.datetime) -> Interval | None:
    """The (merged) business-hours interval holding all of ``[start, end)``, if any."""
    for opens, closes in business_intervals(merchant=merchant, start=start, end=end):
        if opens <= start and end <= closes:
            return opens, closes
    return None


def interval_within_business_hours(*, merchant: Merchant, start: dt.datetime, end: dt.datetime) -> bool:
    return opening_containing(merchant=merchant, start=start, end=end) is not None


def interval_is_free(
    *,
    merchant: Merchant,
    start: dt.datetime,
    end: dt.datetime,
    buffer: dt.timedelta = dt.timedelta(0),
    exclude_booking_id: int | None = None,
) -> bool:
    """No blocked time overlaps ``[start, end + buffer)`` and no confirmed booking (other than
    ``exclude_booking_id``) overlaps it either, each booking counted with ``buffer`` after it."""
    bookings = Booking.objects.filter(
        merchant=merchant, status=Booking.Status.CONFIRMED, start__lt=end + buffer, end__gt=start - buffer
    )
    if exclude_booking_id is not None:
        bookings = bookings.exclude(pk=exclude_booking_id)
    return not (
        BlockedTime.objects.filter(merchant=merchant, start__lt=end + buffer, end__gt=start).exists()
        or bookings.exists()
    )
