"""Calendar API v3 writes: calendars.insert and events.insert / update / patch / delete.

Checks in Google's order: bearer token (401), the method's scopes (403
``insufficientPermissions``: a ``calendar.readonly`` grant writes nothing), the calendar
(404), then the right to write in it (403 ``requiredAccessLevel``): a reader's role, or a
grant that reaches the method only through ``calendar.app.created`` on a calendar that
client did not create. Then the request itself (400, 409 ``duplicate``, 404, 410 ``deleted``).

https://developers.google.com/calendar/api/v3/reference/calendars/insert
https://developers.google.com/calendar/api/v3/reference/events/insert
https://developers.google.com/calendar/api/v3/reference/events/update
https://developers.google.com/calendar/api/v3/reference/events/delete
https://developers.google.com/calendar/api/auth (``calendar.app.created``)
"""

from __future__ import annotations

import secrets

from . import errors, store
from .calendar import (
    ROLE_RANK,
    _ctx,
    app_created_only,
    authenticate,
    calendar_json,
    json_response,
    resolve_calendar,
)
from .errors import ApiError, EmulatorError, Response
from .render import render
from .state import AccessToken, Calendar
from .timeutil import is_valid_zone
from .wire import Request


def _json_body(req: Request) -> dict:
    body = req.json()
    if not isinstance(body, dict):
        raise ApiError(400, "parseError", "Parse Error")
    return body


def writable_calendar(emu, token: AccessToken, raw_id: str, endpoint: str) -> Calendar:
    """The calendar ``raw_id`` names, if this token may write in it (caller holds the lock)."""
    calendar, entry = resolve_calendar(emu, token, raw_id)
    if app_created_only(token, endpoint) and calendar.created_by_client != token.client_id:
        if app_created_only(token, "events.get"):
            raise errors.not_found()  # it cannot even see that calendar
        raise errors.required_access_level()
    if ROLE_RANK[entry.access_role] < ROLE_RANK["writer"]:
        raise errors.required_access_level()
    return calendar


def _require_times(body: dict) -> None:
    for name in ("start", "end"):
        if not isinstance(body.get(name), dict) or not (body[name].get("dateTime") or body[name].get("date")):
            raise ApiError(400, "required", f"Missing {name} time.")


def _stored(emu, req: Request, calendar: Calendar, write) -> dict:
    """Run one store write; the emulator's validation errors become Google's 400."""
    try:
        event = write()
    except EmulatorError as exc:
        raise ApiError(400, "invalid", str(exc)) from None
    emu._notify(calendar)
    return render(event, _ctx(emu, req, calendar, full_cancelled=True))[0]


# --- calendars ------------------------------------------------------------------------------


def calendars_insert(emu, req: Request) -> Response:
    """A secondary calendar owned by the account, remembered as made by the calling client."""
    token = authenticate(emu, req, "calendars.insert")
    body = _json_body(req)
    summary = body.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        raise ApiError(400, "required", "Missing title.")
    time_zone = body.get("timeZone")
    if time_zone is not None and (not isinstance(time_zone, str) or not is_valid_zone(time_zone)):
        raise errors.invalid_param("timeZone", f"Invalid time zone definition for time zone: {time_zone}")
    with emu.lock:
        account = emu.state.account(token.email)
        if account is None:
            raise errors.not_found()
        calendar = emu._create_calendar(
            f"c_{secrets.token_hex(32)}@group.calendar.google.com",
            summary=summary,
            time_zone=time_zone or emu.state.calendars[account.email].time_zone,
            owner=account.email,
            description=body.get("description") or None,
        )
        calendar.created_by_client = token.client_id
        emu._add_entry(account, calendar.id, access_role="owner")
        data = calendar_json(calendar)
    return json_response(req, data)


# --- events -----------------------------------------------------------------------------------


def events_insert(emu, req: Request, raw_calendar_id: str) -> Response:
    """A client-chosen ``id`` that the calendar already holds (a deleted event's too) is 409."""
    token = authenticate(emu, req, "events.insert")
    body = _json_body(req)
    with emu.lock:
        calendar = writable_calendar(emu, token, raw_calendar_id, "events.insert")
        event_id = body.get("id")
        if event_id is not None and not store.valid_event_id(event_id):
            raise ApiError(400, "invalid", "Invalid resource id value.")
        if event_id in calendar.events:
            raise errors.duplicate()
        ical_uid = body.get("iCalUID")
        if ical_uid and any(e.body.get("iCalUID") == ical_uid for e in calendar.events.values()):
            raise errors.duplicate()
        _require_times(body)
        data = _stored(emu, req, calendar, lambda: store.insert(calendar, body, emu.clock))
    return json_response(req, data)


def _existing(calendar: Calendar, event_id: str):
    event = calendar.events.get(event_id)
    if event is None:
        raise errors.not_found()
    return event


def events_update(emu, req: Request, raw_calendar_id: str, event_id: str) -> Response:
    """A full replacement: fields the body omits are cleared."""
    token = authenticate(emu, req, "events.update")
    body = _json_body(req)
    with emu.lock:
        calendar = writable_calendar(emu, token, raw_calendar_id, "events.update")
        _existing(calendar, event_id)
        _require_times(body)
        data = _stored(emu, req, calendar, lambda: store.replace(calendar, event_id, body, emu.clock, emu.horizon()))
    return json_response(req, data)


def events_patch(emu, req: Request, raw_calendar_id: str, event_id: str) -> Response:
    """Patch semantics: only the fields given change (``null`` clears one)."""
    token = authenticate(emu, req, "events.patch")
    body = {k: v for k, v in _json_body(req).items() if k != "id"}
    with emu.lock:
        calendar = writable_calendar(emu, token, raw_calendar_id, "events.patch")
        _existing(calendar, event_id)
        data = _stored(emu, req, calendar, lambda: store.update(calendar, event_id, body, emu.clock, emu.horizon()))
    return json_response(req, data)


def events_delete(emu, req: Request, raw_calendar_id: str, event_id: str) -> Response:
    """204; an event that is already deleted answers 410 ``deleted``, an unknown one 404."""
    token = authenticate(emu, req, "events.delete")
    with emu.lock:
        calendar = writable_calendar(emu, token, raw_calendar_id, "events.delete")
        event = calendar.events.get(event_id)
        if event is None and store.parse_instance_id(calendar, event_id, emu.horizon()) is None:
            raise errors.not_found()
        if event is not None and event.status == "cancelled":
            raise errors.deleted()
        try:
            store.delete(calendar, event_id, emu.clock, emu.horizon())
        except EmulatorError as exc:
            raise ApiError(400, "invalid", str(exc)) from None
        emu._notify(calendar)
    return Response(204, b"", {})
