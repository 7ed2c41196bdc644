"""Managing a booking (SPEC §11): the customer's token API (cancel, reschedule) and the
merchant's cancel (DELETE /api/v1/merchant/bookings/{id}); cancelled bookings free their time."""

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from scheduling.models import Booking
from scheduling.tokens import booking_token
from tests.factories import MerchantFactory
from tests.scheduling.helpers import at, booking, manual_block, next_weekday

pytestmark = pytest.mark.django_db


def cancel_url(token: str) -> str:
    return f"/api/v1/public/bookings/{token}/cancel"


def move_url(token: str) -> str:
    return f"/api/v1/public/bookings/{token}/reschedule"


def slot_starts(client, merchant, day) -> list[str]:
    response = client.get(
        f"/api/v1/public/merchants/{merchant.slug}/availability",
        {"start": at(day, "00:00").isoformat(), "end": at(day, "23:59").isoformat(), "duration": 30},
    )
    return [slot["start"][11:16] for slot in response.json()["slots"]]


@pytest.fixture
def anon():
    client = APIClient()
    client.default_format = "json"
    return client


@pytest.fixture
def monday():
    return next_weekday(0)


@pytest.fixture
def booked(merchant, monday) -> Booking:
    return booking(merchant, at(monday, "10:00"), at(monday, "10:30"), name="Kim", email="kim@example.com")


def test_customer_cancels_and_the_time_is_free_at_once(anon, merchant, monday, booked):
    assert "10:00" not in slot_starts(anon, merchant, monday)

    response = anon.post(cancel_url(booking_token(booked.uid)))

    assert response.status_code == 204
    booked.refresh_from_db()
    assert (booked.status, booked.cancelled_by, booked.sequence) == ("cancelled", "customer", 1)
    assert booked.cancelled_at is not None
    assert "10:00" in slot_starts(anon, merchant, monday)
    again = anon.post(cancel_url(booking_token(booked.uid)))
    assert again.status_code == 204
    booked.refresh_from_db()
    assert booked.sequence == 1  # nothing changed the second time
    other = anon.post(
        f"/api/v1/public/merchants/{merchant.slug}/bookings",
        {
            "start": at(monday, "10:00").isoformat(),
            "end": at(monday, "10:30").isoformat(),
            "customer_name": "Lee",
            "customer_email": "lee@example.com",
        },
        format="json",
    )
    assert other.status_code == 201


def test_customer_reschedules_to_another_offered_slot(anon, merchant, monday, booked):
    token = booking_token(booked.uid)

    response = anon.post(
        move_url(token), {"start": at(monday, "14:00").isoformat(), "end": at(monday, "15:00").isoformat()}
    )

    assert response.status_code == 200, response.json()
    assert response.json()["start"] == at(monday, "14:00").isoformat()
    booked.refresh_from_db()
    assert (booked.start, booked.end, booked.sequence, booked.status) == (
        at(monday, "14:00"),
        at(monday, "15:00"),
        1,
        "confirmed",
    )
    assert "10:00" in slot_starts(anon, merchant, monday)
    assert "14:00" not in slot_starts(anon, merchant, monday)
    # Moving onto its own time (or overlapping it) is fine: the booking does not block itself.
    shifted = anon.post(
        move_url(token), {"start": at(monday, "14:30").isoformat(), "end": at(monday, "15:00").isoformat()}
    )
    assert shifted.status_code == 200


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("11:07", "11:37", "not_offered"),
        ("10:00", "10:45", "not_offered"),
        ("12:00", "12:30", "unavailable"),
        ("18:00", "18:30", "outside_business_hours"),
    ],
)
def test_reschedule_follows_every_rule(anon, merchant, monday, booked, start, end, expected):
    manual_block(merchant, at(monday, "12:00"), at(monday, "13:00"))

    response = anon.post(
        move_url(booking_token(booked.uid)),
        {"start": at(monday, start).isoformat(), "end": at(monday, end).isoformat()},
    )

    assert (response.status_code, response.json()["error"]["code"]) == (409, expected)
    booked.refresh_from_db()
    assert (booked.start, booked.sequence) == (at(monday, "10:00"), 0)


