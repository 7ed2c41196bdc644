"""``replaced_groups``: a page that describes a group completely removes that group's other blocks."""

import datetime as dt

import pytest

from integrations.models import CalendarConnection, ExternalCalendar
from integrations.sync.rules import BlockInterval
from integrations.sync.store import blocked_times_apply
from scheduling.models import BlockedTime

T0 = dt.datetime(2030, 5, 6, 8, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


@pytest.fixture
def calendar(merchant):
    connection = CalendarConnection.objects.create(merchant=merchant, provider="caldav", account_email="m@example.com")
    return ExternalCalendar.objects.create(connection=connection, external_id="https://dav.example/cal/", selected=True)


def interval(hours: int) -> BlockInterval:
    return BlockInterval(start=T0 + hours * HOUR, end=T0 + (hours + 1) * HOUR)


def keys(calendar) -> set[str]:
    return set(BlockedTime.objects.filter(calendar=calendar).values_list("external_key", flat=True))


def test_a_replaced_group_keeps_only_the_listed_occurrences(calendar):
    blocked_times_apply(
        calendar=calendar,
        blocks={
            "/c/a.ics#1": interval(0),
            "/c/a.ics#2": interval(1),
            "/c/a.ics.bak#1": interval(2),
            "/c/b.ics#1": interval(3),
        },
    )
    counts = blocked_times_apply(calendar=calendar, blocks={"/c/a.ics#2": interval(5)}, replaced_groups=["/c/a.ics"])
    # "#1" of a.ics went; a.ics.bak shares the prefix but not the separator, b.ics is another group.
    assert keys(calendar) == {"/c/a.ics#2", "/c/a.ics.bak#1", "/c/b.ics#1"}
    assert (counts.upserted, counts.deleted) == (1, 1)


def test_a_group_with_no_events_loses_all_its_blocks(calendar):
    blocked_times_apply(calendar=calendar, blocks={"/c/a.ics#1": interval(0), "/c/a.ics#2": interval(1)})
    counts = blocked_times_apply(calendar=calendar, blocks={}, replaced_groups=["/c/a.ics"])
    assert keys(calendar) == set()
    assert counts.deleted == 2


def test_a_group_whose_occurrence_is_no_longer_busy_loses_it(calendar):
    blocked_times_apply(calendar=calendar, blocks={"/c/a.ics#1": interval(0), "/c/a.ics#2": interval(1)})
    blocked_times_apply(
        calendar=calendar, blocks={"/c/a.ics#1": None, "/c/a.ics#2": interval(1)}, replaced_groups=["/c/a.ics"]
    )
    assert keys(calendar) == {"/c/a.ics#2"}


def test_groups_of_another_calendar_are_left_alone(calendar, merchant):
    other = ExternalCalendar.objects.create(connection=calendar.connection, external_id="https://dav.example/other/")
    blocked_times_apply(calendar=other, blocks={"/c/a.ics#1": interval(0)})
    blocked_times_apply(calendar=calendar, blocks={}, replaced_groups=["/c/a.ics"])
    assert keys(other) == {"/c/a.ics#1"}
