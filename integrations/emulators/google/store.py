"""Event writes (insert, patch, delete) and recurring-series arithmetic on the in-memory state.

Every write bumps the calendar's change counter and stamps the event with it; sync tokens
and page tokens are positions on that counter (see ``listing.py``). Instances of a series
are generated on demand; patching or deleting an instance stores an *exception* under the
instance id (``{masterId}_YYYYMMDDTHHMMSSZ`` or ``{masterId}_YYYYMMDD``), as Google does.
"""

from __future__ import annotations

import bisect
import copy
import datetime as dt
import re

from .errors import EmulatorError
from .recurrence import expand
from .state import Calendar, Clock, Event, Instance, new_event_id
from .timeutil import UTC, event_zone, format_datetime, start_of_day

# Writable properties of the Event schema in the Calendar v3 discovery document.
EVENT_FIELDS = {
    "anyoneCanAddSelf",
    "attachments",
    "attendees",
    "attendeesOmitted",
    "birthdayProperties",
    "colorId",
    "conferenceData",
    "creator",
    "description",
    "end",
    "endTimeUnspecified",
    "eventType",
    "extendedProperties",
    "focusTimeProperties",
    "gadget",
    "guestsCanInviteOthers",
    "guestsCanModify",
    "guestsCanSeeOtherGuests",
    "hangoutLink",
    "iCalUID",
    "id",
    "location",
    "locked",
    "organizer",
    "originalStartTime",
    "outOfOfficeProperties",
    "privateCopy",
    "recurrence",
    "recurringEventId",
    "reminders",
    "sequence",
    "source",
    "start",
    "status",
    "summary",
    "transparency",
    "visibility",
    "workingLocationProperties",
    "eventLabelId",
}
# Output-only properties a caller may pass back unchanged (copied from a response): ignored.
IGNORED_FIELDS = {"kind", "etag", "htmlLink", "created", "updated"}
EVENT_TYPES = {"default", "outOfOffice", "focusTime", "workingLocation", "birthday", "fromGmail"}
STATUSES = {"confirmed", "tentative", "cancelled"}
_TIMING_FIELDS = {"start", "end", "recurrence", "status"}
_ID_RE = re.compile(r"^[a-v0-9]{5,1024}$")
# An occurrence's id (``{masterId}_YYYYMMDD[THHMMSSZ]``), for seeding one that has no master here.
_INSTANCE_ID_RE = re.compile(r"^[a-v0-9]{5,1000}_[0-9]{8}(T[0-9]{6}Z)?$")
MAX_INSTANCES = 20000


