"""Celery tasks of scheduling: booking emails, sent after the booking committed.

A send that fails (mail server down, refused, timed out) is retried with exponential
backoff and jitter up to ``BOOKING_EMAIL_MAX_RETRIES`` times, then logged; the booking
itself was committed before and never depends on it. One task per recipient, so a retry
never re-sends to the other party.
https://docs.celeryq.dev/en/stable/userguide/tasks.html#retrying
"""

from __future__ import annotations

import logging
import random
import smtplib

from celery import shared_task
from django.conf import settings

from scheduling.emails import booking_email_build
from scheduling.models import Booking

logger = logging.getLogger(__name__)

RETRY_BASE_SECONDS = 10
RETRY_MAX_SECONDS = 30 * 60


@shared_task(bind=True, acks_late=True)
def booking_email_send(self, booking_id: int, event: str, recipient: str) -> None:
    """Send one booking email (``event``: created, moved, cancelled; ``recipient``: customer, merchant)."""
    booking = Booking.objects.select_related("merchant__user").filter(pk=booking_id).first()
    if booking is None:
        return
    try:
        booking_email_build(booking, event, recipient).send()
    except (smtplib.SMTPException, OSError) as exc:
        attempt = self.request.retries + 1
        logger.warning(
            "booking email not sent (booking %s, %s to %s, attempt %s): %s",
            booking_id,
            event,
            recipient,
            attempt,
            type(exc).__name__,
        )
        countdown = min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2**self.request.retries) * random.uniform(0.5, 1)
        raise self.retry(exc=exc, countdown=countdown, max_retries=settings.BOOKING_EMAIL_MAX_RETRIES) from exc
