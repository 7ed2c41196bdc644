"""A fault-injecting HTTP proxy in front of a CalDAV server (Radicale), counting requests.

What Radicale cannot do, injected here:

- :meth:`FaultProxy.fail`: answer the next N matching requests with a status of our
  choosing (429/503 with ``Retry-After``, 500, 401), without forwarding them;
- :meth:`FaultProxy.expire_sync_tokens`: a ``sync-collection`` with a non-empty token is
  answered 403 (or 409/412) ``<D:error><D:valid-sync-token/></D:error>`` (RFC 6578 §3.2);
- :meth:`FaultProxy.truncate_sync`: ``sync-collection`` replies are cut into pages of
  ``page_size`` responses with a 507 response for the collection and a continuation token
  (RFC 6578 §3.6), as Google's CalDAV does at ~230 events;
- ``partition_host``: the ``calendar-home-set`` href becomes an absolute URL on another host
  name (``localhost`` for ``127.0.0.1``), as iCloud's ``pNN-caldav.icloud.com`` partition hosts;
- ``list_collection``: ``sync-collection`` replies also list the collection itself with an
  ETag, as iCloud does (clients must skip it);
- ``schedule_default``: RFC 6638 scheduling as far as discovery goes (Radicale has none): the
  principal gets a ``schedule-inbox-URL`` whose ``schedule-default-calendar-URL`` is this path.

``requests`` records every request that reached the proxy (faulted ones too), so a test
can prove "one request when nothing changed"; :meth:`FaultProxy.writes` is the part of it
that could change the server (methods and paths), so a test can prove "nothing written
anywhere else". Every method is passed through, MKCALENDAR, PUT and DELETE included.
"""

from __future__ import annotations

import http.client
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

DAV = "{DAV:}"
CALDAV = "{urn:ietf:params:xml:ns:caldav}"
TRUNCATED_PREFIX = "urn:x-proxy:truncated:"
WRITE_METHODS = frozenset({"PUT", "DELETE", "MKCALENDAR", "MKCOL", "PROPPATCH", "MOVE", "COPY", "POST"})
_HOME_HREF = re.compile(r"(<(?:\w+:)?calendar-home-set[^>]*>\s*<(?:\w+:)?href>)(/[^<]*)")


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def is_sync_collection(self) -> bool:
        return self.method == "REPORT" and b"sync-collection" in self.body


@dataclass
class Fault:
    status: int
    times: int
    method: str | None = None
    contains: bytes | None = None  # a substring of the request body or path
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def matches(self, method: str, path: str, body: bytes) -> bool:
        if self.method and self.method != method:
            return False
        return self.contains is None or self.contains in body or self.contains in path.encode()


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream_host, self.upstream_port = parts.hostname, parts.port
        self.requests: list[Recorded] = []
        self.partition_host: str | None = None
        self.schedule_default: str | None = None
        self.list_collection = False
        self._faults: list[Fault] = []
        self._expired_status: int | None = None
        self._truncate: int | None = None
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # --- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        proxy = self

        class Handler(_Handler):
            owner = proxy

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self._faults.clear()
            self._expired_status = None
            self._truncate = None
            self.partition_host = None
            self.schedule_default = None
            self.list_collection = False

    # --- control ------------------------------------------------------------------------

    def fail(self, status: int, *, times: int = 1, method: str | None = None, contains: bytes | None = None,
             headers: dict[str, str] | None = None, body: bytes = b"") -> None:  # fmt: skip
        with self._lock:
            self._faults.append(Fault(status, times, method, contains, dict(headers or {}), body))

    def expire_sync_tokens(self, status: int = 403) -> None:
        self._expired_status = status

    def truncate_sync(self, page_size: int | None) -> None:
        self._truncate = page_size

    def writes(self) -> list[tuple[str, str]]:
        """(method, path) of every request so far that could change the server, in order."""
        with self._lock:
            return [(r.method, r.path) for r in self.requests if r.method in WRITE_METHODS]

    def count(self, predicate=None) -> int:
        with self._lock:
            return sum(1 for r in self.requests if predicate is None or predicate(r))

    # --- request handling ---------------------------------------------------------------

    def _fault_for(self, method: str, path: str, body: bytes) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.times > 0 and fault.matches(method, path, body):
                    fault.times -= 1
                    return fault
        return None

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict, bytes]:
        with self._lock:
            self.requests.append(Recorded(method, path, headers, body))
        fault = self._fault_for(method, path, body)
        if fault is not None:
            return fault.status, fault.headers, fault.body
        if self.schedule_default and method == "PROPFIND" and path == INBOX_PATH:
            return 207, {"Content-Type": "application/xml; charset=utf-8"}, _inbox(self.schedule_default)
        sync = method == "REPORT" and b"sync-collection" in body
        if sync and self._expired_status and _request_token(body):
            error = b'<?xml version="1.0"?><D:error xmlns:D="DAV:"><D:valid-sync-token/></D:error>'
            return self._expired_status, {"Content-Type": "application/xml"}, error
        if sync and self._truncate:
            return self._truncated(path, headers, body)
        status, out_headers, out_body = self._forward(method, path, headers, body)
        if sync and self.list_collection and status == 207:
            out_body = _with_collection(out_body, path)
        if self.partition_host and method == "PROPFIND" and b"calendar-home-set" in out_body:
            origin = f"http://{self.partition_host}:{self.port}"
            out_body = _HOME_HREF.sub(lambda m: m.group(1) + origin + m.group(2), out_body.decode()).encode()
        if self.schedule_default and method == "PROPFIND" and b"schedule-inbox-URL" in body and status == 207:
            out_body = _with_inbox(out_body)
        return status, out_headers, out_body

    def _forward(self, method, path, headers, body) -> tuple[int, dict, bytes]:
        connection = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=30)
        try:
            forwarded = {
                k: v
                for k, v in headers.items()
                if k.lower() not in ("host", "connection", "content-length", "accept-encoding")
            }
            connection.request(method, path, body=body or None, headers=forwarded)
            response = connection.getresponse()
            data = response.read()
            out = {k: v for k, v in response.getheaders() if k.lower() in ("content-type", "etag", "location", "dav")}
            return response.status, out, data
        finally:
            connection.close()

    def _truncated(self, path, headers, body) -> tuple[int, dict, bytes]:
        """One page of the real reply; the continuation token encodes (offset, real token)."""
        token = _request_token(body)
        offset = 0
        if token.startswith(TRUNCATED_PREFIX):
            offset_text, _, token = token[len(TRUNCATED_PREFIX) :].partition(":")
            offset = int(offset_text)
        real_body = _with_token(body, token)
        status, out_headers, data = self._forward("REPORT", path, headers, real_body)
        if status != 207:
            return status, out_headers, data
        root = ET.fromstring(data)
        responses = root.findall(f"{DAV}response")
        new_token = root.find(f"{DAV}sync-token")
        page = responses[offset : offset + self._truncate]
        more = offset + self._truncate < len(responses)
        out = ET.Element(f"{DAV}multistatus")
        out.extend(page)
        if more:
            cut = ET.SubElement(out, f"{DAV}response")
            ET.SubElement(cut, f"{DAV}href").text = path
            ET.SubElement(cut, f"{DAV}status").text = "HTTP/1.1 507 Insufficient Storage"
            ET.SubElement(out, f"{DAV}sync-token").text = f"{TRUNCATED_PREFIX}{offset + self._truncate}:{token}"
        else:
            ET.SubElement(out, f"{DAV}sync-token").text = new_token.text if new_token is not None else ""
        return 207, {"Content-Type": "application/xml; charset=utf-8"}, ET.tostring(out, xml_declaration=True)


