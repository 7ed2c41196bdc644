"""Reads for the integrations API and admin: a merchant's connection and its status.

Token columns are always deferred: no read path here needs them, and a row encrypted
under a key that is no longer configured must still be viewable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Min

from integrations.models import CalendarConnection, ExternalCalendar, SyncRun, WatchChannel
from integrations.providers import PROVIDERS, provider_for
from merchants.models import Merchant

TOKEN_FIELDS = ("access_token", "refresh_token")
RECENT_SYNC_RUNS = 10


_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def webhook_url_usable(url: str) -> bool:
    """Whether a provider can deliver to ``url``: https, or plain http on a loopback host (emulators)."""
    parts = urlsplit(url or "")
    if not parts.hostname:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS)


def provider_pushes(provider: str) -> bool:
    """True when ``provider`` notifies us here: it has push and its webhook URL is reachable."""
    description = provider_for(provider)
    return bool(description.push) and webhook_url_usable(description.webhook_url())


def poll_interval(provider: str):
    """How often a polled calendar is checked: the provider's own interval, else the safety net's."""
    interval = getattr(provider_for(provider), "poll_interval", None)
    return interval() if interval is not None else settings.CALENDAR_PERIODIC_SYNC_INTERVAL


def connection_get(*, merchant: Merchant, provider: str) -> CalendarConnection | None:
    return CalendarConnection.objects.defer(*TOKEN_FIELDS).filter(merchant=merchant, provider=provider).first()


@dataclass
class ConnectionStatus:
    provider: str
    push: bool
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
    next_sync_at: datetime | None = None


def _preferences(connection: CalendarConnection | None) -> dict[str, bool]:
    if connection is None:
        defaults = CalendarConnection()
        return {"block_tentative": defaults.block_tentative, "block_all_day": defaults.block_all_day}
    return {"block_tentative": connection.block_tentative, "block_all_day": connection.block_all_day}


def connection_status(*, merchant: Merchant, provider: str) -> ConnectionStatus:
    """What the merchant sees: ``status`` is ``not_connected``, ``active``, ``syncing``,
    ``error`` or ``reauth_required`` (a reconnect request outranks a running sync)."""
    connection = connection_get(merchant=merchant, provider=provider)
    push = provider_pushes(provider)
    if connection is None or not connection.is_connected:
        return ConnectionStatus(
            provider=provider, push=push, connected=False, status="not_connected", preferences=_preferences(connection)
        )
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
    next_sync_at = None
    if not push and selected:
        last = [c.last_synced_at for c in calendars if c.selected]
        next_sync_at = None if None in last else min(last) + poll_interval(provider)
    return ConnectionStatus(
        provider=provider,
        push=push,
        next_sync_at=next_sync_at,
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


@dataclass
class ProviderSummary:
    provider: str
    name: str
    configured: bool
    missing_settings: list[str]
    connected: bool
    status: str


def provider_summaries(*, merchant: Merchant) -> list[ProviderSummary]:
    """Every registered provider for ``merchant`` (SPEC §8: ``GET /merchant/integrations``)."""
    connections = {c.provider: c for c in CalendarConnection.objects.defer(*TOKEN_FIELDS).filter(merchant=merchant)}
    summaries = []
    for key, description in PROVIDERS.items():
        connection = connections.get(key)
        connected = connection is not None and connection.is_connected
        missing = description.missing_configuration()
        summaries.append(
            ProviderSummary(
                provider=key,
                name=description.name,
                configured=not missing,
                missing_settings=missing,
                connected=connected,
                status=connection_status(merchant=merchant, provider=key).status if connected else "not_connected",
            )
        )
    return summaries
