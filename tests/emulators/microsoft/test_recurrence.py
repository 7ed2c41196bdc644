"""Series patterns and ranges, expanded the way Outlook does (through calendarView)."""

from __future__ import annotations

import pytest

from tests.emulators.microsoft.support import timed

WINDOW = {"startDateTime": "2030-01-01T00:00:00Z", "endDateTime": "2031-12-31T00:00:00Z"}


def dates(emu, graph, calendar_id, pattern: dict, rng: dict, first_day: str) -> list[str]:
    emu.insert_event(
        calendar_id, {**timed("Series", first_day, 9, 10), "recurrence": {"pattern": pattern, "range": rng}}
    )
    url, params, out = emu.graph_root + "me/calendarView", {**WINDOW, "$top": "1000"}, []
    while url:
        body = graph.get(url, params=params).json()
        params = None
        out += [i["start"]["dateTime"][:10] for i in body["value"]]
        url = body.get("@odata.nextLink")
    return out


@pytest.mark.parametrize(
    ("pattern", "rng", "expected"),
    [
        (
            {"type": "daily", "interval": 2},
            {"type": "numbered", "startDate": "2030-01-01", "numberOfOccurrences": 3},
            ["2030-01-01", "2030-01-03", "2030-01-05"],
        ),
        (
            {"type": "weekly", "interval": 2, "daysOfWeek": ["tuesday", "thursday"], "firstDayOfWeek": "monday"},
            {"type": "endDate", "startDate": "2030-01-01", "endDate": "2030-01-31"},
            ["2030-01-01", "2030-01-03", "2030-01-15", "2030-01-17", "2030-01-29", "2030-01-31"],
        ),
        (
            {"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 31},
            {"type": "numbered", "startDate": "2030-01-01", "numberOfOccurrences": 4},
            ["2030-01-31", "2030-02-28", "2030-03-31", "2030-04-30"],
        ),
        (
            {"type": "relativeMonthly", "interval": 1, "daysOfWeek": ["friday"], "index": "last"},
            {"type": "numbered", "startDate": "2030-01-01", "numberOfOccurrences": 3},
            ["2030-01-25", "2030-02-22", "2030-03-29"],
        ),
        (
            {
                "type": "relativeMonthly",
                "interval": 1,
                "index": "first",
                "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
            },
            {"type": "numbered", "startDate": "2030-06-01", "numberOfOccurrences": 2},
            ["2030-06-03", "2030-07-01"],
        ),
        (
            {"type": "absoluteYearly", "interval": 1, "month": 3, "dayOfMonth": 15},
            {"type": "noEnd", "startDate": "2030-01-01"},
            ["2030-03-15", "2031-03-15"],
        ),
        (
            {"type": "relativeYearly", "interval": 1, "month": 11, "daysOfWeek": ["thursday"], "index": "fourth"},
            {"type": "endDate", "startDate": "2030-01-01", "endDate": "2031-12-31"},
            ["2030-11-28", "2031-11-27"],
        ),
    ],
    ids=[
        "daily-count",
        "weekly-until",
        "monthly-day-31",
        "monthly-last-friday",
        "first-weekday",
        "yearly-no-end",
        "thanksgiving",
    ],
)
def test_patterns_and_ranges(emu, graph, calendar_id, pattern, rng, expected):
    assert dates(emu, graph, calendar_id, pattern, rng, expected[0]) == expected


def test_daily_without_end_runs_to_the_window(emu, graph, calendar_id):
    found = dates(
        emu,
        graph,
        calendar_id,
        {"type": "daily", "interval": 7},
        {"type": "noEnd", "startDate": "2030-01-01"},
        "2030-01-01",
    )
    assert len(found) == 105 and found[-1] == "2031-12-30"


def test_an_invalid_pattern_is_refused(emu, calendar_id):
    from integrations.emulators.microsoft import EmulatorError

    with pytest.raises(EmulatorError, match="daysOfWeek"):
        emu.insert_event(
            calendar_id,
            {
                **timed("Bad", "2030-01-01", 9, 10),
                "recurrence": {"pattern": {"type": "weekly"}, "range": {"type": "noEnd", "startDate": "2030-01-01"}},
            },
        )
    with pytest.raises(EmulatorError, match="unknown or unsupported event fields"):
        emu.insert_event(calendar_id, {**timed("Bad", "2030-01-01", 9, 10), "colour": "red"})
