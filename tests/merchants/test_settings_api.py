"""GET/PUT /api/v1/merchant/business-hours and GET/PATCH /api/v1/merchant/booking-rules."""

import pytest

from merchants.models import BusinessHours

pytestmark = pytest.mark.django_db

HOURS = "/api/v1/merchant/business-hours"
RULES = "/api/v1/merchant/booking-rules"


def week(merchant) -> list[tuple]:
    return [(h.weekday, f"{h.start:%H:%M}", f"{h.end:%H:%M}") for h in BusinessHours.objects.filter(merchant=merchant)]


def test_get_business_hours(api, merchant):
    response = api.get(HOURS)

    assert response.status_code == 200
    assert response.json() == {
        "time_zone": "Europe/Berlin",
        "intervals": [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)],
    }


def test_put_several_intervals_a_day_any_day(api, merchant):
    body = {
        "intervals": [
            {"weekday": 0, "start": "13:00", "end": "17:00"},
            {"weekday": 0, "start": "08:00", "end": "12:00"},
            {"weekday": "saturday", "start": "10:00", "end": "14:00"},
            {"weekday": 6, "start": "18:00", "end": "20:30"},
            {"weekday": 2, "start": "09:00", "end": "12:00"},
            {"weekday": 2, "start": "12:00", "end": "15:00"},  # touching is fine
        ]
    }

    response = api.put(HOURS, body, format="json")

    assert response.status_code == 200, response.json()
    assert week(merchant) == [
        (0, "08:00", "12:00"),
        (0, "13:00", "17:00"),
        (2, "09:00", "12:00"),
        (2, "12:00", "15:00"),
        (5, "10:00", "14:00"),
        (6, "18:00", "20:30"),
    ]
    assert response.json()["intervals"][0] == {"weekday": 0, "start": "08:00", "end": "12:00"}
    merchant.refresh_from_db()
    assert merchant.business_hours_set_at is not None
    assert api.put(HOURS, [{"weekday": 1, "start": "09:00", "end": "10:00"}], format="json").status_code == 200
    assert week(merchant) == [(1, "09:00", "10:00")]
    assert api.put(HOURS, {"intervals": []}, format="json").status_code == 200  # closed all week
    assert week(merchant) == []


@pytest.mark.parametrize(
    ("intervals", "fragment"),
    [
        (
            [{"weekday": 0, "start": "09:00", "end": "12:00"}, {"weekday": 0, "start": "11:00", "end": "13:00"}],
            "overlap",
        ),
        ([{"weekday": 3, "start": "12:00", "end": "11:00"}], "end must be after the start"),
        ([{"weekday": 3, "start": "12:00", "end": "12:00"}], "end must be after the start"),
        ([{"weekday": 7, "start": "09:00", "end": "12:00"}], "weekday"),
        ([{"weekday": 1, "start": "9am", "end": "12:00"}], "start"),
        ([{"weekday": 1, "start": "25:00", "end": "26:00"}], "start"),
        ([{"weekday": 1, "start": "09:00", "end": "12:00", "note": "x"}], "Unknown field"),
        ("monday 9-5", "intervals"),
    ],
)
def test_put_refuses_bad_hours_and_changes_nothing(api, merchant, intervals, fragment):
    response = api.put(HOURS, {"intervals": intervals}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert fragment in response.json()["error"]["message"]
    assert week(merchant) == [(d, "09:00", "17:00") for d in range(5)]


def test_hours_need_a_merchant(anon):
    assert anon.get(HOURS).status_code == 401
    assert anon.put(HOURS, {"intervals": []}, format="json").status_code == 401


def test_booking_rules(api, merchant, anon):
    assert api.get(RULES).json() == {
        "slot_lengths": [30, 60],
        "buffer_minutes": 0,
        "minimum_notice_minutes": 120,
        "max_days_ahead": 60,
    }

    response = api.patch(RULES, {"slot_lengths": [45, 15, 45], "buffer_minutes": 10}, format="json")

    assert response.status_code == 200
    assert response.json() == {
        "slot_lengths": [15, 45],
        "buffer_minutes": 10,
        "minimum_notice_minutes": 120,
        "max_days_ahead": 60,
    }
    for bad in ({"slot_lengths": []}, {"slot_lengths": [3]}, {"max_days_ahead": 0}, {"buffer": 5}, {}):
        refused = api.patch(RULES, bad, format="json")
        assert refused.status_code == 400, bad
    merchant.refresh_from_db()
    assert (merchant.slot_lengths, merchant.buffer_minutes) == ([15, 45], 10)
    assert anon.get(RULES).status_code == 401
