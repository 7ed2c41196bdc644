"""Two-way CalDAV (SPEC §10, §11): the bookings calendar, the booking copies, the live check.

The password that reads the account also writes it, so nothing more is asked of the
merchant; what keeps the merchant's own calendars untouched is that these functions write
only to the calendar the product made (the service passes its id) and to resources named
after a booking.

- :func:`calendar_create`: ``MKCALENDAR`` (RFC 4791 §5.3.1) of ``{home}/{slug}/`` for VEVENTs,
  named as asked, with the merchant's zone as ``calendar-timezone``. The slug is derived from
  the connection, so a retry after a lost answer (or turning two-way on again) finds the
  calendar it made instead of making a second one. A server that refuses (403, 405, 501...)
  raises :class:`PermissionDenied`: the merchant then picks a calendar.
- :func:`event_put`: ``PUT {calendar}/{booking uid}.ics``, one VEVENT whose UID is
  ``booking_event_uid`` and which carries ``X-MERCHANT-CALENDAR-BOOKING``; the same resource
  every time, so a retry overwrites instead of duplicating (RFC 4791 §5.3.2).
- :func:`event_delete`: ``DELETE``; already gone (404) is fine.
- :func:`busy_between`: ``REPORT calendar-query`` with a ``time-range`` (RFC 4791 §7.8, §9.9)
  per calendar, expanded locally exactly as a sync would (``events.timing_only`` then
  ``events.occurrences``), so the live check and the stored blocks cannot disagree.

Every request goes through the same HTTP layer as the sync (``http.py``): private addresses,
redirects and credentials are checked there for writes too.
https://www.rfc-editor.org/rfc/rfc4791  https://www.rfc-editor.org/rfc/rfc5545
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
import zoneinfo
from urllib.parse import quote, unquote, urljoin, urlsplit

import icalendar

from integrations.providers.base import (
    BOOKING_ICAL_PROPERTY,
    BookingEvent,
    PermissionDenied,
    RemoteCalendar,
    RemoteEvent,
    TransientError,
    booking_event_uid,
)
from integrations.providers.caldav import xml
from integrations.providers.caldav.discovery import calendar_at, same_url
from integrations.providers.caldav.events import UnreadableCalendar, group_of, occurrences, timing_only
from integrations.providers.caldav.http import ICALENDAR
from integrations.providers.caldav.session import DAVSession

logger = logging.getLogger(__name__)

PRODID = "-//merchant-calendar//bookings//EN"
# MKCALENDAR refusals that mean "not here" (RFC 4791 §5.3.1: 403 for a failed precondition,
# RFC 4918 §9.3.1: 405 when the URL is taken, 409 for Radicale's resource-must-be-null,
# 501 for servers without MKCALENDAR): the URL may already hold the calendar we made.
MKCALENDAR_REFUSED = (403, 405, 409, 501)
_SLUG_NAMESPACE = uuid.UUID("5b0c1c8e-8f63-4d2e-9a55-0e8e5b3f7a21")
QUERY_MARGIN = dt.timedelta(days=1)  # floating times: the server may compare them in UTC (§4.2)


def bookings_slug(home_url: str, merchant_id: object) -> str:
    """The bookings calendar's path segment: the same for every attempt of one merchant's account."""
    parts = urlsplit(home_url)
    account = f"{(parts.hostname or '').lower()}:{parts.port or ''}{unquote(parts.path).rstrip('/')}"
    return str(uuid.uuid5(_SLUG_NAMESPACE, f"{account}|{merchant_id}"))


def _collection(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def calendar_timezone(time_zone: str, today: dt.date | None = None) -> str | None:
    """A VCALENDAR holding one VTIMEZONE (RFC 4791 §5.2.2), or None for a zone we cannot name."""
    today = today or dt.datetime.now(dt.UTC).date()
    try:
        zone = icalendar.Timezone.from_tzid(
            time_zone, first_date=dt.date(today.year - 1, 1, 1), last_date=dt.date(today.year + 20, 1, 1)
        )
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, KeyError):
        return None
    calendar = icalendar.Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    calendar.add_component(zone)
    return calendar.to_ical().decode()


def calendar_create(session: DAVSession, home_url: str, slug: str, name: str, *, time_zone: str) -> RemoteCalendar:
    url = urljoin(_collection(home_url), quote(slug, safe="") + "/")
    body = xml.mkcalendar(name, timezone=calendar_timezone(time_zone) if time_zone else None)
    answer = session.call("MKCALENDAR", url, body=body, accept=(200, 201, *MKCALENDAR_REFUSED), what="MKCALENDAR")
    if answer.status in (200, 201):
        return RemoteCalendar(id=url, summary=name[:255], time_zone=time_zone)
    existing = calendar_at(session, url)  # made by an earlier attempt whose answer was lost
    if existing is not None:
        return existing
    raise PermissionDenied(f"the CalDAV server does not let us create a calendar (MKCALENDAR: {answer.status})")


def event_url(calendar_id: str, booking_uid: str) -> str:
    return urljoin(_collection(calendar_id), quote(booking_uid, safe="") + ".ics")


def booking_ics(event: BookingEvent, *, stamp: dt.datetime | None = None) -> bytes:
    """The copy of one booking: times in UTC (no VTIMEZONE to get wrong), no attendees (the
    customer is never invited by the merchant's server), the marker carrying the booking."""
    calendar = icalendar.Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    vevent = icalendar.Event()
    vevent.add("UID", booking_event_uid(event.booking_uid))
    vevent.add("DTSTAMP", stamp or dt.datetime.now(dt.UTC))
    vevent.add("DTSTART", event.start.astimezone(dt.UTC))
    vevent.add("DTEND", event.end.astimezone(dt.UTC))
    vevent.add("SUMMARY", event.title)
    if event.description:
        vevent.add("DESCRIPTION", event.description)
    vevent.add("STATUS", "CONFIRMED")
    vevent.add("TRANSP", "OPAQUE")
    vevent.add(BOOKING_ICAL_PROPERTY, event.booking_uid)
    calendar.add_component(vevent)
    return calendar.to_ical()


def event_put(session: DAVSession, calendar_id: str, event: BookingEvent) -> None:
    session.call(
        "PUT", event_url(calendar_id, event.booking_uid), body=booking_ics(event),
        content_type=ICALENDAR, accept=(200, 201, 204), what="booking PUT",
    )  # fmt: skip


def event_delete(session: DAVSession, calendar_id: str, booking_uid: str) -> None:
    session.call("DELETE", event_url(calendar_id, booking_uid), accept=(200, 204, 404), what="booking DELETE")


def busy_between(
    session: DAVSession,
    calendar_ids: list[str],
    *,
    start: dt.datetime,
    end: dt.datetime,
    own: frozenset[str],
    zone: zoneinfo.ZoneInfo,
) -> list[RemoteEvent]:
    """Every occurrence in these calendars overlapping ``[start, end)``, asked now, once per
    calendar and without in-call retries (the caller falls back to the stored blocks)."""
    events: list[RemoteEvent] = []
    body = xml.calendar_query(start - QUERY_MARGIN, end + QUERY_MARGIN)
    for calendar_id in calendar_ids:
        answer = session.call("REPORT", calendar_id, body=body, depth="1", attempts=1, what="calendar-query")
        try:
            responses, _ = xml.multistatus(answer.body)
        except xml.UnreadableXML as exc:
            raise TransientError(str(exc)) from exc
        for response in responses:
            url = urljoin(answer.url, response.href)
            data = response.text(f"{xml.C}calendar-data")
            if same_url(url, calendar_id) or not data:
                continue  # iCloud lists the collection itself among the results
            try:
                found = occurrences(
                    timing_only(data, own), group=group_of(urlsplit(url).path), own=own, zone=zone,
                    window_start=start, window_end=end,
                )  # fmt: skip
            except UnreadableCalendar:
                logger.warning("an unreadable CalDAV object was left out of a live check")
                continue
            events += [e for e in found if _overlaps(e, start, end, zone)]
    return events


def _overlaps(event: RemoteEvent, start: dt.datetime, end: dt.datetime, zone: zoneinfo.ZoneInfo) -> bool:
    if event.start is not None and event.end is not None:
        return event.start < end and event.end > start
    if event.start_date is None or event.end_date is None:
        return False
    first, last = start.astimezone(zone).date(), (end - dt.timedelta(microseconds=1)).astimezone(zone).date()
    return event.start_date <= last and event.end_date > first  # whole days in the merchant's zone
