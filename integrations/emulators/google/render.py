"""Google-shaped JSON for events, as ``events.list``/``events.get`` return them.

Defaults are omitted the way Google omits them (no ``transparency`` on opaque events, no
``visibility`` when default); ``eventType`` is always present; ``self`` flags on organizer,
creator and attendees are computed against the calendar being read.
https://developers.google.com/calendar/api/v3/reference/events#resource
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass

from .state import Event, Instance
from .timeutil import format_datetime, ms_to_rfc3339, zone

_PASSTHROUGH_HEAD = ("summary", "description", "location", "colorId")
_PASSTHROUGH_TAIL = (
    "extendedProperties",
    "hangoutLink",
    "conferenceData",
    "gadget",
    "anyoneCanAddSelf",
    "guestsCanInviteOthers",
    "guestsCanModify",
    "guestsCanSeeOtherGuests",
    "privateCopy",
    "locked",
)
_PASSTHROUGH_LAST = (
    "source",
    "attachments",
    "eventLabelId",
    "workingLocationProperties",
    "outOfOfficeProperties",
    "focusTimeProperties",
    "birthdayProperties",
)


@dataclass(frozen=True)
class RenderContext:
    tz_name: str
    base_url: str
    full_cancelled: bool = False  # showDeleted=true / events.get: cancelled events keep their details
    max_attendees: int | None = None

    @property
    def tz(self) -> dt.tzinfo:
        return zone(self.tz_name)

    @property
    def key(self) -> tuple:
        return (self.tz_name, self.full_cancelled, self.max_attendees)


@dataclass(eq=False)
class Ghost:
    """An occurrence that a change to its series removed; incremental sync reports it cancelled."""

    id: str
    master: Event
    original: dt.date | dt.datetime
    seq: int
    render_cache: dict

    status = "cancelled"

    @property
    def event_type(self) -> str:
        return self.master.event_type


def etag(ms: int, salt: int = 0) -> str:
    return f'"{ms * 1000 + salt % 1000}"'


def _edt(value, tz_name: str | None, ctx: RenderContext) -> dict:
    if not isinstance(value, dt.datetime):
        return {"date": value.isoformat()}
    out = {"dateTime": format_datetime(value, ctx.tz)}
    if tz_name:
        out["timeZone"] = tz_name
    return out


def _person(person: dict | None, default_email: str, calendar_id: str, display: str | None = None) -> dict:
    out = dict(person) if person else {"email": default_email}
    if not person and display:
        out["displayName"] = display
    out.pop("self", None)
    if out.get("email", "").lower() == calendar_id.lower():
        out["self"] = True
    return out


def _attendees(body: dict, calendar_id: str, ctx: RenderContext) -> tuple[list[dict], bool]:
    organizer_email = (body.get("organizer") or {}).get("email", "").lower()
    out = []
    for attendee in body["attendees"]:
        entry = dict(attendee)
        entry.pop("self", None)
        entry.setdefault("responseStatus", "needsAction")
        email = entry.get("email", "").lower()
        if email and email == organizer_email:
            entry["organizer"] = True
        if email and email == calendar_id.lower():
            entry["self"] = True
        out.append(entry)
    if ctx.max_attendees is not None and len(out) > ctx.max_attendees:
        return [a for a in out if a.get("self")], True
    return out, bool(body.get("attendeesOmitted"))


def _html_link(event_id: str, calendar_id: str, base_url: str) -> str:
    eid = base64.urlsafe_b64encode(f"{event_id} {calendar_id}".encode()).decode().rstrip("=")
    return f"{base_url}calendar/event?eid={eid}"


def _render(item, ctx: RenderContext) -> dict:
    if isinstance(item, Ghost):
        master = item.master
        tz_name = master.body["start"].get("timeZone")
        return {
            "kind": "calendar#event",
            "etag": etag(master.updated_ms, 7),
            "id": item.id,
            "status": "cancelled",
            "recurringEventId": master.id,
            "originalStartTime": _edt(item.original, tz_name, ctx),
        }
    instance = isinstance(item, Instance)
    master = item.master if instance else None
    event = master if instance else item
    body = event.body
    calendar = event.calendar
    tz_name = (body.get("originalStartTime") or body["start"]).get("timeZone")
    is_exception = instance or bool(item.recurring_event_id)
    original = item.original if is_exception else None
    if item.status == "cancelled" and not ctx.full_cancelled:
        out = {"kind": "calendar#event", "etag": etag(item.updated_ms, 1), "id": item.id, "status": "cancelled"}
        if is_exception:
            out["recurringEventId"] = master.id if instance else item.recurring_event_id
            out["originalStartTime"] = _edt(original, tz_name, ctx)
        return out
    out = {
        "kind": "calendar#event",
        "etag": etag(item.updated_ms),
        "id": item.id,
        "status": item.status,
        "htmlLink": _html_link(item.id, calendar.id, ctx.base_url),
        "created": ms_to_rfc3339(event.created_ms),
        "updated": ms_to_rfc3339(item.updated_ms),
    }
    for key in _PASSTHROUGH_HEAD:
        if key in body:
            out[key] = body[key]
    primary = calendar.id == calendar.owner_email
    out["creator"] = _person(body.get("creator"), calendar.owner_email, calendar.id)
    out["organizer"] = _person(body.get("organizer"), calendar.id, calendar.id, None if primary else calendar.summary)
    out["start"] = _edt(item.start_value, body["start"].get("timeZone"), ctx)
    out["end"] = _edt(item.end_value, body["end"].get("timeZone"), ctx)
    if body.get("endTimeUnspecified"):
        out["endTimeUnspecified"] = True
    if not is_exception and event.recurrence:
        out["recurrence"] = list(event.recurrence)
    if is_exception:
        out["recurringEventId"] = master.id if instance else item.recurring_event_id
        out["originalStartTime"] = _edt(original, tz_name, ctx)
    if body.get("transparency") == "transparent":
        out["transparency"] = "transparent"
    if body.get("visibility", "default") != "default":
        out["visibility"] = body["visibility"]
    out["iCalUID"] = body.get("iCalUID") or f"{(master or event).id}@google.com"
    out["sequence"] = event.sequence if instance else item.sequence
    if body.get("attendees"):
        out["attendees"], omitted = _attendees(body, calendar.id, ctx)
        if omitted:
            out["attendeesOmitted"] = True
    for key in _PASSTHROUGH_TAIL:
        if key in body:
            out[key] = body[key]
    out["reminders"] = body.get("reminders", {"useDefault": True})
    for key in _PASSTHROUGH_LAST:
        if key in body:
            out[key] = body[key]
    out["eventType"] = body.get("eventType", "default")
    return out


def render(item, ctx: RenderContext) -> tuple[dict, str]:
    """(dict, JSON text) of ``item``; both cached on the item per render context."""
    # Only cancelled items render differently with and without showDeleted.
    key = ctx.key if item.status == "cancelled" else (ctx.tz_name, ctx.max_attendees)
    cached = item.render_cache.get(key)
    if cached is None:
        data = _render(item, ctx)
        cached = (data, json.dumps(data, separators=(",", ":")))
        item.render_cache[key] = cached
    return cached


def render_dict(item, ctx: RenderContext) -> dict:
    return json.loads(render(item, ctx)[1])
