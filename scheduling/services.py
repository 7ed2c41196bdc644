"""Writes for scheduling: manual blocked times and bookings (create, reschedule, cancel).

Bookings are race-free: the merchant row is locked (``SELECT ... FOR UPDATE``) for the
whole check-then-write, so two customers booking the same slot at once are served one
after the other and the second sees the first booking. On SQLite the settings open every
transaction with ``BEGIN IMMEDIATE``, which serializes writers the same way.
https://docs.djangoproject.com/en/5.2/ref/models/querysets/#select-for-update

Public bookings (the customer's page and API) follow the merchant's booking rules (SPEC
§11); a merchant's own bookings may take any free time. Before a public booking takes the
lock, the merchant's connected providers are asked whether the time is busy right now
(``signals.live_check``, SPEC §11): that call leaves this process, so it runs outside the
transaction and the lock, and the locked re-check that follows keeps the booking race-free.
Emails, the week view's change counter and the copies into the merchant's calendars
(``signals.booking_changed``, SPEC §10) are queued on commit
(``transaction.on_commit(robust=True)``): a mail server, a broker or a provider that is
down never fails a booking.
"""

import datetime as dt
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework import status

from config.api import ApplicationError
from merchants.models import Merchant
from scheduling import changes, selectors, signals
from scheduling.models import BlockedTime, Booking
from scheduling.tasks import booking_email_send


def merchant_changed(merchant_id: int) -> None:
    """Tell open week views of this merchant that something changed (bumps the change counter).

    Call it after any write that changes the merchant's week, outside or after the
    transaction; the sync store calls it after a sync changed blocked times."""
    changes.changes_bump(merchant_id)


def _changed_on_commit(merchant_id: int) -> None:
    transaction.on_commit(partial(merchant_changed, merchant_id), robust=True)


def _conflict(message: str, code: str) -> ApplicationError:
    return ApplicationError(message, code=code, status_code=status.HTTP_409_CONFLICT)


@transaction.atomic
def blocked_time_create(*, merchant: Merchant, start: dt.datetime, end: dt.datetime, note: str = "") -> BlockedTime:
    """A manual block; it may overlap bookings (the merchant decides what to do with those)."""
    if end <= start:
        raise ApplicationError("end must be after start.", code="invalid")
    blocked = BlockedTime.objects.create(
        merchant=merchant, start=start, end=end, note=note, source=BlockedTime.Source.MANUAL
    )
    _changed_on_commit(merchant.pk)
    return blocked


@transaction.atomic
def blocked_time_delete(*, blocked_time: BlockedTime) -> None:
    """Delete a manual block; synced ones follow their calendar and are read-only here (409)."""
    if blocked_time.is_synced:
        raise _conflict(
            "This time is blocked by a synced calendar; change the event in that calendar instead.", "read_only"
        )
    merchant_id = blocked_time.merchant_id
    blocked_time.delete()
    _changed_on_commit(merchant_id)


def _check_rules(*, merchant: Merchant, start: dt.datetime, end: dt.datetime, now: dt.datetime) -> None:
    """The booking rules of a public booking, in the order a customer can act on them."""
    minutes, remainder = divmod(int((end - start).total_seconds()), 60)
    if remainder or minutes not in merchant.slot_lengths:
        lengths = ", ".join(str(m) for m in merchant.slot_lengths)
        raise _conflict(f"Appointments are {lengths} minutes long.", "not_offered")
    if start < now + merchant.minimum_notice:
        raise _conflict("This time is too soon to book; please choose a later one.", "too_soon")
    if start > now + merchant.booking_horizon:
        raise _conflict(
            f"Bookings open {merchant.max_days_ahead} days ahead; please choose a sooner time.", "too_far_ahead"
        )
    opening = selectors.opening_containing(merchant=merchant, start=start, end=end)
    if opening is None:
        raise _conflict("This time is outside the business hours.", "outside_business_hours")
    if int((start - opening[0]).total_seconds()) % (minutes * 60):
        raise _conflict("This time is not one of the offered slots.", "not_offered")


def _check_bookable(
    *,
    merchant: Merchant,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
    public: bool,
    exclude_booking_id: int | None = None,
) -> None:
    if end <= start:
        raise ApplicationError("end must be after start.", code="invalid")
    if start < now:
        raise _conflict("This time has already begun.", "in_past")
    if public:
        _check_rules(merchant=merchant, start=start, end=end, now=now)
    buffer = merchant.buffer if public else dt.timedelta(0)
    if not selectors.interval_is_free(
        merchant=merchant, start=start, end=end, buffer=buffer, exclude_booking_id=exclude_booking_id
    ):
        raise _conflict("This time is no longer available.", "unavailable")


def _live_check(
    *, merchant: Merchant, start: dt.datetime, end: dt.datetime, now: dt.datetime, exclude_booking_id: int | None = None
) -> None:
    """The checks of a public booking that need no lock, then the providers' live answer.

    Whatever the stored state already refuses is refused before asking anyone; a provider
    that says busy refuses with ``unavailable``, as a stored block would."""
    _check_bookable(
        merchant=merchant, start=start, end=end, now=now, public=True, exclude_booking_id=exclude_booking_id
    )
    answers = signals.live_check.send(sender=Booking, merchant=merchant, start=start, end=end)
    if any(busy is True for _receiver, busy in answers):
        raise _conflict("This time is no longer available.", "unavailable")