def _parse_edt(value: dict, cal_tz: dt.tzinfo, what: str) -> tuple[dt.date | dt.datetime, dt.datetime, bool]:
    """(value, UTC instant, all_day) of an EventDateTime."""
    if not isinstance(value, dict):
        raise EmulatorError(f"{what} must be an EventDateTime object")
    if value.get("date"):
        try:
            day = dt.date.fromisoformat(value["date"])
        except ValueError as exc:
            raise EmulatorError(f"{what}.date is not a date: {value['date']!r}") from exc
        return day, start_of_day(day, cal_tz), True
    raw = value.get("dateTime")
    if not raw:
        raise EmulatorError(f"{what} needs date or dateTime")
    try:
        parsed = dt.datetime.fromisoformat(raw.replace("z", "Z"))
        tz = event_zone(value.get("timeZone")) if value.get("timeZone") else cal_tz
    except ValueError as exc:
        raise EmulatorError(f"{what}: {exc}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed, parsed.astimezone(UTC), False


def derive(event: Event) -> None:
    """Recompute the parsed fields of ``event`` from its body."""
    body = event.body
    cal_tz = event.calendar.tz
    event.status = body.get("status", "confirmed")
    event.event_type = body.get("eventType", "default")
    start, start_utc, all_day = _parse_edt(body["start"], cal_tz, "start")
    end, end_utc, end_all_day = _parse_edt(body["end"], cal_tz, "end")
    if all_day != end_all_day:
        raise EmulatorError("start and end must both be dates or both be dateTimes")
    if end_utc < start_utc:
        raise EmulatorError("The specified time range is empty (end before start).")
    event.all_day = all_day
    event.start_value, event.end_value = start, end
    event.start_utc, event.end_utc = start_utc, end_utc
    tz_name = body["start"].get("timeZone")
    event.series_tz = event_zone(tz_name) if tz_name else cal_tz
    event.recurrence = list(body["recurrence"]) if body.get("recurrence") else None
    event.recurring_event_id = body.get("recurringEventId")
    if event.recurring_event_id:
        original, original_utc, _ = _parse_edt(body.get("originalStartTime") or body["start"], cal_tz, "original")
        event.original, event.original_utc = original, original_utc
    else:
        event.original = event.original_utc = None


def _validate(body: dict) -> None:
    unknown = set(body) - EVENT_FIELDS - IGNORED_FIELDS
    if unknown:
        raise EmulatorError(f"Unknown Event fields (not in the Calendar v3 Event schema): {sorted(unknown)}")
    if "start" not in body:
        raise EmulatorError("An event needs start")
    if body.get("status", "confirmed") not in STATUSES:
        raise EmulatorError(f"Bad status {body.get('status')!r}")
    if body.get("eventType", "default") not in EVENT_TYPES:
        raise EmulatorError(f"Bad eventType {body.get('eventType')!r}")
    if body.get("transparency", "opaque") not in ("opaque", "transparent"):
        raise EmulatorError(f"Bad transparency {body.get('transparency')!r}")
    recurrence = body.get("recurrence")
    if recurrence is not None and (not isinstance(recurrence, list) or not all(isinstance(x, str) for x in recurrence)):
        raise EmulatorError("recurrence must be a list of strings")


def _clean(body: dict, calendar: Calendar) -> dict:
    clean = {k: copy.deepcopy(v) for k, v in body.items() if k not in IGNORED_FIELDS and v is not None}
    if "end" not in clean:
        # Google requires end; the emulator defaults to one hour (or one day) for convenience.
        start, _, all_day = _parse_edt(clean["start"], calendar.tz, "start")
        if all_day:
            clean["end"] = {"date": (start + dt.timedelta(days=1)).isoformat()}
        else:
            clean["end"] = {k: v for k, v in clean["start"].items() if k != "dateTime"}
            clean["end"]["dateTime"] = (start + dt.timedelta(hours=1)).isoformat()
    if clean.get("recurrence") and not clean["start"].get("timeZone") and "dateTime" in clean["start"]:
        # Google insists on start.timeZone for recurring events; the emulator falls back to the calendar's zone.
        clean["start"] = {**clean["start"], "timeZone": calendar.time_zone}
        clean["end"] = {**clean["end"], "timeZone": clean["end"].get("timeZone", calendar.time_zone)}
    return clean


def touch(calendar: Calendar, event: Event, clock: Clock) -> None:
    calendar.change_seq += 1
    event.seq = calendar.change_seq
    event.updated_ms = clock.next_ms()
    calendar.updated_ms = event.updated_ms
    event.render_cache.clear()
    event.occurrence_cache.clear()
    event.instance_cache.clear()


def insert(calendar: Calendar, body: dict, clock: Clock) -> Event:
    if not isinstance(body, dict):
        raise EmulatorError("An event must be a dict of Google Event JSON")
    _validate(body)
    event_id = body.get("id") or new_event_id()
    if not (_ID_RE.match(event_id) or (body.get("recurringEventId") and _INSTANCE_ID_RE.match(event_id))):
        raise EmulatorError(f"Invalid event id {event_id!r}: use 5-1024 characters of a-v and 0-9 (base32hex)")
    if event_id in calendar.events:
        raise EmulatorError(f"The requested identifier already exists: {event_id}")
    clean = _clean(body, calendar)
    clean.pop("id", None)
    event = Event(
        id=event_id,
        calendar=calendar,
        body=clean,
        created_ms=0,
        updated_ms=0,
        seq=0,
        order=calendar.next_order,
        sequence=int(clean.pop("sequence", 0)),
    )
    derive(event)
    if event.recurrence:
        _check_rule(event)
    calendar.next_order += 1
    touch(calendar, event, clock)
    event.created_ms = event.updated_ms
    calendar.events[event_id] = event
    return event


def _check_rule(event: Event) -> None:
    try:
        occurrences(event, event.start_utc + dt.timedelta(days=400))
    except (ValueError, TypeError) as exc:
        raise EmulatorError(f"Invalid recurrence {event.recurrence!r}: {exc}") from exc


def update(calendar: Calendar, event_id: str, patch: dict, clock: Clock, horizon: dt.datetime) -> Event:
    if not isinstance(patch, dict):
        raise EmulatorError("A patch must be a dict")
    unknown = set(patch) - EVENT_FIELDS - IGNORED_FIELDS
    if unknown:
        raise EmulatorError(f"Unknown Event fields: {sorted(unknown)}")
    event = calendar.events.get(event_id)
    if event is None:
        found = parse_instance_id(calendar, event_id, horizon)
        if found is None:
            raise EmulatorError(f"Event {event_id!r} not found in calendar {calendar.id!r}")
        master, original = found
        return _store_exception(calendar, master, original, patch, clock)
    before = occurrence_ids(event, horizon) if event.is_master else None
    body = copy.deepcopy(event.body)
    for key, value in patch.items():
        if key in IGNORED_FIELDS or key == "id":
            continue
        if value is None:
            body.pop(key, None)
        else:
            body[key] = copy.deepcopy(value)
    _validate(body)
    old = (event.body, event.sequence)
    event.body = body
    if any(k in patch for k in _TIMING_FIELDS):
        event.sequence += 1
    try:
        derive(event)
        if event.recurrence:
            _check_rule(event)
    except EmulatorError:
        event.body, event.sequence = old
        derive(event)
        raise
    touch(calendar, event, clock)
    if before is not None:
        after = occurrence_ids(event, horizon) if event.is_master else {}
        for instance_id, original in before.items():
            if instance_id not in after:
                event.ghosts[instance_id] = (original, event.seq)
    return event


# What a full replacement (events.update) keeps of the stored event: its identity.
_KEPT_ON_REPLACE = ("iCalUID", "recurringEventId", "originalStartTime")


def replace(calendar: Calendar, event_id: str, body: dict, clock: Clock, horizon: dt.datetime) -> Event:
    """``events.update``: ``body`` is the whole new event; what it omits is cleared (``status``
    included, so replacing a deleted event brings it back confirmed)."""
    event = calendar.events.get(event_id)
    if event is None:
        raise EmulatorError(f"Event {event_id!r} not found in calendar {calendar.id!r}")
    patch: dict = {key: None for key in event.body if key not in _KEPT_ON_REPLACE}
    patch.update({k: v for k, v in body.items() if k not in _KEPT_ON_REPLACE and k != "id"})
    return update(calendar, event_id, patch, clock, horizon)


def valid_event_id(event_id) -> bool:
    return isinstance(event_id, str) and bool(_ID_RE.match(event_id))


def delete(calendar: Calendar, event_id: str, clock: Clock, horizon: dt.datetime) -> Event:
    event = calendar.events.get(event_id)
    if event is None:
        found = parse_instance_id(calendar, event_id, horizon)
        if found is None:
            raise EmulatorError(f"Event {event_id!r} not found in calendar {calendar.id!r}")
        master, original = found
        return _store_exception(calendar, master, original, {"status": "cancelled"}, clock)
    if event.status == "cancelled":
        raise EmulatorError(f"Resource has been deleted: {event_id}")
    event.body = {**event.body, "status": "cancelled"}
    event.sequence += 1
    derive(event)
    touch(calendar, event, clock)
    return event


def _store_exception(calendar: Calendar, master: Event, original, patch: dict, clock: Clock) -> Event:
    instance = make_instance(master, original)
    body = {k: copy.deepcopy(v) for k, v in master.body.items() if k not in ("recurrence", "iCalUID")}
    body["start"] = edt_json(instance.start_value, master)
    body["end"] = edt_json(instance.end_value, master)
    body["originalStartTime"] = edt_json(original, master)
    body["recurringEventId"] = master.id
    body["iCalUID"] = master.body.get("iCalUID") or f"{master.id}@google.com"
    for key, value in patch.items():
        if key in IGNORED_FIELDS or key in ("id", "recurringEventId", "originalStartTime", "recurrence"):
            continue
        if value is None:
            body.pop(key, None)
        else:
            body[key] = copy.deepcopy(value)
    _validate(body)
    event = Event(
        id=instance.id,
        calendar=calendar,
        body=body,
        created_ms=master.created_ms,
        updated_ms=0,
        seq=0,
        order=master.order,
        sequence=master.sequence + (1 if any(k in patch for k in _TIMING_FIELDS) else 0),
    )
    derive(event)
    touch(calendar, event, clock)
    calendar.events[event.id] = event
    return event


# --- recurring series -------------------------------------------------------------------


def edt_json(value: dt.date | dt.datetime, master: Event) -> dict:
    """Stored EventDateTime for an instance value, in the series zone."""
    if not isinstance(value, dt.datetime):
        return {"date": value.isoformat()}
    out = {"dateTime": format_datetime(value, master.series_tz)}
    tz_name = master.body["start"].get("timeZone")
    if tz_name:
        out["timeZone"] = tz_name
    return out


def instance_id(master_id: str, original: dt.date | dt.datetime) -> str:
    if isinstance(original, dt.datetime):
        return f"{master_id}_{original.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    return f"{master_id}_{original:%Y%m%d}"


def _is_finite(recurrence: list[str]) -> bool:
    rules = [line.upper() for line in recurrence if line.upper().startswith("RRULE")]
    return all("COUNT=" in rule or "UNTIL=" in rule for rule in rules)


_FAR_FUTURE = dt.datetime(9000, 1, 1, tzinfo=UTC)


def occurrences(master: Event, until: dt.datetime) -> list:
    """Original starts of ``master`` up to ``until`` (the expansion is cached per master version).

    Finite series (COUNT/UNTIL on every RRULE) are expanded completely; endless ones up to ``until``.
    """
    cached = master.occurrence_cache.get("list")
    if cached is None or (cached[0] < until and not cached[2]):
        finite = _is_finite(master.recurrence or [])
        bound = (
            _FAR_FUTURE
            if finite
            else (until.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=1))
        )
        first = master.start_value if master.all_day else master.start_value.astimezone(master.series_tz)
        found = expand(master.recurrence or [], first, series_tz=master.series_tz, until=bound, limit=MAX_INSTANCES)
        cached = (bound, found, finite)
        master.occurrence_cache["list"] = cached
    found = cached[1]
    if cached[2]:
        return found  # a finite series is listed whole; callers apply their time window
    if master.all_day:
        last_day = until.astimezone(master.series_tz).date()
        return found[: bisect.bisect_right(found, last_day)]
    return found[: bisect.bisect_right(found, until, key=lambda point: point)]


