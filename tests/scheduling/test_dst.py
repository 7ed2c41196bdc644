"""Availability and bookings on DST change days (Europe/Berlin, America/New_York).

The change days are the next real ones (availability never offers the past), found from
the tz database, so these tests never go stale. Expected instants are written in UTC.
"""

import datetime as dt
import zoneinfo

import pytest

from scheduling.localtime import local_to_instant
from tests.factories import OPEN_RULES, MerchantFactory
from tests.scheduling.helpers import ALL_WEEK, dst_change_days

pytestmark = pytest.mark.django_db

UTC = dt.UTC


def merchant_open(zone: str, opens: str, closes: str):
    return MerchantFactory(rules=OPEN_RULES, time_zone=zone, hours=[(d, opens, closes) for d in ALL_WEEK])


def slots_on(client, merchant, day: dt.date, duration: int) -> list[dict]:
    tz = zoneinfo.ZoneInfo(merchant.time_zone)
    start = dt.datetime.combine(day, dt.time(), tzinfo=tz)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    response = client.get(
        f"/api/v1/public/merchants/{merchant.slug}/availability",
        {"start": start.isoformat(), "end": end.isoformat(), "duration": duration},
    )
    assert response.status_code == 200, response.json()
    return response.json()["slots"]


def utc_starts(slots) -> list[str]:
    return [dt.datetime.fromisoformat(slot["start"]).astimezone(UTC).strftime("%H:%M") for slot in slots]


def local_starts(slots) -> list[str]:
    return [slot["start"][11:] for slot in slots]  # "HH:MM:SS+hh:mm"


def assert_exact_length(slots, minutes: int) -> None:
    for slot in slots:
        length = dt.datetime.fromisoformat(slot["end"]) - dt.datetime.fromisoformat(slot["start"])
        assert length == dt.timedelta(minutes=minutes), slot


# --- Europe/Berlin: 02:00 CET -> 03:00 CEST (spring), 03:00 CEST -> 02:00 CET (autumn) ----------


def test_berlin_spring_night_hours_skip_the_missing_hour(anon):
    spring, _ = dst_change_days("Europe/Berlin")
    merchant = merchant_open("Europe/Berlin", "00:00", "04:00")

    slots = slots_on(anon, merchant, spring, 60)

    # 00:00-04:00 local is only three real hours that night.
    assert local_starts(slots) == ["00:00:00+01:00", "01:00:00+01:00", "03:00:00+02:00"]
    assert utc_starts(slots) == ["23:00", "00:00", "01:00"]
    assert_exact_length(slots, 60)


def test_berlin_autumn_night_hours_include_the_repeated_hour(anon):
    _, autumn = dst_change_days("Europe/Berlin")
    merchant = merchant_open("Europe/Berlin", "00:00", "04:00")

    slots = slots_on(anon, merchant, autumn, 60)

    # Five real hours: 02:00-03:00 happens twice, once in CEST and once in CET.
    assert local_starts(slots) == [
        "00:00:00+02:00",
        "01:00:00+02:00",
        "02:00:00+02:00",
        "02:00:00+01:00",
        "03:00:00+01:00",
    ]
    assert utc_starts(slots) == ["22:00", "23:00", "00:00", "01:00", "02:00"]
    assert_exact_length(slots, 60)


def test_berlin_spring_hours_ending_mid_morning(anon):
    spring, _ = dst_change_days("Europe/Berlin")
    merchant = merchant_open("Europe/Berlin", "01:00", "03:30")

    slots = slots_on(anon, merchant, spring, 30)

    # 01:00 CET (00:00Z) to 03:30 CEST (01:30Z): 90 real minutes.
    assert local_starts(slots) == ["01:00:00+01:00", "01:30:00+01:00", "03:00:00+02:00"]
    assert_exact_length(slots, 30)


