"""Reads for the integrations API and admin: a merchant's connection and its status.

Token columns are always deferred: no read path here needs them, and a row encrypted
under a key that is no longer configured must still be viewable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Count, Min
from django.utils import timezone

from integrations.models import BookingCopy, CalendarConnection, ExternalCalendar, SyncRun, WatchChannel
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


def poll_interval(provider: str) -> timedelta | None:
    """How often a calendar of a push-less provider is polled (its ``poll_interval``); None:
    the provider pushes, and only the periodic safety net runs when its webhook is unusable."""
    interval = getattr(provider_for(provider), "poll_interval", None)
    return interval() if interval is not None else None


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
    bookings_calendar: BookingsCalendar | None = None
    recent_sync_runs: list[SyncRun] = field(default_factory=list)
    next_sync_at: datetime | None = None


def _preferences(connection: CalendarConnection | None) -> dict[str, bool]:
    connection = connection or CalendarConnection()
    return {
        "block_tentative": connection.block_tentative,
        "block_all_day": connection.block_all_day,
        "write_bookings": connection.write_bookings,
    }


@dataclass
class BookingsCalendar:
    name: str | None
    external_id: str | None
    written: int = 0
    pending: int = 0
    failed: int = 0
    last_error: str | None = None


def bookings_calendar(connection: CalendarConnection) -> BookingsCalendar | None:
    """Where bookings are copied and how that goes (SPEC §10); None while writing is off."""
    if not connection.write_bookings:
        return None
    counts = dict(
        BookingCopy.objects.filter(connection=connection)
        .values("state")
        .annotate(n=Count("pk"))
        .values_list("state", "n")
    )
    last_failed = (
        BookingCopy.objects.filter(connection=connection, state=BookingCopy.State.FAILED)
        .order_by("-last_attempt_at")
        .values_list("last_error", flat=True)
        .first()
    )
    return BookingsCalendar(
        name=connection.bookings_calendar_name or None,
        external_id=connection.bookings_calendar_id or None,
        written=counts.get(BookingCopy.State.WRITTEN, 0) + counts.get(BookingCopy.State.REMOVED, 0),
        pending=counts.get(BookingCopy.State.PENDING, 0),
        failed=counts.get(BookingCopy.State.FAILED, 0),
        last_error=last_failed or None,
    )


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
        # Polled, or a push provider whose webhook is unusable: the periodic sync is what runs.
        planned = [c.next_poll_at for c in calendars if c.selected]
        next_sync_at = timezone.now() if None in planned else min(planned)
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
        bookings_calendar=bookings_calendar(connection),
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


@dataclass
class CalendarProblem:
    """The latest problem of one calendar (SPEC §9: grouped, in plain words)."""

    calendar: ExternalCalendar
    error: str
    since: datetime | None
    latest: datetime | None
    attempts: int
    resolved_at: datetime | None = None


HISTORY_SIZE = 5


def calendar_problems(*, merchant: Merchant, provider: str) -> tuple[list[CalendarProblem], list[CalendarProblem]]:
    """``(open, history)``: per calendar its unresolved problem (failures since the last
    success, grouped into one), and problems that resolved themselves, newest first."""
    calendars = list(
        ExternalCalendar.objects.filter(connection__merchant=merchant, connection__provider=provider, selected=True)
    )
    open_problems, history = [], []
    for calendar in calendars:
        runs = list(calendar.sync_runs.exclude(status=SyncRun.Status.RUNNING).order_by("-started_at")[:50])
        failing = []
        for run in runs:
            if run.status == SyncRun.Status.SUCCEEDED:
                break
            failing.append(run)
        if failing and calendar.last_error:
            open_problems.append(
                CalendarProblem(
                    calendar=calendar,
                    error=failing[0].error,
                    since=calendar.failing_since or failing[-1].started_at,
                    latest=failing[0].started_at,
                    attempts=len(failing),
                )
            )
        # Earlier failure streaks that a later success ended.
        streak: list[SyncRun] = []
        resolved_by: SyncRun | None = None
        for run in runs[len(failing) :]:
            if run.status == SyncRun.Status.SUCCEEDED:
                if streak:
                    history.append(_resolved(calendar, streak, resolved_by))
                streak, resolved_by = [], run
            else:
                streak.append(run)
        if streak and resolved_by is not None:
            history.append(_resolved(calendar, streak, resolved_by))
    history.sort(key=lambda problem: problem.resolved_at, reverse=True)
    return open_problems, history[:HISTORY_SIZE]


def _resolved(calendar: ExternalCalendar, streak: list[SyncRun], resolved_by: SyncRun) -> CalendarProblem:
    return CalendarProblem(
        calendar=calendar,
        error=streak[0].error,
        since=streak[-1].started_at,
        latest=streak[0].started_at,
        attempts=len(streak),
        resolved_at=resolved_by.finished_at or resolved_by.started_at,
    )


# --- polling, the safety net and renewals: when each calendar's turn comes -----------------

_FIBONACCI = 0x9E3779B97F4A7C15  # 2^64 / golden ratio
DAY_SECONDS = 86_400


def spread_offset(key: int, period_seconds: int) -> int:
    """``key``'s stable place in ``[0, period_seconds)``: Fibonacci hashing (Knuth, TAOCP
    §6.4), ``key * 2^64/phi mod 2^64`` scaled to the period. Consecutive keys (primary keys)
    land as far apart as possible, so any run of them fills the period evenly, more evenly
    than a random hash would: no minute of the period gets much more than its share."""
    return ((key * _FIBONACCI) % 2**64) * period_seconds >> 64


def poll_offset(calendar_id: int, interval_seconds: int) -> int:
    """A calendar's stable place inside the poll interval (no thundering herd at :00)."""
    return spread_offset(calendar_id, interval_seconds)


