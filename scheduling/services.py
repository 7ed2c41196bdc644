"""Writes for scheduling: manual blocked times and bookings.

Bookings are race-free: the merchant row is locked (``SELECT ... FOR UPDATE``) for the
whole check-then-insert, so two customers booking the same slot at once are served one
after the other and the second sees the first booking. On SQLite the settings open every
transaction with ``BEGIN IMMEDIATE``, which serializes writers the same way.
https://docs.djangoproject.com/en/5.2/ref/models/querysets/#select-for-update
"""

import datetime as dt

from django.db import transaction
from django.utils import timezone
from rest_framework import status

from config.api import ApplicationError
from merchants.models import Merchant
from scheduling.models import BlockedTime, Booking
from scheduling.selectors import interval_is_free, interval_within_business_hours


@transaction.atomic
def blocked_time_create(*, merchant: Merchant, start: dt.datetime, end: dt.datetime, note: str = "") -> BlockedTime:
    """A manual block; it may overlap bookings (the merchant decides what to do with those)."""
    if end <= start:
        raise ApplicationError("end must be after start.", code="invalid")
    return BlockedTime.objects.create(
        merchant=merchant, start=start, end=end, note=note, source=BlockedTime.Source.MANUAL
    )


@transaction.atomic
def blocked_time_delete(*, blocked_time: BlockedTime) -> None:
    """Delete a manual block; synced ones follow their calendar and are read-only here (409)."""
    if blocked_time.is_synced:
        raise ApplicationError(
            "This time is blocked by a synced calendar; change the event in that calendar instead.",
            code="read_only",
            status_code=status.HTTP_409_CONFLICT,
        )
    blocked_time.delete()


@transaction.atomic
def booking_create(
    *,
    merchant: Merchant,
    start: dt.datetime,
    end: dt.datetime,
    customer_name: str,
    customer_email: str,
    now: dt.datetime | None = None,
) -> Booking:
    """Book ``[start, end)`` if it lies in business hours, in the future and overlaps nothing (else 409)."""
    if end <= start:
        raise ApplicationError("end must be after start.", code="invalid")
    # The lock serializes bookings per merchant: whoever gets it second re-checks and sees the first.
    merchant = Merchant.objects.select_for_update().get(pk=merchant.pk)
    if start < (now or timezone.now()):
        raise ApplicationError("This time has already begun.", code="in_past", status_code=status.HTTP_409_CONFLICT)
    if not interval_within_business_hours(merchant=merchant, start=start, end=end):
        raise ApplicationError(
            "This time is outside the business hours.",
            code="outside_business_hours",
            status_code=status.HTTP_409_CONFLICT,
        )
    if not interval_is_free(merchant=merchant, start=start, end=end):
        raise ApplicationError(
            "This time is no longer available.", code="unavailable", status_code=status.HTTP_409_CONFLICT
        )
    return Booking.objects.create(
        merchant=merchant, start=start, end=end, customer_name=customer_name, customer_email=customer_email
    )
