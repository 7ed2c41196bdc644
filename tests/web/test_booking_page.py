"""``/book/<slug>`` (scheduling.booking_page): free slots only, refusals in plain words, confirmation."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import signing

from scheduling.booking_page import CONFIRMATION_SALT
from scheduling.models import Booking
from tests.factories import MerchantFactory
from tests.scheduling.helpers import at, booking, manual_block, next_weekday, synced_block

pytestmark = pytest.mark.django_db


def slots_of(response, day: dt.date) -> list[str]:
    return [slot.label for d in response.context["days"] if d.date == day for slot in d.slots]


def test_only_free_slots_are_offered_and_no_detail_leaks(client, merchant):
    monday = next_weekday(0)
    manual_block(merchant, at(monday, "09:00"), at(monday, "10:00"), note="Secret dentist")
    synced_block(merchant, at(monday, "12:00"), at(monday, "12:30"), summary="Private calendar")
    booking(merchant, at(monday, "15:00"), at(monday, "16:00"), name="Other Customer")
    response = client.get(f"/book/{merchant.slug}", {"from": monday})

    assert response.status_code == 200
    free = slots_of(response, monday)
    assert free[0] == "10:00" and "12:00" not in free and "15:00" not in free and "15:30" not in free
    assert free[-1] == "16:30"
    html = response.content.decode()
    for secret in ("Secret dentist", "Private calendar", "Other Customer", "Busy"):
        assert secret not in html
    saturday = monday + dt.timedelta(days=5)
    assert [(d.is_open, d.slots) for d in response.context["days"] if d.date == saturday] == [(False, [])]


def test_durations_and_dates_are_clamped(client, merchant):
    monday = next_weekday(0)
    hour = client.get(f"/book/{merchant.slug}", {"from": monday, "duration": "60"})
    assert slots_of(hour, monday) == [f"{h:02d}:00" for h in range(9, 17)]
    odd = client.get(f"/book/{merchant.slug}", {"from": "2001-01-01", "duration": "7"})
    assert odd.context["duration"] == 30 and odd.context["previous"] is None


def test_booking_a_free_slot(client, merchant):
    monday = next_weekday(0)
    response = client.post(
        f"/book/{merchant.slug}",
        {
            "start": at(monday, "10:30").isoformat(),
            "duration": "30",
            "customer_name": "Kim",
            "customer_email": "kim@example.com",
            "from": monday,
        },
    )

    [made] = Booking.objects.all()
    assert (made.start, made.end, made.customer_name) == (at(monday, "10:30"), at(monday, "11:00"), "Kim")
    assert response.status_code == 302
    confirmation = client.get(response["Location"])
    assert "You're booked" in confirmation.content.decode()
    assert "10:30" in confirmation.content.decode()


@pytest.mark.parametrize(
    ("start", "message"),
    [
        ("10:00", "was just taken by someone else"),
        ("18:00", "is outside the opening hours"),
    ],
)
def test_refusals_are_explained_and_keep_the_details(client, merchant, start, message):
    monday = next_weekday(0)
    manual_block(merchant, at(monday, "10:00"), at(monday, "11:00"))
    response = client.post(
        f"/book/{merchant.slug}",
        {"start": at(monday, start).isoformat(), "duration": "30", "customer_name": "Kim", "customer_email": "k@x.io"},
    )

    assert response.status_code == 409
    html = response.content.decode()
    assert message in html
    assert 'value="Kim"' in html
    assert not Booking.objects.exists()


def test_a_slot_in_the_past_is_refused(client, merchant):
    past = at(next_weekday(0) - dt.timedelta(days=14), "10:00")
    response = client.post(
        f"/book/{merchant.slug}",
        {"start": past.isoformat(), "duration": "30", "customer_name": "Kim", "customer_email": "k@x.io"},
    )
    assert response.status_code == 409 and "has already begun" in response.content.decode()


@pytest.mark.parametrize("start", ["", "tomorrow", "2030-01-07T10:00:00", "1900-01-01T10:00:00+00:00"])
def test_bad_input_is_a_400_with_a_message(client, merchant, start):
    response = client.post(
        f"/book/{merchant.slug}", {"start": start, "duration": "30", "customer_name": "", "customer_email": "nope"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Choose a time first." in html or "Choose one of the times shown." in html
    assert "Enter a valid email address." in html


def test_confirmations_are_signed_and_per_merchant(client, merchant):
    monday = next_weekday(0)
    made = booking(merchant, at(monday, "10:00"), at(monday, "10:30"))
    token = signing.dumps(made.pk, salt=CONFIRMATION_SALT)

    assert client.get(f"/book/{merchant.slug}/confirmed", {"b": token}).status_code == 200
    assert client.get(f"/book/{merchant.slug}/confirmed", {"b": str(made.pk)}).status_code == 404
    assert client.get(f"/book/{MerchantFactory().slug}/confirmed", {"b": token}).status_code == 404


def test_unknown_merchant(client):
    assert client.get("/book/nobody-here").status_code == 404
