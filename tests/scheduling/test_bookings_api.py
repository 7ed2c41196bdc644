"""POST /api/v1/public/merchants/{slug}/bookings and GET /api/v1/merchant/bookings."""

import datetime as dt

import pytest
from rest_framework.test import APIClient

from scheduling.models import Booking
from tests.factories import MerchantFactory
from tests.scheduling.helpers import at, booking, manual_block, next_weekday, synced_block

pytestmark = pytest.mark.django_db


def url(merchant) -> str:
    return f"/api/v1/public/merchants/{merchant.slug}/bookings"


def body(start, end, **extra):
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "customer_name": "Grace Hopper",
        "customer_email": "grace@example.com",
        **extra,
    }


def test_customer_books_a_free_slot(anon, merchant):
    monday = next_weekday(0)

    response = anon.post(url(merchant), body(at(monday, "10:00"), at(monday, "10:30")), format="json")

    assert response.status_code == 201
    data = response.json()
    assert data == {
        "id": data["id"],
        "start": at(monday, "10:00").isoformat(),
        "end": at(monday, "10:30").isoformat(),
        "customer_name": "Grace Hopper",
        "customer_email": "grace@example.com",
    }
    saved = Booking.objects.get(id=data["id"])
    assert (saved.merchant, saved.start, saved.end) == (merchant, at(monday, "10:00"), at(monday, "10:30"))


def test_booking_in_utc_is_rendered_in_the_merchants_zone(anon, merchant):
    monday = next_weekday(0)
    start = at(monday, "10:00").astimezone(dt.UTC)

    response = anon.post(url(merchant), body(start, start + dt.timedelta(hours=1)), format="json")

    assert response.status_code == 201
    assert response.json()["start"] == at(monday, "10:00").isoformat()


def test_back_to_back_bookings_and_blocks_are_fine(anon, merchant):
    monday = next_weekday(0)
    booking(merchant, at(monday, "09:00"), at(monday, "10:00"))
    manual_block(merchant, at(monday, "11:00"), at(monday, "12:00"))

    response = anon.post(url(merchant), body(at(monday, "10:00"), at(monday, "11:00")), format="json")

    assert response.status_code == 201


def test_whole_business_day_can_be_booked_when_offered(anon, db):
    merchant = MerchantFactory(rules={"slot_lengths": [60, 480]})
    monday = next_weekday(0)

    response = anon.post(url(merchant), body(at(monday, "09:00"), at(monday, "17:00")), format="json")

    assert response.status_code == 201


