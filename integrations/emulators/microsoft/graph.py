"""Graph v1.0 handlers: ``me``, calendars, calendarView (plain and delta), events, instances.

https://learn.microsoft.com/en-us/graph/api/user-list-calendars
https://learn.microsoft.com/en-us/graph/api/user-list-calendarview
https://learn.microsoft.com/en-us/graph/api/event-delta
https://learn.microsoft.com/en-us/graph/delta-query-events
https://learn.microsoft.com/en-us/graph/paging
"""

from __future__ import annotations

import datetime as dt
import secrets
from urllib.parse import quote

from . import extended, render, store
from .errors import GraphError, bad_request, item_not_found, resync_required, sync_state_not_found
from .state import Account, Calendar, DeltaRound
from .timeutil import known_zone, parse_instant
from .wire import Request, Response

DELTA_UNSUPPORTED = ("$select", "$expand", "$filter", "$orderby", "$search", "$top")
VIEW_MAX_TOP = 1000
MAX_ROUNDS = 20_000  # kept delta and skip tokens; the oldest tenth goes beyond it


def _out_zone(req: Request) -> str | None:
    name = req.prefer().get("outlook.timezone")
    if name and not known_zone(name):
        raise bad_request(f"The timezone '{name}' is not supported.", "TimeZoneNotSupportedException")
    return name or None


def _page_size(emu, req: Request, default: int) -> int:
    value = req.prefer().get("odata.maxpagesize")
    if value:
        try:
            return max(1, min(int(value), emu.max_page_size))
        except ValueError:
            pass
    return default


def _window(req: Request) -> tuple[dt.datetime, dt.datetime]:
    start, end = req.arg("startDateTime"), req.arg("endDateTime")
    if not start or not end:
        raise bad_request(
            "This request requires a time window specified by the query string parameters StartDateTime and "
            "EndDateTime.",
            "ErrorInvalidParameter",
        )
    try:
        return parse_instant(start), parse_instant(end)
    except ValueError:
        raise bad_request(
            "The value of the startDateTime or endDateTime parameter is invalid.", "ErrorInvalidParameter"
        ) from None


def calendar_of(emu, account: Account, calendar_id: str | None) -> Calendar:
    """``None`` means the default calendar."""
    ids = account.calendar_ids
    if calendar_id is None:
        calendar_id = next((c for c in ids if emu.state.calendars[c].is_default), ids[0] if ids else None)
    if calendar_id is None or calendar_id not in ids:
        raise item_not_found()
    return emu.state.calendars[calendar_id]


def _context(emu, what: str) -> str:
    return f"{emu.graph_root}$metadata#{what}"


# --- me and calendars ---------------------------------------------------------------------------


def me(emu, req: Request, account: Account) -> Response:
    return Response.json(200, render.user_json(account))


def calendars_list(emu, req: Request, account: Account) -> Response:
    size = _page_size(emu, req, default=int(req.arg("$top") or 10))
    skip = int(req.arg("$skip") or 0)
    items = [render.calendar_json(emu.state.calendars[c], account) for c in account.calendar_ids]
    page = items[skip : skip + size]
    body = {"@odata.context": _context(emu, "users('" + quote(account.email) + "')/calendars"), "value": page}
    if skip + size < len(items):
        body["@odata.nextLink"] = f"{emu.graph_root}me/calendars?$top={size}&$skip={skip + size}"
    return Response.json(200, body)


def calendar_get(emu, req: Request, account: Account, calendar_id: str | None) -> Response:
    calendar = calendar_of(emu, account, calendar_id)
    return Response.json(
        200, {"@odata.context": _context(emu, "calendars/$entity"), **render.calendar_json(calendar, account)}
    )


def _select(body: dict, req: Request) -> dict:
    fields = req.arg("$select")
    if not fields:
        return body
    wanted = {f.strip() for f in fields.split(",")} | {"id", "@odata.etag", extended.NAME}
    return {k: v for k, v in body.items() if k in wanted}


# --- calendarView ---------------------------------------------------------------------------------


def calendar_view(emu, req: Request, account: Account, calendar_id: str | None) -> Response:
    calendar = calendar_of(emu, account, calendar_id)
    start, end = _window(req)
    zone = _out_zone(req)
    size = min(int(req.arg("$top") or _page_size(emu, req, default=10)), VIEW_MAX_TOP)
    skip = int(req.arg("$skip") or 0)
    items = [i for group in store.items_in_window(calendar, start, end, masters=False) for i in group]
    items.sort(key=lambda i: (i.start, i.id))
    page = items[skip : skip + size]
    ids = extended.expand_ids(req)
    value = [_select(extended.expanded(_full(emu, i, account, zone), i.event.extended, ids), req) for i in page]
    body = {"@odata.context": _context(emu, "users('" + quote(account.email) + "')/calendarView"), "value": value}
    if skip + size < len(items):
        query = [(k, v[0]) for k, v in req.query.items() if k not in ("$skip", "$top") and v]
        query += [("$top", str(size)), ("$skip", str(skip + size))]
        body["@odata.nextLink"] = req_url(emu, req) + "?" + "&".join(f"{k}={quote(v, safe=':')}" for k, v in query)
    return Response.json(200, body)


