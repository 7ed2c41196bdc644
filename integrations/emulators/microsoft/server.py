"""The HTTPS front: a threaded stdlib server (TLS from the emulator's own test CA) and routing.

One port serves both hosts under one root: ``{tenant}/...`` (login.microsoftonline.com),
``common/discovery/instance`` (msal's instance discovery), ``v1.0/...`` (graph.microsoft.com)
and ``_emulator/...`` (control API, events page).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from . import graph, identity, subscriptions, writes
from .errors import GraphError
from .wire import Request, Response

logger = logging.getLogger(__name__)

DISCONNECT = Response(599, b"", {"X-Emulator-Disconnect": "1"})

# (endpoint name, needs Graph auth, handler, scope family)
GRAPH = "graph"


def route(req: Request):
    """(endpoint, kind, handler, args): kind is "identity", "graph", "subscriptions", "control" or "page"."""
    seg, method, n = req.segments, req.method, len(req.segments)
    if seg[:1] == ["_emulator"]:
        return "_emulator", "control", None, (seg[1:],)
    if not seg and method == "GET":
        return "index", "control", None, ()
    if seg[:1] == ["v1.0"]:
        return _graph_route(seg[1:], method)
    if seg == ["common", "discovery", "instance"] and method == "GET":
        return "instance-discovery", "identity", identity.instance_discovery, ()
    if n == 4 and seg[1:] == ["v2.0", ".well-known", "openid-configuration"] and method == "GET":
        return "openid-configuration", "identity", identity.openid_configuration, (seg[0],)
    if n == 4 and seg[1:] == ["discovery", "v2.0", "keys"] and method == "GET":
        return "keys", "identity", identity.keys, (seg[0],)
    if n == 4 and seg[1:3] == ["oauth2", "v2.0"]:
        tenant, action = seg[0], seg[3]
        if action == "authorize" and method in ("GET", "POST"):
            return "authorize", "identity", identity.authorize, (tenant,)
        if action == "consent" and method == "POST":
            return "consent", "identity", identity.consent, (tenant,)
        if action == "token" and method == "POST":
            return "token", "identity", identity.token, (tenant,)
        if action == "logout" and method in ("GET", "POST"):
            return "logout", "identity", identity.logout, (tenant,)
    return None, None, None, ()


def _graph_route(rest: list[str], method: str):
    m = len(rest)
    if rest[:1] == ["subscriptions"]:
        if m == 1 and method == "POST":
            return "subscriptions.create", "subscriptions", subscriptions.create, ()
        if m == 1 and method == "GET":
            return "subscriptions.list", "subscriptions", subscriptions.list_, ()
        if m == 2:
            handler = {"GET": subscriptions.get, "PATCH": subscriptions.update, "DELETE": subscriptions.delete}
            if method in handler:
                name = {"GET": "get", "PATCH": "update", "DELETE": "delete"}[method]
                return f"subscriptions.{name}", "subscriptions", handler[method], (rest[1],)
        if m == 3 and rest[2] == "reauthorize" and method == "POST":
            return "subscriptions.reauthorize", "subscriptions", subscriptions.reauthorize, (rest[1],)
        return None, None, None, ()
    if rest[:1] != ["me"]:
        return None, None, None, ()
    tail = rest[1:]
    t = len(tail)
    if method != "GET":
        return _write_route(tail, method)
    if t == 0:
        return "me", GRAPH, graph.me, ()
    # calendar selector: calendars/{id}/..., calendar/..., or the default calendar's shortcuts
    if tail == ["calendars"]:
        return "calendars.list", GRAPH, graph.calendars_list, ()
    if tail == ["events"]:
        return "events.list", GRAPH, writes.events_list, (writes.MAILBOX,)
    calendar_id, sub = None, tail
    if tail[0] == "calendars" and t >= 2:
        calendar_id, sub = tail[1], tail[2:]
        if not sub:
            return "calendars.get", GRAPH, graph.calendar_get, (calendar_id,)
    elif tail[0] == "calendar":
        sub = tail[1:]
        if not sub:
            return "calendars.get", GRAPH, graph.calendar_get, (None,)
    if sub == ["events"]:
        return "events.list", GRAPH, writes.events_list, (calendar_id,)
    if sub == ["calendarView"]:
        return "calendarView", GRAPH, graph.calendar_view, (calendar_id,)
    if sub == ["calendarView", "delta"]:
        return "calendarView.delta", GRAPH, graph.delta, (calendar_id,)
    if len(sub) == 2 and sub[0] == "events":
        return "events.get", GRAPH, graph.event_get, (calendar_id, sub[1])
    if len(sub) == 3 and sub[0] == "events" and sub[2] == "instances":
        return "events.instances", GRAPH, graph.event_instances, (calendar_id, sub[1])
    return None, None, None, ()


# Endpoints that change the mailbox: they need Calendars.ReadWrite.
WRITE_ENDPOINTS = {"calendars.create", "events.create", "events.update", "events.delete"}


def _write_route(tail: list[str], method: str):
    """``POST me/calendars``; ``POST me/events``, ``me/calendar/events``, ``me/calendars/{id}/events``;
    ``PATCH``/``DELETE`` ``me/events/{id}`` or ``me/calendars/{cid}/events/{id}``."""
    if tail == ["calendars"] and method == "POST":
        return "calendars.create", GRAPH, writes.calendars_create, ()
    calendar_id, sub = None, tail
    if tail[:1] == ["calendars"] and len(tail) >= 3:
        calendar_id, sub = tail[1], tail[2:]
    elif tail[:1] == ["calendar"]:
        sub = tail[1:]
    if sub == ["events"] and method == "POST":
        return "events.create", GRAPH, writes.event_create, (calendar_id,)
    if len(sub) == 2 and sub[0] == "events":
        if method == "PATCH":
            return "events.update", GRAPH, writes.event_update, (calendar_id, sub[1])
        if method == "DELETE":
            return "events.delete", GRAPH, writes.event_delete, (calendar_id, sub[1])
    return None, None, None, ()


def not_found(req: Request) -> Response:
    if req.segments[:1] == ["v1.0"]:
        return GraphError(400, "BadRequest", f"Resource not found for the segment '{req.segments[-1]}'.").response()
    return Response.html(404, "<!doctype html><title>404</title><p>Not Found</p>")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Microsoft-IIS/10.0"
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
            raw_query=parts.query,
        )
        try:
            resp = self.server.emulator.handle(req)
        except Exception:  # an emulator bug must not kill the connection silently
            logger.exception("microsoft emulator: unhandled error for %s %s", self.command, self.path)
            resp = GraphError(500, "generalException", "An unspecified error has occurred.").response()
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

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch

    def log_message(self, format, *args):
        logger.debug("microsoft emulator: " + format, *args)


class EmulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, emulator, ssl_context: ssl.SSLContext | None):
        self.emulator = emulator
        self.ssl_context = ssl_context
        super().__init__(address, _Handler)

    def get_request(self):
        conn, address = super().get_request()
        if self.ssl_context is not None:
            # The handshake happens in the handler thread (first read), not in the accept loop.
            conn = self.ssl_context.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
        return conn, address

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], (ConnectionError, ssl.SSLError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def serve_in_thread(emulator, host: str, port: int, ssl_context) -> tuple[EmulatorHTTPServer, threading.Thread]:
    server = EmulatorHTTPServer((host, port), emulator, ssl_context)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True, name="microsoft-emulator-http"
    )
    thread.start()
    return server, thread
