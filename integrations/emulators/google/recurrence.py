"""Expansion of a recurring event's ``recurrence`` lines (RRULE, EXRULE, RDATE, EXDATE).

Google stores iCalendar lines without DTSTART: the master's ``start`` is the first
occurrence and ``start.timeZone`` is the zone the rule is evaluated in (so 10:00 stays
10:00 across daylight-saving changes). dateutil does the rule arithmetic; RDATE/EXDATE
values are parsed here so date-valued exclusions and TZID parameters behave as in
RFC 5545. https://developers.google.com/calendar/api/concepts/events-calendars#recurring_events
"""

from __future__ import annotations

import datetime as dt
import re

from dateutil.rrule import rrulestr

from .timeutil import UTC, zone

_UNTIL = re.compile(r"UNTIL=([0-9TZ]+)", re.IGNORECASE)


def _split_line(line: str) -> tuple[str, dict[str, str], str]:
    head, _, value = line.partition(":")
    name, *params = head.split(";")
    parsed = {}
    for param in params:
        key, _, val = param.partition("=")
        parsed[key.upper()] = val
    return name.strip().upper(), parsed, value.strip()


def _parse_value(text: str, params: dict[str, str], series_tz: dt.tzinfo) -> dt.date | dt.datetime:
    text = text.strip()
    if len(text) == 8 or params.get("VALUE", "").upper() == "DATE":
        return dt.datetime.strptime(text[:8], "%Y%m%d").date()
    if text.endswith(("Z", "z")):
        return dt.datetime.strptime(text[:15], "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
    tz = zone(params["TZID"]) if "TZID" in params else series_tz
    return dt.datetime.strptime(text[:15], "%Y%m%dT%H%M%S").replace(tzinfo=tz)


def _fix_until(rule: str, *, all_day: bool, series_tz: dt.tzinfo) -> str:
    """dateutil wants UNTIL in UTC for aware starts and naive for naive (all-day) starts."""
    match = _UNTIL.search(rule)
    if not match:
        return rule
    raw = match.group(1).upper()
    if all_day:
        if raw.endswith("Z"):
            local = dt.datetime.strptime(raw[:15], "%Y%m%dT%H%M%S").replace(tzinfo=UTC).astimezone(series_tz)
            fixed = local.strftime("%Y%m%dT%H%M%S")
        elif len(raw) == 8:
            fixed = raw + "T000000"
        else:
            fixed = raw
    elif raw.endswith("Z"):
        return rule
    else:
        if len(raw) == 8:
            local = dt.datetime.strptime(raw, "%Y%m%d").replace(hour=23, minute=59, second=59, tzinfo=series_tz)
        else:
            local = dt.datetime.strptime(raw[:15], "%Y%m%dT%H%M%S").replace(tzinfo=series_tz)
        fixed = local.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return rule[: match.start(1)] + fixed + rule[match.end(1) :]


def expand(
    recurrence: list[str],
    first_start: dt.date | dt.datetime,
    *,
    series_tz: dt.tzinfo,
    until: dt.datetime,
    limit: int = 20000,
) -> list[dt.date | dt.datetime]:
    """Original start times of every occurrence up to ``until`` (aware), oldest first.

    ``first_start`` is a date for all-day series (the result holds dates) or an aware
    datetime in ``series_tz`` (the result holds aware datetimes in that zone).
    Raises ValueError for lines dateutil cannot parse.
    """
    all_day = not isinstance(first_start, dt.datetime)
    if all_day:
        dtstart = dt.datetime.combine(first_start, dt.time())
        bound = until.astimezone(series_tz).replace(tzinfo=None)
    else:
        dtstart = first_start
        bound = until
    included: set = set()
    excluded: set = set()
    excluded_days: set[dt.date] = set()
    has_rule = False
    for raw_line in recurrence:
        name, params, value = _split_line(raw_line)
        if name in ("RRULE", "EXRULE"):
            rule = rrulestr(_fix_until(value, all_day=all_day, series_tz=series_tz), dtstart=dtstart, cache=False)
            found = []
            for occurrence in rule.xafter(dtstart, count=limit, inc=True):
                if occurrence > bound:
                    break
                found.append(occurrence)
            if name == "RRULE":
                has_rule = True
                included.update(found)
            else:
                excluded.update(found)
        elif name in ("RDATE", "EXDATE"):
            if params.get("VALUE", "").upper() == "PERIOD":
                continue
            for part in value.split(","):
                parsed = _parse_value(part, params, series_tz)
                if all_day:
                    # A DATE-TIME on an all-day series names the date as written, in its own
                    # TZID (or UTC for ``Z``): ``EXDATE;TZID=Europe/Berlin:20260105T000000``
                    # is 5 January whatever the series zone (DAVx5 and node-ical read it so).
                    day = parsed.date() if isinstance(parsed, dt.datetime) else parsed
                    point = dt.datetime.combine(day, dt.time())
                    (included if name == "RDATE" else excluded).add(point)
                elif isinstance(parsed, dt.datetime):
                    (included if name == "RDATE" else excluded).add(parsed.astimezone(UTC))
                elif name == "EXDATE":
                    excluded_days.add(parsed)
                else:  # an all-day RDATE on a timed series: same wall time as the first occurrence
                    included.add(dt.datetime.combine(parsed, first_start.timetz()).astimezone(UTC))
        else:
            raise ValueError(f"Unsupported recurrence line: {raw_line!r}")
    if not has_rule:
        included.add(dtstart)
    # An RDATE earlier than the series start is still an instance: RFC 5545 (3.8.5.2) builds
    # the recurrence set from DTSTART, the rules and every RDATE, minus the exclusions.
    if all_day:
        result = sorted(point.date() for point in included if point not in excluded and point <= bound)
        return result[:limit]
    excluded_instants = {point.astimezone(UTC) for point in excluded}
    out = []
    for point in sorted(included, key=lambda p: p.astimezone(UTC)):
        instant = point.astimezone(UTC)
        if instant in excluded_instants or point > bound:
            continue
        local = point.astimezone(series_tz)
        if local.date() in excluded_days:
            continue
        out.append(local)
        if len(out) >= limit:
            break
    # RDATE values in other zones may coincide with rule occurrences: drop duplicates.
    unique: list = []
    seen: set = set()
    for point in out:
        key = point.astimezone(UTC)
        if key not in seen:
            seen.add(key)
            unique.append(point)
    return unique
