"""Polling a CalDAV calendar: the cheap change check, sync-collection, expired tokens, faults.

Requests are counted at the fault proxy in front of Radicale; events are written straight
to Radicale (not counted), as another client of the merchant's would.
"""

from __future__ import annotations

import pytest

from integrations.models import CalDAVObject, CalendarConnection, SyncRun
from integrations.providers.base import RateLimited, ReauthRequired
from tests.integrations.caldav.conftest import at, ics, vevent

pytestmark = pytest.mark.django_db


def meeting(day: int, hour: int = 9, uid: str | None = None) -> str:
    return ics(vevent(uid, DTSTART=f"202703{day:02d}T{hour:02d}0000Z", DTEND=f"202703{day:02d}T{hour + 1:02d}0000Z"))


def methods(proxy) -> list[str]:
    names = []
    for r in proxy.requests:
        kind = "sync" if b"sync-collection" in r.body else "multiget" if b"calendar-multiget" in r.body else ""
        names.append(f"{r.method} {kind}".strip())
    return names


def test_an_unchanged_calendar_costs_one_request(caldav_connect, caldav_user):
    caldav_user.put("a", meeting(1))
    connected = caldav_connect()
    caldav_user.proxy.reset()
    runs, before = SyncRun.objects.count(), connected.calendar.last_synced_at
    assert connected.sync() == []  # a check, not a sync: no run recorded
    assert methods(caldav_user.proxy) == ["PROPFIND"]
    assert caldav_user.proxy.requests[0].headers.get("Depth") == "0"
    assert SyncRun.objects.count() == runs
    calendar = connected.calendar
    assert calendar.last_synced_at > before and calendar.next_poll_at > calendar.last_synced_at
    assert len(connected.blocks()) == 1


def test_add_move_and_delete_arrive_incrementally(caldav_connect, caldav_user):
    caldav_user.put("a", meeting(1, uid="a"))
    connected = caldav_connect()
    caldav_user.proxy.reset()

    caldav_user.put("b", meeting(2, uid="b"))
    connected.sync()
    assert methods(caldav_user.proxy) == ["PROPFIND", "REPORT sync", "REPORT multiget"]
    assert connected.blocks() == [
        (at("2027-03-01T09:00Z"), at("2027-03-01T10:00Z")),
        (at("2027-03-02T09:00Z"), at("2027-03-02T10:00Z")),
    ]

    caldav_user.put("a", meeting(5, hour=14, uid="a"))  # moved
    connected.sync()
    assert connected.blocks() == [
        (at("2027-03-02T09:00Z"), at("2027-03-02T10:00Z")),
        (at("2027-03-05T14:00Z"), at("2027-03-05T15:00Z")),
    ]

    caldav_user.delete("b")
    caldav_user.proxy.reset()
    connected.sync()
    assert methods(caldav_user.proxy) == ["PROPFIND", "REPORT sync"]  # a removal needs no multiget
    assert connected.blocks() == [(at("2027-03-05T14:00Z"), at("2027-03-05T15:00Z"))]
    assert set(CalDAVObject.objects.filter(calendar=connected.calendar).values_list("href", flat=True)) == {
        f"/{caldav_user.name}/work/a.ics"
    }
    assert all(run.kind == SyncRun.Kind.INCREMENTAL for run in SyncRun.objects.exclude(trigger="initial"))


def test_an_occurrence_removed_from_a_series_goes(caldav_connect, caldav_user):
    series = vevent("s", DTSTART="20270301T090000Z", DTEND="20270301T100000Z", RRULE="FREQ=DAILY;COUNT=3")
    caldav_user.put("s", ics(series))
    connected = caldav_connect()
    assert len(connected.blocks()) == 3
    caldav_user.put("s", ics(series.replace("END:VEVENT", "EXDATE:20270302T090000Z\r\nEND:VEVENT")))
    connected.sync()
    assert [start for start, _ in connected.blocks()] == [at("2027-03-01T09:00Z"), at("2027-03-03T09:00Z")]


@pytest.mark.parametrize("status", [403, 409])
def test_an_expired_token_means_a_full_sync_and_reconcile(caldav_connect, caldav_user, status):
    caldav_user.put("a", meeting(1))
    caldav_user.put("b", meeting(2))
    connected = caldav_connect()
    caldav_user.delete("a")
    caldav_user.put("c", meeting(3))
    caldav_user.proxy.expire_sync_tokens(status)
    run = connected.sync()[0]
    assert run.kind == SyncRun.Kind.FULL and run.status == SyncRun.Status.SUCCEEDED
    assert [start.day for start, _ in connected.blocks()] == [2, 3]
    assert CalDAVObject.objects.filter(calendar=connected.calendar).count() == 2
    caldav_user.proxy.expire_sync_tokens(None)
    caldav_user.proxy.reset()
    connected.sync()
    assert methods(caldav_user.proxy) == ["PROPFIND"]  # the fresh token works


