"""Calendar API v3 ``freeBusy.query``: busy periods of a set of calendars over an interval.

What counts as busy follows Google's free/busy view: events that are not cancelled, opaque
(``transparency`` other than ``transparent``), and not declined by the calendar's owner
(the attendee entry whose email is the calendar id). Recurring series are expanded.
Periods are clipped to ``[timeMin, timeMax)`` and overlapping or touching ones merged.
A calendar the account cannot reach answers inside the 200 with
``{"errors": [{"domain": "global", "reason": "notFound"}], "busy": []}``, as Google does.

https://developers.google.com/calendar/api/v3/reference/freebusy/query
"""

from __future__ import annotations

import datetime as dt

from . import errors
from .calendar import authenticate, json_response, resolve_calendar
from .errors import ApiError, Response
from .listing import EventQuery, _full_listing
from .state import Calendar
from .timeutil import UTC, format_datetime, is_valid_zone, parse_rfc3339, zone
from .wire import Request

MAX_CALENDARS = 50  # calendarExpansionMax's documented maximum


def _instant(body: dict, name: str) -> dt.datetime:
    raw = body.get(name)
    if not raw:
        raise ApiError(400, "required", f"Missing {name} parameter.", location=name, location_type="parameter")
    try:
        return parse_rfc3339(str(raw)).astimezone(UTC)
    except ValueError:
        raise errors.bad_request("Bad Request") from None


def _declined_by_owner(item, calendar: Calendar) -> bool:
    owner = calendar.id.lower()
    for attendee in item.body.get("attendees") or ():
        if (attendee.get("email") or "").lower() == owner:
            return attendee.get("responseStatus") == "declined"
    return False


def busy_periods(calendar: Calendar, start: dt.datetime, end: dt.datetime, horizon: dt.datetime) -> list:
    """Merged ``(start, end)`` UTC pairs during which ``calendar`` is busy, clipped to the interval."""
    periods = []
    for item in _full_listing(calendar, EventQuery(single_events=True, time_min=start, time_max=end), horizon):
        if item.status == "cancelled" or item.body.get("transparency") == "transparent":
            continue
        if _declined_by_owner(item, calendar):
            continue
        low, high = max(item.start_utc, start), min(item.end_utc, end)
        if high > low:
            periods.append((low, high))
    merged: list[list[dt.datetime]] = []
    for low, high in sorted(periods):
        if merged and low <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    return [(low, high) for low, high in merged]


def _echo(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def freebusy_query(emu, req: Request) -> Response:
    token = authenticate(emu, req, "freebusy.query")
    body = req.json()
    if not isinstance(body, dict):
        raise ApiError(400, "parseError", "Parse Error")
    start, end = _instant(body, "timeMin"), _instant(body, "timeMax")
    if end <= start:
        raise ApiError(
            400,
            "timeRangeEmpty",
            "The specified time range is empty.",
            domain="calendar",
            location="timeMax",
            location_type="parameter",
        )
    zone_name = body.get("timeZone") or "UTC"
    if not isinstance(zone_name, str) or not is_valid_zone(zone_name):
        raise errors.invalid_param("timeZone", f"Invalid time zone definition for time zone: {zone_name}")
    tz = zone(zone_name)
    items = body.get("items") or []
    if not isinstance(items, list):
        raise errors.invalid_param("items", "Invalid value for items")
    calendars: dict[str, dict] = {}
    with emu.lock:
        for index, item in enumerate(items):
            raw_id = item.get("id") if isinstance(item, dict) else None
            if not raw_id:
                raise ApiError(400, "required", "Required", location=f"items[{index}].id", location_type="parameter")
            if index >= MAX_CALENDARS:
                calendars[raw_id] = {
                    "errors": [{"domain": "usageLimits", "reason": "tooManyCalendarsRequested"}],
                    "busy": [],
                }
                continue
            try:
                calendar, _ = resolve_calendar(emu, token, raw_id)
            except ApiError:
                calendars[raw_id] = {"errors": [{"domain": "global", "reason": "notFound"}], "busy": []}
                continue
            calendars[raw_id] = {
                "busy": [
                    {"start": format_datetime(low, tz), "end": format_datetime(high, tz)}
                    for low, high in busy_periods(calendar, start, end, emu.horizon())
                ]
            }
    return json_response(
        req, {"kind": "calendar#freeBusy", "timeMin": _echo(start), "timeMax": _echo(end), "calendars": calendars}
    )
