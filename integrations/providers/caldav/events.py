"""iCalendar -> :class:`RemoteEvent` occurrences: parsing, local expansion, busy fields (SPEC §8.2).

``icalendar`` parses (it resolves VTIMEZONEs and maps Windows zone names such as
``W. Europe Standard Time`` to IANA zones); ``recurring-ical-events`` expands RRULE, RDATE,
EXDATE and RECURRENCE-ID overrides (``RANGE=THISANDFUTURE`` too) lazily, so endless series
stop at the window's end. Floating times are read in the merchant's zone.

What we keep of an object (:func:`timing_only`) is what decides timing and busyness and
nothing else: UID, DTSTART/DTEND/DURATION, RRULE/RDATE/EXDATE/RECURRENCE-ID, STATUS,
TRANSP, Microsoft's busy status, the product's own marker (``X-MERCHANT-CALENDAR-BOOKING``,
so a booking's copy stays ``ours`` through the horizon roll), and only the merchant's *own*
ATTENDEE/ORGANIZER line with its PARTSTAT, plus the VTIMEZONEs. No SUMMARY, DESCRIPTION,
LOCATION or other attendees. Both the live sync and the horizon roll expand this stripped
form, so they cannot disagree.
https://icalendar.readthedocs.io/  https://github.com/niccokunzmann/python-recurring-ical-events
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Iterable
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events

from integrations.providers.base import (
    BOOKING_ICAL_PROPERTY,
    BOOKING_UID_DOMAIN,
    GROUP_SEPARATOR,
    EventStatus,
    RemoteEvent,
    Response,
)

logger = logging.getLogger(__name__)

KEPT = (
    "UID", "DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE", "EXRULE", "RECURRENCE-ID", "STATUS",
    "TRANSP", "SEQUENCE", "X-MICROSOFT-CDO-BUSYSTATUS", "X-MICROSOFT-CDO-INTENDEDSTATUS", BOOKING_ICAL_PROPERTY,
)  # fmt: skip
PARTSTAT = {
    "ACCEPTED": Response.ACCEPTED,
    "DECLINED": Response.DECLINED,
    "DELEGATED": Response.DECLINED,  # handed to someone else: not the merchant's time
    "TENTATIVE": Response.TENTATIVE,
    "NEEDS-ACTION": Response.NEEDS_ACTION,
}
MS_FREE = frozenset({"FREE", "WORKINGELSEWHERE"})
GROUP_MAX = 400  # external_key is 512 characters; longer paths are hashed
MARGIN = dt.timedelta(days=2)  # floating and all-day times are compared before placing them in the zone


class UnreadableCalendar(ValueError):
    pass


def group_of(path: str) -> str:
    """An object's group (``EventPage.replaced_groups``): its href path, hashed when too long."""
    path = unquote(path)
    return path if len(path) <= GROUP_MAX else "sha256:" + hashlib.sha256(path.encode()).hexdigest()


def address_normalize(value: object) -> str:
    text = str(value).strip().lower()
    return text[7:] if text.startswith("mailto:") else text


def own_addresses(addresses: Iterable[str], username: str) -> frozenset[str]:
    """The account's calendar-user addresses, plus the login name when it is an email address."""
    own = {address_normalize(a) for a in addresses if a}
    if "@" in username:
        own.add(address_normalize(username))
    return frozenset(own)


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def parse(data: str | bytes) -> icalendar.Calendar:
    try:
        return icalendar.Calendar.from_ical(data)
    except (ValueError, KeyError, IndexError) as exc:
        raise UnreadableCalendar("unreadable iCalendar data") from exc


def timing_only(data: str | bytes, own: frozenset[str]) -> str:
    """The privacy-safe copy of one calendar object that we store (see the module docstring)."""
    return timing_only_parsed(data, own)[0]


def timing_only_parsed(data: str | bytes, own: frozenset[str]) -> tuple[str, icalendar.Calendar]:
    """:func:`timing_only` and the copy as a calendar, to expand without parsing it again
    (parsing is most of a sync's CPU: docs/BENCHMARKS.md, the CalDAV profile)."""
    try:
        copy = _timing_only(parse(data), own)
        return copy.to_ical().decode(), copy
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise UnreadableCalendar(f"the object cannot be read: {type(exc).__name__}") from exc


def _timing_only(source: icalendar.Calendar, own: frozenset[str]) -> icalendar.Calendar:
    out = icalendar.Calendar()
    out.add("PRODID", "-//merchant-calendar//timing only//EN")
    out.add("VERSION", "2.0")
    if "X-WR-TIMEZONE" in source:
        out["X-WR-TIMEZONE"] = source["X-WR-TIMEZONE"]
    for component in source.subcomponents:
        if component.name == "VTIMEZONE":
            out.add_component(component)
        elif component.name == "VEVENT":
            for name in ("DTSTART", "DTEND", "RECURRENCE-ID"):
                if name in component and not hasattr(component[name], "dt"):
                    raise ValueError(f"unreadable {name}")  # icalendar keeps it as vBroken
            event = icalendar.Event()
            for name in KEPT:
                if name in component:
                    event[name] = component[name]
            for role in ("ORGANIZER", "ATTENDEE"):
                for address in _as_list(component.get(role)):
                    if address_normalize(address) in own:
                        kept = icalendar.vCalAddress(str(address))
                        if "PARTSTAT" in address.params:
                            kept.params["PARTSTAT"] = address.params["PARTSTAT"]
                        event.add(role, kept)
            out.add_component(event)
    return out


