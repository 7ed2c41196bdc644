"""Calendar API v3 handlers: calendarList, calendars.get, events.list/get/instances/watch, channels.stop.

Request checks run in Google's order: bearer token (401 ``required``/``authError``), scope
(403 ``insufficientPermissions``), calendar access (404), then parameters (400).
https://developers.google.com/calendar/api/v3/reference
"""

from __future__ import annotations

import json
import time
from urllib.parse import quote, urlencode, urlsplit

from . import errors
from .errors import ApiError, Response
from .fields import apply_fields
from .listing import EventQuery, binding_hash, decode_token, encode_token, events_body, page, read_sync_token
from .render import RenderContext, render
from .state import AccessToken, Calendar, CalendarEntry, Channel
from .store import EVENT_TYPES, make_instance, parse_instance_id
from .timeutil import is_valid_zone, ms_to_rfc3339, parse_rfc3339
from .wire import Request

_S = "https://www.googleapis.com/auth/"
_READ_EVENTS = {
    _S + s
    for s in (
        "calendar",
        "calendar.app.created",
        "calendar.events",
        "calendar.events.freebusy",
        "calendar.events.owned",
        "calendar.events.owned.readonly",
        "calendar.events.public.readonly",
        "calendar.events.readonly",
        "calendar.readonly",
    )
}
APP_CREATED = _S + "calendar.app.created"
_WRITE_EVENTS = {_S + s for s in ("calendar", "calendar.app.created", "calendar.events", "calendar.events.owned")}
_READ_LIST = {
    _S + s for s in ("calendar", "calendar.calendarlist", "calendar.calendarlist.readonly", "calendar.readonly")
}
# Scopes accepted per method, from the Calendar v3 discovery document.
ENDPOINT_SCOPES = {
    "calendarList.list": _READ_LIST,
    "calendarList.get": _READ_LIST | {_S + "calendar.app.created"},
    "calendars.get": {
        _S + s
        for s in (
            "calendar",
            "calendar.app.created",
            "calendar.calendars",
            "calendar.calendars.readonly",
            "calendar.readonly",
        )
    },
    "calendars.insert": {_S + s for s in ("calendar", "calendar.app.created", "calendar.calendars")},
    "events.insert": _WRITE_EVENTS,
    "events.update": _WRITE_EVENTS,
    "events.patch": _WRITE_EVENTS,
    "events.delete": _WRITE_EVENTS,
    "freebusy.query": {
        _S + s for s in ("calendar", "calendar.events.freebusy", "calendar.freebusy", "calendar.readonly")
    },
    "events.list": _READ_EVENTS,
    "events.get": _READ_EVENTS,
    "events.instances": _READ_EVENTS,
    "events.watch": _READ_EVENTS,
    "channels.stop": _READ_EVENTS
    | _READ_LIST
    | {_S + s for s in ("calendar.acls", "calendar.acls.readonly", "calendar.settings.readonly")},
    "userinfo": {"openid", _S + "userinfo.email", _S + "userinfo.profile"},
}
_GRPC_METHODS = {
    "calendarList.list": "calendar.v3.CalendarList.List",
    "calendarList.get": "calendar.v3.CalendarList.Get",
    "calendars.get": "calendar.v3.Calendars.Get",
    "calendars.insert": "calendar.v3.Calendars.Insert",
    "events.insert": "calendar.v3.Events.Insert",
    "events.update": "calendar.v3.Events.Update",
    "events.patch": "calendar.v3.Events.Patch",
    "events.delete": "calendar.v3.Events.Delete",
    "freebusy.query": "calendar.v3.Freebusy.Query",
    "events.list": "calendar.v3.Events.List",
    "events.get": "calendar.v3.Events.Get",
    "events.instances": "calendar.v3.Events.Instances",
    "events.watch": "calendar.v3.Events.Watch",
    "channels.stop": "calendar.v3.Channels.Stop",
    "userinfo": "oauth2.v2.UserInfo.Get",
}
_GLOBAL_PARAMS = {
    "alt",
    "fields",
    "prettyPrint",
    "quotaUser",
    "key",
    "access_token",
    "oauth_token",
    "userIp",
    "$.xgafv",
    "callback",
    "upload_protocol",
    "uploadType",
}
_SYNC_FORBIDDEN = (
    "iCalUID",
    "orderBy",
    "privateExtendedProperty",
    "q",
    "sharedExtendedProperty",
    "timeMin",
    "timeMax",
    "updatedMin",
)
ROLE_RANK = {"freeBusyReader": 0, "reader": 1, "writerWithoutPrivateAccess": 2, "writer": 2, "owner": 3}
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "testserver"}


