"""WebDAV/CalDAV XML: the request bodies we send and a namespace-aware multistatus reader.

Parsed with ``defusedxml`` (no entity expansion from a server we do not trust), by
namespace, never by prefix (servers pick their own). RFC 4918 §14, RFC 4791, RFC 6578.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

D = "{DAV:}"
C = "{urn:ietf:params:xml:ns:caldav}"
CS = "{http://calendarserver.org/ns/}"
_NS = 'xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CS="http://calendarserver.org/ns/"'


class UnreadableXML(ValueError):
    pass


def propfind(*props: str) -> bytes:
    body = f'<?xml version="1.0" encoding="utf-8"?><D:propfind {_NS}><D:prop>{"".join(props)}</D:prop></D:propfind>'
    return body.encode()


PRINCIPAL = propfind("<D:current-user-principal/>")
PRINCIPAL_PROPS = propfind(
    "<C:calendar-home-set/>", "<C:calendar-user-address-set/>", "<C:schedule-inbox-URL/>", "<D:displayname/>"
)
INBOX_PROPS = propfind("<C:schedule-default-calendar-URL/>")
CALENDAR_LIST = propfind(
    "<D:resourcetype/>", "<D:displayname/>", "<C:supported-calendar-component-set/>",
    "<CS:getctag/>", "<D:sync-token/>", "<C:calendar-timezone/>",
)  # fmt: skip
COLLECTION_STATE = propfind("<CS:getctag/>", "<D:sync-token/>")


def sync_collection(token: str) -> bytes:
    # No D:limit: servers that honour it cut replies without a 507 (caldav-protocol.md §3.3).
    return (
        f'<?xml version="1.0" encoding="utf-8"?><D:sync-collection {_NS}>'
        f"<D:sync-token>{escape(token)}</D:sync-token><D:sync-level>1</D:sync-level>"
        "<D:prop><D:getetag/></D:prop></D:sync-collection>"
    ).encode()


def calendar_multiget(hrefs: list[str]) -> bytes:
    refs = "".join(f"<D:href>{escape(href)}</D:href>" for href in hrefs)
    return (
        f'<?xml version="1.0" encoding="utf-8"?><C:calendar-multiget {_NS}>'
        f"<D:prop><D:getetag/><C:calendar-data/></D:prop>{refs}</C:calendar-multiget>"
    ).encode()


@dataclass
class DAVResponse:
    href: str
    status: int | None  # a bare D:status (e.g. 404 for a removed member), else None
    props: dict[str, Element] = field(default_factory=dict)  # from 200 propstats only

    def text(self, tag: str) -> str:
        element = self.props.get(tag)
        return (element.text or "").strip() if element is not None else ""

    def hrefs(self, tag: str) -> list[str]:
        element = self.props.get(tag)
        if element is None:
            return []
        return [(h.text or "").strip() for h in element.iter(f"{D}href") if (h.text or "").strip()]


def _status_code(text: str | None) -> int | None:
    parts = (text or "").split()
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


def parse(body: bytes) -> Element:
    try:
        return ElementTree.fromstring(body)
    except (ElementTree.ParseError, DefusedXmlException, ValueError) as exc:
        raise UnreadableXML("the server's answer is not readable XML") from exc


def multistatus(body: bytes) -> tuple[list[DAVResponse], str | None]:
    """The responses of a 207 and its top-level ``D:sync-token`` (None when absent)."""
    root = parse(body)
    if root.tag != f"{D}multistatus":
        raise UnreadableXML("the server's answer is not a WebDAV multistatus")
    out = []
    for response in root.findall(f"{D}response"):
        href = (response.findtext(f"{D}href") or "").strip()
        item = DAVResponse(href=href, status=_status_code(response.findtext(f"{D}status")))
        for propstat in response.findall(f"{D}propstat"):
            if _status_code(propstat.findtext(f"{D}status")) != 200:
                continue  # 404 (property unknown) and SabreDAV's 418 placeholders
            prop = propstat.find(f"{D}prop")
            for element in list(prop) if prop is not None else []:
                item.props[element.tag] = element
        out.append(item)
    token = root.find(f"{D}sync-token")
    return out, ((token.text or "").strip() if token is not None else None)


def error_names(body: bytes) -> set[str]:
    """The precondition elements of a ``D:error`` body, e.g. ``{"{DAV:}valid-sync-token"}``."""
    try:
        root = parse(body)
    except UnreadableXML:
        return set()
    return {child.tag for child in root} if root.tag == f"{D}error" else set()


def mkcalendar(name: str, *, timezone: str | None = None) -> bytes:
    """RFC 4791 §5.3.1: a calendar for events only, named ``name``, with its zone when known."""
    zone = f"<C:calendar-timezone>{escape(timezone)}</C:calendar-timezone>" if timezone else ""
    return (
        f'<?xml version="1.0" encoding="utf-8"?><C:mkcalendar {_NS}><D:set><D:prop>'
        f"<D:displayname>{escape(name)}</D:displayname>"
        '<C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set>'
        f"{zone}</D:prop></D:set></C:mkcalendar>"
    ).encode()


def _utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def calendar_query(start: dt.datetime, end: dt.datetime) -> bytes:
    """RFC 4791 §7.8 with a §9.9 time range: every object with an instance overlapping it,
    whole (master and overrides), not expanded by the server (caldav-protocol.md §4.3)."""
    return (
        f'<?xml version="1.0" encoding="utf-8"?><C:calendar-query {_NS}>'
        "<D:prop><D:getetag/><C:calendar-data/></D:prop>"
        '<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">'
        f'<C:time-range start="{_utc(start)}" end="{_utc(end)}"/>'
        "</C:comp-filter></C:comp-filter></C:filter></C:calendar-query>"
    ).encode()
