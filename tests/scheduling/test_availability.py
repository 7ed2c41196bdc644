"""GET /api/v1/public/merchants/{slug}/availability and the availability selector."""

import datetime as dt
import random

import pytest

from scheduling.models import BlockedTime
from scheduling.selectors import availability_slots
from tests.factories import OPEN_RULES, MerchantFactory
from tests.scheduling.helpers import at, booking, manual_block, next_weekday, synced_block

pytestmark = pytest.mark.django_db


@pytest.fixture
def merchant(db):
    return MerchantFactory(rules=OPEN_RULES)


def url(merchant) -> str:
    return f"/api/v1/public/merchants/{merchant.slug}/availability"


def day_query(day, duration=60, zone="Europe/Berlin"):
    return {
        "start": at(day, "00:00", zone).isoformat(),
        "end": at(day, "23:59", zone).isoformat(),
        "duration": duration,
    }


def starts(response) -> list[str]:
    return [slot["start"][11:16] for slot in response.json()["slots"]]


def test_free_day_offers_every_hour(anon, merchant):
    monday = next_weekday(0)

    response = anon.get(url(merchant), day_query(monday))

    assert response.status_code == 200
    data = response.json()
    assert data["time_zone"] == "Europe/Berlin"
    assert data["slots"] == [
        {"start": at(monday, f"{h:02}:00").isoformat(), "end": at(monday, f"{h + 1:02}:00").isoformat()}
        for h in range(9, 17)
    ]


def test_bookings_and_blocked_times_are_removed_on_the_same_grid(anon, merchant):
    monday = next_weekday(0)
    booking(merchant, at(monday, "09:00"), at(monday, "09:10"))
    manual_block(merchant, at(monday, "11:00"), at(monday, "12:30"))
    synced_block(merchant, at(monday, "15:59"), at(monday, "16:01"))

    response = anon.get(url(merchant), day_query(monday, duration=30))

    assert starts(response) == [
        "09:30", "10:00", "10:30",  # 09:00 is taken by a 10-minute booking; the grid stays on :00/:30
        "12:30", "13:00", "13:30", "14:00", "14:30", "15:00",  # 11:00-12:30 blocked
        "16:30",  # 15:30 and 16:00 touch the synced block
    ]  # fmt: skip


def test_weekend_is_closed(anon, merchant):
    saturday = next_weekday(5)

    response = anon.get(url(merchant), day_query(saturday))

    assert response.json()["slots"] == []


def test_split_hours_step_from_each_intervals_start(anon, db):
    merchant = MerchantFactory(
        rules=OPEN_RULES,
        hours=[(0, "09:00", "12:00"), (0, "13:15", "15:00"), (1, "09:00", "10:00"), (1, "10:00", "11:30")],
    )
    monday, tuesday = next_weekday(0), next_weekday(1)

    assert starts(anon.get(url(merchant), day_query(monday, 45))) == [
        "09:00",
        "09:45",
        "10:30",
        "11:15",
        "13:15",
        "14:00",
    ]
    # Touching intervals are one opening: slots run across 10:00.
    assert starts(anon.get(url(merchant), day_query(tuesday, 40))) == ["09:00", "09:40", "10:20"]


def test_only_whole_slots_inside_the_range(anon, merchant):
    monday = next_weekday(0)

    response = anon.get(
        url(merchant),
        {"start": at(monday, "10:20").isoformat(), "end": at(monday, "13:30").isoformat(), "duration": 60},
    )

    assert starts(response) == ["11:00", "12:00"]


def test_range_bounds_may_be_local_dates(anon, merchant):
    monday = next_weekday(0)

    response = anon.get(
        url(merchant), {"start": monday.isoformat(), "end": (monday + dt.timedelta(days=7)).isoformat(), "duration": 60}
    )

    assert len(response.json()["slots"]) == 5 * 8


def test_defaults_are_the_next_seven_days_in_30_minute_slots(anon, db):
    merchant = MerchantFactory()  # the product's default rules: 30 and 60 minutes, 2 hours' notice

    response = anon.get(url(merchant))

    assert response.status_code == 200
    slots = response.json()["slots"]
    assert 4 * 16 <= len(slots) <= 5 * 16  # 4 or 5 working days (today's may be partly over), 16 half hours each
    first = dt.datetime.fromisoformat(slots[0]["start"])
    assert dt.datetime.fromisoformat(slots[0]["end"]) - first == dt.timedelta(minutes=30)


def test_slots_that_have_begun_are_not_offered(merchant):
    monday = next_weekday(0)
    now = at(monday, "12:10")

    slots = availability_slots(
        merchant=merchant, start=at(monday, "00:00"), end=at(monday, "23:00"), duration=dt.timedelta(hours=1), now=now
    )

    assert [s.astimezone(merchant.zone).strftime("%H:%M") for s, _ in slots] == ["13:00", "14:00", "15:00", "16:00"]


def test_no_event_detail_reaches_customers(anon, merchant):
    monday = next_weekday(0)
    synced_block(merchant, at(monday, "10:00"), at(monday, "11:00"), summary="Secret project")

    response = anon.get(url(merchant), day_query(monday))

    assert set(response.json()) == {"time_zone", "slots"}
    assert all(set(slot) == {"start", "end"} for slot in response.json()["slots"])
    assert "Secret" not in response.content.decode()
    assert "google" not in response.content.decode()


