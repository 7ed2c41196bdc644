"""``next_poll_at`` and ``renew_at``: set by runs, spread over their interval, and what beat picks."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.utils import timezone

from integrations.models import CalendarConnection, ExternalCalendar, WatchChannel
from integrations.selectors import channel_renew_at, next_poll_at, poll_slot_after, safety_net_at, spread_offset
from integrations.services.channels import RENEW_BEFORE, watch_channels_due_for_renewal
from integrations.services.sync import (
    PARKED_FOR,
    calendar_sync_run,
    calendars_due,
    calendars_due_for_periodic_sync,
    calendars_due_for_poll,
)
from tests.factories import MerchantFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2027, 3, 1, 12, 0, 30, tzinfo=dt.UTC)
FIVE_MINUTES = dt.timedelta(minutes=5)
THREE_HOURS = dt.timedelta(hours=3)


def _calendars(provider: str, count: int, *, status: str = "active", **fields) -> list[ExternalCalendar]:
    merchant = MerchantFactory()
    connection = CalendarConnection.objects.create(merchant=merchant, provider=provider, status=status)
    return ExternalCalendar.objects.bulk_create(
        ExternalCalendar(connection=connection, external_id=f"{provider}-{i}", selected=True, **fields)
        for i in range(count)
    )


def test_offsets_of_consecutive_ids_fill_the_period_evenly():
    per_minute = Counter(spread_offset(pk, 3600) // 60 for pk in range(1, 6001))
    assert len(per_minute) == 60 and max(per_minute.values()) <= 110  # 100 each when perfectly even
    per_second = Counter(spread_offset(pk, 300) for pk in range(1, 301))
    assert max(per_second.values()) <= 2


def test_poll_slots_are_every_interval_at_the_calendars_offset():
    slot = poll_slot_after(7, FIVE_MINUTES, NOW)
    assert NOW < slot <= NOW + FIVE_MINUTES
    assert int(slot.timestamp()) % 300 == spread_offset(7, 300)
    assert poll_slot_after(7, FIVE_MINUTES, slot) == slot + FIVE_MINUTES  # strictly after


def test_the_safety_net_comes_between_half_and_all_of_the_interval_after_a_sync():
    for pk in range(1, 200):
        at = safety_net_at(pk, THREE_HOURS, NOW)
        assert NOW + THREE_HOURS / 2 <= at <= NOW + THREE_HOURS
    # Calendars synced at the same moment (a deploy, an outage) come back spread over 90 minutes.
    minutes = Counter(int((safety_net_at(pk, THREE_HOURS, NOW) - NOW).total_seconds()) // 60 for pk in range(1, 901))
    assert len(minutes) == 90 and max(minutes.values()) <= 12  # 10 each when even


def test_next_poll_at_follows_the_provider(settings):
    settings.CALDAV_POLL_MINUTES = 5
    assert next_poll_at(calendar_id=3, provider="caldav", after=NOW) == poll_slot_after(3, FIVE_MINUTES, NOW)
    interval = settings.CALENDAR_PERIODIC_SYNC_INTERVAL
    assert next_poll_at(calendar_id=3, provider="google", after=NOW) == safety_net_at(3, interval, NOW)


def test_due_selection_picks_exactly_what_is_due(settings):
    settings.CALDAV_POLL_MINUTES = 5
    due = _calendars("caldav", 3, next_poll_at=NOW - dt.timedelta(seconds=1))
    never = _calendars("caldav", 1, next_poll_at=NOW - dt.timedelta(days=3))  # created days ago, never ran
    at_now = _calendars("caldav", 1, next_poll_at=NOW)
    _calendars("caldav", 1, next_poll_at=None)  # never due
    _calendars("caldav", 2, next_poll_at=NOW + dt.timedelta(seconds=1))  # not yet
    unselected = _calendars("caldav", 1, next_poll_at=NOW - dt.timedelta(hours=1))
    ExternalCalendar.objects.filter(pk=unselected[0].pk).update(selected=False)
    google = _calendars("google", 2, next_poll_at=NOW - dt.timedelta(minutes=1))
    picked = calendars_due_for_poll(now=NOW)
    assert sorted(picked) == sorted(c.pk for c in due + never + at_now)
    assert calendars_due_for_poll(now=NOW) == picked  # still due until their run sets the next slot
    assert set(calendars_due(now=NOW)) == {*picked, *(c.pk for c in google)}  # what beat takes
    assert sorted(calendars_due_for_periodic_sync(now=NOW)) == sorted(c.pk for c in google)  # push: safety net


def test_a_due_calendar_that_cannot_sync_is_parked_not_asked_every_minute():
    [stuck] = _calendars("caldav", 1, status="reauth_required", next_poll_at=NOW - dt.timedelta(minutes=3))
    [erroring] = _calendars("caldav", 1, status="error", next_poll_at=NOW - dt.timedelta(minutes=3))
    assert calendars_due_for_poll(now=NOW) == [erroring.pk]  # an error still syncs
    assert set(calendars_due(now=NOW)) == {stuck.pk, erroring.pk}  # beat's read joins nothing
    assert calendar_sync_run(calendar_id=stuck.pk, trigger="periodic") == []  # its run parks it
    parked = ExternalCalendar.objects.get(pk=stuck.pk).next_poll_at
    assert parked > timezone.now() + PARKED_FOR - dt.timedelta(minutes=1)


def test_a_new_calendar_is_due_at_once():
    [calendar] = _calendars("caldav", 1)
    assert calendar.pk in calendars_due_for_poll()


def test_a_run_sets_the_next_poll_slot(gcal, settings):
    calendar = ExternalCalendar.objects.get(pk=gcal.calendar.pk)  # connected and synced by the fixture
    interval = settings.CALENDAR_PERIODIC_SYNC_INTERVAL
    assert calendar.last_synced_at + interval / 2 <= calendar.next_poll_at
    assert calendar.next_poll_at <= calendar.last_synced_at + interval + dt.timedelta(minutes=1)
    before = calendar.next_poll_at
    ExternalCalendar.objects.filter(pk=calendar.pk).update(next_poll_at=timezone.now() - dt.timedelta(minutes=1))
    gcal.sync(trigger="periodic")
    calendar.refresh_from_db()
    assert calendar.next_poll_at >= before  # moved on from the past again, from this run


def test_renewals_of_channels_opened_together_spread_over_the_day():
    expires = NOW + dt.timedelta(days=7)
    times = [
        channel_renew_at(calendar_id=pk, expires_at=expires, renew_before=RENEW_BEFORE, now=NOW)
        for pk in range(1, 1441)
    ]
    assert all(expires - dt.timedelta(days=2) < t <= expires - RENEW_BEFORE for t in times)
    per_hour = Counter(t.hour for t in times)
    assert len(per_hour) == 24 and max(per_hour.values()) <= 66  # 60 each when even
    # Renewed at its slot, the successor (7 days) renews 6 days later at the same minute.
    again = channel_renew_at(
        calendar_id=1, expires_at=times[0] + dt.timedelta(days=7), renew_before=RENEW_BEFORE, now=times[0]
    )
    assert again == times[0] + dt.timedelta(days=6)
    # Too short a lifetime for a daily slot: a day ahead of expiry, as before.
    short = NOW + dt.timedelta(hours=30)
    assert channel_renew_at(calendar_id=5, expires_at=short, renew_before=RENEW_BEFORE, now=NOW) <= short - RENEW_BEFORE


def test_channels_due_for_renewal_by_renew_at_or_close_expiry():
    [calendar] = _calendars("google", 1)
    far = NOW + dt.timedelta(days=5)

    def channel(name: str, **fields) -> WatchChannel:
        return WatchChannel.objects.create(calendar=calendar, channel_id=name, token="t", resource_id="r", **fields)

    due = channel("due", expires_at=far, renew_at=NOW - dt.timedelta(seconds=1))
    close = channel("close", expires_at=NOW + dt.timedelta(hours=3), renew_at=None)
    channel("later", expires_at=far, renew_at=NOW + dt.timedelta(minutes=1))
    channel("stopped", expires_at=far, renew_at=NOW - dt.timedelta(hours=1), status="stopped")
    assert sorted(watch_channels_due_for_renewal(now=NOW)) == sorted([due.pk, close.pk])