def test_berlin_autumn_hours_ending_mid_morning(anon):
    _, autumn = dst_change_days("Europe/Berlin")
    merchant = merchant_open("Europe/Berlin", "01:00", "03:30")

    slots = slots_on(anon, merchant, autumn, 60)

    # 01:00 CEST (23:00Z) to 03:30 CET (02:30Z): three and a half real hours.
    assert utc_starts(slots) == ["23:00", "00:00", "01:00"]
    assert local_starts(slots) == ["01:00:00+02:00", "02:00:00+02:00", "02:00:00+01:00"]
    assert_exact_length(slots, 60)


def test_berlin_opening_inside_the_gap_opens_when_the_clocks_jump(anon):
    spring, _ = dst_change_days("Europe/Berlin")
    merchant = merchant_open("Europe/Berlin", "02:30", "04:00")

    slots = slots_on(anon, merchant, spring, 30)

    assert local_starts(slots) == ["03:00:00+02:00", "03:30:00+02:00"]


@pytest.mark.parametrize("season", ["spring", "autumn"])
def test_berlin_office_hours_around_the_change_use_the_right_offsets(anon, season):
    spring, autumn = dst_change_days("Europe/Berlin")
    change = spring if season == "spring" else autumn
    before, after = ("+01:00", "+02:00") if season == "spring" else ("+02:00", "+01:00")
    merchant = merchant_open("Europe/Berlin", "09:00", "17:00")

    day_before = slots_on(anon, merchant, change - dt.timedelta(days=1), 60)
    change_day = slots_on(anon, merchant, change, 60)
    day_after = slots_on(anon, merchant, change + dt.timedelta(days=1), 60)

    expected_hours = [f"{h:02}:00:00" for h in range(9, 17)]
    assert local_starts(day_before) == [f"{h}{before}" for h in expected_hours]
    assert local_starts(change_day) == [f"{h}{after}" for h in expected_hours]
    assert local_starts(day_after) == [f"{h}{after}" for h in expected_hours]
    assert utc_starts(day_before)[0] == ("08:00" if season == "spring" else "07:00")
    assert utc_starts(day_after)[0] == ("07:00" if season == "spring" else "08:00")


# --- America/New_York: 02:00 EST -> 03:00 EDT (spring), 02:00 EDT -> 01:00 EST (autumn) ----------


def test_new_york_spring_night_hours(anon):
    spring, _ = dst_change_days("America/New_York")
    merchant = merchant_open("America/New_York", "00:00", "04:00")

    slots = slots_on(anon, merchant, spring, 60)

    assert local_starts(slots) == ["00:00:00-05:00", "01:00:00-05:00", "03:00:00-04:00"]
    assert utc_starts(slots) == ["05:00", "06:00", "07:00"]
    assert_exact_length(slots, 60)


def test_new_york_autumn_night_hours(anon):
    _, autumn = dst_change_days("America/New_York")
    merchant = merchant_open("America/New_York", "00:00", "04:00")

    slots = slots_on(anon, merchant, autumn, 60)

    assert local_starts(slots) == [
        "00:00:00-04:00",
        "01:00:00-04:00",
        "01:00:00-05:00",
        "02:00:00-05:00",
        "03:00:00-05:00",
    ]
    assert utc_starts(slots) == ["04:00", "05:00", "06:00", "07:00", "08:00"]
    assert_exact_length(slots, 60)


def test_new_york_spring_90_minute_slots_are_90_real_minutes(anon):
    spring, _ = dst_change_days("America/New_York")
    merchant = merchant_open("America/New_York", "01:00", "03:30")

    slots = slots_on(anon, merchant, spring, 90)

    # 01:00 EST (06:00Z) to 03:30 EDT (07:30Z): one 90-minute slot.
    assert slots == [{"start": f"{spring}T01:00:00-05:00", "end": f"{spring}T03:30:00-04:00"}]


def test_new_york_autumn_hours_ending_in_the_repeated_hour_end_at_its_first_occurrence(anon):
    _, autumn = dst_change_days("America/New_York")
    merchant = merchant_open("America/New_York", "00:00", "01:30")

    slots = slots_on(anon, merchant, autumn, 30)

    assert local_starts(slots) == ["00:00:00-04:00", "00:30:00-04:00", "01:00:00-04:00"]