def test_503_with_retry_after_is_retried(caldav_connect, caldav_user):
    connected = caldav_connect()
    caldav_user.put("a", meeting(1))
    caldav_user.proxy.reset()
    caldav_user.proxy.fail(503, times=2, method="REPORT", headers={"Retry-After": "0"})
    run = connected.sync()[0]
    assert run.status == SyncRun.Status.SUCCEEDED
    assert methods(caldav_user.proxy) == ["PROPFIND", "REPORT sync", "REPORT sync", "REPORT sync", "REPORT multiget"]
    assert len(connected.blocks()) == 1


def test_a_long_retry_after_is_handed_to_the_task(caldav_connect, caldav_user):
    connected = caldav_connect()
    caldav_user.proxy.reset()
    caldav_user.proxy.fail(429, times=1, headers={"Retry-After": "120"})
    with pytest.raises(RateLimited) as caught:
        connected.sync()
    assert caught.value.retry_after == 120
    assert caldav_user.proxy.count() == 1  # no waiting in the worker for two minutes
    run = SyncRun.objects.filter(calendar=connected.calendar).first()
    assert run.status == SyncRun.Status.FAILED and "RateLimited" in run.error


def test_truncated_sync_replies_are_followed(caldav_connect, caldav_user):
    for day in range(1, 6):
        caldav_user.put(f"e{day}", meeting(day))
    caldav_user.proxy.truncate_sync(2)
    connected = caldav_connect()
    assert len(connected.blocks()) == 5
    assert caldav_user.proxy.count(lambda r: r.is_sync_collection) == 3  # 2 + 2 + 1
    for day in range(10, 13):
        caldav_user.put(f"f{day}", meeting(day))
    connected.sync()
    assert len(connected.blocks()) == 8


def test_a_401_means_reauth_required_and_a_new_password_fixes_it(
    caldav_connect, caldav_user, django_capture_on_commit_callbacks
):
    from config.api import ApplicationError
    from integrations.services.caldav import caldav_password_replace

    caldav_user.put("a", meeting(1))
    connected = caldav_connect()
    caldav_user.server.user_password_set(caldav_user.name, "revoked-and-renewed")  # the merchant made a new one
    with pytest.raises(ReauthRequired):
        connected.sync()
    connection = CalendarConnection.objects.get(pk=connected.connection.pk)
    assert connection.status == CalendarConnection.Status.REAUTH_REQUIRED
    assert len(connected.blocks()) == 1  # blocks stay until the merchant acts

    with pytest.raises(ApplicationError) as caught:
        caldav_password_replace(connection=connection, password="still-wrong")
    assert caught.value.code == "invalid_credentials"
    assert CalendarConnection.objects.get(pk=connection.pk).status == CalendarConnection.Status.REAUTH_REQUIRED

    caldav_user.server.user_password_set(caldav_user.name, "revoked-and-renewed")
    caldav_user.put("b", meeting(2))
    with django_capture_on_commit_callbacks(execute=True):
        connection = caldav_password_replace(connection=connection, password="revoked-and-renewed")
    assert connection.status == CalendarConnection.Status.ACTIVE
    assert connection.access_token == "revoked-and-renewed"
    assert len(connected.blocks()) == 2  # synced again with the new password


def test_an_answer_over_the_size_limit_fails_the_request(caldav_connect, caldav_user, settings):
    from integrations.providers.caldav.http import ResponseTooLarge

    connected = caldav_connect()
    settings.CALDAV_MAX_RESPONSE_BYTES = 4096
    caldav_user.proxy.fail(207, method="PROPFIND", body=b"<x>" + b" " * 10_000 + b"</x>")
    with pytest.raises(ResponseTooLarge):
        connected.sync()


def test_a_server_that_never_answers_times_out(caldav_connect, settings):
    import socket

    connected = caldav_connect()
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts the connection (backlog), never reads or answers
    port = silent.getsockname()[1]
    settings.CALDAV_REQUEST_TIMEOUT_SECONDS = 0.3
    connection = connected.connection
    connection.server_url = f"http://127.0.0.1:{port}/u/"
    connection.save(update_fields=["server_url"])
    calendar = connected.calendar
    calendar.external_id = f"http://127.0.0.1:{port}/u/work/"
    calendar.save(update_fields=["external_id"])
    try:
        from integrations.providers.caldav.http import ServerUnreachable

        with pytest.raises(ServerUnreachable):
            connected.sync()
    finally:
        silent.close()


