"""The demo's seeded CalDAV week connects and blocks what a merchant expects."""

import datetime as dt

import pytest

from integrations.emulators.caldav.demo import DEMO_PASSWORD, DEMO_USER, seed_demo_week
from integrations.models import ExternalCalendar

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_server(caldav_faults):
    from integrations.emulators.caldav import RadicaleServer

    server = RadicaleServer()  # its own: the demo user name is fixed
    server.start()
    yield server
    server.stop()


def test_the_demo_week_connects_and_blocks(demo_server, caldav_connect):
    seeded = seed_demo_week(demo_server, today=dt.date(2027, 3, 3))  # a Wednesday
    connected = caldav_connect(server=seeded["server"], username=DEMO_USER, password=DEMO_PASSWORD)
    assert [c.summary for c in ExternalCalendar.objects.filter(connection=connected.connection)] == ["Home", "Work"]
    work = connected.connection.calendars.get(summary="Work")
    assert work.selected  # the first event calendar in the server's order
    days = {(start.date(), start.hour, start.minute) for start, _ in connected.blocks()}
    # Team meeting Mon 08:30 Berlin (07:30Z), Thursday's moved to 13:00 (12:00Z); next Monday cancelled.
    assert (dt.date(2027, 3, 1), 7, 30) in days
    assert (dt.date(2027, 3, 4), 12, 0) in days
    assert (dt.date(2027, 3, 4), 7, 30) not in days
    assert (dt.date(2027, 3, 8), 7, 30) not in days
    assert (dt.date(2027, 3, 3), 10, 0) not in days  # tentative supplier call
    assert (dt.date(2027, 3, 2), 14, 0) not in days  # declined invitation
