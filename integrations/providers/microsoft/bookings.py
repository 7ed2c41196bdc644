"""Booking copies in Graph (SPEC §10): the marker, the event body, and the queries that find
the product's events again.

Graph lets no client choose an event id, so the booking is the key through a **single-value
extended property**: a String property in a GUID namespace of our own, named
``BOOKING_MARKER``, whose value is the booking's UID. Exchange keeps such properties on the
item when the merchant moves it to another calendar, which is what self-exclusion needs. A
create also carries ``transactionId`` (Graph's guard against a retried POST making a second
event), derived from the booking and its times.

https://learn.microsoft.com/en-us/graph/api/resources/extended-properties-overview
https://learn.microsoft.com/en-us/graph/api/singlevaluelegacyextendedproperty-get
https://learn.microsoft.com/en-us/graph/api/resources/event (transactionId)
https://learn.microsoft.com/en-us/graph/api/resources/datetimetimezone
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from typing import Any
from urllib.parse import quote

from integrations.providers.base import BOOKING_MARKER, BOOKING_UID_DOMAIN, BookingEvent

# The property set (namespace) GUID is ours, derived once from our domain: any fixed GUID would do.
MARKER_NAMESPACE = str(uuid.uuid5(uuid.NAMESPACE_DNS, BOOKING_UID_DOMAIN))
MARKER_PROPERTY_ID = f"String {{{MARKER_NAMESPACE}}} Name {BOOKING_MARKER}"
EXTENDED = "singleValueExtendedProperties"
# ``$expand`` that makes an answer carry the marker (listings, calendarView, one event).
MARKER_EXPAND = f"{EXTENDED}($filter=id eq '{MARKER_PROPERTY_ID}')"


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def marker_filter(booking_uid: str | None = None) -> str:
    """``$filter`` for the events carrying the marker: of one booking, or (None) of any."""
    value = f"ep/value eq {_literal(booking_uid)}" if booking_uid else "ep/value ne ''"
    return f"{EXTENDED}/Any(ep: ep/id eq {_literal(MARKER_PROPERTY_ID)} and {value})"


_SAFE = "$,()'=:/"


def query(params: dict[str, str]) -> str:
    """A query string with OData's ``$`` names kept and spaces as %20 (Graph wants them encoded)."""
    return "&".join(f"{name}={quote(value, safe=_SAFE)}" for name, value in params.items())


def booking_uid_of(item: dict[str, Any]) -> str | None:
    """The booking UID an event's expanded properties carry; None when it is not ours."""
    for prop in item.get(EXTENDED) or ():
        if isinstance(prop, dict) and str(prop.get("id", "")).lower() == MARKER_PROPERTY_ID.lower():
            return prop.get("value") or None
    return None


def transaction_id(event: BookingEvent) -> str:
    """The same for a retry of the same write; another for the booking moved elsewhere."""
    key = f"{event.booking_uid}|{event.start.isoformat()}|{event.end.isoformat()}"
    return str(uuid.uuid5(uuid.NAMESPACE_URL, key))


def _when(value: dt.datetime, zone_name: str) -> dict[str, str]:
    """A dateTimeTimeZone in the merchant's zone (Graph accepts IANA names), else UTC."""
    try:
        zone = zoneinfo.ZoneInfo(zone_name) if zone_name else dt.UTC
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone, zone_name = dt.UTC, ""
    local = value.astimezone(zone).replace(tzinfo=None)
    return {"dateTime": local.isoformat(timespec="seconds"), "timeZone": zone_name or "UTC"}


def event_body(event: BookingEvent) -> dict[str, Any]:
    """The Graph event for a booking copy: busy, no reminder, the marker on it."""
    return {
        "subject": event.title,
        "body": {"contentType": "text", "content": event.description},
        "start": _when(event.start, event.time_zone),
        "end": _when(event.end, event.time_zone),
        "showAs": "busy",
        "isReminderOn": False,
        EXTENDED: [{"id": MARKER_PROPERTY_ID, "value": event.booking_uid}],
    }