def req_url(emu, req: Request) -> str:
    return emu.base_url.rstrip("/") + req.path


def _full(emu, item, account, zone) -> dict:
    return render.event_json(
        item, account, out_zone=zone, web_root=emu.outlook_root, unanswered=emu.unanswered_response
    )


# --- events ------------------------------------------------------------------------------------


def _find_item(emu, account: Account, event_id: str):
    for calendar_id in account.calendar_ids:
        calendar = emu.state.calendars[calendar_id]
        try:
            event, day = store.find(calendar, event_id)
        except Exception:  # noqa: BLE001 - EmulatorError: try the next calendar
            continue
        limit = (day or dt.date.today()) + dt.timedelta(days=1)
        if event.is_master:
            for item in store.series_items(event, limit if day else dt.date(1900, 1, 1)):
                if item.id == event_id:
                    return calendar, item
            if day is None:
                return calendar, store.series_items(event, dt.date(1900, 1, 1))[0]
            continue
        return calendar, store.Item(
            id=event.id,
            group=event.id,
            kind="singleInstance",
            event=event,
            data=event.data,
            start=store.instant(event.data["start"]),
            end=store.instant(event.data["end"]),
            version=event.seq,
        )
    raise item_not_found()


def event_get(emu, req: Request, account: Account, calendar_id: str | None, event_id: str) -> Response:
    calendar, item = _find_item(emu, account, event_id)
    if calendar_id is not None and calendar.id != calendar_id:
        raise item_not_found()
    body = {"@odata.context": _context(emu, "events/$entity"), **_full(emu, item, account, _out_zone(req))}
    body = extended.expanded(body, item.event.extended, extended.expand_ids(req))
    return Response.json(200, _select(body, req))


def event_instances(emu, req: Request, account: Account, calendar_id: str | None, event_id: str) -> Response:
    _, item = _find_item(emu, account, event_id)
    if item.kind != "seriesMaster":
        raise bad_request("The event is not a recurring series master.", "ErrorInvalidRequest")
    start, end = _window(req)
    zone = _out_zone(req)
    ids = extended.expand_ids(req)
    size = min(int(req.arg("$top") or _page_size(emu, req, default=10)), VIEW_MAX_TOP)
    skip = int(req.arg("$skip") or 0)
    items = [
        i
        for i in store.series_items(item.event, (end + dt.timedelta(days=2)).date())[1:]
        if store._overlaps(i, start, end)
    ]
    page = items[skip : skip + size]
    body = {
        "@odata.context": _context(emu, "events"),
        "value": [_select(extended.expanded(_full(emu, i, account, zone), i.event.extended, ids), req) for i in page],
    }
    if skip + size < len(items):
        query = [(k, v[0]) for k, v in req.query.items() if k not in ("$skip", "$top") and v]
        query += [("$top", str(size)), ("$skip", str(skip + size))]
        body["@odata.nextLink"] = req_url(emu, req) + "?" + "&".join(f"{k}={quote(v, safe=':')}" for k, v in query)
    return Response.json(200, body)


# --- calendarView delta ---------------------------------------------------------------------------


def _delta_url(emu, calendar: Calendar, default_path: bool, name: str, token: str) -> str:
    path = "me/calendarView/delta" if default_path else f"me/calendars/{quote(calendar.id, safe='')}/calendarView/delta"
    return f"{emu.graph_root}{path}?{name}={token}"


def _expired(emu, calendar: Calendar, round_: DeltaRound | None, default_path: bool) -> GraphError:
    mode = emu.expired_delta_mode
    if mode == "resyncRequired":
        return resync_required()
    error = sync_state_not_found()
    if mode == "syncStateNotFound":
        error.code = "syncStateNotFound"
    if mode == "location" and round_ is not None:
        start, end = round_.start, round_.end
        path = (
            "me/calendarView/delta"
            if default_path
            else f"me/calendars/{quote(calendar.id, safe='')}/calendarView/delta"
        )
        error.headers["Location"] = (
            f"{emu.graph_root}{path}?startDateTime={start.strftime('%Y-%m-%dT%H:%M:%SZ')}"
            f"&endDateTime={end.strftime('%Y-%m-%dT%H:%M:%SZ')}"
        )
    return error


