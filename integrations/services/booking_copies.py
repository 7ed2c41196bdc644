"""Bookings copied into the merchant's own calendars (SPEC §10): opt-in, one calendar of ours.

When a connection has ``write_bookings`` on, every booking of its merchant gets a copy in
the connection's bookings calendar ("<merchant name> bookings"), which the product creates
once in that account and is the only place it ever writes. A booking change commits first,
then (``scheduling.signals.booking_changed``) its copies turn ``pending`` and one write each
is queued; the write puts the booking's current state (created or moved: the event; cancelled:
no event) at the provider, keyed on the booking's UID so a repeated write never duplicates.

A provider that is down never fails a booking: the booking has committed before any write
is tried. A failed write is retried by its task with backoff, then by the sweep
(:func:`booking_copies_retry_due`, every few minutes from beat) until it lands; the last
error shows on the integrations card and in the admin.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from integrations.models import BookingCopy, CalendarConnection, ExternalCalendar
from integrations.providers import provider_for
from integrations.providers.base import (
    AuthKind,
    BookingEvent,
    NotFound,
    PermissionDenied,
    ProviderError,
    TransientError,
)
from integrations.services.clients import connection_client
from scheduling.models import Booking

logger = logging.getLogger(__name__)

WRITING = (CalendarConnection.Status.ACTIVE, CalendarConnection.Status.ERROR)
_LOCK_SECONDS = 120


class BookingsCalendarUnavailable(ProviderError):
    """The server would not let us create the bookings calendar (CalDAV without
    ``MKCALENDAR``): the merchant picks one of their calendars for it instead."""


def bookings_calendar_name(connection: CalendarConnection) -> str:
    return f"{connection.merchant.name} bookings"


def writing_connections(merchant_id: int):
    return CalendarConnection.objects.filter(merchant_id=merchant_id, write_bookings=True, status__in=WRITING)


# --- queueing ------------------------------------------------------------------------------


def _write_enqueue(copy_id: int) -> None:
    from integrations.tasks import booking_copy_write_task

    transaction.on_commit(lambda: booking_copy_write_task.delay(copy_id), robust=True)


@transaction.atomic
def booking_copies_queue(*, booking_id: int, connection: CalendarConnection | None = None) -> int:
    """After a booking changed (or writing was turned on): mark its copies pending and queue
    one write each. A cancelled booking that never had a copy needs none. Returns the count."""
    booking = Booking.objects.filter(pk=booking_id).only("pk", "merchant_id", "status", "sequence").first()
    if booking is None:
        return 0
    connections = [connection] if connection is not None else list(writing_connections(booking.merchant_id))
    queued = 0
    for target in connections:
        if booking.is_cancelled:
            copies = BookingCopy.objects.filter(booking=booking, connection=target)
            copy = copies.exclude(state=BookingCopy.State.REMOVED).first()
            if copy is None:
                continue
        else:
            copy, _ = BookingCopy.objects.get_or_create(booking=booking, connection=target)
            if copy.state == BookingCopy.State.WRITTEN and copy.written_sequence == booking.sequence:
                continue  # this version is already there
        BookingCopy.objects.filter(pk=copy.pk).update(state=BookingCopy.State.PENDING, updated_at=timezone.now())
        _write_enqueue(copy.pk)
        queued += 1
    return queued


def booking_changed_receiver(sender, *, booking_id: int, **kwargs) -> None:
    """``scheduling.signals.booking_changed``: sent after the booking's change committed."""
    booking_copies_queue(booking_id=booking_id)


def bookings_backfill(*, connection: CalendarConnection, now: dt.datetime | None = None) -> int:
    """Writing was just turned on: copy every upcoming confirmed booking too."""
    now = now or timezone.now()
    upcoming = Booking.objects.filter(
        merchant_id=connection.merchant_id, status=Booking.Status.CONFIRMED, end__gt=now
    ).values_list("pk", flat=True)
    return sum(booking_copies_queue(booking_id=pk, connection=connection) for pk in upcoming)


def booking_copies_retry_due(*, now: dt.datetime | None = None) -> int:
    """Beat's sweep: queue again every copy that failed, or whose queued write was lost (a
    broker restart), once it has waited ``BOOKING_COPY_SWEEP_AFTER``."""
    now = now or timezone.now()
    stale = now - settings.BOOKING_COPY_SWEEP_AFTER
    due = BookingCopy.objects.filter(
        state__in=(BookingCopy.State.PENDING, BookingCopy.State.FAILED),
        connection__write_bookings=True,
        connection__status__in=WRITING,
        updated_at__lt=stale,  # every change of state and every attempt moves it
    )
    ids = list(due.values_list("pk", flat=True)[:1000])
    with transaction.atomic():
        for copy_id in ids:
            _write_enqueue(copy_id)
    return len(ids)


# --- writing -------------------------------------------------------------------------------


