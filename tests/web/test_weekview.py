"""The week grid's layout (scheduling.weekview): lanes, columns, positions, DST, privacy."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from scheduling.weekview import week_build
from tests.scheduling.helpers import at, booking, dst_change_days, manual_block, next_weekday, synced_block

pytestmark = pytest.mark.django_db


def build(merchant, monday, now=None):
    return week_build(merchant=merchant, monday=monday, now=now or dt.datetime(2000, 1, 1, tzinfo=dt.UTC))


def test_entries_land_on_their_day_at_their_wall_time(merchant):
    monday = next_weekday(0)
    booking(merchant, at(monday, "10:00"), at(monday, "11:30"), name="Ada")
    week = build(merchant, monday)

    assert (week.first_hour, week.last_hour) == (8, 18)
    [piece] = week.days[0].timed
    assert (piece.entry.kind, piece.entry.title, piece.top, piece.length) == ("booking", "Ada", 2.0, 1.5)
    assert piece.style == "--top:2.0000;--len:1.5000;--col:0;--cols:1"
    assert all(day.is_empty for day in week.days[1:])
    assert [b.top for b in week.days[0].open_bands] == [1.0]  # 09:00, one hour below the grid's 08:00
    assert week.days[5].hours_text == [] and week.days[0].hours_text == ["09:00\u201317:00"]


def test_overlapping_entries_share_the_width(merchant):
    monday = next_weekday(0)
    booking(merchant, at(monday, "10:00"), at(monday, "12:00"))
    manual_block(merchant, at(monday, "11:00"), at(monday, "13:00"))
    synced_block(merchant, at(monday, "12:30"), at(monday, "13:30"))  # overlaps the second only
    booking(merchant, at(monday, "15:00"), at(monday, "16:00"))  # alone
    pieces = sorted(build(merchant, monday).days[0].timed, key=lambda p: p.top)

    assert [(p.column, p.columns) for p in pieces] == [(0, 2), (1, 2), (0, 2), (0, 1)]


def test_whole_days_go_to_the_all_day_lane_and_long_entries_span_days(merchant):
    monday = next_weekday(0)
    zone = zoneinfo.ZoneInfo(merchant.time_zone)
    midnight = dt.datetime.combine(monday + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    synced_block(merchant, midnight, midnight + dt.timedelta(days=1), all_day=True, summary="Holidays")
    manual_block(merchant, at(monday + dt.timedelta(days=3), "20:00"), at(monday + dt.timedelta(days=5), "10:00"))
    week = build(merchant, monday)

    [holiday] = week.days[1].all_day
    assert (holiday.entry.title, holiday.entry.detail) == ("Busy", "Holidays")
    assert not week.days[1].timed
    thursday, friday, saturday = week.days[3], week.days[4], week.days[5]
    assert [(p.top + week.first_hour, p.ends_after) for p in thursday.timed] == [(20.0, True)]
    assert [p.starts_before and p.ends_after for p in friday.all_day] == [True]
    assert [(p.starts_before, p.top + week.first_hour, p.length) for p in saturday.timed] == [(True, 0.0, 10.0)]
    assert (week.first_hour, week.last_hour) == (0, 24)


def test_the_grid_grows_to_show_early_and_late_entries(merchant):
    monday = next_weekday(0)
    manual_block(merchant, at(monday, "06:30"), at(monday, "07:00"))
    manual_block(merchant, at(monday, "19:00"), at(monday, "20:15"))
    week = build(merchant, monday)

    assert (week.first_hour, week.last_hour) == (6, 21)
    assert week.hour_labels[0] == "06:00" and len(week.hour_labels) == 15


def test_synced_blocks_show_busy_and_the_calendar_never_a_note(merchant):
    monday = next_weekday(0)
    blocked = synced_block(merchant, at(monday, "10:00"), at(monday, "11:00"), summary="Family")
    blocked.note = "should never be shown"
    blocked.save()
    [piece] = build(merchant, monday).days[0].timed

    assert (piece.entry.kind, piece.entry.title, piece.entry.detail) == ("synced", "Busy", "Family")
    assert piece.entry.blocked_time_id is None  # synced blocks cannot be removed here


def test_manual_blocks_can_be_removed(merchant):
    monday = next_weekday(0)
    blocked = manual_block(merchant, at(monday, "10:00"), at(monday, "11:00"), note="Dentist")
    [piece] = build(merchant, monday).days[0].timed
    assert (piece.entry.title, piece.entry.detail, piece.entry.blocked_time_id) == (
        "Dentist",
        "Blocked by you",
        blocked.pk,
    )


def test_wall_times_after_a_dst_change(merchant):
    _spring, autumn = dst_change_days(merchant.time_zone)
    day_after = autumn + dt.timedelta(days=1)
    monday = day_after - dt.timedelta(days=day_after.weekday())
    booking(merchant, at(day_after, "10:00"), at(day_after, "11:00"))
    week = build(merchant, monday)
    pieces = [p for day in week.days if day.date == day_after for p in day.timed]

    assert [(p.top + week.first_hour, p.length) for p in pieces] == [(10.0, 1.0)]


def test_today_and_the_current_time(merchant):
    monday = next_weekday(0)
    now = at(monday + dt.timedelta(days=2), "13:15").astimezone(dt.UTC)
    week = build(merchant, monday, now=now)

    assert [day.is_today for day in week.days] == [False, False, True, False, False, False, False]
    assert week.days[2].now.top == pytest.approx(13.25 - week.first_hour)
    assert build(merchant, monday, now=at(monday, "23:00")).days[0].now is None  # below the grid