def delta(emu, req: Request, account: Account, calendar_id: str | None) -> Response:
    calendar = calendar_of(emu, account, calendar_id)
    default_path = calendar_id is None
    zone = _out_zone(req)
    skip_token, delta_token = req.arg("$skiptoken"), req.arg("$deltatoken")
    size = _page_size(emu, req, default=emu.delta_page_size)
    index = 0
    if skip_token is not None:
        found = emu.state.skips.get(skip_token)
        round_, index = found if found else (None, 0)
        if round_ is None or round_.calendar_id != calendar.id or round_.email != account.email:
            raise _expired(emu, calendar, None, default_path)
        if round_.epoch != calendar.delta_epoch:
            raise _expired(emu, calendar, round_, default_path)
    elif delta_token is not None:
        round_ = emu.state.rounds.get(delta_token)
        if round_ is None or round_.calendar_id != calendar.id or round_.email != account.email:
            raise _expired(emu, calendar, None, default_path)
        if round_.epoch != calendar.delta_epoch:
            raise _expired(emu, calendar, round_, default_path)
        round_ = _incremental_round(emu, calendar, round_)
    else:
        for name in DELTA_UNSUPPORTED:
            if req.arg(name) is not None:
                raise bad_request(
                    f"The following parameters are not supported with change tracking over the 'CalendarView' "
                    f"resource: '{name}'.",
                    "ErrorInvalidUrlQuery",
                )
        start, end = _window(req)
        round_ = _initial_round(emu, calendar, account, start, end)
    return _page(emu, calendar, account, round_, index, size, zone, default_path)


def _new_round(emu, calendar: Calendar, email: str, start, end) -> DeltaRound:
    token = secrets.token_urlsafe(32)
    round_ = DeltaRound(
        token=token,
        calendar_id=calendar.id,
        email=email,
        start=start,
        end=end,
        epoch=calendar.delta_epoch,
        seq=emu.state.seq,
    )
    emu.state.rounds[token] = round_
    if len(emu.state.rounds) > MAX_ROUNDS:  # Outlook's delta tokens also fall out of a cache
        for old in list(emu.state.rounds)[: MAX_ROUNDS // 10]:
            del emu.state.rounds[old]
    return round_


def _initial_round(emu, calendar: Calendar, account: Account, start, end) -> DeltaRound:
    round_ = _new_round(emu, calendar, account.email, start, end)
    groups = store.items_in_window(calendar, start, end, masters=emu.delta_includes_masters)
    round_.pending = [[("item", i) for i in group] for group in groups]
    round_.next_known = {i.id: i.version for group in groups for i in group}
    return round_


def _incremental_round(emu, calendar: Calendar, previous: DeltaRound) -> DeltaRound:
    round_ = _new_round(emu, calendar, previous.email, previous.start, previous.end)
    groups = store.items_in_window(calendar, previous.start, previous.end, masters=emu.delta_includes_masters)
    known = previous.known
    current: dict[str, int] = {}
    pending: list[list[tuple]] = []
    present_groups = set()
    for group in groups:
        present_groups.add(group[0].group)
        for item in group:
            current[item.id] = item.version
        if any(known.get(i.id) != i.version for i in group):
            pending.append([("item", i) for i in group])
    removed = [item_id for item_id in known if item_id not in current]
    if not emu.report_removed_occurrences:
        parsed = {item_id: store.parse_occurrence_id(item_id) for item_id in removed}
        removed = [i for i in removed if parsed[i] is None or parsed[i][0] not in present_groups]
    for item_id in removed:
        pending.append([("removed", item_id)])
    if emu.report_out_of_window_changes:
        for event in calendar.events.values():
            if event.seq > previous.seq and event.id not in current and event.id not in known:
                pending.append([("removed", event.id)])
    round_.pending = pending
    round_.next_known = current
    return round_


def _page(emu, calendar, account, round_: DeltaRound, index: int, size: int, zone, default_path: bool) -> Response:
    """One page from group ``index``: whole groups (a series is never split) up to ``size``
    items, at least one group. Each page has its own skip token, so a retried nextLink
    answers the same page again."""
    page: list[dict] = []
    groups = round_.pending
    empty = emu.take_empty_page("calendarView.delta")
    if not empty:
        while index < len(groups) and (not page or len(page) + len(groups[index]) <= size):
            page.extend(_delta_item(emu, kind, value, account, zone) for kind, value in groups[index])
            index += 1
    body = {"@odata.context": _context(emu, "Collection(event)"), "value": page}
    if empty or index < len(groups):
        token = secrets.token_urlsafe(32)
        emu.state.skips[token] = (round_, index)
        if len(emu.state.skips) > MAX_ROUNDS:
            for old in list(emu.state.skips)[: MAX_ROUNDS // 10]:
                del emu.state.skips[old]
        body["@odata.nextLink"] = _delta_url(emu, calendar, default_path, "$skiptoken", token)
    else:
        finished = _new_round(emu, calendar, round_.email, round_.start, round_.end)
        finished.seq = round_.seq
        finished.known = round_.next_known
        body["@odata.deltaLink"] = _delta_url(emu, calendar, default_path, "$deltatoken", finished.token)
    return Response.json(200, body)


def _delta_item(emu, kind: str, value, account: Account, zone) -> dict:
    if kind == "removed":
        return render.removed_json(value)
    if value.kind == "occurrence":
        return render.sparse_occurrence_json(value, out_zone=zone)
    return {"@odata.type": render.EVENT_TYPE, **_full(emu, value, account, zone)}
