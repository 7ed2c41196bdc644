"""Booking rules (SPEC §11) and abuse limits (SPEC §12) on public bookings and availability:
offered lengths and the slot grid, minimum notice, how far ahead, the buffer after a booking,
the merchant's own bookings, the per-email limit, rate limits and plain-text names."""

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from scheduling.models import Booking
from tests.factories import MerchantFactory
from tests.scheduling.helpers import ALL_WEEK, at, booking, manual_block, next_weekday

pytestmark = pytest.mark.django_db


def book_url(merchant) -> str:
    return f"/api/v1/public/merchants/{merchant.slug}/bookings"


def slots_url(merchant) -> str:
    return f"/api/v1/public/merchants/{merchant.slug}/availability"


def body(start, end, email="grace@example.com", name="Grace Hopper"):
    return {"start": start.isoformat(), "end": end.isoformat(), "customer_name": name, "customer_email": email}


def book(client, merchant, start, end, **kwargs):
    return client.post(book_url(merchant), body(start, end, **kwargs), format="json")


def code(response) -> str:
    return response.json()["error"]["code"]


def starts(client, merchant, day, duration) -> list[str]:
    response = client.get(
        slots_url(merchant),
        {"start": at(day, "00:00").isoformat(), "end": at(day, "23:59").isoformat(), "duration": duration},
    )
    assert response.status_code == 200, response.json()
    return [slot["start"][11:16] for slot in response.json()["slots"]]


def test_defaults(merchant):
    assert (merchant.slot_lengths, merchant.buffer_minutes) == ([30, 60], 0)
    assert (merchant.minimum_notice_minutes, merchant.max_days_ahead) == (120, 60)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("10:00", "10:30", 201),
        ("10:00", "11:00", 201),
        ("10:30", "11:00", 201),
        ("10:00", "10:45", "not_offered"),  # a length not offered
        ("10:07", "10:37", "not_offered"),  # the forged 10:07 booking of the issue: off the grid
        ("10:30", "11:30", "not_offered"),  # 60 minutes step from 09:00: 10:30 is not on their grid
        ("10:00", "10:30:30", "not_offered"),
    ],
)
def test_only_offered_slots_can_be_booked(anon, merchant, start, end, expected):
    monday = next_weekday(0)
    end_at = at(monday, end[:5]) + dt.timedelta(seconds=int(end[6:] or 0))

    response = book(anon, merchant, at(monday, start), end_at)

    if expected == 201:
        assert response.status_code == 201, response.json()
    else:
        assert (response.status_code, code(response)) == (409, expected)
        assert not Booking.objects.exists()


def test_availability_offers_only_offered_lengths(anon, merchant):
    monday = next_weekday(0)
    assert starts(anon, merchant, monday, 60)[:2] == ["09:00", "10:00"]
    response = anon.get(slots_url(merchant), {"duration": 45})
    assert response.status_code == 400
    assert "offers 30, 60" in response.json()["error"]["message"]
    default = anon.get(slots_url(merchant)).json()["slots"][0]
    assert dt.datetime.fromisoformat(default["end"]) - dt.datetime.fromisoformat(default["start"]) == dt.timedelta(
        minutes=30
    )


def test_minimum_notice(anon, db):
    merchant = MerchantFactory(hours=[(d, "00:00", "23:59") for d in ALL_WEEK], rules={"slot_lengths": [60]})
    now = timezone.now()
    too_soon = (now + dt.timedelta(hours=2)).replace(minute=0, second=0, microsecond=0).astimezone(merchant.zone)
    fine = too_soon + dt.timedelta(hours=1)

    refused = book(anon, merchant, too_soon, too_soon + dt.timedelta(hours=1))
    accepted = book(anon, merchant, fine, fine + dt.timedelta(hours=1))

    assert (refused.status_code, code(refused)) == (409, "too_soon")
    assert accepted.status_code == 201, accepted.json()
    slots = anon.get(slots_url(merchant), {"duration": 60}).json()["slots"]
    assert dt.datetime.fromisoformat(slots[0]["start"]) >= now + dt.timedelta(hours=2)
    assert dt.datetime.fromisoformat(slots[0]["start"]) - now < dt.timedelta(hours=4)


def test_how_far_ahead(anon, db):
    merchant = MerchantFactory(hours=[(d, "09:00", "17:00") for d in ALL_WEEK], rules={"max_days_ahead": 14})
    inside, beyond = next_weekday(0, weeks_ahead=1), next_weekday(0, weeks_ahead=3)  # 7-13 and 21-27 days

    assert book(anon, merchant, at(inside, "09:00"), at(inside, "09:30")).status_code == 201
    refused = book(anon, merchant, at(beyond, "09:00"), at(beyond, "09:30"))
    assert (refused.status_code, code(refused)) == (409, "too_far_ahead")
    slots = anon.get(
        slots_url(merchant), {"start": at(inside, "00:00").isoformat(), "end": at(beyond, "23:00").isoformat()}
    ).json()["slots"]
    assert slots and max(dt.datetime.fromisoformat(s["start"]) for s in slots) <= timezone.now() + dt.timedelta(days=14)
    assert starts(anon, merchant, beyond, 30) == []


def test_buffer_after_a_booking(anon, db):
    merchant = MerchantFactory(rules={"buffer_minutes": 15})
    monday = next_weekday(0)
    booking(merchant, at(monday, "10:00"), at(monday, "10:30"))
    manual_block(merchant, at(monday, "13:00"), at(monday, "14:00"))

    # 10:30 is inside the buffer after the booking; 09:30 would need 10:00-10:15 free; 12:30 runs its
    # buffer into the block at 13:00.
    assert starts(anon, merchant, monday, 30)[:6] == ["09:00", "11:00", "11:30", "12:00", "14:00", "14:30"]
    for start, end in (("10:30", "11:00"), ("09:30", "10:00"), ("12:30", "13:00")):
        response = book(anon, merchant, at(monday, start), at(monday, end))
        assert (response.status_code, code(response)) == (409, "unavailable"), start
    assert book(anon, merchant, at(monday, "11:00"), at(monday, "11:30")).status_code == 201


