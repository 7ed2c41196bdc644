"""The horizon roll re-expands stored objects without a request; polling spreads over the interval."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from integrations.models import CalendarConnection, ExternalCalendar, SyncRun
from integrations.selectors import poll_offset, polled_next_sync_at
from integrations.services.sync import calendars_due, calendars_due_for_poll
from integrations.tasks import calendars_horizon_roll_task, calendars_poll_task
from tests.integrations.caldav.conftest import ics, vevent

pytestmark = pytest.mark.django_db

POLL = dt.timedelta(minutes=5)


def _stamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def test_the_horizon_roll_makes_no_request(caldav_connect, caldav_user, settings):
    settings.CALENDAR_SYNC_HORIZON_DAYS = 30
    now = timezone.now().replace(microsecond=0)
    weekly = vevent(DTSTART=_stamp(now - dt.timedelta(days=7)), DURATION="PT1H", RRULE="FREQ=WEEKLY")
    later = now + dt.timedelta(days=45)
    caldav_user.put("weekly", ics(weekly))
    caldav_user.put("later", ics(vevent(DTSTART=_stamp(later), DURATION="PT30M")))
    connected = caldav_connect()
    before = connected.blocks()
    assert max(start for start, _ in before) < now + dt.timedelta(days=30)
    cursor = connected.calendar.sync_cursor

    settings.CALENDAR_SYNC_HORIZON_DAYS = 60  # as if 30 days had passed: the window is short
    caldav_user.proxy.reset()
    calendars_horizon_roll_task()
    assert caldav_user.proxy.count() == 0
    calendar = connected.calendar
    run = SyncRun.objects.filter(calendar=calendar).first()
    assert (run.trigger, run.kind, run.status) == ("horizon", "full", "succeeded")
    after = connected.blocks()
    assert (later, later + dt.timedelta(minutes=30)) in after  # entered the window: no server needed
    weekly_after = [b for b in after if b[0] != later]
    assert len(weekly_after) - len(before) == 4  # weeks 6-9 of the series (days 35-56 from now)
    assert calendar.sync_cursor == cursor  # the server's token is still the one to continue from
    assert calendar.window_end > now + dt.timedelta(days=59)

    caldav_user.proxy.reset()
    connected.sync()
    assert caldav_user.proxy.count() == 1  # and the next poll is the one cheap request


def test_next_sync_at_is_the_calendars_next_slot(caldav_connect, settings):
    settings.CALDAV_POLL_MINUTES = 5
    connected = caldav_connect()
    calendar = connected.calendar
    next_at = polled_next_sync_at(calendar=calendar, interval=POLL)
    assert calendar.last_synced_at < next_at <= calendar.last_synced_at + dt.timedelta(minutes=5)
    assert int(next_at.timestamp()) % 300 == poll_offset(calendar.pk, 300)
    # A failed run later than the last success counts as the last check.
    failed_at = calendar.last_synced_at + dt.timedelta(minutes=7)
    assert polled_next_sync_at(calendar=calendar, interval=POLL, last_run_at=failed_at) > failed_at


def test_poll_offsets_spread_over_the_interval():
    offsets = [poll_offset(pk, 300) for pk in range(1, 301)]
    per_minute = [sum(1 for o in offsets if o // 60 == minute) for minute in range(5)]
    assert min(per_minute) >= 40 and max(per_minute) <= 80  # 60 each when perfectly even


def test_due_calendars_and_the_poll_task(caldav_connect, caldav_user, settings, merchant):
    settings.CALDAV_POLL_MINUTES = 5
    connected = caldav_connect()
    calendar = connected.calendar
    assert calendars_due_for_poll() == []  # just synced
    past = timezone.now() - dt.timedelta(minutes=6)
    ExternalCalendar.objects.filter(pk=calendar.pk).update(last_synced_at=past, next_poll_at=past)
    google = CalendarConnection.objects.create(merchant=merchant, provider="google", account_email="g@example.com")
    other = ExternalCalendar.objects.create(connection=google, external_id="g@example.com", selected=True)
    assert calendars_due_for_poll() == [calendar.pk]  # CalDAV only, and only when due
    assert set(calendars_due()) == {calendar.pk, other.pk}  # what beat takes: CalDAV and the safety net
    ExternalCalendar.objects.filter(pk=other.pk).update(next_poll_at=timezone.now() + dt.timedelta(hours=2))

    caldav_user.proxy.reset()
    calendars_poll_task()
    assert caldav_user.proxy.count() == 1  # unchanged: one PROPFIND
    assert calendars_due_for_poll() == []
