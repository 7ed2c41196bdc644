"""Push-notification channels: open, renew, stop (SPEC §5).

A channel is opened per selected calendar with a fresh id and a secret token, only when
the provider's webhook URL (``GOOGLE_WEBHOOK_URL``) can be reached by it (https, or plain http on a loopback
host for the local emulator); otherwise the periodic sync is all there is. Channels
cannot be extended: before one expires a new one is opened, and only then is the old
one stopped, so no change falls between the two. Stopping is best effort at the
provider and always recorded locally.
https://developers.google.com/calendar/api/guides/push
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import uuid

from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from integrations.models import CalendarConnection, ExternalCalendar, WatchChannel
from integrations.providers import PROVIDERS, provider_for
from integrations.providers.base import CalendarClient, NotFound, ProviderError
from integrations.selectors import channel_renew_at, provider_pushes
from integrations.services.clients import connection_client

logger = logging.getLogger(__name__)

RENEW_BEFORE = dt.timedelta(days=1)  # open the successor this long before a channel expires
KEEP_STOPPED = dt.timedelta(days=1)  # stopped rows are kept this long past their expiry
STALE_STOP_GUARD_SECONDS = 10 * 60  # one stop attempt per stale channel per this period
_USABLE_STATUSES = (CalendarConnection.Status.ACTIVE, CalendarConnection.Status.ERROR)


def _pushing_providers() -> list[str]:
    return [key for key in PROVIDERS if provider_pushes(key)]


def calendar_watch_enqueue(*, calendar_id: int) -> None:
    """Queue opening a channel for one calendar once the current transaction commits."""
    from integrations.tasks import calendar_watch_task

    transaction.on_commit(lambda: calendar_watch_task.delay(calendar_id))


def _watchable_calendar(calendar_id: int) -> ExternalCalendar | None:
    return (
        ExternalCalendar.objects.select_related("connection")
        .filter(pk=calendar_id, selected=True, connection__status__in=_USABLE_STATUSES)
        .first()
    )


def calendar_watch_open(*, calendar_id: int, renewing: WatchChannel | None = None) -> WatchChannel | None:
    """Open a channel for a selected calendar; returns it, or None when none can be opened.

    Without ``renewing`` this is idempotent: a calendar that already has an active channel
    not yet due for renewal keeps it.
    """
    calendar = _watchable_calendar(calendar_id)
    if calendar is None:
        return None
    provider = calendar.connection.provider
    if not provider_pushes(provider):
        logger.info("no usable webhook URL for %s: calendar %s relies on periodic sync", provider, calendar_id)
        return None
    guard = f"integrations:watch-open:{calendar_id}"
    if not cache.add(guard, 1, timeout=60):
        logger.info("a channel for calendar %s is being opened elsewhere", calendar_id)
        return None
    try:
        if renewing is None:
            current = _current_channel(calendar)
            if current is not None:
                return current
        channel_id, token = str(uuid.uuid4()), secrets.token_urlsafe(32)
        info = connection_client(calendar.connection).watch(
            calendar.external_id, address=provider_for(provider).webhook_url(), channel_id=channel_id, token=token
        )
        channel = WatchChannel.objects.create(
            calendar=calendar,
            channel_id=info.channel_id,
            token=token,
            resource_id=info.resource_id,
            resource_uri=info.resource_uri,
            expires_at=info.expires_at,
            renew_at=_renew_at(calendar_id, info.expires_at),
        )
    finally:
        cache.delete(guard)
    logger.info("opened channel %s for calendar %s until %s", channel.channel_id, calendar_id, channel.expires_at)
    return channel


def _renew_at(calendar_id: int, expires_at: dt.datetime) -> dt.datetime:
    now = timezone.now()
    return channel_renew_at(calendar_id=calendar_id, expires_at=expires_at, renew_before=RENEW_BEFORE, now=now)


def _current_channel(calendar: ExternalCalendar) -> WatchChannel | None:
    return (
        calendar.channels.filter(status=WatchChannel.Status.ACTIVE, expires_at__gt=timezone.now() + RENEW_BEFORE)
        .order_by("-expires_at")
        .first()
    )


def watch_channel_stop(*, channel: WatchChannel, client: CalendarClient | None) -> None:
    """Stop one channel: at the provider when ``client`` is given (best effort), locally always."""
    if client is not None:
        try:
            client.stop_channel(channel_id=channel.channel_id, resource_id=channel.resource_id)
        except NotFound:
            pass  # already gone at the provider (expired, or a repeated stop)
        except ProviderError as exc:
            logger.warning("could not stop channel %s at the provider: %s", channel.channel_id, exc)
    if channel.status != WatchChannel.Status.STOPPED:
        channel.status, channel.stopped_at = WatchChannel.Status.STOPPED, timezone.now()
        WatchChannel.objects.filter(pk=channel.pk).update(status=channel.status, stopped_at=channel.stopped_at)


def calendar_channels_stop(*, calendar: ExternalCalendar, client: CalendarClient | None) -> None:
    """Stop every active channel of ``calendar``: at the provider when ``client`` is given
    (best effort, failures logged), and locally always."""
    for channel in calendar.channels.filter(status=WatchChannel.Status.ACTIVE):
        watch_channel_stop(channel=channel, client=client)


def watch_channel_renew(*, channel_pk: int) -> WatchChannel | None:
    """Renew a channel that will expire soon: in place where the provider can extend it (a
    Graph subscription); else open the new one first, then stop the old one (Google)."""
    old = (
        WatchChannel.objects.select_related("calendar__connection")
        .filter(pk=channel_pk, status=WatchChannel.Status.ACTIVE)
        .first()
    )
    if old is None:
        return None
    if old.calendar.connection.status in _USABLE_STATUSES:
        try:
            extended = connection_client(old.calendar.connection).renew_channel(
                channel_id=old.channel_id, resource_id=old.resource_id
            )
        except NotFound:
            extended = None  # gone at the provider: open a successor below
            watch_channel_stop(channel=old, client=None)
            return calendar_watch_open(calendar_id=old.calendar_id)
        if extended is not None:
            old.expires_at, old.renew_at = extended.expires_at, _renew_at(old.calendar_id, extended.expires_at)
            WatchChannel.objects.filter(pk=old.pk).update(expires_at=old.expires_at, renew_at=old.renew_at)
            logger.info("extended channel %s of calendar %s until %s", old.channel_id, old.calendar_id, old.expires_at)
            return old
    new = calendar_watch_open(calendar_id=old.calendar_id, renewing=old)
    connection = old.calendar.connection
    if new is None and _watchable_calendar(old.calendar_id) is not None and provider_pushes(connection.provider):
        return None  # could not open a successor now: keep the old one until the next attempt
    client = connection_client(connection) if connection.status in _USABLE_STATUSES else None
    watch_channel_stop(channel=old, client=client)
    return new


def watch_channel_stop_stale(*, channel_pk: int) -> None:
    """A notification came on a channel we no longer hold: stop it at the provider if we can."""
    if not cache.add(f"integrations:stale-stop:{channel_pk}", 1, timeout=STALE_STOP_GUARD_SECONDS):
        return
    channel = WatchChannel.objects.select_related("calendar__connection").filter(pk=channel_pk).first()
    if channel is None:
        return
    connection = channel.calendar.connection
    usable = connection.status in _USABLE_STATUSES and bool(connection.refresh_token or connection.access_token)
    watch_channel_stop(channel=channel, client=connection_client(connection) if usable else None)


# --- what the periodic task looks at -------------------------------------------------------


def watch_channels_due_for_renewal(*, now: dt.datetime | None = None) -> list[int]:
    """Active channels whose renewal time has come (``renew_at``, spread over the day), or
    that expire within ``RENEW_BEFORE`` whatever it says. Two index ranges: grows with what
    is due, not with the table. Beat asks every minute, so renewals follow ``renew_at``."""
    now = now or timezone.now()
    return list(
        WatchChannel.objects.filter(status=WatchChannel.Status.ACTIVE)
        .filter(Q(renew_at__lte=now) | Q(expires_at__lt=now + RENEW_BEFORE))
        .values_list("pk", flat=True)
    )


def calendars_without_channel() -> list[int]:
    """Selected calendars of usable connections with no active channel (e.g. a failed watch)."""
    return list(
        ExternalCalendar.objects.filter(
            selected=True, connection__status__in=_USABLE_STATUSES, connection__provider__in=_pushing_providers()
        )
        .exclude(channels__status=WatchChannel.Status.ACTIVE)
        .values_list("pk", flat=True)
    )


def watch_channels_forget_stopped() -> int:
    """Delete stopped channels that have expired anyway: Google sends nothing more on them."""
    deleted, _ = WatchChannel.objects.filter(
        status=WatchChannel.Status.STOPPED, expires_at__lt=timezone.now() - KEEP_STOPPED
    ).delete()
    return deleted
