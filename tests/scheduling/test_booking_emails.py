"""Booking emails over real SMTP (tests/mail.py's aiosmtpd server): the customer's confirmation,
move and cancellation with an iCalendar invitation and the manage link, the merchant's notices,
and a mail server that is down never failing a booking."""

import datetime as dt
import re

import pytest
from icalendar import Calendar
from rest_framework.test import APIClient

from scheduling.models import Booking
from scheduling.tokens import booking_uid_from_token
from tests.scheduling.helpers import at, next_weekday

pytestmark = pytest.mark.django_db

CUSTOMER = "kim@example.com"


@pytest.fixture
def anon():
    client = APIClient()
    client.default_format = "json"
    return client


def invitation(received):
    [part] = received.attachments("text/calendar")
    calendar = Calendar.from_ical(part.get_content())
    [event] = calendar.walk("VEVENT")
    return calendar, event, part


def manage_token(received) -> str:
    return re.search(r"/book/[\w-]+/manage/([\w.:-]+)", received.text).group(1)


def book(anon, merchant, start, end, captured, **extra):
    with captured(execute=True):
        return anon.post(
            f"/api/v1/public/merchants/{merchant.slug}/bookings",
            {
                "start": start.isoformat(),
                "end": end.isoformat(),
                "customer_name": "Kim Park",
                "customer_email": CUSTOMER,
                **extra,
            },
        )


def test_new_moved_and_cancelled_bookings_email_both_parties_with_invitations(
    anon, merchant, smtp_server, django_capture_on_commit_callbacks, settings
):
    settings.PUBLIC_BASE_URL = "https://app.example.com"
    monday = next_weekday(0)
    response = book(anon, merchant, at(monday, "10:00"), at(monday, "10:30"), django_capture_on_commit_callbacks)
    assert response.status_code == 201
    booking = Booking.objects.get()

    [confirmation] = smtp_server.to(CUSTOMER)
    [notice] = smtp_server.to(merchant.user.email)
    assert confirmation["Subject"] == f"Booked: {merchant.name}"
    assert confirmation["Reply-To"] == merchant.user.email
    assert "Monday" in confirmation.text and "10:00\u201310:30 (Europe/Berlin)" in confirmation.text
    calendar, event, part = invitation(confirmation)
    assert part.get_param("method") == "REQUEST"
    assert (calendar["METHOD"], event["STATUS"], event["SEQUENCE"]) == ("REQUEST", "CONFIRMED", 0)
    assert event.decoded("DTSTART") == at(monday, "10:00")
    assert event.decoded("DTEND") == at(monday, "10:30")
    uid = str(event["UID"])
    assert uid == f"booking-{booking.uid}@app.example.com"
    assert str(event["ATTENDEE"]) == f"mailto:{CUSTOMER}"
    assert str(event["ORGANIZER"]) == f"mailto:{merchant.user.email}"
    token = manage_token(confirmation)
    assert f"https://app.example.com/book/{merchant.slug}/manage/{token}" in confirmation.text
    assert booking_uid_from_token(token) == booking.uid
    assert notice["Subject"].startswith("New booking: Kim Park")
    assert CUSTOMER in notice.text and "10:00\u201310:30" in notice.text
    assert not notice.attachments()

    smtp_server.clear()
    with django_capture_on_commit_callbacks(execute=True):
        moved = anon.post(
            f"/api/v1/public/bookings/{token}/reschedule",
            {"start": at(monday, "15:00").isoformat(), "end": at(monday, "16:00").isoformat()},
        )
    assert moved.status_code == 200
    [change] = smtp_server.to(CUSTOMER)
    [moved_notice] = smtp_server.to(merchant.user.email)
    calendar, event, _ = invitation(change)
    assert (calendar["METHOD"], event["STATUS"], event["SEQUENCE"], str(event["UID"])) == (
        "REQUEST",
        "CONFIRMED",
        1,
        uid,
    )
    assert (event.decoded("DTSTART"), event.decoded("DTEND")) == (at(monday, "15:00"), at(monday, "16:00"))
    assert change["Subject"].startswith("Moved")
    assert moved_notice["Subject"].startswith("Booking moved: Kim Park")

    smtp_server.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert anon.post(f"/api/v1/public/bookings/{token}/cancel").status_code == 204
    [cancellation] = smtp_server.to(CUSTOMER)
    [cancel_notice] = smtp_server.to(merchant.user.email)
    calendar, event, part = invitation(cancellation)
    assert part.get_param("method") == "CANCEL"
    assert (calendar["METHOD"], event["STATUS"], event["SEQUENCE"], str(event["UID"])) == (
        "CANCEL",
        "CANCELLED",
        2,
        uid,
    )
    assert "You cancelled" in cancellation.text
    assert cancel_notice["Subject"].startswith("Booking cancelled: Kim Park")
    assert "free again" in cancel_notice.text


def test_the_merchants_cancel_emails_the_customer(api, anon, merchant, smtp_server, django_capture_on_commit_callbacks):
    monday = next_weekday(0)
    book(anon, merchant, at(monday, "10:00"), at(monday, "10:30"), django_capture_on_commit_callbacks)
    smtp_server.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"/api/v1/merchant/bookings/{Booking.objects.get().pk}").status_code == 204

    [cancellation] = smtp_server.messages
    assert cancellation.envelope_to == [CUSTOMER]
    assert f"{merchant.name} cancelled" in cancellation.text
    calendar, event, _ = invitation(cancellation)
    assert (calendar["METHOD"], event["STATUS"], event["SEQUENCE"]) == ("CANCEL", "CANCELLED", 1)


def test_times_in_the_customers_zone_when_known(anon, merchant, smtp_server, django_capture_on_commit_callbacks):
    monday = next_weekday(0)
    book(
        anon,
        merchant,
        at(monday, "16:00"),
        at(monday, "16:30"),
        django_capture_on_commit_callbacks,
        customer_time_zone="America/New_York",
    )

    [confirmation] = smtp_server.to(CUSTOMER)
    new_york = at(monday, "16:00").astimezone(dt.timezone(dt.timedelta(hours=-5)))
    assert f"{new_york:%H:%M}" in confirmation.text and "(America/New_York)" in confirmation.text
    assert "16:00\u201316:30 (Europe/Berlin)" in confirmation.text


def test_a_mail_server_that_is_down_never_fails_a_booking(
    anon, merchant, smtp_down, django_capture_on_commit_callbacks, caplog
):
    monday = next_weekday(0)

    response = book(anon, merchant, at(monday, "10:00"), at(monday, "10:30"), django_capture_on_commit_callbacks)

    assert response.status_code == 201
    assert Booking.objects.filter(status="confirmed").count() == 1
    failures = [r for r in caplog.records if r.name == "scheduling.tasks" and "not sent" in r.getMessage()]
    assert len(failures) == 2 * 3  # customer and merchant, the first try and two retries each


def test_the_merchants_own_booking_emails_only_the_customer(
    api, merchant, smtp_server, django_capture_on_commit_callbacks
):
    monday = next_weekday(0)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/merchant/bookings",
            {
                "start": at(monday, "18:00").isoformat(),
                "end": at(monday, "18:45").isoformat(),
                "customer_name": "Kim Park",
                "customer_email": CUSTOMER,
            },
            format="json",
        )
    assert response.status_code == 201
    [confirmation] = smtp_server.messages
    assert confirmation.envelope_to == [CUSTOMER]
