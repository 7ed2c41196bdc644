"""Reads for the integrations API and admin: a merchant's connection and its status.

Token columns are always deferred: no read path here needs them, and a row encrypted
under a key that is no longer configured must still be viewable.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.db.models import Min
from django.utils import timezone

from integrations.models import CalendarConnection, ExternalCalendar, SyncRun, WatchChannel
from integrations.providers.google.provider import GoogleProvider
from merchants.models import Merchant

TOKEN_FIELDS = ("access_token", "refresh_token")
RECENT_SYNC_RUNS = 10


def connection_get(*, merchant: Merchant, provider: str = GoogleProvider.key) -> CalendarConnection | None:
    return CalendarConnection.objects.defer(*TOKEN_FIELDS).filter(merchant=merchant, provider=provider).first()


@dataclass
class ConnectionStatus:
    connected: bool
    status: str
    account_email: str | None = None
    connected_at: datetime | None = None
    last_synced_at: datetime | None = None
    last_error: str | None = None
    calendars: list[ExternalCalendar] = field(default_factory=list)
    channel_expires_at: datetime | None = None
    preferences: dict[str, bool] = field(default_factory=dict)
    recent_sync_runs: list[SyncRun] = field(default_factory=list)


def _preferences(connection: CalendarConnection | None) -> dict[str, bool]:
    if connection is None:
        defaults = CalendarConnection()
        return {"block_tentative": defaults.block_tentative, "block_all_day": defaults.block_all_day}
    return {"block_tentative": connection.block_tentative, "block_all_day": connection.block_all_day}


def connection_status(*, merchant: Merchant, provider: str = GoogleProvider.key) -> ConnectionStatus:
    """What the merchant sees: ``status`` is ``not_connected``, ``active``, ``syncing``,
    ``error`` or ``reauth_required`` (a reconnect request outranks a running sync)."""
    connection = connection_get(merchant=merchant, provider=provider)
    if connection is None or not connection.is_connected:
        return ConnectionStatus(connected=False, status="not_connected", preferences=_preferences(connection))
    calendars = list(connection.calendars.all())
    selected = [c.pk for c in calendars if c.selected]
    status = connection.status
    if status != CalendarConnection.Status.REAUTH_REQUIRED and (
        SyncRun.objects.filter(calendar_id__in=selected, status=SyncRun.Status.RUNNING).exists()
    ):
        status = "syncing"
    channel_expires_at = WatchChannel.objects.filter(
        calendar_id__in=selected, status=WatchChannel.Status.ACTIVE
    ).aggregate(earliest=Min("expires_at"))["earliest"]
    runs = list(SyncRun.objects.filter(calendar__connection=connection).select_related("calendar")[:RECENT_SYNC_RUNS])
    return ConnectionStatus(
        connected=True,
        status=status,
        account_email=connection.account_email or None,
        connected_at=connection.connected_at,
        last_synced_at=connection.last_synced_at,
        last_error=connection.last_error or None,
        calendars=calendars,
        channel_expires_at=channel_expires_at,
        preferences=_preferences(connection),
        recent_sync_runs=runs,
    )


# --- CalDAV polling ----------------------------------------------------------------------


def caldav_poll_offset(calendar_id: int, interval_seconds: int) -> int:
    """A calendar's stable place inside the poll interval (no thundering herd at :00)."""
    digest = hashlib.sha256(f"caldav-poll:{calendar_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % interval_seconds


def caldav_next_sync_at(*, calendar: ExternalCalendar, last_run_at: datetime | None = None) -> datetime:
    """When a polled calendar is checked next: its first slot after its last check.

    Slots are every ``CALDAV_POLL_MINUTES`` at the calendar's own offset; the last check is
    the later of its last successful sync and ``last_run_at`` (the last run, failed or not),
    so a failing server is not asked every minute. Never checked: now.
    """
    interval = max(60, int(settings.CALDAV_POLL_MINUTES) * 60)
    checks = [t for t in (calendar.last_synced_at, last_run_at) if t is not None]
    if not checks:
        return timezone.now()
    last = max(checks).timestamp()
    offset = caldav_poll_offset(calendar.pk, interval)
    slot = offset + (math.floor((last - offset) / interval) + 1) * interval
    return datetime.fromtimestamp(slot, tz=UTC)