def _slot_after(moment: datetime, period: int, offset: int, *, inclusive: bool = False) -> datetime:
    """The first instant ``offset + k * period`` (whole seconds) after ``moment`` (or at it)."""
    t = moment.timestamp()
    k = math.ceil((t - offset) / period) if inclusive else math.floor((t - offset) / period) + 1
    return datetime.fromtimestamp(offset + k * period, tz=UTC)


def poll_slot_after(calendar_id: int, interval: timedelta, moment: datetime) -> datetime:
    """A polled calendar's first slot after ``moment``: slots are every ``interval`` at its own offset."""
    period = max(60, int(interval.total_seconds()))
    return _slot_after(moment, period, poll_offset(calendar_id, period))


def safety_net_at(calendar_id: int, interval: timedelta, synced: datetime) -> datetime:
    """When the periodic safety net syncs a calendar last synced at ``synced``: its first slot on
    a grid of ``interval / 2`` (own offset) at least ``interval / 2`` later, so between half the
    interval and the interval after its last sync (never staler than ``interval``), and spread
    evenly over the grid whatever bunched the syncs before (a deploy, an outage)."""
    half = max(60, int(interval.total_seconds()) // 2)
    return _slot_after(synced + timedelta(seconds=half), half, spread_offset(calendar_id, half), inclusive=True)


def next_poll_at(*, calendar_id: int, provider: str, after: datetime) -> datetime:
    """``ExternalCalendar.next_poll_at`` for a run that ended (or was queued) at ``after``:
    the next poll slot of a push-less provider, else the periodic safety net."""
    interval = poll_interval(provider)
    if interval is not None:
        return poll_slot_after(calendar_id, interval, after)
    return safety_net_at(calendar_id, settings.CALENDAR_PERIODIC_SYNC_INTERVAL, after)


def channel_renew_at(*, calendar_id: int, expires_at: datetime, renew_before: timedelta, now: datetime) -> datetime:
    """When a channel expiring at ``expires_at`` is renewed: at the calendar's own time of day
    (a daily slot), the last one at least ``renew_before`` ahead of expiry. Google's 7-day
    channels so renew every 6 days at the same minute, Graph's 3-day subscriptions daily, and
    channels opened together (a deploy, an outage) spread over the day from their first
    renewal. A lifetime too short for a daily slot: ``renew_before`` ahead of expiry."""
    latest = expires_at - renew_before
    offset = spread_offset(calendar_id, DAY_SECONDS)
    slot = _slot_after(latest, DAY_SECONDS, offset, inclusive=True)
    if slot > latest:
        slot -= timedelta(days=1)
    return slot if slot > now else latest


def polled_next_sync_at(
    *, calendar: ExternalCalendar, interval: timedelta, last_run_at: datetime | None = None
) -> datetime:
    """When a polled calendar is checked next: its first slot after its last check.

    Slots are every ``interval`` (the provider's ``poll_interval``: ``CALDAV_POLL_MINUTES``)
    at the calendar's own offset; the last check is the later of its last successful sync and
    ``last_run_at`` (the last run, failed or not), so a failing server is not asked every
    minute. Never checked: now. What runs store in ``next_poll_at``.
    """
    checks = [t for t in (calendar.last_synced_at, last_run_at) if t is not None]
    if not checks:
        return timezone.now()
    return poll_slot_after(calendar.pk, interval, max(checks))