def test_reschedule_rules_too_soon_too_far_and_cancelled(anon, db):
    merchant = MerchantFactory(hours=[(d, "00:00", "23:30") for d in range(7)], rules={"max_days_ahead": 14})
    monday = next_weekday(0)
    mine = booking(merchant, at(monday, "10:00"), at(monday, "10:30"))
    token = booking_token(mine.uid)
    soon = (timezone.now() + dt.timedelta(minutes=60)).replace(second=0, microsecond=0)
    soon = soon.replace(minute=0 if soon.minute < 30 else 30)
    far = next_weekday(0, weeks_ahead=3)
    for start, expected in ((soon, "too_soon"), (at(far, "10:00"), "too_far_ahead")):
        response = anon.post(
            move_url(token), {"start": start.isoformat(), "end": (start + dt.timedelta(minutes=30)).isoformat()}
        )
        assert (response.status_code, response.json()["error"]["code"]) == (409, expected)
    anon.post(cancel_url(token))
    response = anon.post(
        move_url(token), {"start": at(monday, "11:00").isoformat(), "end": at(monday, "11:30").isoformat()}
    )
    assert (response.status_code, response.json()["error"]["code"]) == (409, "cancelled")


def test_reschedule_bad_input_is_400(anon, booked, monday):
    token = booking_token(booked.uid)
    for data in ({}, {"start": "soon", "end": "later"}, {"start": at(monday, "11:00").isoformat(), "x": 1}):
        assert anon.post(move_url(token), data).status_code == 400


def test_a_past_booking_cannot_be_cancelled_or_moved_by_the_customer(anon, merchant, monday):
    past = booking(merchant, at(monday, "10:00") - dt.timedelta(days=14), at(monday, "10:30") - dt.timedelta(days=14))
    token = booking_token(past.uid)

    assert anon.post(cancel_url(token)).json()["error"]["code"] == "in_past"
    moved = anon.post(
        move_url(token), {"start": at(monday, "11:00").isoformat(), "end": at(monday, "11:30").isoformat()}
    )
    assert moved.json()["error"]["code"] == "in_past"


@pytest.mark.parametrize(
    "token",
    [
        "nonsense",
        "0" * 32 + ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "{uid}",  # the UID without its signature
        "{uid}.{sig}x",  # tampered signature
        "{other}.{sig}",  # another booking's UID with this one's signature
        "%2E%2E",
    ],
)
def test_unknown_or_tampered_tokens_are_404(anon, merchant, monday, booked, token):
    other = booking(merchant, at(monday, "15:00"), at(monday, "15:30"))
    uid, sig = booking_token(booked.uid).split(".")
    token = token.format(uid=uid, sig=sig, other=other.uid.hex)

    for response in (
        anon.post(cancel_url(token)),
        anon.post(move_url(token), {"start": at(monday, "11:00").isoformat(), "end": at(monday, "11:30").isoformat()}),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    assert set(Booking.objects.values_list("status", flat=True)) == {"confirmed"}


def test_merchant_cancels_through_the_api(api, anon, merchant, monday, booked):
    response = api.delete(f"/api/v1/merchant/bookings/{booked.pk}")

    assert response.status_code == 204
    booked.refresh_from_db()
    assert (booked.status, booked.cancelled_by) == ("cancelled", "merchant")
    assert "10:00" in slot_starts(anon, merchant, monday)
    assert api.get("/api/v1/merchant/bookings").json() == []
    assert api.delete(f"/api/v1/merchant/bookings/{booked.pk}").status_code == 204  # already cancelled


def test_another_merchants_booking_is_404(api, other_merchant, monday):
    theirs = booking(other_merchant, at(monday, "10:00"), at(monday, "10:30"))

    for path in (
        f"/api/v1/merchant/bookings/{theirs.pk}",
        "/api/v1/merchant/bookings/abc",
        "/api/v1/merchant/bookings/0",
    ):
        response = api.delete(path)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    theirs.refresh_from_db()
    assert theirs.status == "confirmed"


def test_merchant_cancel_needs_authentication(anon, booked):
    assert anon.delete(f"/api/v1/merchant/bookings/{booked.pk}").status_code == 401
