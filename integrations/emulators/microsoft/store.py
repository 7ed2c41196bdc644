"""Events of one calendar: input validation, changes, and expansion into view items.

A view item is what ``calendarView`` and its delta list: a ``singleInstance``, a
``seriesMaster``, an ``occurrence`` or an ``exception``. Items of one series share a group
key (the master id) so a page never splits a series, and a version (the master's change
number) so a delta round re-sends a series when any part of it changed.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from dataclasses import dataclass

from . import recurrence
from .errors import EmulatorError
from .state import Calendar, Clock, Event, Exception_, State, new_id
from .timeutil import parse_local, zone

ALLOWED = {
    "subject",
    "body",
    "bodyPreview",
    "start",
    "end",
    "isAllDay",
    "showAs",
    "isCancelled",
    "isOrganizer",
    "responseStatus",
    "responseRequested",
    "sensitivity",
    "importance",
    "recurrence",
    "organizer",
    "attendees",
    "location",
    "categories",
    "isReminderOn",
    "reminderMinutesBeforeStart",
    "isOnlineMeeting",
    "allowNewTimeProposals",
    "hideAttendees",
}
SHOW_AS = {"free", "tentative", "busy", "oof", "workingElsewhere", "unknown"}
RESPONSES = {"none", "organizer", "tentativelyAccepted", "accepted", "declined", "notResponded"}
SENSITIVITY = {"normal", "personal", "private", "confidential"}
OCCURRENCE_PATCH = ALLOWED - {"recurrence"}
EXTENDED = "singleValueExtendedProperties"


@dataclass
class Item:
    id: str
    group: str
    kind: str  # singleInstance | seriesMaster | occurrence | exception
    event: Event
    data: dict  # effective fields (master data merged with an exception's patch)
    start: dt.datetime  # aware UTC
    end: dt.datetime
    version: int
    original_start: dt.datetime | None = None


def _check_times(data: dict) -> None:
    for name in ("start", "end"):
        value = data.get(name)
        if not isinstance(value, dict) or "dateTime" not in value:
            raise EmulatorError(f"{name} must be a dateTimeTimeZone {{dateTime, timeZone}}")
        try:
            parse_local(value["dateTime"])
        except ValueError:
            raise EmulatorError(f"{name}.dateTime is not a date-time: {value['dateTime']!r}") from None
        zone(value.get("timeZone") or "UTC")
    if data.get("isAllDay"):
        for name in ("start", "end"):
            local = parse_local(data[name]["dateTime"])
            if local.time() != dt.time(0):
                raise EmulatorError(f"an all-day event's {name} must be at midnight")
    if instant(data["end"]) < instant(data["start"]):
        raise EmulatorError("end must not be before start")


def validate(data: dict, *, allowed=ALLOWED) -> dict:
    if not isinstance(data, dict):
        raise EmulatorError("an event must be a JSON object")
    unknown = set(data) - allowed
    if unknown:
        raise EmulatorError(f"unknown or unsupported event fields: {sorted(unknown)}")
    if "showAs" in data and data["showAs"] not in SHOW_AS:
        raise EmulatorError(f"showAs must be one of {sorted(SHOW_AS)}")
    if "sensitivity" in data and data["sensitivity"] not in SENSITIVITY:
        raise EmulatorError(f"sensitivity must be one of {sorted(SENSITIVITY)}")
    response = data.get("responseStatus")
    if response is not None and (not isinstance(response, dict) or response.get("response") not in RESPONSES):
        raise EmulatorError(f"responseStatus.response must be one of {sorted(RESPONSES)}")
    if data.get("recurrence"):
        recurrence.validate(data["recurrence"])
    return data


def instant(value: dict) -> dt.datetime:
    local = parse_local(value["dateTime"])
    return local.replace(tzinfo=zone(value.get("timeZone") or "UTC")).astimezone(dt.UTC)


def occurrence_id(master_id: str, day: dt.date) -> str:
    raw = f"{master_id}|{day.isoformat()}".encode()
    return "AAMkOc" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse_occurrence_id(value: str) -> tuple[str, dt.date] | None:
    if not value.startswith("AAMkOc"):
        return None
    text = value[6:]
    try:
        master, _, day = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode().rpartition("|")
        return master, dt.date.fromisoformat(day)
    except (ValueError, UnicodeDecodeError):
        return None


# --- changes ----------------------------------------------------------------------------------


def _extended(data: dict) -> dict[str, str]:
    """Pop ``singleValueExtendedProperties`` ([{id, value}]) off an event body: id -> value."""
    raw = data.pop(EXTENDED, None)
    if raw is None:
        return {}
    if not isinstance(raw, list) or not all(
        isinstance(p, dict) and isinstance(p.get("id"), str) and isinstance(p.get("value"), str) for p in raw
    ):
        raise EmulatorError(f"{EXTENDED} must be a list of {{id, value}} strings")
    return {p["id"]: p["value"] for p in raw}


def insert(state: State, calendar: Calendar, data: dict, clock: Clock) -> Event:
    data = dict(data)
    extended = _extended(data)
    transaction_id = data.pop("transactionId", None)
    data = validate(data)
    _check_times(data)
    if data.get("recurrence"):
        data["recurrence"] = _complete_recurrence(data)
    now = clock.now()
    event = Event(
        id=new_id(),
        calendar_id=calendar.id,
        data=data,
        seq=state.next_seq(),
        created=now,
        modified=now,
        ical_uid="040000008200E00074C5B7101A82E008" + secrets.token_hex(28).upper(),
        extended=extended,
        transaction_id=transaction_id,
    )
    calendar.events[event.id] = event
    return event


def _complete_recurrence(data: dict) -> dict:
    rec = {"pattern": dict(data["recurrence"]["pattern"]), "range": dict(data["recurrence"]["range"])}
    rec["pattern"].setdefault("interval", 1)
    if rec["pattern"]["type"] == "weekly":
        rec["pattern"].setdefault("firstDayOfWeek", "sunday")
    rec["range"].setdefault("recurrenceTimeZone", data["start"].get("timeZone") or "UTC")
    return rec


def find(calendar: Calendar, event_id: str) -> tuple[Event, dt.date | None]:
    """The stored event for an id, or (master, original date) for an occurrence id."""
    event = calendar.events.get(event_id)
    if event is not None and not event.deleted:
        return event, None
    parsed = parse_occurrence_id(event_id)
    if parsed is not None:
        master = calendar.events.get(parsed[0])
        if master is not None and not master.deleted and master.is_master:
            key = parsed[1].isoformat()
            if key in master.cancelled or parsed[1] not in _dates(master, parsed[1]):
                raise EmulatorError(f"occurrence {event_id!r} does not exist")
            return master, parsed[1]
    raise EmulatorError(f"event {event_id!r} not found in calendar {calendar.id!r}")


def _dates(master: Event, up_to: dt.date) -> set[dt.date]:
    return set(recurrence.occurrence_dates(master.data["recurrence"], up_to))


def update(state: State, calendar: Calendar, event_id: str, patch: dict, clock: Clock) -> Event:
    event, day = find(calendar, event_id)
    now = clock.now()
    patch = dict(patch)
    extended = _extended(patch)
    if "transactionId" in patch and patch.pop("transactionId") != event.transaction_id:
        raise EmulatorError("transactionId cannot be changed after the event is created")
    if extended and day is not None:
        raise EmulatorError(f"{EXTENDED} are set on the series master or a single event")
    event.extended.update(extended)  # Graph: a PATCH creates or replaces the named properties
    if day is not None:
        validate(patch, allowed=OCCURRENCE_PATCH)
        key = day.isoformat()
        existing = event.exceptions.get(key)
        merged = {**(existing.patch if existing else {}), **patch}
        merged = {k: v for k, v in merged.items() if v is not None}
        probe = {**_occurrence_base(event, day), **merged}
        _check_times(probe)
        event.exceptions[key] = Exception_(
            id=event_id, patch=merged, seq=state.next_seq(), created=existing.created if existing else now, modified=now
        )
        event.seq = state.seq
        event.modified = now
        return event
    validate(patch)
    data = {**event.data, **patch}
    data = {k: v for k, v in data.items() if v is not None}
    _check_times(data)
    if data.get("recurrence"):
        data["recurrence"] = _complete_recurrence(data)
    if "recurrence" in patch or "start" in patch:
        event.exceptions.clear()  # Outlook drops exceptions when the series pattern changes
        event.cancelled.clear()
    event.data = data
    event.seq = state.next_seq()
    event.modified = now
    return event


def delete(state: State, calendar: Calendar, event_id: str, clock: Clock) -> Event:
    """Delete a single event or series (a tombstone stays for delta), or one occurrence."""
    event, day = find(calendar, event_id)
    if day is not None:
        key = day.isoformat()
        event.exceptions.pop(key, None)
        event.cancelled.add(key)
    else:
        event.deleted = True
    event.seq = state.next_seq()
    event.modified = clock.now()
    return event


# --- expansion ------------------------------------------------------------------------------


def _occurrence_base(master: Event, day: dt.date) -> dict:
    start_local = parse_local(master.data["start"]["dateTime"])
    end_local = parse_local(master.data["end"]["dateTime"])
    start_zone = master.data["start"].get("timeZone") or "UTC"
    end_zone = master.data["end"].get("timeZone") or start_zone
    new_start = dt.datetime.combine(day, start_local.time())
    duration = instant(master.data["end"]) - instant(master.data["start"])
    if master.data.get("isAllDay"):
        new_end = new_start + (end_local - start_local)
    else:
        aware = new_start.replace(tzinfo=zone(start_zone)) + duration
        new_end = aware.astimezone(zone(end_zone)).replace(tzinfo=None)
    return {
        "start": {"dateTime": new_start.isoformat(), "timeZone": start_zone},
        "end": {"dateTime": new_end.isoformat(), "timeZone": end_zone},
    }


def series_items(master: Event, limit: dt.date) -> list[Item]:
    """The master plus its occurrences and exceptions up to ``limit``, in order."""
    dates = recurrence.occurrence_dates(master.data["recurrence"], limit)
    first = dates[:1] or recurrence.first_date(master.data["recurrence"])
    # The master carries its first occurrence's start and end (reported Graph behaviour).
    master_data = {**master.data, **_occurrence_base(master, first[0])} if first else master.data
    items = [
        Item(
            id=master.id,
            group=master.id,
            kind="seriesMaster",
            event=master,
            data=master_data,
            start=instant(master_data["start"]),
            end=instant(master_data["end"]),
            version=master.seq,
        )
    ]
    for day in dates:
        key = day.isoformat()
        if key in master.cancelled:
            continue
        base = _occurrence_base(master, day)
        original = instant(base["start"])
        exception = master.exceptions.get(key)
        data = {**master.data, **base, **(exception.patch if exception else {})}
        data.pop("recurrence", None)
        items.append(
            Item(
                id=occurrence_id(master.id, day),
                group=master.id,
                kind="exception" if exception else "occurrence",
                event=master,
                data=data,
                start=instant(data["start"]),
                end=instant(data["end"]),
                version=master.seq,
                original_start=original,
            )
        )
    return items


def items_in_window(calendar: Calendar, start: dt.datetime, end: dt.datetime, *, masters: bool) -> list[list[Item]]:
    """Groups of items overlapping [start, end): one group per single event or series."""
    limit = (end + dt.timedelta(days=2)).date()
    groups: list[list[Item]] = []
    for event in calendar.events.values():
        if event.deleted:
            continue
        if event.is_master:
            series = series_items(event, limit)
            inside = [i for i in series[1:] if _overlaps(i, start, end)]
            if inside:
                groups.append(([series[0]] if masters else []) + inside)
        else:
            item = Item(
                id=event.id,
                group=event.id,
                kind="singleInstance",
                event=event,
                data=event.data,
                start=instant(event.data["start"]),
                end=instant(event.data["end"]),
                version=event.seq,
            )
            if _overlaps(item, start, end):
                groups.append([item])
    groups.sort(key=lambda g: (min(i.start for i in g if i.kind != "seriesMaster"), g[0].id))
    return groups


def _overlaps(item: Item, start: dt.datetime, end: dt.datetime) -> bool:
    if item.end == item.start:
        return start <= item.start < end
    return item.start < end and item.end > start