def test_merchants_own_bookings_take_any_free_time(api, merchant):
    monday = next_weekday(0)
    booking(merchant, at(monday, "10:00"), at(monday, "11:00"))
    url = "/api/v1/merchant/bookings"

    odd = api.post(url, body(at(monday, "11:07"), at(monday, "11:52")), format="json")
    evening = api.post(url, body(at(monday, "19:00"), at(monday, "20:00")), format="json")
    soon = timezone.now() + dt.timedelta(minutes=5)
    now_ish = api.post(url, body(soon, soon + dt.timedelta(minutes=20)), format="json")
    overlap = api.post(url, body(at(monday, "10:30"), at(monday, "11:05")), format="json")
    past = api.post(url, body(at(monday, "10:00") - dt.timedelta(days=14), at(monday, "11:00")), format="json")

    assert (odd.status_code, evening.status_code, now_ish.status_code) == (201, 201, 201)
    assert odd.json()["status"] == "confirmed"
    assert (overlap.status_code, code(overlap)) == (409, "unavailable")
    assert (past.status_code, code(past)) == (409, "in_past")
    assert APIClient().post(url, body(at(monday, "15:00"), at(monday, "16:00")), format="json").status_code == 401


def test_one_email_holds_at_most_three_upcoming_bookings(anon, merchant, other_merchant, settings):
    monday = next_weekday(0)
    booking(merchant, at(monday, "09:00") - dt.timedelta(days=14), at(monday, "09:30") - dt.timedelta(days=14))
    for hour in ("09:00", "10:00", "11:00"):
        assert book(anon, merchant, at(monday, hour), at(monday, hour) + dt.timedelta(minutes=30)).status_code == 201

    fourth = book(anon, merchant, at(monday, "12:00"), at(monday, "12:30"), email="GRACE@example.com")
    elsewhere = book(anon, other_merchant, at(monday, "12:00"), at(monday, "12:30"))
    someone_else = book(anon, merchant, at(monday, "12:00"), at(monday, "12:30"), email="ada@example.com")

    assert (fourth.status_code, code(fourth)) == (409, "too_many_bookings")
    assert (elsewhere.status_code, someone_else.status_code) == (201, 201)
    Booking.objects.filter(customer_email="grace@example.com", merchant=merchant).first().delete()
    assert book(anon, merchant, at(monday, "13:00"), at(monday, "13:30")).status_code == 201
    settings.BOOKING_MAX_ACTIVE_PER_EMAIL = 5
    assert book(anon, merchant, at(monday, "14:00"), at(monday, "14:30")).status_code == 201


def test_rate_limit_per_address(settings, merchant):
    settings.BOOKING_RATE_PER_ADDRESS = "3/hour"
    monday = next_weekday(0)
    here, there = APIClient(REMOTE_ADDR="203.0.113.5"), APIClient(REMOTE_ADDR="198.51.100.7")
    codes = [
        book(here, merchant, at(monday, h), at(monday, h) + dt.timedelta(minutes=30), email=f"c{h[:2]}@example.com")
        for h in ("09:00", "10:00", "11:00", "12:00")
    ]

    assert [r.status_code for r in codes] == [201, 201, 201, 429]
    limited = codes[-1]
    assert code(limited) == "rate_limited"
    assert 0 < int(limited["Retry-After"]) <= 3600
    assert Booking.objects.count() == 3
    assert book(there, merchant, at(monday, "12:00"), at(monday, "12:30")).status_code == 201


def test_rate_limit_per_merchant(settings, merchant, other_merchant):
    settings.BOOKING_RATE_PER_MERCHANT = "2/hour"
    monday = next_weekday(0)
    responses = [
        book(APIClient(REMOTE_ADDR=f"203.0.113.{n}"), merchant, at(monday, h), at(monday, h) + dt.timedelta(hours=1))
        for n, h in enumerate(("09:00", "10:00", "11:00"))
    ]

    assert [r.status_code for r in responses] == [201, 201, 429]
    assert code(responses[-1]) == "rate_limited" and responses[-1]["Retry-After"]
    assert book(APIClient(), other_merchant, at(monday, "09:00"), at(monday, "10:00")).status_code == 201


@pytest.mark.parametrize(
    "name",
    [
        "Grace\r\nBcc: victim@example.com",
        "Grace\nHopper",
        "Grace\x1b[31mHopper",
        "Grace \u202eeppoH",  # right-to-left override
        "Gra\u200bce",  # zero-width space
        "Grace\u2028Hopper",  # line separator
        "\u2066Grace\u2069",  # isolates
        "Grace\x00",
    ],
)
def test_customer_name_refuses_control_and_format_characters(anon, merchant, name):
    monday = next_weekday(0)

    response = book(anon, merchant, at(monday, "10:00"), at(monday, "10:30"), name=name)

    assert response.status_code == 400
    assert "customer_name" in response.json()["error"]["message"]
    assert not Booking.objects.exists()


@pytest.mark.parametrize("name", ["Zoë O'Brien-Núñez", "李小龍", "محمد", "Ana María (Mum)"])
def test_customer_name_takes_any_script(anon, merchant, name):
    monday = next_weekday(0)

    response = book(anon, merchant, at(monday, "10:00"), at(monday, "10:30"), name=name)

    assert response.status_code == 201
    assert response.json()["customer_name"] == name
