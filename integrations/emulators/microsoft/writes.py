"""Graph v1.0 writes (Calendars.ReadWrite): create a calendar, list events with ``$filter``,
create, update and delete events, with single-value extended properties and ``transactionId``.

https://learn.microsoft.com/en-us/graph/api/user-post-calendars
https://learn.microsoft.com/en-us/graph/api/user-list-events
https://learn.microsoft.com/en-us/graph/api/calendar-post-events
https://learn.microsoft.com/en-us/graph/api/event-update
https://learn.microsoft.com/en-us/graph/api/event-delete
https://learn.microsoft.com/en-us/graph/api/resources/event (transactionId)
"""

from __future__ import annotations

from urllib.parse import quote

from . import extended, render, store
from .errors import EmulatorError, GraphError, access_denied, bad_request, item_not_found
from .graph import _context, _find_item, _full, _out_zone, _select, calendar_of, req_url
from .state import Account
from .wire import Request, Response

VIEW_MAX_TOP = 1000
MAILBOX = "*"  # ``me/events``: every calendar the account owns


def folder_exists() -> GraphError:
    return GraphError(409, "ErrorFolderExists", "A folder with the specified name already exists.")


def _body(req: Request) -> dict:
    body = req.json()
    if not isinstance(body, dict):
        raise bad_request("Empty Payload. JSON content expected.", "BadRequest")
    return body


def _writable(emu, account: Account, calendar_id: str | None):
    calendar = calendar_of(emu, account, calendar_id)
    if calendar.owner_email != account.email or not calendar.can_edit:
        raise access_denied()
    return calendar


def _owned(emu, account: Account) -> list:
    calendars = (emu.state.calendars[c] for c in account.calendar_ids)
    return [c for c in calendars if c.owner_email == account.email]


def calendars_create(emu, req: Request, account: Account) -> Response:
    body = _body(req)
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise bad_request("The name of the calendar is missing.", "ErrorInvalidRequest")
    unknown = set(body) - {"name", "color", "hexColor"}
    if unknown:
        raise bad_request(f"Property '{sorted(unknown)[0]}' does not exist on type 'microsoft.graph.calendar'.")
    if any(c.name.lower() == name.strip().lower() for c in _owned(emu, account)):
        raise folder_exists()
    calendar = emu._create_calendar(account, name.strip(), color=body.get("color") or "auto")
    return Response.json(
        201, {"@odata.context": _context(emu, "calendars/$entity"), **render.calendar_json(calendar, account)}
    )


def events_list(emu, req: Request, account: Account, calendar_id: str | None) -> Response:
    """Single events and series masters (no occurrences), optionally filtered by extended properties."""
    calendars = _owned(emu, account) if calendar_id == MAILBOX else [calendar_of(emu, account, calendar_id)]
    predicate = extended.event_filter(req)
    ids = extended.expand_ids(req)
    zone = _out_zone(req)
    size = min(int(req.arg("$top") or 10), VIEW_MAX_TOP)
    skip = int(req.arg("$skip") or 0)
    events = [
        e
        for calendar in calendars
        for e in calendar.events.values()
        if not e.deleted and (predicate is None or predicate(e.extended))
    ]
    events.sort(key=lambda e: (e.created, e.id))
    value = []
    for event in events[skip : skip + size]:
        _, item = _find_item(emu, account, event.id)
        value.append(_select(extended.expanded(_full(emu, item, account, zone), event.extended, ids), req))
    body = {"@odata.context": _context(emu, "users('" + quote(account.email) + "')/events"), "value": value}
    if skip + size < len(events):
        query = [(k, v[0]) for k, v in req.query.items() if k not in ("$skip", "$top") and v]
        query += [("$top", str(size)), ("$skip", str(skip + size))]
        body["@odata.nextLink"] = req_url(emu, req) + "?" + "&".join(f"{k}={quote(v, safe=':')}" for k, v in query)
    return Response.json(200, body)


def event_create(emu, req: Request, account: Account, calendar_id: str | None) -> Response:
    calendar = _writable(emu, account, calendar_id)
    body = _body(req)
    transaction_id = body.get("transactionId")
    if transaction_id is not None:
        # A retried create with the same transactionId answers the event made the first time.
        for event in calendar.events.values():
            if not event.deleted and event.transaction_id == transaction_id:
                return _event_answer(emu, req, account, event.id, 201)
    try:
        stored = store.insert(emu.state, calendar, body, emu.clock)
    except EmulatorError as exc:
        raise bad_request(str(exc), "ErrorInvalidRequest") from None
    emu._notify(calendar, [("created", stored.id)])
    return _event_answer(emu, req, account, stored.id, 201)


def _event_answer(emu, req: Request, account: Account, event_id: str, status: int) -> Response:
    _, item = _find_item(emu, account, event_id)
    body = {"@odata.context": _context(emu, "events/$entity"), **_full(emu, item, account, _out_zone(req))}
    return Response.json(status, body)


def _located(emu, account: Account, calendar_id: str | None, event_id: str):
    calendar, _ = _find_item(emu, account, event_id)
    if calendar_id is not None and calendar.id != calendar_id:
        raise item_not_found()
    if calendar.owner_email != account.email or not calendar.can_edit:
        raise access_denied()
    return calendar


def event_update(emu, req: Request, account: Account, calendar_id: str | None, event_id: str) -> Response:
    calendar = _located(emu, account, calendar_id, event_id)
    try:
        event = store.update(emu.state, calendar, event_id, _body(req), emu.clock)
    except EmulatorError as exc:
        raise bad_request(str(exc), "ErrorInvalidRequest") from None
    emu._notify(calendar, [("updated", event.id)])
    return _event_answer(emu, req, account, event_id, 200)


def event_delete(emu, req: Request, account: Account, calendar_id: str | None, event_id: str) -> Response:
    calendar = _located(emu, account, calendar_id, event_id)
    event = store.delete(emu.state, calendar, event_id, emu.clock)
    emu._notify(calendar, [("deleted" if event.deleted else "updated", event.id)])
    return Response(204)
