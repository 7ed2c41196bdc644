"""Helpers for the Microsoft emulator's tests: Graph resource shapes (as documented for v1.0),
a webhook receiver for validation handshakes and notifications, and small builders."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# --- documented resource shapes (https://learn.microsoft.com/en-us/graph/api/resources/...) ------

STR, BOOL, INT, LIST, OBJ, NULL = str, bool, int, list, dict, type(None)
DATETIME_TZ = {"dateTime": STR, "timeZone": STR}
EVENT = {
    "allowNewTimeProposals": BOOL,
    "attendees": LIST,
    "body": {"contentType": ("text", "html"), "content": STR},
    "bodyPreview": STR,
    "categories": LIST,
    "changeKey": STR,
    "createdDateTime": "datetime",
    "end": DATETIME_TZ,
    "hasAttachments": BOOL,
    "hideAttendees": BOOL,
    "iCalUId": STR,
    "id": STR,
    "importance": ("low", "normal", "high"),
    "isAllDay": BOOL,
    "isCancelled": BOOL,
    "isDraft": BOOL,
    "isOnlineMeeting": BOOL,
    "isOrganizer": BOOL,
    "isReminderOn": BOOL,
    "lastModifiedDateTime": "datetime",
    "location": OBJ,
    "locations": LIST,
    "onlineMeeting": (OBJ, NULL),
    "onlineMeetingProvider": ("unknown", "teamsForBusiness", "skypeForBusiness", "skypeForConsumer"),
    "onlineMeetingUrl": (STR, NULL),
    "organizer": {"emailAddress": {"name": STR, "address": STR}},
    "originalEndTimeZone": STR,
    "originalStart": "datetime",
    "originalStartTimeZone": STR,
    "recurrence": (OBJ, NULL),
    "reminderMinutesBeforeStart": INT,
    "responseRequested": BOOL,
    "responseStatus": {
        "response": ("none", "organizer", "tentativelyAccepted", "accepted", "declined", "notResponded"),
        "time": "datetime",
    },
    "sensitivity": ("normal", "personal", "private", "confidential"),
    "seriesMasterId": (STR, NULL),
    "showAs": ("free", "tentative", "busy", "oof", "workingElsewhere", "unknown"),
    "start": DATETIME_TZ,
    "subject": STR,
    "transactionId": (STR, NULL),
    "type": ("singleInstance", "occurrence", "exception", "seriesMaster"),
    "webLink": STR,
}
CALENDAR = {
    "allowedOnlineMeetingProviders": LIST,
    "canEdit": BOOL,
    "canShare": BOOL,
    "canViewPrivateItems": BOOL,
    "changeKey": STR,
    "color": (
        "auto",
        "lightBlue",
        "lightGreen",
        "lightOrange",
        "lightGray",
        "lightYellow",
        "lightTeal",
        "lightPink",
        "lightBrown",
        "lightRed",
        "maxColor",
    ),
    "defaultOnlineMeetingProvider": STR,
    "hexColor": STR,
    "id": STR,
    "isDefaultCalendar": BOOL,
    "isRemovable": BOOL,
    "isTallyingResponses": BOOL,
    "name": STR,
    "owner": {"name": STR, "address": STR},
}
USER = {
    "businessPhones": LIST,
    "displayName": STR,
    "givenName": (STR, NULL),
    "jobTitle": (STR, NULL),
    "mail": (STR, NULL),
    "mobilePhone": (STR, NULL),
    "officeLocation": (STR, NULL),
    "preferredLanguage": (STR, NULL),
    "surname": (STR, NULL),
    "userPrincipalName": STR,
    "id": STR,
}
SUBSCRIPTION = {
    "applicationId": STR,
    "changeType": STR,
    "clientState": (STR, NULL),
    "creatorId": STR,
    "encryptionCertificate": (STR, NULL),
    "encryptionCertificateId": (STR, NULL),
    "expirationDateTime": "datetime",
    "id": STR,
    "includeResourceData": BOOL,
    "latestSupportedTlsVersion": ("v1_0", "v1_1", "v1_2", "v1_3"),
    "lifecycleNotificationUrl": (STR, NULL),
    "notificationQueryOptions": (STR, NULL),
    "notificationUrl": STR,
    "notificationUrlAppId": (STR, NULL),
    "resource": STR,
}
ANNOTATIONS = {"@odata.etag", "@odata.type", "@odata.context", "@odata.id"}


def shape_errors(value, shape, path: str = "$") -> list[str]:
    """Every key not documented for the resource and every value of the wrong type."""
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return [f"{path}: expected object"]
        problems = []
        for key, item in value.items():
            if key in ANNOTATIONS:
                continue
            if key not in shape:
                problems.append(f"{path}.{key}: not a documented property")
                continue
            problems += shape_errors(item, shape[key], f"{path}.{key}")
        return problems
    if shape == "datetime":
        try:
            dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")[:26].rstrip("+"))
        except ValueError:
            return [f"{path}: {value!r} is not a date-time"]
        return []
    if isinstance(shape, tuple) and shape and isinstance(shape[0], str):
        return [] if value in shape else [f"{path}: {value!r} not in {shape}"]
    if isinstance(shape, tuple):
        return [] if isinstance(value, shape) else [f"{path}: {type(value).__name__} is not {shape}"]
    if shape is INT and isinstance(value, bool):
        return [f"{path}: expected integer"]
    return [] if isinstance(value, shape) else [f"{path}: {type(value).__name__} is not {shape.__name__}"]


# --- a webhook receiver ---------------------------------------------------------------------------


class Receiver:
    """A local HTTP endpoint for subscriptions: answers validation handshakes and records
    notifications. ``mode``: "echo" (right), "wrong" (echoes something else), "json" (right
    text, wrong content type), "error" (500). ``fail_next`` answers 500 that many times."""

    def __init__(self):
        self.mode = "echo"
        self.fail_next = 0
        self.validations: list[str] = []
        self.notifications: list[dict] = []
        self.statuses: list[int] = []
        self.validation_started = threading.Event()  # mode "hold": set when a handshake arrives
        self.release = threading.Event()  # mode "hold": the handshake is answered once this is set
        self._lock = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                query = parse_qs(urlsplit(self.path).query)
                if "validationToken" in query:
                    token = query["validationToken"][0]
                    with receiver._lock:
                        receiver.validations.append(self.path)
                    if receiver.mode == "error":
                        return self._answer(500, "text/plain", b"")
                    if receiver.mode == "hold":
                        receiver.validation_started.set()
                        receiver.release.wait(10)
                    text = token if receiver.mode in ("echo", "json", "hold") else "not-the-token"
                    kind = "application/json" if receiver.mode == "json" else "text/plain; charset=utf-8"
                    return self._answer(200, kind, text.encode())
                with receiver._lock:
                    if receiver.fail_next > 0:
                        receiver.fail_next -= 1
                        receiver.statuses.append(500)
                        return self._answer(500, "text/plain", b"")
                    receiver.notifications.append({"path": self.path, "body": json.loads(body or b"{}")})
                    receiver.statuses.append(202)
                    receiver._lock.notify_all()
                return self._answer(202, "text/plain", b"")

            def _answer(self, status, kind, body):
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/notify"
        self.lifecycle_url = f"http://127.0.0.1:{self.server.server_address[1]}/lifecycle"

    def items(self, path_suffix: str = "/notify") -> list[dict]:
        with self._lock:
            return [i for n in self.notifications if n["path"].startswith(path_suffix) for i in n["body"]["value"]]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# --- builders -------------------------------------------------------------------------------------


def when(day: dt.date | str, hour: int = 0, minute: int = 0, tz: str = "UTC") -> dict:
    if isinstance(day, str):
        day = dt.date.fromisoformat(day)
    return {"dateTime": dt.datetime(day.year, day.month, day.day, hour, minute).isoformat(), "timeZone": tz}


def timed(subject: str, day: str, start: int, end: int, tz: str = "UTC", **fields) -> dict:
    return {"subject": subject, "start": when(day, start, tz=tz), "end": when(day, end, tz=tz), **fields}
