"""Graph's ``patternedRecurrence``: the original dates of a series' occurrences.

Patterns ``daily``, ``weekly``, ``absoluteMonthly``, ``relativeMonthly``, ``absoluteYearly``,
``relativeYearly``; ranges ``endDate`` (inclusive), ``numbered``, ``noEnd`` (expanded up to a
limit date). https://learn.microsoft.com/en-us/graph/api/resources/patternedrecurrence
"""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
from collections.abc import Iterator

from .errors import EmulatorError

DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
INDEXES = {"first": 0, "second": 1, "third": 2, "fourth": 3, "last": -1}
PATTERNS = {"daily", "weekly", "absoluteMonthly", "relativeMonthly", "absoluteYearly", "relativeYearly"}
RANGES = {"endDate", "noEnd", "numbered"}


def validate(recurrence: dict) -> None:
    pattern, rng = recurrence.get("pattern") or {}, recurrence.get("range") or {}
    if pattern.get("type") not in PATTERNS:
        raise EmulatorError(f"recurrence.pattern.type must be one of {sorted(PATTERNS)}")
    if rng.get("type") not in RANGES:
        raise EmulatorError(f"recurrence.range.type must be one of {sorted(RANGES)}")
    if int(pattern.get("interval", 1)) < 1:
        raise EmulatorError("recurrence.pattern.interval must be at least 1")
    if pattern["type"] in ("weekly", "relativeMonthly", "relativeYearly") and not pattern.get("daysOfWeek"):
        raise EmulatorError(f"a {pattern['type']} pattern needs daysOfWeek")
    for day in pattern.get("daysOfWeek") or ():
        if day not in DAYS:
            raise EmulatorError(f"unknown day of week {day!r}")
    if pattern["type"] in ("absoluteMonthly", "absoluteYearly") and not pattern.get("dayOfMonth"):
        raise EmulatorError(f"an {pattern['type']} pattern needs dayOfMonth")
    if pattern["type"] in ("absoluteYearly", "relativeYearly") and not pattern.get("month"):
        raise EmulatorError(f"a {pattern['type']} pattern needs month")
    if not rng.get("startDate"):
        raise EmulatorError("recurrence.range.startDate is required")
    if rng["type"] == "endDate" and not rng.get("endDate"):
        raise EmulatorError("an endDate range needs endDate")
    if rng["type"] == "numbered" and int(rng.get("numberOfOccurrences") or 0) < 1:
        raise EmulatorError("a numbered range needs numberOfOccurrences >= 1")


def _weekdays(pattern: dict) -> set[int]:
    return {DAYS.index(day) for day in pattern.get("daysOfWeek") or ()}


def _month_day(year: int, month: int, day: int) -> dt.date:
    return dt.date(year, month, min(day, _calendar.monthrange(year, month)[1]))


def _relative(year: int, month: int, weekdays: set[int], index: str) -> dt.date | None:
    days = [
        dt.date(year, month, d)
        for d in range(1, _calendar.monthrange(year, month)[1] + 1)
        if dt.date(year, month, d).weekday() in weekdays
    ]
    if not days:
        return None
    position = INDEXES.get(index or "first", 0)
    return days[position] if position < len(days) else None


def _add_months(day: dt.date, months: int) -> tuple[int, int]:
    total = day.year * 12 + day.month - 1 + months
    return total // 12, total % 12 + 1


def _candidates(pattern: dict, start: dt.date) -> Iterator[dt.date]:
    kind, interval = pattern["type"], int(pattern.get("interval", 1))
    if kind == "daily":
        day = start
        while True:
            yield day
            day += dt.timedelta(days=interval)
    elif kind == "weekly":
        first = DAYS.index(pattern.get("firstDayOfWeek") or "sunday")
        week_start = start - dt.timedelta(days=(start.weekday() - first) % 7)
        offsets = sorted((d - first) % 7 for d in _weekdays(pattern))
        while True:
            for offset in offsets:
                yield week_start + dt.timedelta(days=offset)
            week_start += dt.timedelta(weeks=interval)
    elif kind in ("absoluteMonthly", "relativeMonthly", "absoluteYearly", "relativeYearly"):
        yearly = kind.endswith("Yearly")
        step = 12 * interval if yearly else interval
        anchor = dt.date(start.year, int(pattern["month"]) if yearly else start.month, 1)
        n = 0
        while True:
            year, month = _add_months(anchor, n * step)
            if kind.startswith("absolute"):
                yield _month_day(year, month, int(pattern["dayOfMonth"]))
            else:
                found = _relative(year, month, _weekdays(pattern), pattern.get("index", "first"))
                if found is not None:
                    yield found
            n += 1
            if year > 9000:
                return


def occurrence_dates(recurrence: dict, limit: dt.date) -> list[dt.date]:
    """Original dates of every occurrence up to ``limit`` (inclusive), cancelled ones included."""
    pattern, rng = recurrence["pattern"], recurrence["range"]
    start = dt.date.fromisoformat(rng["startDate"])
    end = limit
    if rng["type"] == "endDate":
        end = min(end, dt.date.fromisoformat(rng["endDate"]))
    count = int(rng["numberOfOccurrences"]) if rng["type"] == "numbered" else None
    out: list[dt.date] = []
    for day in _candidates(pattern, start):
        if day < start:
            continue
        if day > end or (count is not None and len(out) >= count):
            break
        out.append(day)
    return out


def first_date(recurrence: dict) -> list[dt.date]:
    """The first occurrence's date (one search period long enough for any pattern), or []."""
    start = dt.date.fromisoformat(recurrence["range"]["startDate"])
    interval = max(1, int(recurrence["pattern"].get("interval", 1)))
    return occurrence_dates(recurrence, start + dt.timedelta(days=366 * interval + 62))[:1]