def occurrence_ids(master: Event, horizon: dt.datetime) -> dict:
    return {instance_id(master.id, original): original for original in occurrences(master, horizon)}


def make_instance(master: Event, original: dt.date | dt.datetime) -> Instance:
    cached = master.instance_cache.get(original)
    if cached is not None:
        return cached
    cal_tz = master.calendar.tz
    if master.all_day:
        days = (master.end_value - master.start_value).days
        start, end = original, original + dt.timedelta(days=days)
        start_utc, end_utc = start_of_day(start, cal_tz), start_of_day(end, cal_tz)
        original_utc = start_utc
    else:
        tz = master.series_tz
        first = master.start_value.astimezone(tz).replace(tzinfo=None)
        last = master.end_value.astimezone(tz).replace(tzinfo=None)
        local = original.astimezone(tz)
        start = local
        end = (local.replace(tzinfo=None) + (last - first)).replace(tzinfo=tz)
        start_utc, end_utc = start.astimezone(UTC), end.astimezone(UTC)
        original_utc = start_utc
    instance = Instance(
        id=instance_id(master.id, original),
        master=master,
        original=original,
        original_utc=original_utc,
        start_value=start,
        end_value=end,
        start_utc=start_utc,
        end_utc=end_utc,
    )
    master.instance_cache[original] = instance
    return instance


def parse_instance_id(calendar: Calendar, event_id: str, horizon: dt.datetime):
    """(master, original start) if ``event_id`` names an occurrence of a stored series, else None."""
    master_id, sep, suffix = event_id.rpartition("_")
    if not sep:
        return None
    master = calendar.events.get(master_id)
    if master is None or not master.is_master:
        return None
    try:
        if len(suffix) == 8 and master.all_day:
            wanted = dt.date(int(suffix[:4]), int(suffix[4:6]), int(suffix[6:8]))
        elif len(suffix) == 16 and suffix.endswith("Z") and not master.all_day:
            wanted = dt.datetime.strptime(suffix, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        else:
            return None
    except ValueError:
        return None
    limit = max(horizon, (wanted if isinstance(wanted, dt.datetime) else start_of_day(wanted, UTC)))
    for original in occurrences(master, limit + dt.timedelta(days=2)):
        if original == wanted:
            return master, original
    return None
