"""Graph JSON for calendars and events, full (calendarView, events/{id}) or sparse (delta
occurrences), in the zone asked by ``Prefer: outlook.timezone``.

https://learn.microsoft.com/en-us/graph/api/resources/event
https://learn.microsoft.com/en-us/graph/api/resources/calendar
"""

from __future__ import annotations

import datetime as dt

from .state import Account, Calendar
from .store import Item, parse_local
from .timeutil import graph_instant, graph_local, zone

EVENT_TYPE = "#microsoft.graph.event"
ZERO_TIME = "0001-01-01T00:00:00Z"


def calendar_json(calendar: Calendar, account: Account) -> dict:
    return {
        "id": calendar.id,
        "name": calendar.name,
        "color": calendar.color,
        "hexColor": calendar.hex_color,
        "isDefaultCalendar": calendar.is_default,
        "changeKey": f"{abs(hash(calendar.id)) % 10**12:012d}AAAA==",
        "canShare": calendar.owner_email == account.email,
        "canViewPrivateItems": calendar.owner_email == account.email,
        "canEdit": calendar.can_edit,
        "isRemovable": not calendar.is_default,
        "isTallyingResponses": calendar.owner_email == account.email,
        "allowedOnlineMeetingProviders": ["teamsForBusiness"],
        "defaultOnlineMeetingProvider": "teamsForBusiness",
        "owner": {"name": calendar.owner_name or account.name, "address": calendar.owner_email},
    }


def _when(value: dict, out_zone: str | None, all_day: bool) -> dict:
    if all_day:
        # All-day events stay at midnight whatever zone is asked for (reported behaviour).
        return {"dateTime": graph_local(parse_local(value["dateTime"])), "timeZone": out_zone or "UTC"}
    local = parse_local(value["dateTime"]).replace(tzinfo=zone(value.get("timeZone") or "UTC"))
    target = zone(out_zone) if out_zone else dt.UTC
    return {"dateTime": graph_local(local.astimezone(target)), "timeZone": out_zone or "UTC"}


def _iso(ts: float) -> str:
    value = dt.datetime.fromtimestamp(ts, tz=dt.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond:06d}0Z"


def _etag(item: Item) -> str:
    return f'W/"{item.event.change_key}{item.version:08d}"'


def default_response(data: dict, unanswered: str) -> dict:
    if "responseStatus" in data:
        return {"response": data["responseStatus"]["response"], "time": data["responseStatus"].get("time", ZERO_TIME)}
    if data.get("isOrganizer", True):
        return {"response": "organizer" if data.get("attendees") else "none", "time": ZERO_TIME}
    return {"response": unanswered, "time": ZERO_TIME}


def event_json(item: Item, account: Account, *, out_zone: str | None, web_root: str, unanswered: str) -> dict:
    data = item.data
    all_day = bool(data.get("isAllDay"))
    organizer_default = {"emailAddress": {"name": account.name, "address": account.email}}
    exception = item.event.exceptions.get(item.original_start.date().isoformat()) if item.original_start else None
    modified = exception.modified if exception else item.event.modified
    body = data.get("body") or {"contentType": "html", "content": ""}
    result = {
        "@odata.etag": _etag(item),
        "id": item.id,
        "createdDateTime": _iso(item.event.created),
        "lastModifiedDateTime": _iso(modified),
        "changeKey": item.event.change_key,
        "categories": list(data.get("categories") or []),
        "transactionId": item.event.transaction_id,
        "originalStartTimeZone": data["start"].get("timeZone") or "UTC",
        "originalEndTimeZone": data["end"].get("timeZone") or "UTC",
        "iCalUId": item.event.ical_uid + (item.original_start.strftime("%Y%m%d") if item.original_start else ""),
        "reminderMinutesBeforeStart": data.get("reminderMinutesBeforeStart", 15),
        "isReminderOn": data.get("isReminderOn", True),
        "hasAttachments": False,
        "subject": data.get("subject", ""),
        "bodyPreview": data.get("bodyPreview", ""),
        "importance": data.get("importance", "normal"),
        "sensitivity": data.get("sensitivity", "normal"),
        "isAllDay": all_day,
        "isCancelled": bool(data.get("isCancelled", False)),
        "isOrganizer": bool(data.get("isOrganizer", True)),
        "responseRequested": data.get("responseRequested", True),
        "seriesMasterId": item.group if item.kind in ("occurrence", "exception") else None,
        "showAs": data.get("showAs", "busy"),
        "type": item.kind,
        "webLink": f"{web_root}owa/?itemid={item.id}&exvsurl=1&path=/calendar/item",
        "onlineMeetingUrl": None,
        "isOnlineMeeting": bool(data.get("isOnlineMeeting", False)),
        "onlineMeetingProvider": "unknown",
        "allowNewTimeProposals": data.get("allowNewTimeProposals", True),
        "isDraft": False,
        "hideAttendees": data.get("hideAttendees", False),
        "responseStatus": default_response(data, unanswered),
        "body": body,
        "start": _when(data["start"], out_zone, all_day),
        "end": _when(data["end"], out_zone, all_day),
        "location": data.get("location")
        or {"displayName": "", "locationType": "default", "uniqueIdType": "unknown", "address": {}, "coordinates": {}},
        "locations": [data["location"]] if data.get("location") else [],
        "recurrence": data.get("recurrence") if item.kind == "seriesMaster" else None,
        "attendees": list(data.get("attendees") or []),
        "organizer": data.get("organizer") or organizer_default,
        "onlineMeeting": None,
    }
    if item.original_start is not None:
        result["originalStart"] = graph_instant(item.original_start)
    return result


def sparse_occurrence_json(item: Item, *, out_zone: str | None) -> dict:
    """What delta returns for a plain occurrence: ids, type and timing only (reported shape)."""
    all_day = bool(item.data.get("isAllDay"))
    return {
        "@odata.type": EVENT_TYPE,
        "@odata.etag": _etag(item),
        "id": item.id,
        "seriesMasterId": item.group,
        "type": "occurrence",
        "start": _when(item.data["start"], out_zone, all_day),
        "end": _when(item.data["end"], out_zone, all_day),
    }


def removed_json(item_id: str) -> dict:
    return {"@odata.type": EVENT_TYPE, "id": item_id, "@removed": {"reason": "deleted"}}


def user_json(account: Account) -> dict:
    first, _, last = account.name.partition(" ")
    return {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users/$entity",
        "businessPhones": [],
        "displayName": account.name,
        "givenName": first or None,
        "jobTitle": None,
        "mail": account.mail,
        "mobilePhone": None,
        "officeLocation": None,
        "preferredLanguage": "en-US",
        "surname": last or None,
        "userPrincipalName": account.email,
        "id": account.oid,
    }
