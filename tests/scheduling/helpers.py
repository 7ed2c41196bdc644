"""Helpers for scheduling tests: future dates (availability never offers the past), DST days, synced blocks."""

import datetime as dt
import zoneinfo

from django.utils import timezone

from integrations.models import CalendarConnection, ExternalCalendar
from scheduling.models import BlockedTime, Booking

UTC = dt.UTC
ALL_WEEK = range(7)


def next_weekday(weekday: int, zone: str = "Europe/Berlin", weeks_ahead: int = 1) -> dt.date:
    """A date with ``weekday`` at least a week from today (local), never today."""
    today = timezone.now().astimezone(zoneinfo.ZoneInfo(zone)).date()
    start = today + dt.timedelta(days=7 * weeks_ahead)
    return start + dt.timedelta(days=(weekday - start.weekday()) % 7)


def at(day: dt.date, hhmm: str, zone: str = "Europe/Berlin") -> dt.datetime:
    """The instant of a (non-ambiguous) wall-clock time."""
    return dt.datetime.combine(day, dt.time.fromisoformat(hhmm), tzinfo=zoneinfo.ZoneInfo(zone))


def iso(value: dt.datetime) -> str:
    return value.isoformat()


def dst_change_days(zone: str) -> tuple[dt.date, dt.date]:
    """The next spring-forward and fall-back dates in ``zone``, at least two days from now."""
    tz = zoneinfo.ZoneInfo(zone)
    day = timezone.now().astimezone(tz).date() + dt.timedelta(days=2)
    spring = autumn = None
    for _ in range(800):
        before = dt.datetime.combine(day, dt.time(0), tzinfo=tz).utcoffset()
        after = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=tz).utcoffset()
        if after > before and spring is None:
            spring = day
        elif after < before and autumn is None:
            autumn = day
        if spring and autumn:
            return spring, autumn
        day += dt.timedelta(days=1)
    raise AssertionError(f"{zone} has no DST changes")


def synced_block(
    merchant, start, end, *, summary="Work", key="event-1", all_day=False, reason=BlockedTime.Reason.BUSY
) -> BlockedTime:
    connection, _ = CalendarConnection.objects.get_or_create(
        merchant=merchant, provider="google", defaults={"account_email": "owner@example.com"}
    )
    calendar, _ = ExternalCalendar.objects.get_or_create(
        connection=connection, external_id=f"{summary}@example.com", defaults={"summary": summary, "selected": True}
    )
    return BlockedTime.objects.create(
        merchant=merchant,
        start=start,
        end=end,
        all_day=all_day,
        source=BlockedTime.Source.GOOGLE,
        calendar=calendar,
        external_key=key,
        reason=reason,
    )


def manual_block(merchant, start, end, note="") -> BlockedTime:
    return BlockedTime.objects.create(merchant=merchant, start=start, end=end, note=note)


def booking(merchant, start, end, name="Ada Lovelace", email="ada@example.com") -> Booking:
    return Booking.objects.create(merchant=merchant, start=start, end=end, customer_name=name, customer_email=email)