@pytest.mark.parametrize("season", ["spring", "autumn"])
def test_new_york_office_hours_around_the_change(anon, season):
    spring, autumn = dst_change_days("America/New_York")
    change = spring if season == "spring" else autumn
    before, after = ("-05:00", "-04:00") if season == "spring" else ("-04:00", "-05:00")
    merchant = merchant_open("America/New_York", "09:00", "17:00")

    friday_before = change - dt.timedelta(days=2)
    monday_after = change + dt.timedelta(days=1)

    assert slots_on(anon, merchant, friday_before, 480) == [
        {"start": f"{friday_before}T09:00:00{before}", "end": f"{friday_before}T17:00:00{before}"}
    ]
    assert slots_on(anon, merchant, change, 480) == [
        {"start": f"{change}T09:00:00{after}", "end": f"{change}T17:00:00{after}"}
    ]
    assert slots_on(anon, merchant, monday_after, 480) == [
        {"start": f"{monday_after}T09:00:00{after}", "end": f"{monday_after}T17:00:00{after}"}
    ]


# --- bookings on change days -----------------------------------------------------------------


def test_booking_the_repeated_hour_twice_is_two_different_bookings(anon):
    _, autumn = dst_change_days("Europe/Berlin")
    merchant = merchant_open("Europe/Berlin", "00:00", "04:00")
    url = f"/api/v1/public/merchants/{merchant.slug}/bookings"
    person = {"customer_name": "Night Owl", "customer_email": "owl@example.com"}

    first = anon.post(
        url, {"start": f"{autumn}T02:00:00+02:00", "end": f"{autumn}T02:00:00+01:00", **person}, format="json"
    )
    second = anon.post(
        url, {"start": f"{autumn}T02:00:00+01:00", "end": f"{autumn}T03:00:00+01:00", **person}, format="json"
    )
    again = anon.post(
        url, {"start": f"{autumn}T02:30:00+02:00", "end": f"{autumn}T02:30:00+01:00", **person}, format="json"
    )

    assert (first.status_code, second.status_code, again.status_code) == (201, 201, 409)
    assert utc_starts(slots_on(anon, merchant, autumn, 60)) == ["22:00", "23:00", "02:00"]


def test_booking_across_the_spring_gap(anon):
    spring, _ = dst_change_days("Europe/Berlin")
    merchant = merchant_open("Europe/Berlin", "01:00", "04:00")

    response = anon.post(
        f"/api/v1/public/merchants/{merchant.slug}/bookings",
        {
            "start": f"{spring}T01:00:00+01:00",
            "end": f"{spring}T04:00:00+02:00",
            "customer_name": "Early Bird",
            "customer_email": "bird@example.com",
        },
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["end"] == f"{spring}T04:00:00+02:00"  # two real hours


# --- the wall-clock -> instant rules themselves -------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "local", "expected_utc"),
    [
        ("Europe/Berlin", "2027-03-28T01:59:00", "2027-03-28T00:59:00"),
        ("Europe/Berlin", "2027-03-28T02:00:00", "2027-03-28T01:00:00"),  # missing: the jump
        ("Europe/Berlin", "2027-03-28T02:30:00", "2027-03-28T01:00:00"),  # missing: the jump
        ("Europe/Berlin", "2027-03-28T03:00:00", "2027-03-28T01:00:00"),
        ("Europe/Berlin", "2027-10-31T02:30:00", "2027-10-31T00:30:00"),  # repeated: first occurrence
        ("America/New_York", "2027-03-14T02:15:00", "2027-03-14T07:00:00"),
        ("America/New_York", "2027-11-07T01:30:00", "2027-11-07T05:30:00"),
        ("Australia/Lord_Howe", "2027-10-03T02:15:00", "2027-10-02T15:30:00"),  # a 30-minute jump
        ("UTC", "2027-03-28T02:30:00", "2027-03-28T02:30:00"),
    ],
)
def test_local_to_instant(zone, local, expected_utc):
    instant = local_to_instant(dt.datetime.fromisoformat(local), zoneinfo.ZoneInfo(zone))

    assert instant == dt.datetime.fromisoformat(expected_utc).replace(tzinfo=UTC)
