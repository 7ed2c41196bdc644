"""Two-way for Google (SPEC §10) and the live check (§11): the client's write and free/busy calls.

- ``bookings_calendar_create``: ``calendars.insert``, allowed by ``calendar.app.created``.
  That scope writes only in calendars our OAuth client created, so every other calendar of
  the merchant stays out of reach, whatever a bug on our side might ask.
- ``booking_event_put``: ``events.insert`` with the id derived from the booking
  (``booking_event_id``); Google answers 409 ``duplicate`` when that id exists (a retry after
  a lost answer, a move, a deleted copy), and then the same body goes to ``events.update``,
  which replaces the event (and undeletes a deleted one). No ``iCalUID``: Google takes one of
  ``id`` / ``iCalUID`` at creation, and only ``id`` makes an insert collide. The marker is a
  private extended property, so the copy is recognised wherever the merchant moves it.
- ``booking_event_delete``: ``events.delete``; 404 and 410 ``deleted`` mean it is gone already.
- ``busy_between``: ``freeBusy.query``; busy periods become confirmed events, so the one busy
  rule decides (``integrations.sync.rules``). A calendar Google reports an error for raises:
  the caller then decides from what it stored instead.

https://developers.google.com/calendar/api/v3/reference/calendars/insert
https://developers.google.com/calendar/api/v3/reference/events/insert
https://developers.google.com/calendar/api/v3/reference/events/update
https://developers.google.com/calendar/api/v3/reference/freebusy/query
https://developers.google.com/calendar/api/guides/extended-properties
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from integrations.providers.base import (
    BOOKING_MARKER,
    BookingEvent,
    InvalidRequest,
    NotFound,
    ProviderError,
    RemoteCalendar,
    RemoteEvent,
    TransientError,
    booking_event_id,
)

FREEBUSY_MAX_CALENDARS = 50  # calendarExpansionMax's maximum


class EventExists(ProviderError):
    """409 ``duplicate``: the calendar already holds an event with that id (deleted ones too)."""


def _zone(name: str) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def _when(value: dt.datetime, time_zone: str) -> dict[str, str]:
    # The merchant's zone, so the copy reads right in Google's UI; the offset keeps it exact.
    return {"dateTime": value.astimezone(_zone(time_zone)).isoformat(), "timeZone": time_zone or "UTC"}


def booking_event_body(event: BookingEvent) -> dict[str, Any]:
    """The Google Event of a booking's copy: no attendees (Google would mail them), the marker."""
    return {
        "id": booking_event_id(event.booking_uid),
        "status": "confirmed",
        "summary": event.title,
        "description": event.description,
        "start": _when(event.start, event.time_zone),
        "end": _when(event.end, event.time_zone),
        "extendedProperties": {"private": {BOOKING_MARKER: event.booking_uid}},
    }


def _utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _calendar_error(calendar_id: str, errors: list[dict]) -> ProviderError:
    reason = (errors[0] or {}).get("reason", "") if errors else ""
    message = f"freeBusy.query could not read calendar {calendar_id} ({reason or 'error'})"
    if reason == "notFound":
        return NotFound(message)
    if reason in ("tooManyCalendarsRequested", "groupTooBig"):
        return InvalidRequest(message)
    return TransientError(message)


class BookingWrites:
    """Mixed into ``GoogleCalendarClient``: needs its ``service`` and ``_execute``."""

    def bookings_calendar_create(self, name: str, *, time_zone: str) -> RemoteCalendar:
        body = {"summary": name, "timeZone": time_zone}
        created = self._execute(lambda: self.service.calendars().insert(body=body))
        return RemoteCalendar(
            id=created["id"], summary=created.get("summary") or name, time_zone=created.get("timeZone", time_zone)
        )

    def booking_event_put(self, calendar_id: str, event: BookingEvent) -> None:
        body = booking_event_body(event)
        try:
            self._execute(lambda: self.service.events().insert(calendarId=calendar_id, body=body, sendUpdates="none"))
        except EventExists:
            self._execute(
                lambda: self.service.events().update(
                    calendarId=calendar_id, eventId=body["id"], body=body, sendUpdates="none"
                )
            )

    def booking_event_delete(self, calendar_id: str, booking_uid: str) -> None:
        event_id = booking_event_id(booking_uid)
        try:
            self._execute(
                lambda: self.service.events().delete(calendarId=calendar_id, eventId=event_id, sendUpdates="none"),
                expect_object=False,
            )
        except NotFound:
            return  # never written, deleted already (410 ``deleted``), or the calendar is gone

    def busy_between(self, calendar_ids: list[str], *, start: dt.datetime, end: dt.datetime) -> list[RemoteEvent]:
        events: list[RemoteEvent] = []
        for offset in range(0, len(calendar_ids), FREEBUSY_MAX_CALENDARS):
            chunk = calendar_ids[offset : offset + FREEBUSY_MAX_CALENDARS]
            body = {"timeMin": _utc(start), "timeMax": _utc(end), "items": [{"id": cid} for cid in chunk]}
            # One attempt: the live check has a deadline of its own and falls back on any failure.
            answer = self._execute(lambda body=body: self.service.freebusy().query(body=body), retry=False)
            calendars = answer.get("calendars") or {}
            for calendar_id in chunk:
                entry = calendars.get(calendar_id)
                if entry is None or entry.get("errors"):
                    raise _calendar_error(calendar_id, (entry or {}).get("errors") or [])
                for index, period in enumerate(entry.get("busy") or ()):
                    try:
                        low = dt.datetime.fromisoformat(period["start"]).astimezone(dt.UTC)
                        high = dt.datetime.fromisoformat(period["end"]).astimezone(dt.UTC)
                    except (KeyError, TypeError, ValueError) as exc:
                        raise TransientError("Unreadable busy period in freeBusy.query's answer") from exc
                    events.append(RemoteEvent(id=f"freebusy:{calendar_id}:{index}", start=low, end=high))
        return events
