"""Account discovery: URL -> principal -> calendar home -> event calendars (caldav-protocol.md §1-2).

RFC 6764 well-known URI (``/.well-known/caldav``, redirects followed and re-checked by the
HTTP layer), RFC 5397 ``current-user-principal``, RFC 4791 ``calendar-home-set``, RFC 6638
``calendar-user-address-set`` and the inbox's ``schedule-default-calendar-URL``. Every href
is resolved against the URL of the answer that carried it, so iCloud's absolute home URL on
a partition host (``pNN-caldav.icloud.com``) moves every later request there. Failures are
:class:`ConnectError` subclasses whose ``code`` is one of SPEC §8.2's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote, urljoin, urlsplit

from django.conf import settings

from integrations.providers.base import (
    InvalidRequest,
    NotFound,
    PermissionDenied,
    ProviderError,
    ReauthRequired,
    RemoteCalendar,
    TransientError,
)
from integrations.providers.caldav import xml
from integrations.providers.caldav.http import AddressNotAllowed, InvalidURL, ServerUnreachable, url_check
from integrations.providers.caldav.session import DAVSession

ICLOUD = "icloud"
ICLOUD_PASSWORD_HELP = (
    "Apple refused the sign-in. iCloud needs an app-specific password, not your Apple Account password: "
    "make one at account.apple.com under Sign-In and Security > App-Specific Passwords."
)


class ConnectError(ProviderError):
    code = "not_caldav"


class InvalidCredentials(ConnectError):
    code = "invalid_credentials"


class NotCalDAV(ConnectError):
    code = "not_caldav"


CONNECT_ERRORS = (ConnectError, AddressNotAllowed, InvalidURL, ServerUnreachable)


@dataclass
class Account:
    principal_url: str
    home_url: str
    addresses: list[str] = field(default_factory=list)
    calendars: list[RemoteCalendar] = field(default_factory=list)
    default_calendar_url: str | None = None


def server_url(server: str) -> str:
    server = (server or "").strip()
    return settings.CALDAV_ICLOUD_URL if server.lower() == ICLOUD else server


def same_url(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.hostname, pa.port, unquote(pa.path).rstrip("/")) == (pb.hostname, pb.port, unquote(pb.path).rstrip("/"))


def discover(*, server: str, username: str, password: str) -> Account:
    """The account at ``server`` (``"icloud"`` or a URL), or a :class:`ConnectError`/HTTP-layer error."""
    icloud = (server or "").strip().lower() == ICLOUD
    base = server_url(server)
    url_check(base)
    session = DAVSession(username, password, hosts={urlsplit(base).hostname or ""})
    try:
        principal = _principal(session, base)
        account = _principal_details(session, principal)
        account.calendars = calendars_list(session, account.home_url, default_url=account.default_calendar_url)
    except ReauthRequired as exc:
        message = ICLOUD_PASSWORD_HELP if icloud else "The server refused the user name or password."
        raise InvalidCredentials(message) from exc
    except (PermissionDenied, NotFound, InvalidRequest, xml.UnreadableXML) as exc:
        raise NotCalDAV(f"No CalDAV account was found at this address ({exc}).") from exc
    except ServerUnreachable:
        raise
    except TransientError as exc:
        raise ServerUnreachable(f"The server did not answer properly ({exc}).") from exc
    if not account.calendars:
        raise NotCalDAV("The account has no calendar for events.")
    return account


def _principal(session: DAVSession, base: str) -> str:
    parts = urlsplit(base)
    well_known = f"{parts.scheme}://{parts.netloc}/.well-known/caldav"
    candidates = [well_known, base] if parts.path in ("", "/") else [base, well_known]
    for candidate in candidates:
        try:
            answer = session.call("PROPFIND", candidate, body=xml.PRINCIPAL, depth="0", what="principal")
            responses, _ = xml.multistatus(answer.body)
        except (NotFound, PermissionDenied, InvalidRequest, xml.UnreadableXML):
            continue  # not this path; ReauthRequired and unreachable servers propagate
        for response in responses:
            hrefs = response.hrefs(f"{xml.D}current-user-principal")
            if hrefs:
                return urljoin(answer.url, hrefs[0])
    raise NotCalDAV("Nothing at this address answers as a CalDAV server (no current-user-principal).")


def _principal_details(session: DAVSession, principal: str) -> Account:
    answer = session.call("PROPFIND", principal, body=xml.PRINCIPAL_PROPS, depth="0", what="principal properties")
    responses, _ = xml.multistatus(answer.body)
    homes, addresses, inboxes = [], [], []
    for response in responses:
        homes += response.hrefs(f"{xml.C}calendar-home-set")
        addresses += response.hrefs(f"{xml.C}calendar-user-address-set")
        inboxes += response.hrefs(f"{xml.C}schedule-inbox-URL")
    if not homes:
        raise NotCalDAV("The server names no calendar home for this account.")
    account = Account(principal_url=principal, home_url=urljoin(answer.url, homes[0]), addresses=addresses)
    # The account's own answer names the host its calendars live on (iCloud: a partition
    # host): credentials go there too. Hosts a redirect points at get none.
    session.hosts.add(urlsplit(account.home_url).hostname or "")
    if inboxes:
        account.default_calendar_url = _default_calendar(session, urljoin(answer.url, inboxes[0]))
    return account


def _default_calendar(session: DAVSession, inbox: str) -> str | None:
    try:
        answer = session.call("PROPFIND", inbox, body=xml.INBOX_PROPS, depth="0", what="schedule inbox")
        responses, _ = xml.multistatus(answer.body)
    except (ProviderError, xml.UnreadableXML):
        return None  # optional: the first calendar is selected instead
    for response in responses:
        hrefs = response.hrefs(f"{xml.C}schedule-default-calendar-URL")
        if hrefs:
            return urljoin(answer.url, hrefs[0])
    return None


def _holds_events(response: xml.DAVResponse) -> bool:
    element = response.props.get(f"{xml.C}supported-calendar-component-set")
    if element is None:
        return True  # absent means any component (RFC 4791 §5.2.3)
    names = {comp.get("name", "").upper() for comp in element.iter(f"{xml.C}comp")}
    return not names or "VEVENT" in names


def calendars_list(session: DAVSession, home_url: str, *, default_url: str | None = None) -> list[RemoteCalendar]:
    """The event calendars under ``home_url``, in the server's order (inboxes, task lists skipped)."""
    answer = session.call("PROPFIND", home_url, body=xml.CALENDAR_LIST, depth="1", what="calendar list")
    responses, _ = xml.multistatus(answer.body)
    calendars = []
    for response in responses:
        kind = response.props.get(f"{xml.D}resourcetype")
        if kind is None or kind.find(f"{xml.C}calendar") is None or not _holds_events(response):
            continue
        url = urljoin(answer.url, response.href)
        if same_url(url, home_url):
            continue
        name = response.text(f"{xml.D}displayname") or unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1])
        primary = default_url is not None and same_url(url, default_url)
        calendars.append(RemoteCalendar(id=url, summary=name[:255], primary=primary))
    return calendars


def calendar_at(session: DAVSession, url: str) -> RemoteCalendar | None:
    """The events calendar at ``url`` itself (``PROPFIND Depth: 0``), or None when there is none."""
    try:
        answer = session.call("PROPFIND", url, body=xml.CALENDAR_LIST, depth="0", what="calendar properties")
        responses, _ = xml.multistatus(answer.body)
    except (ProviderError, xml.UnreadableXML):
        return None
    for response in responses:
        kind = response.props.get(f"{xml.D}resourcetype")
        if kind is None or kind.find(f"{xml.C}calendar") is None or not _holds_events(response):
            continue
        if same_url(urljoin(answer.url, response.href), url):
            name = response.text(f"{xml.D}displayname") or unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1])
            return RemoteCalendar(id=url, summary=name[:255])
    return None
