"""Connecting a CalDAV account (SPEC §8.2): discovery, storage, every refusal code, nothing half-stored."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection as db

from config.api import ApplicationError
from integrations.models import CalendarConnection, ExternalCalendar
from integrations.services.caldav import caldav_connection_create
from tests.factories import MerchantFactory
from tests.integrations.caldav.conftest import ics, vevent

pytestmark = pytest.mark.django_db(transaction=False)


def refusal(merchant, **arguments) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        caldav_connection_create(merchant=merchant, **arguments)
    assert caught.value.status_code == 400
    assert not CalendarConnection.objects.filter(merchant=merchant).exists()
    assert not ExternalCalendar.objects.filter(connection__merchant=merchant).exists()
    return caught.value


def test_connect_discovers_the_event_calendars_selects_one_and_syncs(caldav_connect, caldav_user, merchant):
    caldav_user.put("one", ics(vevent(DTSTART="20270301T090000Z", DTEND="20270301T100000Z")))
    connected = caldav_connect()
    connection = connected.connection
    assert connection.provider == "caldav"
    assert connection.status == CalendarConnection.Status.ACTIVE
    assert connection.server_url == f"{caldav_user.base_url}{caldav_user.name}/"
    # Only the VEVENT calendar; the VTODO list is skipped. The first one is selected.
    calendars = list(connection.calendars.values_list("external_id", "summary", "selected"))
    assert calendars == [(caldav_user.calendar_url, "Work", True)]
    assert connected.calendar.sync_cursor
    assert len(connected.blocks()) == 1
    # The password is encrypted at rest.
    with db.cursor() as cursor:
        cursor.execute("SELECT access_token FROM integrations_calendarconnection WHERE id = %s", [connection.pk])
        (raw,) = cursor.fetchone()
    assert caldav_user.password not in raw
    assert CalendarConnection.objects.get(pk=connection.pk).access_token == caldav_user.password


def test_discovery_goes_through_the_well_known_uri(caldav_connect, caldav_user):
    caldav_connect()
    paths = [r.path for r in caldav_user.proxy.requests]
    assert paths[0] == "/.well-known/caldav"  # 301 to /, followed by hand
    assert paths[1] == "/"


def test_a_calendar_url_given_directly_works_too(caldav_connect, caldav_user):
    connected = caldav_connect(server=caldav_user.calendar_url)
    assert connected.calendar.external_id == caldav_user.calendar_url


def test_wrong_password_is_invalid_credentials(caldav_user, merchant):
    error = refusal(merchant, server=caldav_user.base_url, username=caldav_user.name, password="wrong")
    assert error.code == "invalid_credentials"
    assert "app-specific" not in error.message


def test_icloud_wrong_password_asks_for_an_app_specific_password(caldav_user, merchant, settings):
    settings.CALDAV_ICLOUD_URL = caldav_user.base_url
    error = refusal(merchant, server="icloud", username=caldav_user.name, password="my-apple-password")
    assert error.code == "invalid_credentials"
    assert "app-specific password" in error.message
    assert "App-Specific Passwords" in error.message


def test_icloud_preset_follows_the_partition_host(caldav_user, caldav_connect, settings):
    """iCloud answers calendar-home-set with an absolute URL on pNN-caldav.icloud.com; every
    later request must go there. The proxy plays it with another host name for the same server."""
    settings.CALDAV_ICLOUD_URL = caldav_user.base_url
    caldav_user.proxy.partition_host = "localhost"
    connected = caldav_connect(server="icloud")
    partition = f"http://localhost:{caldav_user.proxy.port}/"
    assert connected.connection.server_url == f"{partition}{caldav_user.name}/"
    assert connected.calendar.external_id == f"{partition}{caldav_user.name}/work/"
    assert connected.calendar.sync_cursor  # the initial sync ran against the partition host
    assert caldav_user.proxy.requests[-1].headers.get("Host") == f"localhost:{caldav_user.proxy.port}"


class _NotCalDAV(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _page(self):
        body = b"<html><body>Welcome to my blog</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PROPFIND = _page


@pytest.fixture
def web_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotCalDAV)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_a_web_site_that_is_not_caldav_is_not_caldav(web_server, merchant):
    assert refusal(merchant, server=web_server, username="a", password="b").code == "not_caldav"


def test_an_account_without_event_calendars_is_not_caldav(radicale_server, caldav_faults, merchant):
    name, password = radicale_server.user_add()
    radicale_server.calendar_create(name, "todo", "Tasks", components=("VTODO",))
    error = refusal(merchant, server=caldav_faults.url, username=name, password=password)
    assert error.code == "not_caldav"


def test_nothing_listening_is_server_unreachable(merchant):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connection refused
        error = refusal(merchant, server=f"http://127.0.0.1:{port}/", username="a", password="b")
    assert error.code == "server_unreachable"


def test_an_unknown_host_is_server_unreachable(merchant):
    error = refusal(merchant, server="https://calendar.invalid/", username="a", password="b")
    assert error.code == "server_unreachable"


@pytest.mark.parametrize(
    "server",
    ["", "caldav.example.com", "ftp://example.com/", "https://", "https://user:pw@example.com/", "http://[::1"],
)
def test_malformed_servers_are_invalid_url(merchant, server):
    assert refusal(merchant, server=server, username="a", password="b").code == "invalid_url"


def test_plain_http_is_invalid_url_when_private_addresses_are_off(merchant, settings):
    settings.CALDAV_ALLOW_PRIVATE_ADDRESSES = False
    assert refusal(merchant, server="http://example.com/", username="a", password="b").code == "invalid_url"


def test_an_account_another_merchant_connected_is_account_in_use(caldav_connect, caldav_user):
    caldav_connect()
    other = MerchantFactory()
    error = refusal(other, server=caldav_user.base_url, username=caldav_user.name, password=caldav_user.password)
    assert error.code == "account_in_use"


def test_reconnecting_the_same_account_keeps_one_connection(caldav_connect):
    first = caldav_connect()
    second = caldav_connect()
    assert first.connection.pk == second.connection.pk
    assert ExternalCalendar.objects.filter(connection=first.connection).count() == 1


def test_the_servers_default_calendar_is_selected(caldav_connect, caldav_user):
    """schedule-default-calendar-URL (RFC 6638) wins over the server's order where it names one."""
    home = caldav_user.calendar_create("home", "Home")
    caldav_user.proxy.schedule_default = f"/{caldav_user.name}/home/"
    connected = caldav_connect()
    selected = connected.connection.calendars.filter(selected=True)
    assert [c.external_id for c in selected] == [home]
    assert connected.connection.calendars.get(external_id=home).primary


def test_disconnect_sends_nothing_and_forgets_the_password_and_stored_objects(caldav_connect, caldav_user):
    from integrations.models import CalDAVObject
    from integrations.services.connections import connection_disconnect

    caldav_user.put("one", ics(vevent(DTSTART="20270301T090000Z", DTEND="20270301T100000Z")))
    connected = caldav_connect()
    assert CalDAVObject.objects.count() == 1
    caldav_user.proxy.reset()
    connection = CalendarConnection.objects.get(pk=connected.connection.pk)
    connection_disconnect(connection=connection, delete_blocked_times=True)
    assert caldav_user.proxy.count() == 0  # nothing to revoke at a CalDAV server
    connection.refresh_from_db()
    assert connection.status == CalendarConnection.Status.DISCONNECTED
    assert connection.access_token is None
    assert CalDAVObject.objects.count() == 0
    # Another merchant may connect the account now.
    other = MerchantFactory()
    assert (
        caldav_connection_create(
            merchant=other, server=caldav_user.base_url, username=caldav_user.name, password=caldav_user.password
        ).provider
        == "caldav"
    )