def _event(booking: Booking) -> BookingEvent:
    merchant = booking.merchant
    local = booking.start.astimezone(merchant.zone)
    monday = local.date() - dt.timedelta(days=local.weekday())
    link = f"{settings.PUBLIC_BASE_URL}/app/?week={monday.isoformat()}&entry=booking-{booking.pk}"
    return BookingEvent(
        booking_uid=str(booking.uid),
        title=f"{booking.customer_name} (booking)",
        description=f"{booking.customer_email}\n{link}",
        start=booking.start,
        end=booking.end,
        time_zone=merchant.time_zone,
    )


@contextmanager
def _exclusive(key: str, busy: str) -> Iterator[None]:
    """One holder at a time across workers (a short cache key); a second caller gets a
    :class:`TransientError` saying ``busy``, which its task retries shortly."""
    if not cache.add(key, "1", timeout=_LOCK_SECONDS):
        raise TransientError(busy, retry_after=2)
    try:
        yield
    finally:
        cache.delete(key)


def _bookings_calendar(connection: CalendarConnection, client) -> str:
    """The connection's bookings calendar, created at the provider the first time.

    Creation is guarded by a short cache lock so two writes racing for a new connection
    make one calendar, not two; the loser retries and finds it."""
    if connection.bookings_calendar_id:
        return connection.bookings_calendar_id
    with _exclusive(f"bookings-calendar-create:{connection.pk}", "the bookings calendar is being created"):
        connection.refresh_from_db(fields=["bookings_calendar_id", "bookings_calendar_name"])
        if connection.bookings_calendar_id:
            return connection.bookings_calendar_id
        name = bookings_calendar_name(connection)
        try:
            remote = client.bookings_calendar_create(name, time_zone=connection.merchant.time_zone)
        except PermissionDenied as exc:
            if provider_for(connection.provider).auth == AuthKind.CREDENTIALS:
                raise BookingsCalendarUnavailable(
                    "This server does not let us create a calendar: choose one of yours for the bookings."
                ) from exc
            raise
        with transaction.atomic():
            CalendarConnection.objects.filter(pk=connection.pk).update(
                bookings_calendar_id=remote.id, bookings_calendar_name=(remote.summary or name)[:255]
            )
            # Never a calendar to sync from: its events are our own copies.
            ExternalCalendar.objects.filter(connection=connection, external_id=remote.id).delete()
        connection.bookings_calendar_id, connection.bookings_calendar_name = remote.id, remote.summary or name
        logger.info("created the bookings calendar of connection %s", connection.pk)
        return remote.id


def _record(copy: BookingCopy, **fields) -> None:
    fields["updated_at"] = fields["last_attempt_at"] = timezone.now()
    BookingCopy.objects.filter(pk=copy.pk).update(**fields)


def booking_copy_write(*, copy_id: int) -> None:
    """Put one booking's current state into its connection's bookings calendar.

    One write per copy at a time (a cache lock): the booking is read inside it, so whichever
    write runs last puts the latest state, whatever order the queue delivered them in.
    Raises :class:`TransientError` (recorded first) for the task to retry; any other failure
    is recorded on the copy and left for the merchant (the card shows it) and the sweep."""
    with _exclusive(f"booking-copy-write:{copy_id}", "another write of this copy is running"):
        _booking_copy_write(copy_id)


def _booking_copy_write(copy_id: int) -> None:
    copy = BookingCopy.objects.select_related("booking__merchant", "connection__merchant").filter(pk=copy_id).first()
    if copy is None:
        return
    booking, connection = copy.booking, copy.connection
    if not connection.write_bookings or connection.status not in WRITING:
        return  # turned off or disconnected since: nothing more is written
    if booking.is_cancelled and copy.state == BookingCopy.State.REMOVED:
        return
    if (
        not booking.is_cancelled
        and copy.state == BookingCopy.State.WRITTEN
        and copy.written_sequence == booking.sequence
    ):
        return  # a duplicate task: this version is already there
    attempts = copy.attempts + 1
    try:
        client = connection_client(connection)
        calendar_id = copy.calendar_id or _bookings_calendar(connection, client)
        if booking.is_cancelled:
            client.booking_event_delete(calendar_id, str(booking.uid))
        else:
            try:
                client.booking_event_put(calendar_id, _event(booking))
            except NotFound:
                if calendar_id != connection.bookings_calendar_id:
                    raise
                # The merchant deleted the bookings calendar while writing is on: make it again.
                CalendarConnection.objects.filter(pk=connection.pk).update(bookings_calendar_id="")
                connection.bookings_calendar_id = ""
                calendar_id = _bookings_calendar(connection, client)
                client.booking_event_put(calendar_id, _event(booking))
    except ProviderError as exc:
        _record(
            copy, state=BookingCopy.State.FAILED, attempts=attempts, last_error=str(exc)[:500] or type(exc).__name__
        )
        logger.warning("writing the copy of booking %s to connection %s failed: %s", booking.pk, connection.pk, exc)
        raise
    _record(
        copy,
        state=BookingCopy.State.REMOVED if booking.is_cancelled else BookingCopy.State.WRITTEN,
        calendar_id=calendar_id,
        written_sequence=booking.sequence,
        attempts=attempts,
        last_error="",
    )
