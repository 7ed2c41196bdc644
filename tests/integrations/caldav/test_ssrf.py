"""Server-side request forgery (SPEC §8.2): non-public addresses refused before any byte is sent.

With ``CALDAV_ALLOW_PRIVATE_ADDRESSES`` off, loopback and private servers are refused; the
loopback cases point at a socket that listens, and it must never see a connection. The
private cases are IP literals (no DNS query) refused before a connection is tried, so no
traffic leaves the machine.
"""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings as django_settings

from config.api import ApplicationError
from integrations.models import CalendarConnection, SyncRun
from integrations.providers.caldav.http import AddressNotAllowed, InvalidURL, address_is_public
from integrations.services.caldav import caldav_connection_create
from integrations.services.clients import connection_client
from tests.integrations.contract.base import slot
from tests.integrations.contract.two_way import booking

pytestmark = pytest.mark.django_db


@pytest.fixture
def private_refused(settings):
    settings.CALDAV_ALLOW_PRIVATE_ADDRESSES = False


@pytest.fixture
def listener():
    """A listening loopback socket; ``connections()`` says how many connections reached it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.setblocking(False)

    class Listener:
        port = sock.getsockname()[1]

        @staticmethod
        def connections() -> int:
            count = 0
            while True:
                try:
                    conn, _ = sock.accept()
                except BlockingIOError:
                    return count
                conn.close()
                count += 1

    yield Listener
    sock.close()


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "127.8.9.10", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
     "224.0.0.1", "240.0.0.1", "255.255.255.255", "192.0.2.1", "::1", "::", "fe80::1", "fe80::1%2", "fc00::1",
     "fd12:3456::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::a00:1", "2002:a00:1::1",
     "2001:db8::1"],
)  # fmt: skip
def test_non_public_addresses_are_not_allowed(address):
    assert not address_is_public(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "17.253.144.10", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address):
    assert address_is_public(address)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]"])
def test_loopback_servers_are_refused_without_a_connection(private_refused, listener, merchant, host):
    with pytest.raises(ApplicationError) as caught:
        caldav_connection_create(
            merchant=merchant, server=f"https://{host}:{listener.port}/", username="a", password="b"
        )
    assert caught.value.code == "address_not_allowed"
    assert listener.connections() == 0


@pytest.mark.parametrize(
    "server",
    ["https://10.1.2.3/", "https://192.168.0.10:8443/dav/", "https://169.254.169.254/latest/", "https://[fd00::1]/",
     "https://[::ffff:192.168.0.1]/", "https://100.64.1.1/"],
)  # fmt: skip
def test_private_servers_are_refused(private_refused, merchant, server):
    with pytest.raises(ApplicationError) as caught:
        caldav_connection_create(merchant=merchant, server=server, username="a", password="b")
    assert caught.value.code == "address_not_allowed"


class _RedirectOnce(BaseHTTPRequestHandler):
    target = ""

    def log_message(self, *args):
        pass

    def _redirect(self):
        # The first hop was allowed (flag on); from here on private addresses are refused,
        # so the redirect target must be checked again before it is contacted.
        django_settings.CALDAV_ALLOW_PRIVATE_ADDRESSES = False
        self.send_response(307)
        self.send_header("Location", self.target)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_PROPFIND = _redirect


def test_a_redirect_target_is_checked_again(settings, listener, merchant):
    handler = type("Handler", (_RedirectOnce,), {"target": f"https://127.0.0.1:{listener.port}/dav/"})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(ApplicationError) as caught:
            caldav_connection_create(
                merchant=merchant,
                server=f"http://127.0.0.1:{server.server_address[1]}/dav/",
                username="a",
                password="b",
            )
    finally:
        server.shutdown()
        server.server_close()
    assert caught.value.code == "address_not_allowed"
    assert listener.connections() == 0


def test_a_stored_connection_is_checked_on_every_sync(caldav_connect, settings):
    connected = caldav_connect()
    connected.user.proxy.reset()
    settings.CALDAV_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(Exception) as caught:
        connected.sync()
    # http:// itself is refused first (InvalidURL); an https loopback would be AddressNotAllowed.
    assert type(caught.value).__name__ in ("InvalidURL", AddressNotAllowed.__name__)
    assert connected.user.proxy.count() == 0
    assert SyncRun.objects.filter(calendar=connected.calendar).first().status == SyncRun.Status.FAILED


def test_internationalised_names_and_odd_paths_are_encoded(settings):
    from integrations.providers.caldav.http import url_check

    assert url_check("https://bücher.example/my calendars/") == (
        "https", "xn--bcher-kva.example", 443, "/my%20calendars/"
    )  # fmt: skip
    assert url_check("https://dav.example/a%20b/?x=1")[3] == "/a%20b/?x=1"


def test_credentials_do_not_follow_a_redirect_to_another_host(caldav_user, merchant):
    """A server the merchant named redirects to another host (the proxy, as "localhost"):
    the request arrives there without the Authorization header."""
    target = f"http://localhost:{caldav_user.proxy.port}/.well-known/caldav"
    handler = type("Handler", (_Redirect,), {"target": target})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(ApplicationError) as caught:
            caldav_connection_create(
                merchant=merchant,
                server=f"http://127.0.0.1:{server.server_address[1]}/dav/",
                username=caldav_user.name,
                password=caldav_user.password,
            )
    finally:
        server.shutdown()
        server.server_close()
    assert caught.value.code == "invalid_credentials"  # Radicale saw no credentials
    assert caldav_user.proxy.requests
    assert all("Authorization" not in r.headers for r in caldav_user.proxy.requests)


class _Redirect(BaseHTTPRequestHandler):
    target = ""

    def log_message(self, *args):
        pass

    def _redirect(self):
        self.send_response(307)
        self.send_header("Location", self.target)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_PROPFIND = _redirect


def test_writes_and_the_live_check_are_checked_like_every_request(caldav_connect, settings, listener):
    """Two-way (SPEC §10, §11) goes through the same HTTP layer: nothing reaches a private address."""
    connected = caldav_connect()
    calendar = connection_client(connected.connection).bookings_calendar_create("B", time_zone="UTC")
    copy = booking(*slot(2))
    connected.user.proxy.reset()
    settings.CALDAV_ALLOW_PRIVATE_ADDRESSES = False
    client = connection_client(connected.connection)
    calls = [
        lambda: client.bookings_calendar_create("B", time_zone="UTC"),
        lambda: client.booking_event_put(calendar.id, copy),
        lambda: client.booking_event_delete(calendar.id, copy.booking_uid),
        lambda: client.busy_between([calendar.id], start=copy.start, end=copy.end),
    ]
    for call in calls:
        with pytest.raises((InvalidURL, AddressNotAllowed)):  # http:// itself is refused first
            call()
    assert connected.user.proxy.count() == 0

    loopback = f"https://127.0.0.1:{listener.port}/{connected.user.name}/"
    CalendarConnection.objects.filter(pk=connected.connection.pk).update(server_url=loopback)
    client = connection_client(CalendarConnection.objects.get(pk=connected.connection.pk))
    calls = [
        lambda: client.bookings_calendar_create("B", time_zone="UTC"),
        lambda: client.booking_event_put(loopback + "b/", copy),
        lambda: client.booking_event_delete(loopback + "b/", copy.booking_uid),
        lambda: client.busy_between([loopback + "b/"], start=copy.start, end=copy.end),
    ]
    for call in calls:
        with pytest.raises(AddressNotAllowed):
            call()
    assert listener.connections() == 0
