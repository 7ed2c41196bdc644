"""Graph ``event`` JSON -> the provider-neutral :class:`RemoteEvent` (SPEC §8.1 busy rules).

Only the fields that decide "busy" are read: ``isCancelled``, ``showAs``, the merchant's own
``responseStatus`` with ``isOrganizer``, ``isAllDay`` and the timing. Subjects, bodies,
locations and attendees are never copied. The rules themselves live in
``integrations.sync.rules``; this module only says what Graph's values mean:

- ``isCancelled`` -> cancelled; ``@removed`` -> cancelled (the id is all there is);
- ``showAs`` ``free`` / ``workingElsewhere`` -> transparent (never busy); ``tentative`` ->
  tentative; ``busy``, ``oof`` (out of office), ``unknown`` -> busy;
- ``responseStatus.response`` ``declined`` -> declined; ``tentativelyAccepted`` -> tentative;
  ``notResponded`` and ``none`` on an event the merchant does not organise -> not answered
  (tentative); ``none`` on their own appointment means nothing;
- the product's marker (a single-value extended property, expanded into the answer) -> ours;
- ``isAllDay`` -> ``start_date``/``end_date``: the event's own dates, placed later in the
  merchant's zone; series masters yield nothing (their occurrences do), and an occurrence's
  id is ``{seriesMasterId}#{id}`` so a whole series can be replaced as one group.

https://learn.microsoft.com/en-us/graph/api/resources/event
https://learn.microsoft.com/en-us/graph/api/resources/responsestatus
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from integrations.providers.base import GROUP_SEPARATOR, EventKind, EventStatus, RemoteCalendar, RemoteEvent, Response
from integrations.providers.microsoft.bookings import booking_uid_of

# Fields a delta occurrence lacks and takes from its series master.
SERIES_FIELDS = ("showAs", "isCancelled", "isAllDay", "responseStatus", "isOrganizer")
_RESPONSE = {
    "accepted": Response.ACCEPTED,
    "organizer": None,
    "declined": Response.DECLINED,
    "tentativelyAccepted": Response.TENTATIVE,
    "notResponded": Response.NEEDS_ACTION,
}
# The Windows names Outlook uses most; we ask for UTC (``Prefer: outlook.timezone="UTC"``), so
# these only matter when a server ignores that.
_WINDOWS = {
    "UTC": "UTC",
    "GMT Standard Time": "Europe/London",
    "W. Europe Standard Time": "Europe/Berlin",
    "Romance Standard Time": "Europe/Paris",
    "Central Europe Standard Time": "Europe/Budapest",
    "Central European Standard Time": "Europe/Warsaw",
    "Eastern Standard Time": "America/New_York",
    "Central Standard Time": "America/Chicago",
    "Mountain Standard Time": "America/Denver",
    "Pacific Standard Time": "America/Los_Angeles",
}


class MalformedEvent(ValueError):
    """An event whose timing cannot be read."""


def event_key(item: dict[str, Any]) -> str:
    master = item.get("seriesMasterId")
    if master and item.get("type") in ("occurrence", "exception"):
        return f"{master}{GROUP_SEPARATOR}{item['id']}"
    return item["id"]


def _zone(name: str | None) -> dt.tzinfo:
    if not name:
        return dt.UTC
    try:
        return zoneinfo.ZoneInfo(_WINDOWS.get(name, name))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def _local(value: dict[str, Any] | None) -> dt.datetime:
    raw = (value or {}).get("dateTime")
    if not isinstance(raw, str):
        raise MalformedEvent(f"unreadable dateTime {raw!r}")
    text = raw.removesuffix("Z")
    if "." in text:  # Graph writes seven fractional digits; Python reads six
        head, frac = text.split(".", 1)
        text = f"{head}.{frac[:6]}"
    try:
        return dt.datetime.fromisoformat(text).replace(tzinfo=None)
    except ValueError as exc:
        raise MalformedEvent(f"unreadable dateTime {raw!r}") from exc


def _instant(value: dict[str, Any] | None) -> dt.datetime:
    return _local(value).replace(tzinfo=_zone((value or {}).get("timeZone"))).astimezone(dt.UTC)


def _own_response(event: dict[str, Any]) -> Response | None:
    response = (event.get("responseStatus") or {}).get("response") or "none"
    if response == "none":
        return None if event.get("isOrganizer", True) else Response.NEEDS_ACTION
    if response == "notResponded" and event.get("isOrganizer", False):
        return None
    return _RESPONSE.get(response)


def event_from_graph(item: dict[str, Any], *, master: dict[str, Any] | None = None) -> RemoteEvent | None:
    """One delta / calendarView item -> RemoteEvent; None for a series master.

    ``master``: the series master of a sparse delta occurrence, whose busy fields it lacks.
    Raises :class:`MalformedEvent`."""
    if "@removed" in item:
        if not item.get("id"):
            raise MalformedEvent("removed item without id")
        return RemoteEvent(id=item["id"], status=EventStatus.CANCELLED)
    if not item.get("id"):
        raise MalformedEvent("event without id")
    if item.get("type") == "seriesMaster":
        return None
    if master is not None:
        item = {**{k: master[k] for k in SERIES_FIELDS if k in master}, **item}
    key = event_key(item)
    if item.get("isCancelled"):
        return RemoteEvent(id=key, status=EventStatus.CANCELLED)
    show_as = item.get("showAs") or "busy"
    common = {
        "id": key,
        "ours": booking_uid_of(item) is not None,
        "status": EventStatus.TENTATIVE if show_as == "tentative" else EventStatus.CONFIRMED,
        "transparent": show_as in ("free", "workingElsewhere"),
        "own_response": _own_response(item),
        "kind": {"oof": EventKind.OUT_OF_OFFICE, "workingElsewhere": EventKind.WORKING_LOCATION}.get(
            show_as, EventKind.DEFAULT
        ),
    }
    if item.get("isAllDay"):
        # Midnight to midnight of the event's own dates, whatever zone was asked for.
        start_date = _local(item.get("start")).date()
        end_date = _local(item.get("end")).date()
        if end_date <= start_date:
            end_date = start_date + dt.timedelta(days=1)
        return RemoteEvent(start_date=start_date, end_date=end_date, **common)
    start = _instant(item.get("start"))
    end = _instant(item.get("end")) if item.get("end") else start
    return RemoteEvent(start=start, end=max(start, end), **common)


def calendar_from_graph(entry: dict[str, Any]) -> RemoteCalendar:
    return RemoteCalendar(
        id=entry["id"],
        summary=entry.get("name") or entry["id"],
        primary=bool(entry.get("isDefaultCalendar")),
        time_zone="",  # Graph keeps the zone in mailboxSettings, which needs another permission
    )
