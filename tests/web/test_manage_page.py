"""The booking page in the customer's zone, the booking rules and limits on the page, and the
customer's manage page ``/book/<slug>/manage/<token>`` (move, cancel, tampered links)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from scheduling.models import Booking
from scheduling.tokens import booking_token
from tests.scheduling.helpers import at, booking, next_weekday

pytestmark = pytest.mark.django_db


def labels(response, day: dt.date) -> list[str]:
    return [slot.label for d in response.context["days"] if d.date == day for slot in d.slots]


def test_times_in_the_customers_zone_with_the_merchants_named(client, merchant):
    monday = next_weekday(0)

    response = client.get(f"/book/{merchant.slug}", {"from": monday, "tz": "America/New_York", "duration": 60})

    # 09:00 in Berlin is 03:00 in New York most of the year (the real offsets decide).
    first = at(monday, "09:00").astimezone(zoneinfo.ZoneInfo("America/New_York"))
    assert labels(response, monday)[0] == f"{first:%H:%M}"
    html = response.content.decode()
    assert "America/New_York" in html and "is in Europe/Berlin" in html
    assert 'name="tz" value="America/New_York"' in html
    assert "tz=America/New_York" in html  # links keep the zone


@pytest.mark.parametrize("tz", ["Mars/Olympus", "", "../../etc/passwd"])
def test_an_unknown_zone_falls_back_to_the_merchants(client, merchant, tz):
    monday = next_weekday(0)
    response = client.get(f"/book/{merchant.slug}", {"from": monday, "tz": tz, "duration": 60})
    assert labels(response, monday)[0] == "09:00"
    assert "is in Europe/Berlin" not in response.content.decode()


def test_booking_from_new_york_remembers_the_zone(client, merchant):
    monday = next_weekday(0)
    response = client.post(
        f"/book/{merchant.slug}",
        {
            "start": at(monday, "10:00").isoformat(),
            "duration": "30",
            "customer_name": "Kim",
            "customer_email": "kim@example.com",
            "tz": "America/New_York",
        },
    )
    assert response.status_code == 302 and response["Location"].endswith("&tz=America/New_York")
    saved = Booking.objects.get()
    assert saved.customer_time_zone == "America/New_York"
    confirmed = client.get(response["Location"])
    html = confirmed.content.decode()
    assert "(America/New_York)" in html and "in Europe/Berlin" in html
    assert f"/book/{merchant.slug}/manage/{booking_token(saved.uid)}" in html


def test_the_page_follows_the_rules_and_refuses_names_with_control_characters(client, merchant):
    monday = next_weekday(0)
    base = {"duration": "30", "customer_name": "Kim", "customer_email": "kim@example.com"}
    off_grid = client.post(f"/book/{merchant.slug}", {**base, "start": at(monday, "10:07").isoformat()})
    bad_name = client.post(
        f"/book/{merchant.slug}", {**base, "start": at(monday, "10:00").isoformat(), "customer_name": "K\u202eim"}
    )
    odd_length = client.post(
        f"/book/{merchant.slug}", {**base, "start": at(monday, "10:00").isoformat(), "duration": "45"}
    )

    assert off_grid.status_code == 409 and "not one of the times offered" in off_grid.content.decode()
    assert bad_name.status_code == 400 and "no control" in bad_name.content.decode()
    assert odd_length.status_code == 400
    assert not Booking.objects.exists()


def test_the_page_is_rate_limited_too(client, merchant, settings):
    settings.BOOKING_RATE_PER_ADDRESS = "1/hour"
    monday = next_weekday(0)
    base = {"duration": "30", "customer_name": "Kim", "customer_email": "kim@example.com"}
    assert client.post(f"/book/{merchant.slug}", {**base, "start": at(monday, "10:00").isoformat()}).status_code == 302
    second = client.post(f"/book/{merchant.slug}", {**base, "start": at(monday, "11:00").isoformat()})
    assert second.status_code == 429
    assert "Too many bookings" in second.content.decode()
    assert Booking.objects.count() == 1


@pytest.fixture
def booked(merchant):
    monday = next_weekday(0)
    return booking(merchant, at(monday, "10:00"), at(monday, "10:30"), name="Kim", email="kim@example.com")


def test_manage_page_moves_the_booking(client, merchant, booked):
    url = f"/book/{merchant.slug}/manage/{booking_token(booked.uid)}"
    monday = booked.start.astimezone(merchant.zone).date()
    page = client.get(url, {"from": monday})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Kim" in html and "10:00\u201310:30" in html and "Cancel this booking" in html

    taken = booking(merchant, at(monday, "14:00"), at(monday, "14:30"), name="Other")
    refused = client.post(url, {"start": at(monday, "14:00").isoformat(), "duration": "30", "from": monday})
    assert refused.status_code == 409 and "just taken" in refused.content.decode()
    assert "Other" not in refused.content.decode()

    moved = client.post(url, {"start": at(monday, "15:00").isoformat(), "duration": "60", "from": monday})
    assert moved.status_code == 302 and "done=moved" in moved["Location"]
    booked.refresh_from_db()
    assert (booked.start, booked.end, booked.sequence) == (at(monday, "15:00"), at(monday, "16:00"), 1)
    assert "Your booking has moved" in client.get(moved["Location"]).content.decode()
    assert taken.status == "confirmed"


def test_manage_page_cancels_the_booking(client, merchant, booked):
    url = f"/book/{merchant.slug}/manage/{booking_token(booked.uid)}"

    response = client.post(f"{url}/cancel")

    assert response.status_code == 302
    booked.refresh_from_db()
    assert (booked.status, booked.cancelled_by) == ("cancelled", "customer")
    page = client.get(response["Location"]).content.decode()
    assert "Your booking is cancelled" in page and "Cancel this booking" not in page and "Book a new time" in page


def test_tampered_links_and_other_merchants_slugs_are_404(client, merchant, other_merchant, booked):
    token = booking_token(booked.uid)
    for path in (
        f"/book/{merchant.slug}/manage/{token[:-2]}xx",
        f"/book/{merchant.slug}/manage/{booked.uid.hex}",
        f"/book/{other_merchant.slug}/manage/{token}",
        f"/book/{merchant.slug}/manage/nonsense",
    ):
        assert client.get(path).status_code == 404, path
        assert client.post(f"{path}/cancel").status_code == 404, path
    booked.refresh_from_db()
    assert booked.status == "confirmed"
