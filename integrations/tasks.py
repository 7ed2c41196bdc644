"""Celery tasks: thin wrappers that take ids and call one service.

Transient provider errors that outlived the client's own short retries are retried here
with exponential backoff and full jitter, never sooner than the provider's ``Retry-After``.
Each failed attempt is already recorded as a failed SyncRun by the engine.
https://docs.celeryq.dev/en/stable/userguide/tasks.html#retrying
"""

from __future__ import annotations

import logging
import random

from celery import shared_task
from django.conf import settings

from integrations.models import SyncRun
from integrations.providers.base import ProviderError, TransientError
from integrations.services import booking_copies as booking_copy_services
from integrations.services import channels as channel_services
from integrations.services import incidents as incident_services
from integrations.services import sync as sync_services

logger = logging.getLogger(__name__)


def retry_countdown(retries: int, retry_after: float | None = None) -> float:
    """Seconds before attempt ``retries + 1``: full-jitter exponential backoff, at least ``retry_after``."""
    ceiling = min(settings.CALENDAR_SYNC_RETRY_MAX_SECONDS, settings.CALENDAR_SYNC_RETRY_BASE_SECONDS * 2**retries)
    return max(retry_after or 0.0, random.uniform(ceiling / 2, ceiling))


def _retry(task, exc: TransientError, kwargs: dict | None = None):
    countdown = retry_countdown(task.request.retries, exc.retry_after)
    logger.info("%s: %s; retrying in %.1f s", task.name, exc, countdown)
    return task.retry(exc=exc, countdown=countdown, max_retries=settings.CALENDAR_SYNC_MAX_RETRIES, kwargs=kwargs)


@shared_task(bind=True)
def calendar_sync_task(self, calendar_id: int, trigger: str, settle: bool = False) -> None:
    """Sync one calendar (full when it has no cursor, else incremental); ``settle``: after a burst."""
    try:
        sync_services.calendar_sync_run(calendar_id=calendar_id, trigger=trigger, settle=settle)
    except TransientError as exc:
        # The failed run already took the pending request: the retry syncs, settled or not.
        raise _retry(self, exc, kwargs={"settle": False}) from exc
    except ProviderError as exc:
        # Recorded on the run, the calendar and the connection; retrying would not help.
        logger.warning("sync of calendar %s failed for good: %s", calendar_id, exc)


@shared_task(bind=True)
def calendar_watch_task(self, calendar_id: int) -> None:
    """Open a push-notification channel for one calendar when the webhook URL is usable."""
    try:
        channel_services.calendar_watch_open(calendar_id=calendar_id)
    except TransientError as exc:
        raise _retry(self, exc) from exc
    except ProviderError as exc:
        logger.warning("could not open a channel for calendar %s: %s", calendar_id, exc)


@shared_task(bind=True)
def watch_channel_renew_task(self, channel_pk: int) -> None:
    try:
        channel_services.watch_channel_renew(channel_pk=channel_pk)
    except TransientError as exc:
        raise _retry(self, exc) from exc
    except ProviderError as exc:
        logger.warning("could not renew channel %s: %s", channel_pk, exc)


@shared_task
def watch_channel_stop_stale_task(channel_pk: int) -> None:
    channel_services.watch_channel_stop_stale(channel_pk=channel_pk)


@shared_task(bind=True, max_retries=8)
def incident_email_task(self, incident_id: int) -> None:
    """One email per incident; a mail server that is down is retried with backoff."""
    try:
        incident_services.incident_email_send(incident_id=incident_id)
    except OSError as exc:  # smtplib's errors are OSErrors: the server is down or refused
        raise self.retry(exc=exc, countdown=retry_countdown(self.request.retries)) from exc


# --- periodic (see integrations/schedule.py) -------------------------------------------------


@shared_task
def watch_channels_renew_due_task() -> None:
    """Every minute: renew the channels whose ``renew_at`` has come (spread renewals stay spread)."""
    for channel_pk in channel_services.watch_channels_due_for_renewal():
        watch_channel_renew_task.delay(channel_pk)


@shared_task
def watch_channels_renew_task() -> None:
    """Hourly: renew what is due, open missing channels (a failed watch), forget long-expired
    stopped ones. The missing-channel check reads every selected push calendar: not every minute."""
    watch_channels_renew_due_task()
    for calendar_id in channel_services.calendars_without_channel():
        calendar_watch_task.delay(calendar_id)
    channel_services.watch_channels_forget_stopped()


@shared_task
def calendars_sync_periodic_task() -> None:
    """Every minute: sync (coalesced) every calendar whose ``next_poll_at`` has come: CalDAV's
    polls (the sync's first request is the cheap change check: an unchanged calendar costs
    one) and the push providers' safety net (notifications are not guaranteed)."""
    for calendar_id in sync_services.calendars_due():
        sync_services.calendar_sync_request(calendar_id=calendar_id, trigger=SyncRun.Trigger.PERIODIC)


@shared_task
def calendars_horizon_roll_task() -> None:
    """Move every calendar's window a day further: a full sync of the rolled window."""
    for calendar_id in sync_services.calendars_due_for_horizon_roll():
        sync_services.calendar_sync_request(calendar_id=calendar_id, trigger=SyncRun.Trigger.HORIZON)


@shared_task
def calendars_poll_task() -> None:
    """The former separate CalDAV tick, now :func:`calendars_sync_periodic_task` (kept for
    messages queued before a deploy)."""
    calendars_sync_periodic_task()


@shared_task(bind=True)
def booking_copy_write_task(self, copy_id: int) -> None:
    """Write one booking's copy into the merchant's bookings calendar (SPEC §10)."""
    try:
        booking_copy_services.booking_copy_write(copy_id=copy_id)
    except TransientError as exc:
        raise _retry(self, exc) from exc
    except ProviderError as exc:
        # Recorded on the copy (the card and the admin show it); the sweep tries again later.
        logger.warning("the copy %s could not be written: %s", copy_id, exc)


@shared_task
def booking_copies_retry_task() -> None:
    """Beat: queue again the copies whose writes failed or were lost."""
    booking_copy_services.booking_copies_retry_due()