def _instant(value: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    return (value if value.tzinfo is not None else value.replace(tzinfo=zone)).astimezone(dt.UTC)


def recurrence_key(value: dt.date | dt.datetime, zone: ZoneInfo) -> str:
    if isinstance(value, dt.datetime):
        return _instant(value, zone).strftime("%Y%m%dT%H%M%SZ")
    return value.strftime("%Y%m%d")


def _own_response(component, own: frozenset[str]) -> Response | None:
    for organizer in _as_list(component.get("ORGANIZER")):
        if address_normalize(organizer) in own:
            return Response.ACCEPTED
    for attendee in _as_list(component.get("ATTENDEE")):
        if address_normalize(attendee) in own:
            return PARTSTAT.get(str(attendee.params.get("PARTSTAT", "NEEDS-ACTION")).upper(), Response.NEEDS_ACTION)
    return None


def is_ours(component) -> bool:
    """A booking's copy the product wrote (SPEC §10): its marker property, or a UID derived
    from a booking (``booking_event_uid``), in whichever calendar the merchant moved it to."""
    if component.get(BOOKING_ICAL_PROPERTY) is not None:
        return True
    return str(component.get("UID", "")).strip().lower().endswith("@" + BOOKING_UID_DOMAIN)


def _text(component, name: str) -> str:
    value = component.get(name)
    return str(value).strip().upper() if value is not None else ""


def occurrence_event(
    component, *, group: str, own: frozenset[str], zone: ZoneInfo, original: dt.date | dt.datetime | None = None
) -> RemoteEvent | None:
    """One expanded occurrence; ``original``: its original start when RECURRENCE-ID does not say it."""
    start = component.get("DTSTART")
    if start is None:
        return None
    start = start.dt
    end_prop, duration = component.get("DTEND"), component.get("DURATION")
    if end_prop is not None:
        end = end_prop.dt
    elif duration is not None:
        end = start + duration.dt
    else:
        end = start + dt.timedelta(days=1) if not isinstance(start, dt.datetime) else start
    rid = component.get("RECURRENCE-ID")
    suffix = recurrence_key(original or (rid.dt if rid is not None else start), zone)
    status = {"CANCELLED": EventStatus.CANCELLED, "TENTATIVE": EventStatus.TENTATIVE}.get(
        _text(component, "STATUS"), EventStatus.CONFIRMED
    )
    busy_status = _text(component, "X-MICROSOFT-CDO-BUSYSTATUS") or _text(component, "X-MICROSOFT-CDO-INTENDEDSTATUS")
    if busy_status == "TENTATIVE" and status == EventStatus.CONFIRMED:
        status = EventStatus.TENTATIVE
    transparent = _text(component, "TRANSP") == "TRANSPARENT" or busy_status in MS_FREE
    common = dict(
        id=f"{group}{GROUP_SEPARATOR}{suffix}",
        status=status,
        transparent=transparent,
        own_response=_own_response(component, own),
        ours=is_ours(component),
    )
    if not isinstance(start, dt.datetime):  # VALUE=DATE: all-day, placed in the merchant's zone
        end_date = end if not isinstance(end, dt.datetime) else end.date()
        if end_date <= start:
            end_date = start + dt.timedelta(days=1)
        return RemoteEvent(start_date=start, end_date=end_date, **common)
    if not isinstance(end, dt.datetime):
        end = dt.datetime.combine(end, dt.time(0), tzinfo=start.tzinfo)
    return RemoteEvent(start=_instant(start, zone), end=_instant(end, zone), **common)


def _moment(value: dt.date | dt.datetime, zone: ZoneInfo) -> dt.date | dt.datetime:
    return _instant(value, zone) if isinstance(value, dt.datetime) else value


def _shift(component, zone: ZoneInfo) -> dt.timedelta | None:
    """How far a THISANDFUTURE override moved its instances (start minus RECURRENCE-ID)."""
    rid = component.get("RECURRENCE-ID")
    if rid is None or str(rid.params.get("RANGE", "")).upper() != "THISANDFUTURE":
        return None
    start, original = _moment(component["DTSTART"].dt, zone), _moment(rid.dt, zone)
    if isinstance(start, dt.datetime) != isinstance(original, dt.datetime):
        return None
    return start - original


def occurrences(
    data: str | bytes | icalendar.Calendar,
    *,
    group: str,
    own: frozenset[str],
    zone: ZoneInfo,
    window_start: dt.datetime,
    window_end: dt.datetime,
) -> list[RemoteEvent]:
    """Every occurrence of one stored object overlapping the window (a little more: see MARGIN).
    ``data``: its text, or the calendar :func:`timing_only_parsed` made of it."""
    calendar = data if isinstance(data, icalendar.Calendar) else parse(data)
    query = recurring_ical_events.of(calendar, components=["VEVENT"], skip_bad_series=True)
    events: dict[str, RemoteEvent] = {}
    shifts: dict[str, dt.timedelta] = {}
    try:
        for component in query.between(window_start - MARGIN, window_end + MARGIN):
            event = occurrence_event(component, group=group, own=own, zone=zone)
            if event is None:
                continue
            shift = _shift(component, zone)
            if event.id in events and event.id in shifts:
                # RANGE=THISANDFUTURE: the library repeats the override's RECURRENCE-ID on every
                # later instance; each one's original start is its start minus the override's shift.
                original = _moment(component["DTSTART"].dt, zone) - shifts[event.id]
                event = occurrence_event(component, group=group, own=own, zone=zone, original=original)
            elif shift is not None:
                shifts[event.id] = shift
            events[event.id] = event
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise UnreadableCalendar(f"the object's recurrence cannot be expanded: {type(exc).__name__}") from exc
    return list(events.values())
