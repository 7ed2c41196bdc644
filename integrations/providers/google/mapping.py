"""Google Calendar ``Event`` JSON -> the provider-neutral :class:`RemoteEvent`.

Only the fields that decide "busy" are read: status, transparency, the calendar owner's
own attendee entry (``self: true``), ``eventType`` and the timing, plus whether the product
wrote the event (a booking copy, SPEC §10: the private extended property
``BOOKING_MARKER``, or the id derived from the booking, both kept when the merchant moves it
to another calendar). Titles, descriptions, locations and attendee lists are never copied
(SPEC §4, privacy).
https://developers.google.com/calendar/api/v3/reference/events#resource
https://developers.google.com/calendar/api/guides/extended-properties
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import zoneinfo
from typing import Any

from integrations.providers.base import (
    BOOKING_MARKER,
    EventKind,
    EventStatus,
    RemoteCalendar,
    RemoteEvent,
    Response,
)

logger = logging.getLogger(__name__)

_STATUS = {"confirmed": EventStatus.CONFIRMED, "tentative": EventStatus.TENTATIVE, "cancelled": EventStatus.CANCELLED}
_RESPONSE = {
    "accepted": Response.ACCEPTED,
    "declined": Response.DECLINED,
    "tentative": Response.TENTATIVE,
    "needsAction": Response.NEEDS_ACTION,
}
_KIND = {
    "default": EventKind.DEFAULT,
    "outOfOffice": EventKind.OUT_OF_OFFICE,
    "focusTime": EventKind.FOCUS_TIME,
    "workingLocation": EventKind.WORKING_LOCATION,
    "birthday": EventKind.BIRTHDAY,
    "fromGmail": EventKind.DEFAULT,
}


# ``booking_event_id``: "mcb" and the booking UUID's 32 hex digits.
_BOOKING_EVENT_ID = re.compile(r"^mcb[0-9a-f]{32}$")


def is_booking_copy(event: dict[str, Any]) -> bool:
    """The product wrote this event (SPEC §10): its marker, or the id a booking gives it."""
    private = (event.get("extendedProperties") or {}).get("private") or {}
    return BOOKING_MARKER in private or bool(_BOOKING_EVENT_ID.match(event.get("id") or ""))


class MalformedEvent(ValueError):
    """An event whose timing cannot be read."""


# ``GMT+02:00``, ``GMT-05:30``, ``UTC+5``, ``GMT``: offset names seen in Google responses
# (e.g. home-assistant/core#81917). Not IANA names (ZoneInfo refuses them), and not POSIX
# ``Etc/GMT+2`` either, whose sign is inverted.
_OFFSET_NAME = re.compile(r"^(?:GMT|UTC)(?:([+-])(\d{1,2})(?::?(\d{2}))?)?$", re.IGNORECASE)


def _zone(name: str | None) -> dt.tzinfo | None:
    """An IANA zone, or the fixed offset an offset name spells; None when neither."""
    if not name:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        pass
    match = _OFFSET_NAME.match(name.strip())
    if not match:
        return None
    sign, hours, minutes = match.groups()
    offset = dt.timedelta(hours=int(hours or 0), minutes=int(minutes or 0))
    if offset >= dt.timedelta(hours=24):
        return None
    return dt.timezone(-offset if sign == "-" else offset)


def _instant(value: dict[str, Any], default_zone: str | None) -> dt.datetime:
    raw = value.get("dateTime")
    try:
        parsed = _fromisoformat(raw)
    except (TypeError, ValueError) as exc:
        raise MalformedEvent(f"unreadable dateTime {raw!r}") from exc
    zone = parsed.tzinfo
    if zone is None:
        # RFC 3339 requires an offset unless ``timeZone`` names the zone.
        zone = _zone(value.get("timeZone")) or _zone(default_zone) or dt.UTC
        parsed = parsed.replace(tzinfo=zone)
    elif zone is dt.UTC:
        return parsed  # ``...Z``: already what we store
    return parsed.astimezone(dt.UTC)


_fromisoformat = dt.datetime.fromisoformat


def _date(value: dict[str, Any]) -> dt.date:
    try:
        return dt.date.fromisoformat(value["date"])
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedEvent(f"unreadable date {value.get('date')!r}") from exc


def _own_response(event: dict[str, Any]) -> Response | None:
    for attendee in event.get("attendees") or ():
        if attendee.get("self"):
            return _RESPONSE.get(attendee.get("responseStatus", "needsAction"), Response.NEEDS_ACTION)
    return None


def event_from_google(event: dict[str, Any], *, calendar_zone: str | None = None) -> RemoteEvent:
    """Map one event (an expanded instance with ``singleEvents=true``). Raises :class:`MalformedEvent`.

    Called for every listed event (22,468 in a full sync of bench/sync.py's calendar), so
    written to build the RemoteEvent in one call, without intermediate dicts.
    """
    event_id = event.get("id")
    if not event_id:
        raise MalformedEvent("event without id")
    status = _STATUS.get(event.get("status", "confirmed"), EventStatus.CONFIRMED)
    if status is EventStatus.CANCELLED:
        # Tombstones only guarantee the id.
        return RemoteEvent(id=event_id, status=EventStatus.CANCELLED)
    start, end = event.get("start") or {}, event.get("end") or {}
    transparent = event.get("transparency") == "transparent"
    own_response = _own_response(event) if "attendees" in event else None
    kind = _KIND.get(event.get("eventType", "default"), EventKind.OTHER)
    ours = is_booking_copy(event)
    if "date" in start:
        start_date = _date(start)
        end_date = _date(end) if "date" in end else start_date + dt.timedelta(days=1)
        if end_date <= start_date:
            end_date = start_date + dt.timedelta(days=1)
        return RemoteEvent(
            id=event_id, status=status, start_date=start_date, end_date=end_date,
            transparent=transparent, own_response=own_response, kind=kind, ours=ours,
        )  # fmt: skip
    if "dateTime" not in start:
        raise MalformedEvent("event without start")
    start_at = _instant(start, calendar_zone)
    end_at = _instant(end, calendar_zone) if "dateTime" in end else start_at
    return RemoteEvent(
        id=event_id, status=status, start=start_at, end=max(end_at, start_at),
        transparent=transparent, own_response=own_response, kind=kind, ours=ours,
    )  # fmt: skip


def calendar_from_google(entry: dict[str, Any]) -> RemoteCalendar:
    """Map one ``calendarList`` entry; the merchant's own name for it wins."""
    return RemoteCalendar(
        id=entry["id"],
        summary=entry.get("summaryOverride") or entry.get("summary") or entry["id"],
        primary=bool(entry.get("primary")),
        time_zone=entry.get("timeZone", ""),
    )
