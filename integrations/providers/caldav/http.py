"""The HTTP layer of the CalDAV provider: plain ``http.client`` with SSRF protection (SPEC §8.2).

Why not the ``caldav`` library or ``requests``: the server URL is typed by a merchant, so
every address the host resolves to must be checked *before* a byte is sent, and the
socket must go to the address that was checked (a second DNS lookup could answer
differently: DNS rebinding). ``requests``/``niquests`` (under ``caldav``) resolve the name
themselves and follow redirects on their own, and the ``caldav`` library silently falls
back to a full listing on an expired token (caldav-protocol.md §9). The five requests we
need are short XML bodies, so this module sends them itself:

- :func:`resolve_checked` resolves once (``getaddrinfo``) and refuses the whole host when
  any address is loopback, private, link-local, multicast, reserved, unspecified, shared
  (100.64/10), IPv4-mapped/NAT64/6to4 onto one of those, or otherwise not global, unless
  ``CALDAV_ALLOW_PRIVATE_ADDRESSES`` is on;
- the connection (``http.client`` with ``connect`` overridden) opens a socket to the checked
  address; TLS still verifies the certificate against the *host name* (SNI + hostname check);
- redirects are followed by hand (at most ``MAX_REDIRECTS``), each target checked again;
  https -> http downgrades are refused; credentials go only to the account's hosts (the one
  given, and the calendar home's host that discovery found, e.g. iCloud's
  ``pNN-caldav.icloud.com``), never to a host a redirect points at;
- every request has a socket timeout and an overall deadline
  (``CALDAV_REQUEST_TIMEOUT_SECONDS``) and a response size limit (``CALDAV_MAX_RESPONSE_BYTES``).

https://docs.python.org/3/library/ipaddress.html  https://owasp.org/www-community/attacks/Server_Side_Request_Forgery
"""

from __future__ import annotations

import base64
import http.client
import ipaddress
import os
import socket
import ssl
import time
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote, urljoin, urlsplit

from django.conf import settings

from integrations.providers.base import ProviderError, TransientError

MAX_REDIRECTS = 5
REDIRECTS = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "merchant-calendar-sync/1 (CalDAV)"
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_PATH_SAFE = "/%:@!$&'()*+,;=-._~?"  # already-encoded hrefs stay as they are
XML = "application/xml; charset=utf-8"
ICALENDAR = "text/calendar; charset=utf-8"


class AddressNotAllowed(ProviderError):
    code = "address_not_allowed"


class InvalidURL(ProviderError):
    code = "invalid_url"


class ServerUnreachable(TransientError):
    code = "server_unreachable"


class ResponseTooLarge(ProviderError):
    code = "server_unreachable"


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_is_public(address: str) -> bool:
    """Whether a connection to ``address`` may leave for the public internet."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_v4(ip)
        if embedded is not None and not address_is_public(str(embedded)):
            return False
    return not (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def private_allowed() -> bool:
    return bool(settings.CALDAV_ALLOW_PRIVATE_ADDRESSES)


def url_check(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path+query) of an acceptable URL, else :class:`InvalidURL`."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidURL(f"not a valid URL: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not parts.hostname:
        raise InvalidURL("the server must be an https:// URL")
    if scheme == "http" and not private_allowed():
        raise InvalidURL("the server must be an https:// URL (plain http is refused)")
    if parts.username or parts.password:
        raise InvalidURL("put the user name and password in their own fields, not in the URL")
    try:
        host = parts.hostname.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise InvalidURL("the server name is not a valid host name") from exc
    path = quote(parts.path or "/", safe=_PATH_SAFE)
    if parts.query:
        path += "?" + quote(parts.query, safe=_PATH_SAFE)
    return scheme, host, port or (443 if scheme == "https" else 80), path


def resolve_checked(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, all checked; one lookup, reused for the connection."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ServerUnreachable(f"the server name {host!r} could not be resolved") from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise ServerUnreachable(f"the server name {host!r} has no address")
    if not private_allowed():
        refused = [a for a in addresses if not address_is_public(a)]
        if refused:
            raise AddressNotAllowed(f"{host} resolves to an address that is not public ({refused[0]})")
    return addresses


@lru_cache(maxsize=4)
def _tls_context(cafile: str | None) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=cafile)


def tls_context() -> ssl.SSLContext:
    # The standard variables, as for the other providers' local emulators (SPEC §8.1).
    return _tls_context(os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("SSL_CERT_FILE") or None)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout, context=tls_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes
    url: str  # after redirects

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


def _idna(host: str) -> str:
    try:
        return host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return host.lower()


class CalDAVHttp:
    """One account's credentials; :meth:`request` does one exchange with redirects by hand."""

    def __init__(self, username: str, password: str):
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        self._authorization = f"Basic {token}"

    def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        depth: str | None = None,
        content_type: str = XML,
        trusted_hosts: frozenset[str] | set[str] = frozenset(),
    ) -> Answer:
        """One exchange; credentials go only to ``trusted_hosts`` (default: the URL's own host)."""
        timeout = float(settings.CALDAV_REQUEST_TIMEOUT_SECONDS)
        deadline = time.monotonic() + timeout
        trusted = {_idna(h) for h in trusted_hosts if h} or {_idna(urlsplit(url).hostname or "")}
        for _ in range(MAX_REDIRECTS + 1):
            scheme, host, port, path = url_check(url)
            headers = {"User-Agent": USER_AGENT, "Accept": "*/*", "Accept-Encoding": "identity"}
            if host.lower() in trusted:
                headers["Authorization"] = self._authorization
            if body is not None:
                headers["Content-Type"] = content_type
            if depth is not None:
                headers["Depth"] = depth
            answer = self._exchange(scheme, host, port, method, path, body, headers, timeout, deadline, url)
            if answer.status not in REDIRECTS or not answer.header("location"):
                return answer
            target = urljoin(url, answer.header("location"))
            if urlsplit(url).scheme == "https" and urlsplit(target).scheme != "https":
                raise InvalidURL("the server redirected from https to plain http")
            if answer.status == 303:
                method, body = "GET", None
            url = target
        raise ServerUnreachable("too many redirects")

    def _exchange(self, scheme, host, port, method, path, body, headers, timeout, deadline, url) -> Answer:
        addresses = resolve_checked(host, port)
        last_error: Exception | None = None
        connection_class = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
        for address in addresses:
            connection = connection_class(host, port, address, timeout)
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                data = _read_limited(response, deadline)
                return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data, url)
            except ssl.SSLError as exc:
                raise ServerUnreachable(f"TLS with {host} failed: {exc.reason or exc}") from exc
            except (OSError, http.client.HTTPException) as exc:
                last_error = exc
            finally:
                connection.close()
        raise ServerUnreachable(f"could not reach {host}: {type(last_error).__name__}") from last_error


def _read_limited(response: http.client.HTTPResponse, deadline: float) -> bytes:
    limit = int(settings.CALDAV_MAX_RESPONSE_BYTES)
    declared = response.getheader("Content-Length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ResponseTooLarge(f"the server's answer is larger than {limit} bytes")
    chunks, size = [], 0
    while True:
        if time.monotonic() > deadline:
            raise ServerUnreachable("the server took too long to answer")
        chunk = response.read1(65536) if hasattr(response, "read1") else response.read(65536)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise ResponseTooLarge(f"the server's answer is larger than {limit} bytes")
        chunks.append(chunk)