# --- common checks ------------------------------------------------------------------------


def authenticate(emu, req: Request, endpoint: str) -> AccessToken:
    header = req.header("authorization") or ""
    raw = None
    if header.lower().startswith("bearer "):
        raw = header[7:].strip()
    elif req.arg("access_token") or req.arg("oauth_token"):
        raw = req.arg("access_token") or req.arg("oauth_token")
    if not raw:
        raise errors.login_required()
    with emu.lock:
        token = emu.state.access_tokens.get(raw)
        if token is None or token.revoked or token.expires_at <= emu.clock.now():
            raise errors.auth_error()
    allowed = ENDPOINT_SCOPES[endpoint]
    if not token.scopes & allowed:
        raise errors.insufficient_permissions(_GRPC_METHODS[endpoint], sorted(allowed))
    return token


def app_created_only(token: AccessToken, endpoint: str) -> bool:
    """The token reaches ``endpoint`` only through ``calendar.app.created``: it then sees and
    changes nothing but the calendars its own client created."""
    return token.scopes & ENDPOINT_SCOPES[endpoint] <= {APP_CREATED}


def resolve_calendar(
    emu, token: AccessToken, raw_id: str, endpoint: str | None = None
) -> tuple[Calendar, CalendarEntry]:
    """The calendar ``raw_id`` names for this token; 404 when the account cannot reach it, or
    when ``endpoint`` is a read the token may make only on its client's own calendars."""
    account = emu.state.account(token.email)
    calendar_id = token.email if raw_id == "primary" else raw_id
    entry = account.entries.get(calendar_id) if account else None
    if entry is None and account is not None:
        entry = next((e for cid, e in account.entries.items() if cid.lower() == calendar_id.lower()), None)
    if entry is None or entry.deleted or entry.calendar_id not in emu.state.calendars:
        raise errors.not_found()
    calendar = emu.state.calendars[entry.calendar_id]
    if endpoint is not None and app_created_only(token, endpoint) and calendar.created_by_client != token.client_id:
        raise errors.not_found()
    return calendar, entry


def _bool(req: Request, name: str, default: bool = False) -> bool:
    raw = req.arg(name)
    if raw is None:
        return default
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise errors.invalid_param(
        name, f"Invalid value '{raw}'. Values must match the following regular expression: 'true|false'"
    )


