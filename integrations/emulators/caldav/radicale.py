"""Radicale 3.9 as a subprocess on a free loopback port, with htpasswd auth and a tmp folder.

https://radicale.org/v3.html#configuration
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from xml.etree import ElementTree

import requests

DAV = "{DAV:}"
CALDAV = "{urn:ietf:params:xml:ns:caldav}"
_CALENDAR_DATA_QUERY = (
    '<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
    '<D:prop><C:calendar-data/></D:prop><C:filter><C:comp-filter name="VCALENDAR"/></C:filter></C:calendar-query>'
)
_RESOURCETYPE = '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/></D:prop></D:propfind>'

CONFIG = """\
[server]
hosts = 127.0.0.1:{port}
[auth]
type = htpasswd
htpasswd_filename = {htpasswd}
htpasswd_encryption = plain
delay = 0
[rights]
type = owner_only
[storage]
filesystem_folder = {storage}
[logging]
level = warning
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RadicaleServer:
    """One Radicale process; ``user_add`` and ``calendar_create`` seed it per test."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="radicale-"))
        self.htpasswd = self.folder / "users"
        self.htpasswd.write_text("")
        self.port = 0
        self.process: subprocess.Popen | None = None
        self._users: dict[str, str] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self, timeout: float = 20.0, *, port: int | None = None) -> None:
        self.port = port or free_port()
        config = self.folder / "config"
        storage = self.folder / "collections"
        config.write_text(CONFIG.format(port=self.port, htpasswd=self.htpasswd, storage=storage))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "radicale", "--config", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("radicale exited at start")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("radicale did not start listening")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.folder, ignore_errors=True)

    # --- seeding ------------------------------------------------------------------------

    def _write_users(self) -> None:
        tmp = self.htpasswd.with_suffix(".tmp")
        tmp.write_text("".join(f"{name}:{password}\n" for name, password in self._users.items()))
        tmp.replace(self.htpasswd)  # atomic: Radicale re-reads the file on every login

    def user_add(self, name: str | None = None, password: str | None = None) -> tuple[str, str]:
        name = name or f"u{uuid.uuid4().hex[:10]}"
        password = password or uuid.uuid4().hex
        self._users[name] = password
        self._write_users()
        return name, password

    def users(self) -> dict[str, str]:
        """Every user's password (the secret scan of the test suite looks for them in logs)."""
        return dict(self._users)

    def user_password_set(self, name: str, password: str) -> None:
        self._users[name] = password
        self._write_users()

    def session(self, name: str) -> requests.Session:
        session = requests.Session()
        session.auth = (name, self._users[name])
        return session

    def calendar_create(self, user: str, slug: str, name: str, components: tuple[str, ...] = ("VEVENT",)) -> str:
        """MKCALENDAR ``/{user}/{slug}/``; returns the collection's URL."""
        comps = "".join(f'<C:comp name="{c}"/>' for c in components)
        body = (
            '<?xml version="1.0"?><C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
            f"<D:set><D:prop><D:displayname>{name}</D:displayname>"
            f"<C:supported-calendar-component-set>{comps}</C:supported-calendar-component-set>"
            "</D:prop></D:set></C:mkcalendar>"
        )
        url = f"{self.url}{user}/{slug}/"
        response = self.session(user).request("MKCALENDAR", url, data=body, timeout=10)
        response.raise_for_status()
        return url

    def event_put(self, user: str, calendar_url: str, name: str, ics: str) -> str:
        url = f"{calendar_url}{name}.ics"
        response = self.session(user).put(
            url, data=ics.encode(), headers={"Content-Type": "text/calendar; charset=utf-8"}, timeout=10
        )
        response.raise_for_status()
        return url

    def event_delete(self, user: str, url: str) -> None:
        self.session(user).delete(url, timeout=10).raise_for_status()

    # --- inspection (what the server holds, read directly, never through the product) ----

    def calendars(self, user: str) -> list[str]:
        """The URLs of every calendar collection in ``/{user}/`` (task lists too)."""
        response = self.session(user).request(
            "PROPFIND", f"{self.url}{user}/", data=_RESOURCETYPE, headers={"Depth": "1"}, timeout=10
        )
        response.raise_for_status()
        urls = []
        for item in ElementTree.fromstring(response.content).iter(f"{DAV}response"):
            kind = item.find(f"{DAV}propstat/{DAV}prop/{DAV}resourcetype")
            if kind is not None and kind.find(f"{CALDAV}calendar") is not None:
                urls.append(self.url.rstrip("/") + (item.findtext(f"{DAV}href") or ""))
        return urls

    def objects(self, user: str, calendar_url: str) -> dict[str, str]:
        """Every calendar object in a collection: its path -> its iCalendar text."""
        response = self.session(user).request(
            "REPORT", calendar_url, data=_CALENDAR_DATA_QUERY, headers={"Depth": "1"}, timeout=10
        )
        response.raise_for_status()
        return {
            item.findtext(f"{DAV}href") or "": item.findtext(f"{DAV}propstat/{DAV}prop/{CALDAV}calendar-data") or ""
            for item in ElementTree.fromstring(response.content).iter(f"{DAV}response")
        }
