"""Booking emails (SPEC §11): the customer's confirmation, change and cancellation, each with an
iCalendar invitation and the manage link, and the merchant's notice of each booking change.

The invitation (RFC 5546 iTIP over email, RFC 6047) is built with ``icalendar``: its UID is
stable per booking (``booking-<uid>@<host>``), SEQUENCE is the booking's (bumped on every
change), METHOD is REQUEST for a new or moved booking (STATUS CONFIRMED) and CANCEL for a
cancelled one (STATUS CANCELLED), so the customer's calendar app adds, moves and removes the
same event. Times in emails are in the customer's zone when the booking page learnt it, and
always also in the merchant's.
https://icalendar.readthedocs.io/  https://www.rfc-editor.org/rfc/rfc5546#section-3.2
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress, vText

from scheduling.models import Booking
from scheduling.tokens import booking_token

PRODID = "-//Merchant calendar//Bookings//EN"


def manage_url(booking: Booking) -> str:
    return f"{settings.PUBLIC_BASE_URL}/book/{booking.merchant.slug}/manage/{booking_token(booking.uid)}"


def invitation_uid(booking: Booking) -> str:
    host = urlsplit(settings.PUBLIC_BASE_URL).hostname or "localhost"
    return f"booking-{booking.uid}@{host}"


def _address(email: str, name: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    address.params["cn"] = vText(name)
    return address


def invitation_build(booking: Booking) -> bytes:
    """The booking as an iCalendar object: REQUEST while confirmed, CANCEL once cancelled."""
    merchant = booking.merchant
    cancelled = booking.is_cancelled
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")
    event = Event()
    event.add("uid", invitation_uid(booking))
    event.add("sequence", booking.sequence)
    event.add("dtstamp", timezone.now().astimezone(dt.UTC))
    event.add("dtstart", booking.start.astimezone(dt.UTC))
    event.add("dtend", booking.end.astimezone(dt.UTC))
    event.add("summary", f"Appointment with {merchant.name}")
    event.add("description", f"Change or cancel: {manage_url(booking)}")
    event.add("url", manage_url(booking))
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("organizer", _address(merchant.user.email, merchant.name))
    attendee = _address(booking.customer_email, booking.customer_name)
    attendee.params["role"] = vText("REQ-PARTICIPANT")
    attendee.params["partstat"] = vText("ACCEPTED")
    event.add("attendee", attendee)
    calendar.add_component(event)
    return calendar.to_ical()


def _when(booking: Booking, zone: zoneinfo.ZoneInfo) -> str:
    start, end = booking.start.astimezone(zone), booking.end.astimezone(zone)
    return f"{start:%A %-d %B %Y}, {start:%H:%M}\u2013{end:%H:%M} ({zone.key})"


def _customer_zone(booking: Booking) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(booking.customer_time_zone) if booking.customer_time_zone else booking.merchant.zone
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return booking.merchant.zone


def _customer_message(booking: Booking, event: str) -> EmailMessage:
    merchant = booking.merchant
    zone = _customer_zone(booking)
    when = _when(booking, zone)
    if zone.key != merchant.time_zone:
        when += f"\n({_when(booking, merchant.zone)} at {merchant.name})"
    subjects = {
        "created": f"Booked: {merchant.name}",
        "moved": f"Moved: your booking with {merchant.name}",
        "cancelled": f"Cancelled: your booking with {merchant.name}",
    }
    if event == "cancelled":
        who = "You cancelled" if booking.cancelled_by == Booking.By.CUSTOMER else f"{merchant.name} cancelled"
        lines = [
            f"Hello {booking.customer_name},",
            "",
            f"{who} your booking:",
            when,
            "",
            f"To book another time: {settings.PUBLIC_BASE_URL}/book/{merchant.slug}",
        ]
    else:
        intro = "your booking is confirmed" if event == "created" else "your booking has moved to"
        lines = [
            f"Hello {booking.customer_name},",
            "",
            f"{intro[0].upper()}{intro[1:]}:",
            when,
            f"with {merchant.name}.",
            "",
            "The attached invitation adds it to your calendar.",
            f"To change or cancel it: {manage_url(booking)}",
        ]
    message = EmailMessage(
        subject=subjects[event],
        body="\n".join(lines) + "\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[booking.customer_email],
        reply_to=[merchant.user.email],
    )
    method = "CANCEL" if booking.is_cancelled else "REQUEST"
    message.attach("invite.ics", invitation_build(booking), f"text/calendar; method={method}; charset=utf-8")
    return message


def _merchant_message(booking: Booking, event: str) -> EmailMessage:
    merchant = booking.merchant
    when = _when(booking, merchant.zone)
    verbs = {"created": "New booking", "moved": "Booking moved", "cancelled": "Booking cancelled"}
    lines = [
        f"{verbs[event]}: {booking.customer_name} <{booking.customer_email}>",
        when,
    ]
    if event == "cancelled":
        lines += ["", "The time is free again for other customers."]
    monday = booking.start.astimezone(merchant.zone).date()
    lines += ["", f"Your week: {settings.PUBLIC_BASE_URL}/app/?week={monday:%Y-%m-%d}"]
    return EmailMessage(
        subject=f"{verbs[event]}: {booking.customer_name}, {booking.start.astimezone(merchant.zone):%a %-d %b %H:%M}",
        body="\n".join(lines) + "\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[merchant.user.email],
        reply_to=[booking.customer_email],
    )


def booking_email_build(booking: Booking, event: str, recipient: str) -> EmailMessage:
    """``event``: created, moved or cancelled; ``recipient``: customer or merchant."""
    if recipient == "customer":
        return _customer_message(booking, event)
    return _merchant_message(booking, event)