def _int(req: Request, name: str, default: int, *, low: int, high: int) -> int:
    raw = req.arg(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise errors.invalid_param(
            name, f"Invalid value '{raw}'. Values must be within the range: [{low}, {high}]"
        ) from None
    if value < low:
        raise errors.invalid_param(name, f"Invalid value '{raw}'. Values must be within the range: [{low}, {high}]")
    return min(value, high)  # Google silently caps page sizes


def _page_size(emu, asked: int) -> int:
    return min(asked, emu.page_size) if emu.page_size else asked


def _time(req: Request, name: str):
    raw = req.arg(name)
    if raw is None:
        return None
    try:
        return parse_rfc3339(raw)
    except ValueError:
        raise errors.bad_request("Bad Request") from None


def _check_time_range(time_min, time_max) -> None:
    """``timeMax`` must lie after ``timeMin`` (events.list and events.instances alike)."""
    if time_min is not None and time_max is not None and time_max <= time_min:
        raise ApiError(
            400,
            "timeRangeEmpty",
            "The specified time range is empty.",
            domain="calendar",
            location="timeMax",
            location_type="parameter",
        )


def _zone_param(req: Request, calendar: Calendar) -> str:
    name = req.arg("timeZone")
    if name is None:
        return calendar.time_zone
    if not is_valid_zone(name):
        raise errors.invalid_param("timeZone", f"Invalid time zone definition for time zone: {name}")
    return name


def _binding(req: Request, calendar: Calendar | None, extra: str = "") -> str:
    """The query a page token belongs to: every parameter but pageToken and maxResults."""
    pairs = sorted(
        (k, tuple(v)) for k, v in req.query.items() if k not in _GLOBAL_PARAMS and k not in ("pageToken", "maxResults")
    )
    return json.dumps([calendar.id if calendar else "", extra, pairs])


def json_response(req: Request, data: dict) -> Response:
    fields = req.arg("fields")
    if fields:
        try:
            data = apply_fields(data, fields)
        except ValueError:
            raise errors.invalid_param("fields", "Invalid field selection " + fields) from None
    return Response.json(200, data)


def _ext_props(req: Request, name: str) -> tuple[tuple[str, str], ...]:
    out = []
    for raw in req.query.get(name, []):
        key, sep, value = raw.partition("=")
        if not sep:
            raise errors.invalid_param(name, f"Invalid value for {name}: {raw}")
        out.append((key, value))
    return tuple(sorted(out))


def _events_head(calendar: Calendar, entry: CalendarEntry) -> dict:
    head = {
        "kind": "calendar#events",
        "etag": f'"p3{calendar.change_seq:014d}"',
        "summary": calendar.summary,
    }
    if calendar.description:
        head["description"] = calendar.description
    head["updated"] = ms_to_rfc3339(calendar.updated_ms)
    head["timeZone"] = calendar.time_zone
    head["accessRole"] = entry.access_role
    head["defaultReminders"] = [{"method": "popup", "minutes": 10}] if entry.access_role == "owner" else []
    return head


def _ctx(emu, req: Request, calendar: Calendar, *, full_cancelled: bool) -> RenderContext:
    max_attendees = _int(req, "maxAttendees", 0, low=1, high=10**6) if req.arg("maxAttendees") else None
    return RenderContext(_zone_param(req, calendar), emu.base_url, full_cancelled, max_attendees)


# --- events -------------------------------------------------------------------------------


def _listing_delay(emu) -> None:
    """The emulator's ``listing_latency`` knob: a remote server's time per page, lock not held."""
    if emu.listing_latency:
        time.sleep(emu.listing_latency)


def events_list(emu, req: Request, raw_calendar_id: str) -> Response:
    token = authenticate(emu, req, "events.list")
    _listing_delay(emu)
    with emu.lock:
        calendar, entry = resolve_calendar(emu, token, raw_calendar_id, "events.list")
        max_results = _page_size(emu, _int(req, "maxResults", 250, low=1, high=2500))
        single = _bool(req, "singleEvents")
        show_deleted = _bool(req, "showDeleted")
        _bool(req, "showHiddenInvitations")
        time_min, time_max = _time(req, "timeMin"), _time(req, "timeMax")
        updated_min = _time(req, "updatedMin")
        order_by = req.arg("orderBy")
        sync_token = req.arg("syncToken")
        if sync_token is not None:
            used = [name for name in _SYNC_FORBIDDEN if req.arg(name) is not None]
            if used:
                raise errors.invalid_param(
                    "syncToken", f"The following parameters cannot be used together with a syncToken: {', '.join(used)}"
                )
        _check_time_range(time_min, time_max)
        if order_by is not None and order_by not in ("startTime", "updated"):
            raise errors.invalid_param("orderBy", f"Invalid value '{order_by}'. Values must be startTime or updated")
        if order_by == "startTime" and not single:
            raise errors.invalid_param("orderBy", "The requested ordering is not available for the particular query.")
        event_types = req.query.get("eventTypes")
        if event_types:
            bad = [t for t in event_types if t not in EVENT_TYPES]
            if bad:
                raise errors.invalid_param("eventTypes", f"Invalid value for eventTypes: {bad[0]}")
        ctx = _ctx(emu, req, calendar, full_cancelled=show_deleted)
        sync_seq = read_sync_token(calendar, sync_token, emu.state.boot_id) if sync_token is not None else None
        query = EventQuery(
            single_events=single,
            show_deleted=show_deleted,
            time_min=time_min,
            time_max=time_max,
            updated_min=updated_min,
            order_by=order_by,
            event_types=frozenset(event_types) if event_types else None,
            q=req.arg("q"),
            ical_uid=req.arg("iCalUID"),
            private_ext=_ext_props(req, "privateExtendedProperty"),
            shared_ext=_ext_props(req, "sharedExtendedProperty"),
            sync_seq=sync_seq,
            binding=_binding(req, calendar),
        )
        # A full listing ordered or searched does not end with a sync token (reported by users);
        # sync listings must not use orderBy/q. Configurable on the emulator.
        with_sync = emu.sync_token_with_order_by or (order_by is None and query.q is None)
        result = page(
            calendar,
            query,
            max_results=max_results,
            page_token=req.arg("pageToken"),
            boot_id=emu.state.boot_id,
            horizon=emu.horizon(),
            with_sync_token=with_sync,
            empty=req.empty_page,
        )
        body = events_body(_events_head(calendar, entry), result, ctx, req.arg("fields"))
    return Response.json(200, body)


def events_instances(emu, req: Request, raw_calendar_id: str, event_id: str) -> Response:
    token = authenticate(emu, req, "events.instances")
    _listing_delay(emu)
    with emu.lock:
        calendar, entry = resolve_calendar(emu, token, raw_calendar_id, "events.instances")
        event = calendar.events.get(event_id)
        if event is None or event.recurring_event_id:
            raise errors.not_found()
        max_results = _page_size(emu, _int(req, "maxResults", 250, low=1, high=2500))
        show_deleted = _bool(req, "showDeleted")
        time_min, time_max = _time(req, "timeMin"), _time(req, "timeMax")
        _check_time_range(time_min, time_max)
        query = EventQuery(
            single_events=True,
            show_deleted=show_deleted,
            time_min=time_min,
            time_max=time_max,
            instances_of=event.id,
            original_start=_time(req, "originalStart"),
            binding=_binding(req, calendar, "instances:" + event.id),
        )
        ctx = _ctx(emu, req, calendar, full_cancelled=show_deleted)
        result = page(
            calendar,
            query,
            max_results=max_results,
            page_token=req.arg("pageToken"),
            boot_id=emu.state.boot_id,
            horizon=emu.horizon(),
            with_sync_token=False,
        )
        body = events_body(_events_head(calendar, entry), result, ctx, req.arg("fields"))
    return Response.json(200, body)


def events_get(emu, req: Request, raw_calendar_id: str, event_id: str) -> Response:
    token = authenticate(emu, req, "events.get")
    with emu.lock:
        calendar, _ = resolve_calendar(emu, token, raw_calendar_id, "events.get")
        item = calendar.events.get(event_id)
        if item is None:
            found = parse_instance_id(calendar, event_id, emu.horizon())
            if found is None:
                raise errors.not_found()
            item = make_instance(*found)
        ctx = _ctx(emu, req, calendar, full_cancelled=True)
        data = render(item, ctx)[0]
    return json_response(req, data)


# --- watch / stop -------------------------------------------------------------------------


def events_watch(emu, req: Request, raw_calendar_id: str) -> Response:
    token = authenticate(emu, req, "events.watch")
    body = req.json()
    if not isinstance(body, dict):
        raise ApiError(400, "parseError", "Parse Error")
    with emu.lock:
        calendar, _ = resolve_calendar(emu, token, raw_calendar_id, "events.watch")
        channel_id = body.get("id")
        if not channel_id:
            raise ApiError(400, "required", "Required", location="id", location_type="parameter")
        if not isinstance(channel_id, str) or len(channel_id) > 64:
            raise errors.invalid_param("id", "Channel id must be a string of at most 64 characters.")
        channel_type = body.get("type")
        if not channel_type:
            raise ApiError(400, "required", "Required", location="type", location_type="parameter")
        if str(channel_type).lower() not in ("web_hook", "webhook"):
            raise errors.invalid_param("type", f"Invalid value for: {channel_type} is not a valid channel type")
        address = body.get("address")
        if not address:
            raise ApiError(400, "required", "Required", location="address", location_type="parameter")
        parts = urlsplit(address)
        # Google requires https with a trusted certificate; the emulator also takes http on loopback
        # hosts, because tests and the local demo run on plain http.
        if parts.scheme != "https" and not (parts.scheme == "http" and (parts.hostname or "") in LOOPBACK_HOSTS):
            raise ApiError(400, "push.webhookUrlNotHttps", f"WebHook callback must be HTTPS: {address}")
        channel_token = body.get("token")
        if channel_token is not None and len(str(channel_token)) > 256:
            raise errors.invalid_param("token", "Channel token must be at most 256 characters.")
        existing = emu.state.channels.get(channel_id)
        now_ms = int(emu.clock.now() * 1000)
        if existing is not None and not existing.stopped and existing.expiration_ms > now_ms:
            raise ApiError(400, "channelIdNotUnique", f"Channel id {channel_id} not unique")
        params = body.get("params") or {}
        ttl = emu.default_channel_ttl
        if "ttl" in params:
            try:
                ttl = int(params["ttl"])
            except (TypeError, ValueError):
                raise errors.invalid_param("params.ttl", f"Invalid ttl value: {params['ttl']}") from None
            if ttl <= 0:
                raise errors.invalid_param("params.ttl", f"Invalid ttl value: {params['ttl']}")
        expiration_ms = now_ms + min(ttl, emu.max_channel_ttl) * 1000
        if body.get("expiration"):
            try:
                expiration_ms = min(expiration_ms, int(body["expiration"]))
            except (TypeError, ValueError):
                raise errors.invalid_param("expiration", f"Invalid expiration: {body['expiration']}") from None
        list_params = [(k, v) for k, values in req.query.items() if k not in ("alt",) for v in values]
        resource_uri = f"{emu.api_root}calendar/v3/calendars/{quote(raw_calendar_id, safe='@')}/events?alt=json" + (
            "&" + urlencode(list_params) if list_params else ""
        )
        channel = Channel(
            id=channel_id,
            resource_id=calendar.resource_id,
            resource_uri=resource_uri,
            calendar_id=calendar.id,
            address=address,
            token=channel_token,
            expiration_ms=expiration_ms,
            client_id=token.client_id,
            email=token.email,
            params={k: str(v) for k, v in params.items()},
            created_ms=now_ms,
        )
        emu.state.channels[channel_id] = channel
        emu.send_sync_message(channel)
        out = {"kind": "api#channel", "id": channel.id, "resourceId": channel.resource_id, "resourceUri": resource_uri}
        if channel_token is not None:
            out["token"] = channel_token
        out["expiration"] = str(expiration_ms)
    return json_response(req, out)


def channels_stop(emu, req: Request) -> Response:
    token = authenticate(emu, req, "channels.stop")
    body = req.json()
    if not isinstance(body, dict):
        raise ApiError(400, "parseError", "Parse Error")
    channel_id = body.get("id")
    if not channel_id:
        raise ApiError(400, "required", "Required", location="id", location_type="parameter")
    with emu.lock:
        channel = emu.state.channels.get(channel_id)
        live = (
            channel is not None
            and not channel.stopped
            and channel.expiration_ms > emu.clock.now() * 1000
            and channel.client_id == token.client_id
            and channel.email == token.email
            and (not body.get("resourceId") or body["resourceId"] == channel.resource_id)
        )
        if not live:
            raise errors.not_found(f"Channel '{channel_id}' not found for project '{emu.project_number}'")
        channel.stopped = True
    return Response(204, b"", {})


# --- calendar list ------------------------------------------------------------------------


def _entry_json(emu, calendar: Calendar, entry: CalendarEntry) -> dict:
    out = {
        "kind": "calendar#calendarListEntry",
        "etag": f'"{entry.updated_ms * 1000}"',
        "id": calendar.id,
        "summary": calendar.summary,
    }
    if calendar.description:
        out["description"] = calendar.description
    if entry.summary_override:
        out["summaryOverride"] = entry.summary_override
    out["timeZone"] = calendar.time_zone
    out["colorId"] = entry.color_id
    out["backgroundColor"] = entry.background_color
    out["foregroundColor"] = entry.foreground_color
    if entry.hidden:
        out["hidden"] = True
    if entry.selected:
        out["selected"] = True
    out["accessRole"] = entry.access_role
    out["defaultReminders"] = [{"method": "popup", "minutes": 10}] if entry.access_role == "owner" else []
    if entry.primary:
        out["notificationSettings"] = {
            "notifications": [
                {"type": "eventCreation", "method": "email"},
                {"type": "eventChange", "method": "email"},
                {"type": "eventCancellation", "method": "email"},
                {"type": "eventResponse", "method": "email"},
            ]
        }
        out["primary"] = True
    elif calendar.owner_email:
        out["dataOwner"] = calendar.owner_email
    out["conferenceProperties"] = {"allowedConferenceSolutionTypes": ["hangoutsMeet"]}
    if entry.deleted:
        out["deleted"] = True
    return out


def calendar_list(emu, req: Request) -> Response:
    token = authenticate(emu, req, "calendarList.list")
    with emu.lock:
        account = emu.state.account(token.email)
        max_results = _page_size(emu, _int(req, "maxResults", 100, low=1, high=250))
        show_deleted = _bool(req, "showDeleted")
        show_hidden = _bool(req, "showHidden")
        min_role = req.arg("minAccessRole")
        if min_role is not None and min_role not in ROLE_RANK:
            raise errors.invalid_param("minAccessRole", f"Invalid value '{min_role}'.")
        sync_token = req.arg("syncToken")
        boot = emu.state.boot_id
        since = None
        if sync_token is not None:
            if min_role is not None or req.arg("showOwnOrganizationOnly") is not None:
                raise errors.invalid_param(
                    "syncToken", "minAccessRole and showOwnOrganizationOnly cannot be used together with a syncToken"
                )
            data = decode_token("CL", sync_token)
            if (
                not data
                or data.get("b") != boot
                or data.get("a") != account.email
                or data.get("e") != account.list_epoch
            ):
                raise errors.full_sync_required()
            since = data["s"]
        entries = []
        for entry in account.entries.values():
            if since is not None:
                if entry.seq > since:
                    entries.append(entry)
                continue
            if (entry.deleted and not show_deleted) or (entry.hidden and not show_hidden):
                continue
            if min_role is not None and ROLE_RANK[entry.access_role] < ROLE_RANK[min_role]:
                continue
            entries.append(entry)
        binding = binding_hash(_binding(req, None, "calendarList:" + account.email))
        offset = 0
        if req.arg("pageToken"):
            data = decode_token("LP", req.arg("pageToken"))
            if not data or data.get("k") != binding or data.get("b") != boot:
                raise errors.invalid_param("pageToken", "Invalid Value")
            offset = data["o"]
        chunk = entries[offset : offset + max_results]
        out = {"kind": "calendar#calendarList", "etag": f'"p3{account.list_seq:014d}"'}
        if offset + len(chunk) < len(entries):
            out["nextPageToken"] = encode_token("LP", {"k": binding, "o": offset + len(chunk), "b": boot})
        else:
            out["nextSyncToken"] = encode_token(
                "CL", {"a": account.email, "s": account.list_seq, "e": account.list_epoch, "b": boot}
            )
        out["items"] = [_entry_json(emu, emu.state.calendars[e.calendar_id], e) for e in chunk]
    return json_response(req, out)


def calendar_list_get(emu, req: Request, raw_calendar_id: str) -> Response:
    token = authenticate(emu, req, "calendarList.get")
    with emu.lock:
        calendar, entry = resolve_calendar(emu, token, raw_calendar_id, "calendarList.get")
        data = _entry_json(emu, calendar, entry)
    return json_response(req, data)


def calendars_get(emu, req: Request, raw_calendar_id: str) -> Response:
    token = authenticate(emu, req, "calendars.get")
    with emu.lock:
        calendar, _ = resolve_calendar(emu, token, raw_calendar_id, "calendars.get")
        data = calendar_json(calendar)
    return json_response(req, data)


def calendar_json(calendar: Calendar) -> dict:
    """The ``Calendar`` resource (calendars.get and calendars.insert)."""
    data = {
        "kind": "calendar#calendar",
        "etag": f'"{calendar.updated_ms * 1000}"',
        "id": calendar.id,
        "summary": calendar.summary,
    }
    if calendar.description:
        data["description"] = calendar.description
    data["timeZone"] = calendar.time_zone
    data["conferenceProperties"] = {"allowedConferenceSolutionTypes": ["hangoutsMeet"]}
    return data


def userinfo(emu, req: Request) -> Response:
    token = authenticate(emu, req, "userinfo")
    with emu.lock:
        account = emu.state.account(token.email)
        data = {"sub": account.sub}
        if _S + "userinfo.profile" in token.scopes:
            data.update(
                name=account.name, given_name=account.name.split(" ")[0], picture=f"{emu.base_url}static/avatar.png"
            )
        if _S + "userinfo.email" in token.scopes:
            data.update(email=account.email, email_verified=True)
    return Response.json(200, data)