def test_an_instance_moved_later_moves_its_block_in_place(caldav_connect, caldav_user):
    from scheduling.models import BlockedTime

    series = vevent("m", DTSTART="20270301T090000Z", DTEND="20270301T100000Z", RRULE="FREQ=DAILY;COUNT=3")
    caldav_user.put("m", ics(series))
    connected = caldav_connect()
    before = dict(BlockedTime.objects.filter(calendar=connected.calendar).values_list("external_key", "pk"))
    moved = vevent("m", RECURRENCE_ID="20270302T090000Z", DTSTART="20270302T150000Z", DTEND="20270302T160000Z")
    caldav_user.put("m", ics(series, moved))
    connected.sync()
    assert connected.blocks() == [
        (at("2027-03-01T09:00Z"), at("2027-03-01T10:00Z")),
        (at("2027-03-02T15:00Z"), at("2027-03-02T16:00Z")),
        (at("2027-03-03T09:00Z"), at("2027-03-03T10:00Z")),
    ]
    after = dict(BlockedTime.objects.filter(calendar=connected.calendar).values_list("external_key", "pk"))
    assert after == before  # same keys (RECURRENCE-ID), the moved one updated in place


def test_rdates_and_this_and_future_overrides(caldav_connect, caldav_user):
    master = vevent(
        "r", DTSTART="20270301T090000Z", DTEND="20270301T100000Z", RRULE="FREQ=WEEKLY;COUNT=4",
        RDATE="20270303T120000Z",
    )  # fmt: skip
    future = vevent(
        "r", RECURRENCE_ID=";RANGE=THISANDFUTURE:20270315T090000Z", DTSTART="20270315T110000Z",
        DTEND="20270315T120000Z",
    )  # fmt: skip
    caldav_user.put("r", ics(master, future))
    connected = caldav_connect()
    assert [start for start, _ in connected.blocks()] == [
        at("2027-03-01T09:00Z"),
        at("2027-03-03T12:00Z"),  # the RDATE
        at("2027-03-08T09:00Z"),
        at("2027-03-15T11:00Z"),  # this and all later ones two hours later
        at("2027-03-22T11:00Z"),
    ]
    from scheduling.models import BlockedTime

    suffixes = sorted(k.split("#")[1] for k in BlockedTime.objects.values_list("external_key", flat=True))
    # Keyed by each instance's original start, also past a THISANDFUTURE override.
    assert suffixes == [
        "20270301T090000Z",
        "20270303T120000Z",
        "20270308T090000Z",
        "20270315T090000Z",
        "20270322T090000Z",
    ]


def test_list_calendars_reads_the_stored_home(caldav_connect, caldav_user):
    from integrations.providers import client_for

    connected = caldav_connect()
    caldav_user.calendar_create("home", "Home")
    calendars = client_for(connected.connection).list_calendars()
    assert [(c.id, c.summary) for c in calendars] == [
        (caldav_user.calendar_url, "Work"),
        (f"{caldav_user.base_url}{caldav_user.name}/home/", "Home"),
    ]


def test_the_collection_listed_among_its_own_changes_is_skipped(caldav_connect, caldav_user):
    """iCloud lists the calendar collection itself (with an ETag) in sync-collection replies."""
    caldav_user.proxy.list_collection = True
    caldav_user.put("a", meeting(1))
    connected = caldav_connect()
    caldav_user.put("b", meeting(2))
    connected.sync()
    assert len(connected.blocks()) == 2
    multigets = [r.body for r in caldav_user.proxy.requests if b"calendar-multiget" in r.body]
    assert multigets and all(f"<D:href>/{caldav_user.name}/work/</D:href>".encode() not in body for body in multigets)


@pytest.mark.parametrize(
    "data",
    [
        "not ical at all",
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTART:garbage\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    ],
)
def test_an_unreadable_object_leaves_its_blocks_and_the_rest_syncs(caldav_connect, caldav_user, data):
    from xml.sax.saxutils import escape

    caldav_user.put("a", meeting(1, uid="a"))
    connected = caldav_connect()
    caldav_user.put("a", meeting(4, uid="a"))  # changed, but the server's copy comes back unreadable
    caldav_user.put("b", meeting(2))
    good = caldav_user.server.session(caldav_user.name).get(
        caldav_user._direct(caldav_user.calendar_url) + "b.ics", timeout=10
    )
    base = f"/{caldav_user.name}/work/"
    body = (
        '<?xml version="1.0"?><multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
        f'<response><href>{base}a.ics</href><propstat><prop><getetag>"x"</getetag>'
        f"<C:calendar-data>{escape(data)}</C:calendar-data></prop><status>HTTP/1.1 200 OK</status>"
        "</propstat></response>"
        f'<response><href>{base}b.ics</href><propstat><prop><getetag>"y"</getetag>'
        f"<C:calendar-data>{escape(good.text)}</C:calendar-data></prop><status>HTTP/1.1 200 OK</status></propstat>"
        "</response></multistatus>"
    ).encode()
    caldav_user.proxy.fail(207, contains=b"calendar-multiget", body=body, headers={"Content-Type": "application/xml"})
    run = connected.sync()[0]
    assert run.status == SyncRun.Status.SUCCEEDED
    assert [start.day for start, _ in connected.blocks()] == [1, 2]  # a as it was, b new
