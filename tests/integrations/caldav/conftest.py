"""CalDAV tests: a real Radicale behind the fault proxy (integrations/emulators/caldav), real HTTP.

Loopback servers need ``CALDAV_ALLOW_PRIVATE_ADDRESSES`` (SPEC §8.2: tests and demo only);
the SSRF tests turn it off again. In-call retries keep their logic but not their waiting.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from integrations.models import CalendarConnection, ExternalCalendar
from integrations.services.caldav import caldav_connection_create
from integrations.services.sync import calendar_sync_run
from scheduling.models import BlockedTime

UTC = dt.UTC


@pytest.fixture(autouse=True)
def _caldav_settings(settings):
    settings.CALDAV_ALLOW_PRIVATE_ADDRESSES = True
    settings.CALDAV_RETRY_BASE_SECONDS = 0.001
    settings.CALDAV_RETRY_MAX_WAIT_SECONDS = 1.0
    settings.CALDAV_REQUEST_TIMEOUT_SECONDS = 10.0


def vevent(uid: str | None = None, **props: str) -> str:
    """One VEVENT; ``props`` are iCalendar lines by name (``DTSTART="...:2027..."`` style values
    given as the text after the name, e.g. ``DTSTART=";TZID=Europe/Berlin:20270301T090000"``)."""
    lines = ["BEGIN:VEVENT", f"UID:{uid or uuid.uuid4()}", "DTSTAMP:20261101T000000Z"]
    for name, value in props.items():
        name = name.replace("_", "-")
        for one in value if isinstance(value, list) else [value]:
            lines.append(f"{name}{one}" if one.startswith((";", ":")) else f"{name}:{one}")
    lines.append("END:VEVENT")
    return "\r\n".join(lines)


def ics(*components: str) -> str:
    return "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//tests//EN", *components, "END:VCALENDAR", ""])


BERLIN_TZ = """BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE""".replace("\n", "\r\n")


def blocks(calendar: ExternalCalendar) -> list[tuple[dt.datetime, dt.datetime]]:
    return list(BlockedTime.objects.filter(calendar=calendar).order_by("start").values_list("start", "end"))


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(UTC)


class Connected:
    def __init__(self, connection: CalendarConnection, user):
        self.connection = connection
        self.user = user

    @property
    def calendar(self) -> ExternalCalendar:
        return self.connection.calendars.get(selected=True)

    def sync(self, trigger: str = "periodic"):
        return calendar_sync_run(calendar_id=self.calendar.pk, trigger=trigger)

    def blocks(self):
        return blocks(self.calendar)


@pytest.fixture
def caldav_connect(merchant, caldav_user, django_capture_on_commit_callbacks):
    """Connect ``merchant`` to ``caldav_user``'s account the way the connect endpoint does
    (initial sync run on commit, in-process); returns a :class:`Connected`."""

    def connect(**overrides) -> Connected:
        arguments = {"server": caldav_user.base_url, "username": caldav_user.name, "password": caldav_user.password}
        arguments.update(overrides)
        with django_capture_on_commit_callbacks(execute=True):
            connection = caldav_connection_create(merchant=merchant, **arguments)
        return Connected(connection, caldav_user)

    return connect