INBOX_PATH = "/x-proxy-inbox/"


def _inbox(default_path: str) -> bytes:
    root = ET.Element(f"{DAV}multistatus")
    response = ET.SubElement(root, f"{DAV}response")
    ET.SubElement(response, f"{DAV}href").text = INBOX_PATH
    propstat = ET.SubElement(response, f"{DAV}propstat")
    prop = ET.SubElement(propstat, f"{DAV}prop")
    default = ET.SubElement(prop, f"{CALDAV}schedule-default-calendar-URL")
    ET.SubElement(default, f"{DAV}href").text = default_path
    ET.SubElement(propstat, f"{DAV}status").text = "HTTP/1.1 200 OK"
    return ET.tostring(root, xml_declaration=True)


def _with_inbox(body: bytes) -> bytes:
    root = ET.fromstring(body)
    for propstat in root.iter(f"{DAV}propstat"):
        if "200" in (propstat.findtext(f"{DAV}status") or ""):
            inbox = ET.SubElement(propstat.find(f"{DAV}prop"), f"{CALDAV}schedule-inbox-URL")
            ET.SubElement(inbox, f"{DAV}href").text = INBOX_PATH
            break
    return ET.tostring(root, xml_declaration=True)


def _with_collection(body: bytes, path: str) -> bytes:
    root = ET.fromstring(body)
    response = ET.Element(f"{DAV}response")
    ET.SubElement(response, f"{DAV}href").text = path
    propstat = ET.SubElement(response, f"{DAV}propstat")
    ET.SubElement(ET.SubElement(propstat, f"{DAV}prop"), f"{DAV}getetag").text = '"collection-etag"'
    ET.SubElement(propstat, f"{DAV}status").text = "HTTP/1.1 200 OK"
    root.insert(0, response)
    return ET.tostring(root, xml_declaration=True)


def _request_token(body: bytes) -> str:
    try:
        element = ET.fromstring(body).find(f"{DAV}sync-token")
    except ET.ParseError:
        return ""
    return (element.text or "").strip() if element is not None else ""


def _with_token(body: bytes, token: str) -> bytes:
    root = ET.fromstring(body)
    element = root.find(f"{DAV}sync-token")
    element.text = token
    return ET.tostring(root, xml_declaration=True)


class _Handler(BaseHTTPRequestHandler):
    owner: FaultProxy
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, headers, data = self.owner.handle(self.command, self.path, dict(self.headers.items()), body)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_PUT = do_DELETE = do_POST = do_OPTIONS = do_HEAD = _handle
    do_PROPFIND = do_REPORT = do_MKCALENDAR = do_PROPPATCH = do_MKCOL = do_MOVE = do_COPY = _handle
