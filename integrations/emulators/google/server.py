"""The HTTP front: a threaded stdlib server, URL routing, fault injection and the call log.

One port serves everything; the URL layout mirrors Google's hosts under a single root:
``o/oauth2/v2/auth`` (accounts.google.com), ``token`` and ``revoke`` (oauth2.googleapis.com),
``calendar/v3/...`` (www.googleapis.com), ``v1/userinfo`` (openidconnect.googleapis.com),
and ``_emulator/...`` for the control API.
"""

from __future__ import annotations

import contextlib
import html
import logging
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from . import calendar, control, freebusy, oauth, writes
from .errors import ApiError, Response
from .wire import Request

logger = logging.getLogger(__name__)

DISCONNECT = Response(599, b"", {"X-Emulator-Disconnect": "1"})


def route(req: Request):
    """(endpoint name, handler, args) for a request, or (None, None, ()) when nothing matches."""
    seg = req.segments
    method = req.method
    n = len(seg)
    if seg[:1] == ["_emulator"]:
        return "_emulator", control.handle, (seg[1:],)
    if seg in (["o", "oauth2", "v2", "auth"], ["o", "oauth2", "auth"]) and method in ("GET", "POST"):
        return "auth", oauth.authorize, ()
    if seg == ["o", "oauth2", "v2", "consent"] and method == "POST":
        return "consent", oauth.consent, ()
    if seg in (["token"], ["o", "oauth2", "token"], ["oauth2", "v4", "token"]) and method == "POST":
        return "token", oauth.token, ()
    if seg in (["revoke"], ["o", "oauth2", "revoke"]):
        return "revoke", oauth.revoke, ()
    if seg in (["v1", "userinfo"], ["oauth2", "v3", "userinfo"], ["oauth2", "v2", "userinfo"]) and method == "GET":
        return "userinfo", calendar.userinfo, ()
    if seg == [".well-known", "openid-configuration"]:
        return "openid-configuration", oauth.openid_configuration, ()
    if seg == ["oauth2", "v3", "certs"]:
        return "certs", oauth.certs, ()
    if n >= 3 and seg[:2] == ["calendar", "v3"]:
        rest = seg[2:]
        m = len(rest)
        if method == "GET":
            if rest == ["users", "me", "calendarList"]:
                return "calendarList.list", calendar.calendar_list, ()
            if m == 4 and rest[:3] == ["users", "me", "calendarList"]:
                return "calendarList.get", calendar.calendar_list_get, (rest[3],)
            if m == 2 and rest[0] == "calendars":
                return "calendars.get", calendar.calendars_get, (rest[1],)
            if m == 3 and rest[0] == "calendars" and rest[2] == "events":
                return "events.list", calendar.events_list, (rest[1],)
            if m == 4 and rest[0] == "calendars" and rest[2] == "events":
                return "events.get", calendar.events_get, (rest[1], rest[3])
            if m == 5 and rest[0] == "calendars" and rest[2] == "events" and rest[4] == "instances":
                return "events.instances", calendar.events_instances, (rest[1], rest[3])
        if method == "POST":
            if m == 4 and rest[0] == "calendars" and rest[2:] == ["events", "watch"]:
                return "events.watch", calendar.events_watch, (rest[1],)
            if rest == ["channels", "stop"]:
                return "channels.stop", calendar.channels_stop, ()
            if rest == ["calendars"]:
                return "calendars.insert", writes.calendars_insert, ()
            if m == 3 and rest[0] == "calendars" and rest[2] == "events":
                return "events.insert", writes.events_insert, (rest[1],)
            if rest == ["freeBusy"]:
                return "freebusy.query", freebusy.freebusy_query, ()
        if m == 4 and rest[0] == "calendars" and rest[2] == "events":
            if method == "PUT":
                return "events.update", writes.events_update, (rest[1], rest[3])
            if method == "PATCH":
                return "events.patch", writes.events_patch, (rest[1], rest[3])
            if method == "DELETE":
                return "events.delete", writes.events_delete, (rest[1], rest[3])
    if not seg and method == "GET":
        return "index", control.index_page, ()
    return None, None, ()


def _not_found(req: Request) -> Response:
    if req.segments[:2] == ["calendar", "v3"]:
        return ApiError(404, "notFound", "Not Found").response()
    return Response.html(404, f"<!doctype html><title>404</title><p>Not Found: {html.escape(req.path)}</p>")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ESF"
    sys_version = ""
    timeout = 60

    def _dispatch(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        req = Request(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        try:
            resp = self.server.emulator.handle(req)
        except Exception:  # an emulator bug must not kill the connection silently
            logger.exception("google emulator: unhandled error for %s %s", self.command, self.path)
            resp = ApiError(500, "backendError", "Backend Error").response()
        if resp is DISCONNECT:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(resp.status)
        for name, value in resp.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(resp.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(resp.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _dispatch

    def log_message(self, format, *args):
        logger.debug("google emulator: " + format, *args)


class EmulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, emulator):
        self.emulator = emulator
        super().__init__(address, _Handler)

    def handle_error(self, request, client_address):
        # Clients that time out (tests of timeouts) close early; that is not an emulator error.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def serve_in_thread(emulator, host: str, port: int) -> tuple[EmulatorHTTPServer, threading.Thread]:
    server = EmulatorHTTPServer((host, port), emulator)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True, name="google-emulator-http"
    )
    thread.start()
    return server, thread