def test_another_merchants_blocks_do_not_matter(anon, merchant, other_merchant):
    monday = next_weekday(0)
    manual_block(other_merchant, at(monday, "00:00"), at(monday, "23:00"))

    assert len(anon.get(url(merchant), day_query(monday)).json()["slots"]) == 8


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ({"duration": "abc"}, "duration"),
        ({"duration": "0"}, "duration"),
        ({"duration": "-30"}, "duration"),
        ({"duration": "30.5"}, "duration"),
        ({"duration": "1441"}, "duration"),
        ({"start": "2030-01-02T00:00:00Z", "end": "2030-01-01T00:00:00Z"}, "after start"),
        ({"start": "2030-01-01T00:00:00Z", "end": "2031-01-02T00:00:01Z"}, "366 days"),
        ({"start": "yesterday"}, "ISO 8601"),
        ({"start": "2030-13-01"}, "ISO 8601"),
        ({"end": "2030-01-01T10:00:00+25:00"}, "ISO 8601"),
    ],
)
def test_bad_queries_are_400(anon, merchant, query, fragment):
    response = anon.get(url(merchant), query)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert fragment in response.json()["error"]["message"]


def test_a_366_day_range_is_fine(anon, merchant):
    response = anon.get(url(merchant), {"start": "2030-01-01T00:00:00Z", "end": "2031-01-02T00:00:00Z", "duration": 60})

    assert response.status_code == 200
    assert len(response.json()["slots"]) == 262 * 8  # 261 weekdays in 2030 plus Wednesday 1 Jan 2031
    assert len({slot["start"] for slot in response.json()["slots"]}) == 262 * 8


def test_unknown_slug_is_404(anon, db):
    response = anon.get("/api/v1/public/merchants/nobody/availability")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_merchant_without_business_hours_has_no_slots(anon, db):
    merchant = MerchantFactory(rules=OPEN_RULES, hours=[])

    assert anon.get(url(merchant), day_query(next_weekday(0))).json()["slots"] == []


def test_every_offered_slot_can_be_booked(anon, merchant):
    monday = next_weekday(0)
    manual_block(merchant, at(monday, "10:10"), at(monday, "10:50"))
    slots = anon.get(url(merchant), day_query(monday, 90)).json()["slots"]

    for slot in slots:
        response = anon.post(
            f"/api/v1/public/merchants/{merchant.slug}/bookings",
            {**slot, "customer_name": "C", "customer_email": "c@example.com"},
            format="json",
        )
        assert response.status_code == 201, response.json()
    assert anon.get(url(merchant), day_query(monday, 90)).json()["slots"] == []


def _brute_force(opening, busy, duration, earliest, end):
    slots = []
    for open_start, open_end in opening:
        t = open_start
        while t + duration <= open_end:
            if t >= earliest and t + duration <= end and not any(b0 < t + duration and b1 > t for b0, b1 in busy):
                slots.append((t, t + duration))
            t += duration
    return slots


@pytest.mark.parametrize("seed", range(5))
def test_sweep_matches_brute_force_with_many_random_blocks(merchant, seed):
    rng = random.Random(seed)
    monday = next_weekday(0)
    start, end = at(monday, "00:00"), at(monday + dt.timedelta(days=14), "00:00")
    busy = []
    for _ in range(300):
        block_start = start + dt.timedelta(minutes=rng.randrange(0, 14 * 24 * 60))
        busy.append((block_start, block_start + dt.timedelta(minutes=rng.randrange(1, 240))))
    BlockedTime.objects.bulk_create(BlockedTime(merchant=merchant, start=s, end=e) for s, e in busy)
    duration = dt.timedelta(minutes=rng.choice([15, 25, 30, 60, 90]))
    opening = [
        (at(day, "09:00"), at(day, "17:00"))
        for day in (monday + dt.timedelta(days=n) for n in range(14))
        if day.weekday() < 5
    ]

    slots = availability_slots(merchant=merchant, start=start, end=end, duration=duration, now=start)

    assert slots == _brute_force(opening, busy, duration, start, end)


def test_ten_thousand_blocked_times_cost_a_constant_number_of_queries(merchant, django_assert_max_num_queries):
    rng = random.Random(42)
    monday = next_weekday(0)
    start, end = at(monday, "00:00"), at(monday + dt.timedelta(days=30), "00:00")
    busy = []
    for _ in range(10_000):
        block_start = start + dt.timedelta(minutes=rng.randrange(0, 30 * 24 * 60 // 5) * 5)
        busy.append((block_start, block_start + dt.timedelta(minutes=1)))
    BlockedTime.objects.bulk_create(BlockedTime(merchant=merchant, start=s, end=e) for s, e in busy)
    duration = dt.timedelta(minutes=10)

    with django_assert_max_num_queries(3):  # business hours, blocked times, bookings
        slots = availability_slots(merchant=merchant, start=start, end=end, duration=duration, now=start)

    opening = [
        (at(day, "09:00"), at(day, "17:00"))
        for day in (monday + dt.timedelta(days=n) for n in range(30))
        if day.weekday() < 5
    ]
    assert 0 < len(slots) < 22 * 48
    assert slots == _brute_force(opening, sorted(busy), duration, start, end)


def test_sub_second_block_edges_count(merchant):
    monday = next_weekday(0)
    tick = dt.timedelta(microseconds=1)
    manual_block(merchant, at(monday, "09:30"), at(monday, "10:00") + tick)  # 10:00 slot: 1 µs overlap
    manual_block(merchant, at(monday, "12:00") - tick, at(monday, "12:30"))  # 11:00 slot: 1 µs overlap
    manual_block(merchant, at(monday, "14:00"), at(monday, "15:00"))  # touches 13:00 and 15:00 slots only

    slots = availability_slots(
        merchant=merchant,
        start=at(monday, "00:00"),
        end=at(monday, "23:00"),
        duration=dt.timedelta(hours=1),
        now=at(monday, "00:00"),
    )

    assert [s.astimezone(merchant.zone).strftime("%H:%M") for s, _ in slots] == ["13:00", "15:00", "16:00"]