def _emails_on_commit(booking: Booking, event: str, recipients: tuple[str, ...]) -> None:
    for recipient in recipients:
        transaction.on_commit(partial(booking_email_send.delay, booking.pk, event, recipient), robust=True)


def _booking_changed_on_commit(booking: Booking) -> None:
    transaction.on_commit(
        partial(signals.booking_changed.send_robust, sender=Booking, booking_id=booking.pk), robust=True
    )


def booking_create(
    *,
    merchant: Merchant,
    start: dt.datetime,
    end: dt.datetime,
    customer_name: str,
    customer_email: str,
    customer_time_zone: str = "",
    public: bool = True,
    now: dt.datetime | None = None,
) -> Booking:
    """Book ``[start, end)`` (409 with the rule's code when it cannot be booked).

    ``public``: a customer's booking, under the merchant's booking rules and the per-email
    limit; otherwise the merchant's own, which may take any free time."""
    now = now or timezone.now()
    if public:
        _live_check(merchant=merchant, start=start, end=end, now=now)
    return _booking_create(
        merchant=merchant,
        start=start,
        end=end,
        customer_name=customer_name,
        customer_email=customer_email,
        customer_time_zone=customer_time_zone,
        public=public,
        now=now,
    )


@transaction.atomic
def _booking_create(
    *,
    merchant: Merchant,
    start: dt.datetime,
    end: dt.datetime,
    customer_name: str,
    customer_email: str,
    customer_time_zone: str,
    public: bool,
    now: dt.datetime,
) -> Booking:
    # The lock serializes bookings per merchant: whoever gets it second re-checks and sees the first.
    merchant = Merchant.objects.select_for_update().get(pk=merchant.pk)
    _check_bookable(merchant=merchant, start=start, end=end, now=now, public=public)
    if public:
        limit = settings.BOOKING_MAX_ACTIVE_PER_EMAIL
        if selectors.active_bookings_count(merchant=merchant, customer_email=customer_email, now=now) >= limit:
            raise _conflict(
                f"This email already holds {limit} upcoming bookings here; cancel one to book another.",
                "too_many_bookings",
            )
    booking = Booking.objects.create(
        merchant=merchant,
        start=start,
        end=end,
        customer_name=customer_name,
        customer_email=customer_email,
        customer_time_zone=customer_time_zone,
    )
    _changed_on_commit(merchant.pk)
    _booking_changed_on_commit(booking)
    _emails_on_commit(booking, "created", ("customer", "merchant") if public else ("customer",))
    return booking


def _locked(booking: Booking) -> tuple[Merchant, Booking]:
    merchant = Merchant.objects.select_for_update().get(pk=booking.merchant_id)
    return merchant, Booking.objects.select_for_update().get(pk=booking.pk)


def booking_reschedule(
    *, booking: Booking, start: dt.datetime, end: dt.datetime, now: dt.datetime | None = None
) -> Booking:
    """The customer moves a booking to another offered slot: the rules of a new public booking,
    live check included.

    The booking keeps its UID; its SEQUENCE goes up so calendars replace the old invitation."""
    now = now or timezone.now()
    if not booking.is_cancelled and booking.start >= now:
        _live_check(merchant=booking.merchant, start=start, end=end, now=now, exclude_booking_id=booking.pk)
    return _booking_reschedule(booking=booking, start=start, end=end, now=now)


@transaction.atomic
def _booking_reschedule(*, booking: Booking, start: dt.datetime, end: dt.datetime, now: dt.datetime) -> Booking:
    merchant, booking = _locked(booking)
    if booking.is_cancelled:
        raise _conflict("This booking was cancelled; please make a new one.", "cancelled")
    if booking.start < now:
        raise _conflict("This booking has already begun and can no longer be moved.", "in_past")
    _check_bookable(merchant=merchant, start=start, end=end, now=now, public=True, exclude_booking_id=booking.pk)
    booking.start, booking.end = start, end
    booking.sequence += 1
    booking.save(update_fields=["start", "end", "sequence", "updated_at"])
    _changed_on_commit(merchant.pk)
    _booking_changed_on_commit(booking)
    _emails_on_commit(booking, "moved", ("customer", "merchant"))
    return booking


@transaction.atomic
def booking_cancel(*, booking: Booking, by: str, now: dt.datetime | None = None) -> Booking:
    """Cancel (status ``cancelled``, kept for history and emails); its time is free at once.

    Cancelling twice is harmless (nothing changes, nothing is sent). A customer cannot cancel
    a booking that has begun (409 ``in_past``); the merchant can."""
    now = now or timezone.now()
    _merchant, booking = _locked(booking)
    if booking.is_cancelled:
        return booking
    if by == Booking.By.CUSTOMER and booking.start < now:
        raise _conflict("This booking has already begun and can no longer be cancelled here.", "in_past")
    booking.status = Booking.Status.CANCELLED
    booking.cancelled_at, booking.cancelled_by = now, by
    booking.sequence += 1
    booking.save(update_fields=["status", "cancelled_at", "cancelled_by", "sequence", "updated_at"])
    _changed_on_commit(booking.merchant_id)
    _booking_changed_on_commit(booking)
    # The customer always gets the cancellation (and its METHOD:CANCEL invitation); the merchant
    # hears of it when the customer cancelled.
    _emails_on_commit(booking, "cancelled", ("customer", "merchant") if by == Booking.By.CUSTOMER else ("customer",))
    return booking
