"""``/app/``: the merchant's week at a glance (bookings and blocked times, day by day).

A plain server-rendered page; the week is chosen with ``?week=YYYY-MM-DD`` (any day of it).
"""

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date

from scheduling import selectors
from scheduling.fields import MAX_YEAR, MIN_YEAR
from scheduling.localtime import local_midnight


@dataclass(frozen=True)
class WeekEntry:
    kind: str  # "booking", "manual" or "synced"
    start: dt.datetime  # in the merchant's zone
    end: dt.datetime
    title: str
    detail: str


@dataclass(frozen=True)
class DayEntry:
    entry: WeekEntry
    from_previous_day: bool
    into_next_day: bool


@dataclass(frozen=True)
class WeekDay:
    date: dt.date
    is_today: bool
    hours: list[str]
    entries: list[DayEntry]


def _week_entries(merchant, start: dt.datetime, end: dt.datetime) -> list[WeekEntry]:
    zone = merchant.zone
    entries = [
        WeekEntry("booking", b.start.astimezone(zone), b.end.astimezone(zone), b.customer_name, b.customer_email)
        for b in selectors.bookings_in_range(merchant=merchant, start=start, end=end)
    ]
    for blocked in selectors.blocked_times_in_range(merchant=merchant, start=start, end=end):
        if blocked.is_synced:
            # Synced blocks carry no event detail: only "Busy" and the calendar's name.
            kind, title = "synced", "Busy"
            detail = blocked.calendar.summary if blocked.calendar_id else blocked.get_source_display()
        else:
            kind, title, detail = "manual", blocked.note or "Blocked", "Manual block"
        entries.append(WeekEntry(kind, blocked.start.astimezone(zone), blocked.end.astimezone(zone), title, detail))
    return sorted(entries, key=lambda entry: (entry.start, entry.end))


@login_required
def week(request):
    merchant = getattr(request.user, "merchant", None)
    if merchant is None:
        return redirect("/admin/" if request.user.is_staff else "/accounts/signup/")
    zone = merchant.zone
    today = timezone.now().astimezone(zone).date()
    try:
        chosen = parse_date(request.GET.get("week", ""))
    except ValueError:  # well-formed but impossible, e.g. 2026-02-30
        chosen = None
    if chosen and not MIN_YEAR <= chosen.year <= MAX_YEAR:
        chosen = None
    monday = (chosen or today) - dt.timedelta(days=(chosen or today).weekday())
    hours_by_weekday: dict[int, list[str]] = {}
    for hours in merchant.business_hours.all():
        hours_by_weekday.setdefault(hours.weekday, []).append(f"{hours.start:%H:%M}\u2013{hours.end:%H:%M}")

    entries = _week_entries(merchant, local_midnight(monday, zone), local_midnight(monday + dt.timedelta(days=7), zone))
    days = []
    for offset in range(7):
        date = monday + dt.timedelta(days=offset)
        day_start, day_end = local_midnight(date, zone), local_midnight(date + dt.timedelta(days=1), zone)
        days.append(
            WeekDay(
                date=date,
                is_today=date == today,
                hours=hours_by_weekday.get(date.weekday(), []),
                entries=[
                    DayEntry(entry, entry.start < day_start, entry.end > day_end)
                    for entry in entries
                    if entry.start < day_end and entry.end > day_start
                ],
            )
        )
    return render(
        request,
        "app/week.html",
        {
            "merchant": merchant,
            "days": days,
            "monday": monday,
            "previous_week": monday - dt.timedelta(days=7),
            "next_week": monday + dt.timedelta(days=7),
            "today": today,
        },
    )