@pytest.mark.parametrize(
    ("existing", "start", "end"),
    [
        ("booking", "10:00", "11:00"),
        ("booking", "10:00", "10:30"),
        ("booking", "10:30", "11:00"),
        ("manual", "10:30", "11:00"),
        ("synced", "10:00", "11:00"),
        ("synced", "09:30", "10:30"),  # off the 60-minute grid: refused as not offered first
    ],
)
def test_overlap_is_409(anon, merchant, existing, start, end):
    monday = next_weekday(0)
    make = {"booking": booking, "manual": manual_block, "synced": synced_block}[existing]
    make(merchant, at(monday, "10:00"), at(monday, "11:00"))

    response = anon.post(url(merchant), body(at(monday, start), at(monday, end)), format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == ("not_offered" if start == "09:30" else "unavailable")
    # Customers learn nothing about why: no calendar, source or event detail.
    assert "Work" not in response.json()["error"]["message"]
    assert Booking.objects.count() == (1 if existing == "booking" else 0)


def test_another_merchants_bookings_do_not_conflict(anon, merchant, other_merchant):
    monday = next_weekday(0)
    booking(other_merchant, at(monday, "10:00"), at(monday, "11:00"))

    response = anon.post(url(merchant), body(at(monday, "10:00"), at(monday, "11:00")), format="json")

    assert response.status_code == 201


@pytest.mark.parametrize(
    ("weekday", "start", "end"),
    [
        (0, "08:00", "09:00"),  # before opening
        (0, "08:30", "09:30"),  # straddles opening
        (0, "16:30", "17:30"),  # straddles closing
        (5, "10:00", "11:00"),  # Saturday: closed
        (0, "16:00", "17:00+1"),  # 25 hours, into Tuesday
    ],
)
def test_outside_business_hours_is_409(anon, db, weekday, start, end):
    merchant = MerchantFactory(rules={"slot_lengths": [60, 25 * 60]})
    day = next_weekday(weekday)
    end_day = day + dt.timedelta(days=1) if end.endswith("+1") else day

    response = anon.post(url(merchant), body(at(day, start), at(end_day, end.removesuffix("+1"))), format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "outside_business_hours"


def test_split_business_hours(anon, db):
    merchant = MerchantFactory(
        rules={"slot_lengths": [60, 120]},
        hours=[(0, "09:00", "12:00"), (0, "13:00", "17:00"), (1, "09:00", "12:00"), (1, "12:00", "17:00")],
    )
    monday, tuesday = next_weekday(0), next_weekday(1)

    across_lunch = anon.post(url(merchant), body(at(monday, "11:00"), at(monday, "13:00")), format="json")
    afternoon = anon.post(url(merchant), body(at(monday, "13:00"), at(monday, "14:00")), format="json")
    across_touching = anon.post(url(merchant), body(at(tuesday, "11:00"), at(tuesday, "13:00")), format="json")

    assert across_lunch.status_code == 409
    assert across_lunch.json()["error"]["code"] == "outside_business_hours"
    assert afternoon.status_code == 201
    assert across_touching.status_code == 201  # 09:00-12:00 and 12:00-17:00 are one opening


def test_the_past_cannot_be_booked(anon, merchant):
    last_monday = next_weekday(0, weeks_ahead=-1)

    response = anon.post(url(merchant), body(at(last_monday, "10:00"), at(last_monday, "11:00")), format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "in_past"


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"customer_email": "not-an-email"}, "customer_email"),
        ({"customer_name": ""}, "customer_name"),
        ({"customer_name": "x" * 201}, "customer_name"),
        ({"start": "2030-01-07T10:00:00"}, "offset"),
        ({"start": "soon"}, "ISO 8601"),
        ({"end": 42}, "ISO 8601"),
        ({"phone": "+49 30 1234"}, "Unknown field(s): phone"),
        ({"merchant": 1}, "Unknown field(s): merchant"),
    ],
)
def test_bad_input_is_400(anon, merchant, change, fragment):
    monday = next_weekday(0)
    data = {**body(at(monday, "10:00"), at(monday, "11:00")), **change}

    response = anon.post(url(merchant), data, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert fragment in response.json()["error"]["message"]
    assert not Booking.objects.exists()


def test_end_before_start_is_400(anon, merchant):
    monday = next_weekday(0)

    response = anon.post(url(merchant), body(at(monday, "11:00"), at(monday, "10:00")), format="json")

    assert response.status_code == 400
    assert "after start" in response.json()["error"]["message"]


def test_missing_fields_are_400(anon, merchant):
    response = anon.post(url(merchant), {}, format="json")

    assert response.status_code == 400
    message = response.json()["error"]["message"]
    for field in ("start", "end", "customer_name", "customer_email"):
        assert field in message


@pytest.mark.parametrize("slug", ["no-such-salon", "Bad Slug!", "%E2%9C%93"])
def test_unknown_slug_is_json_404(anon, slug):
    response = anon.post(f"/api/v1/public/merchants/{slug}/bookings", {}, format="json")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_public_booking_needs_no_csrf_even_with_a_session(merchant):
    monday = next_weekday(0)
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(merchant.user)

    response = client.post(url(merchant), body(at(monday, "10:00"), at(monday, "11:00")), format="json")

    assert response.status_code == 201


# --- the merchant's list -----------------------------------------------------------------


def test_merchant_lists_own_bookings(api, merchant, other_merchant):
    monday = next_weekday(0)
    mine = booking(merchant, at(monday, "10:00"), at(monday, "11:00"), name="Ada", email="ada@example.com")
    booking(other_merchant, at(monday, "10:00"), at(monday, "11:00"))

    response = api.get("/api/v1/merchant/bookings")

    assert response.status_code == 200
    assert response.json() == [
        {
            "id": mine.id,
            "start": at(monday, "10:00").isoformat(),
            "end": at(monday, "11:00").isoformat(),
            "customer_name": "Ada",
            "customer_email": "ada@example.com",
            "status": "confirmed",
            "created_at": mine.created_at.astimezone(merchant.zone).isoformat(),
        }
    ]


def test_merchant_bookings_range(api, merchant):
    monday = next_weekday(0)
    booking(merchant, at(monday, "10:00"), at(monday, "11:00"))
    tuesday = booking(merchant, at(monday + dt.timedelta(days=1), "10:00"), at(monday + dt.timedelta(days=1), "11:00"))

    response = api.get(
        "/api/v1/merchant/bookings",
        {"start": (monday + dt.timedelta(days=1)).isoformat(), "end": (monday + dt.timedelta(days=2)).isoformat()},
    )

    assert [item["id"] for item in response.json()] == [tuesday.id]


def test_merchant_bookings_bad_range_is_400(api):
    response = api.get("/api/v1/merchant/bookings", {"start": "2030-01-01", "end": "2029-01-01"})

    assert response.status_code == 400


def test_merchant_bookings_need_authentication(anon):
    assert anon.get("/api/v1/merchant/bookings").status_code == 401
