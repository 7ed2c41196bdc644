"""pytest fixtures: one real Radicale and one fault proxy for the session, fresh state per test.

- ``radicale_server`` (session): Radicale as a subprocess (htpasswd, temporary folder).
- ``caldav_proxy`` (session) / ``caldav_faults`` (function): the proxy, reset per test.
- ``caldav_user`` (function): a new Radicale user with a calendar ``work`` (events) and a
  task list ``todo`` (VTODO only), reached through the proxy. Fresh names per test keep
  tests independent without restarting the server.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest


@dataclass
class CalDAVUser:
    server: object  # RadicaleServer
    proxy: object  # FaultProxy
    name: str
    password: str
    calendar_url: str  # through the proxy

    @property
    def base_url(self) -> str:
        return self.proxy.url

    def _direct(self, url: str) -> str:
        return url.replace(self.proxy.url, self.server.url)

    def put(self, name: str, ics: str, calendar_url: str | None = None) -> str:
        """PUT an event straight to Radicale (not counted at the proxy); returns its proxy URL."""
        url = self.server.event_put(self.name, self._direct(calendar_url or self.calendar_url), name, ics)
        return url.replace(self.server.url, self.proxy.url)

    def delete(self, name: str, calendar_url: str | None = None) -> None:
        self.server.event_delete(self.name, self._direct(calendar_url or self.calendar_url) + f"{name}.ics")

    def calendars(self) -> set[str]:
        """Every calendar collection of the user at Radicale, as proxy URLs (the product's ids)."""
        return {url.replace(self.server.url, self.proxy.url) for url in self.server.calendars(self.name)}

    def objects(self, calendar_url: str | None = None) -> dict[str, str]:
        """Every object of a calendar read straight from Radicale: path -> iCalendar text."""
        return self.server.objects(self.name, self._direct(calendar_url or self.calendar_url))

    def calendar_create(self, slug: str, display_name: str, components=("VEVENT",)) -> str:
        url = self.server.calendar_create(self.name, slug, display_name, components)
        return url.replace(self.server.url, self.proxy.url)


@pytest.fixture(scope="session")
def radicale_server():
    from integrations.emulators.caldav import RadicaleServer

    server = RadicaleServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def caldav_proxy(radicale_server):
    from integrations.emulators.caldav import FaultProxy

    proxy = FaultProxy(radicale_server.url)
    proxy.start()
    yield proxy
    proxy.stop()


@pytest.fixture
def caldav_faults(caldav_proxy):
    caldav_proxy.reset()
    yield caldav_proxy
    caldav_proxy.reset()


@pytest.fixture
def caldav_user(radicale_server, caldav_faults) -> CalDAVUser:
    name, password = radicale_server.user_add()
    url = radicale_server.calendar_create(name, "work", "Work")
    radicale_server.calendar_create(name, "todo", "Tasks", components=("VTODO",))
    return CalDAVUser(
        radicale_server, caldav_faults, name, password, url.replace(radicale_server.url, caldav_faults.url)
    )
