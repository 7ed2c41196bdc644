"""The sync loop for one calendar: full or incremental listing -> blocked times, recorded.

Follows Google's sync guide, in provider-neutral terms: a *full* sync lists the window
``[now - lookback, now + horizon]`` page by page, applies each page, then reconciles
(blocks of events the listing no longer returns go away) and stores the cursor handed
out on the last page together with the window's end. An *incremental* sync lists the
changes since the stored cursor; results outside the stored window are dropped. An
expired cursor (:class:`CursorExpired`, Google's 410) is discarded and the run carries
on as a full sync. The window rolls forward with a full sync once it is a day short.

Every run leaves a :class:`SyncRun` (trigger, kind, counts, duration, error) and updates
``last_synced_at``/``last_error`` on the calendar and its connection. Locking and
retrying belong to the caller (``integrations.services.sync``). No provider code here.
https://developers.google.com/calendar/api/guides/sync
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from integrations.models import CalendarConnection, ExternalCalendar, SyncRun
from integrations.providers.base import CalendarClient, CursorExpired, ReauthRequired
from integrations.sync.readahead import read_ahead
from integrations.sync.rules import BusyPreferences, Window, page_blocks
from integrations.sync.store import WriteCounts, blocked_times_apply, blocked_times_stored, blocked_times_sweep
from scheduling.services import merchant_changed

logger = logging.getLogger(__name__)

ROLL_AFTER = dt.timedelta(days=1)  # how far the window's end may lag before a full sync rolls it
ERROR_MAX_CHARS = 2000
INTERRUPTED = "Interrupted: the worker stopped before this run finished; the next run completed it."


@dataclass(slots=True)
class _Progress:
    pages: int = 0
    events_seen: int = 0
    writes: WriteCounts = field(default_factory=WriteCounts)
    kept: set[str] = field(default_factory=set)
    cursor: str | None = None


def sync_window(now: dt.datetime) -> Window:
    return Window(
        start=now - dt.timedelta(days=settings.CALENDAR_SYNC_LOOKBACK_DAYS),
        end=now + dt.timedelta(days=settings.CALENDAR_SYNC_HORIZON_DAYS),
    )


def needs_full_sync(calendar: ExternalCalendar, now: dt.datetime) -> bool:
    """No cursor yet, or the stored window's end has fallen a day behind the horizon."""
    if not calendar.sync_cursor or calendar.window_end is None:
        return True
    return calendar.window_end < sync_window(now).end - ROLL_AFTER


def calendar_sync(
    *,
    calendar: ExternalCalendar,
    client: CalendarClient,
    trigger: str,
    full: bool = False,
    heartbeat: Callable[[], None] | None = None,
) -> SyncRun:
    """Sync one calendar now and return its recorded run; a failure is recorded, then re-raised.

    ``calendar`` must come with ``connection__merchant`` loaded. ``heartbeat`` is called
    after every page (the caller's lock uses it to stay alive on long listings).
    """
    now = timezone.now()
    full = full or needs_full_sync(calendar, now)
    run = SyncRun.objects.create(
        calendar=calendar,
        trigger=trigger,
        kind=SyncRun.Kind.FULL if full else SyncRun.Kind.INCREMENTAL,
        started_at=now,
    )
    started = time.monotonic()
    progress = _Progress()
    try:
        if not full:
            try:
                _incremental(calendar, client, now, progress, heartbeat)
            except CursorExpired:
                logger.info("sync cursor of calendar %s expired: full sync", calendar.pk)
                _cursor_discard(calendar)
                run.kind = SyncRun.Kind.FULL
                progress = _Progress()
                full = True
        if full and _rolls_from_storage(calendar, client, trigger):
            _full(calendar, client, now, progress, heartbeat, lister=client.list_events_stored)
            progress.cursor = calendar.sync_cursor  # nothing was asked of the server: its cursor holds
        elif full:
            _full(calendar, client, now, progress, heartbeat)
    except Exception as exc:
        _record_failure(run, calendar, progress, started, exc)
        _week_changed(calendar, progress)
        raise
    _record_success(run, calendar, progress, started, full=full, now=now)
    _week_changed(calendar, progress)
    return run


def _week_changed(calendar: ExternalCalendar, progress: _Progress) -> None:
    """Open week views pick a change up within a second (SPEC §9), and only a change."""
    if progress.writes.upserted or progress.writes.deleted:
        merchant_changed(calendar.connection.merchant_id)


def _preferences(connection: CalendarConnection) -> BusyPreferences:
    return BusyPreferences(block_tentative=connection.block_tentative, block_all_day=connection.block_all_day)


def _rolls_from_storage(calendar: ExternalCalendar, client: CalendarClient, trigger: str) -> bool:
    """The horizon roll of a provider that keeps what it needs (CalDAV's stored objects):
    re-expanded locally through the optional ``client.list_events_stored``, no request."""
    return (
        trigger == SyncRun.Trigger.HORIZON
        and hasattr(client, "list_events_stored")
        and bool(calendar.sync_cursor)
        and calendar.window_end is not None
    )


def _apply_pages(
    calendar, client, *, cursor, window: Window, progress: _Progress, heartbeat, lister=None, stored=None
) -> None:
    """Apply a listing page by page. ``stored`` (a full sync): the calendar's stored blocks,
    read once; the listing is then read ahead, page n+1 fetched on a thread while page n is
    applied (``readahead``), for clients that say their listing may run on one."""
    prefs = _preferences(calendar.connection)
    zone = calendar.connection.merchant.zone
    if lister is None:
        pages = client.list_events(
            calendar.external_id, cursor=cursor, window_start=window.start, window_end=window.end
        )
    else:
        pages = lister(calendar.external_id, window_start=window.start, window_end=window.end)
    ahead = stored is not None and _reads_ahead(client)
    reading = read_ahead(pages) if ahead else contextlib.nullcontext(pages)
    with reading as listed:
        for page in listed:
            blocks = page_blocks(page.events, prefs=prefs, zone=zone, window=window)
            progress.writes.add(
                blocked_times_apply(
                    calendar=calendar, blocks=blocks, replaced_groups=page.replaced_groups, stored=stored
                )
            )
            progress.kept.update(key for key, interval in blocks.items() if interval is not None)
            progress.pages += 1
            progress.events_seen += len(page.events)
            if page.next_cursor:
                progress.cursor = page.next_cursor
            if heartbeat is not None:
                heartbeat()


def _reads_ahead(client: CalendarClient) -> bool:
    """The client's listing does no database work and may run on another thread (``readahead``)."""
    return bool(getattr(client, "reads_ahead", False)) and settings.CALENDAR_SYNC_READ_AHEAD


def _full(calendar, client, now, progress: _Progress, heartbeat, lister=None) -> None:
    window = sync_window(now)
    stored = blocked_times_stored(calendar=calendar)  # one read for every page and the sweep
    _apply_pages(
        calendar,
        client,
        cursor=None,
        window=window,
        progress=progress,
        heartbeat=heartbeat,
        lister=lister,
        stored=stored,
    )
    progress.writes.deleted += blocked_times_sweep(
        calendar=calendar, keep=progress.kept, ending_after=window.start, stored=stored
    )
    calendar.window_end = window.end


def _incremental(calendar, client, now, progress: _Progress, heartbeat) -> None:
    window = Window(start=sync_window(now).start, end=calendar.window_end)
    _apply_pages(calendar, client, cursor=calendar.sync_cursor, window=window, progress=progress, heartbeat=heartbeat)


def _cursor_discard(calendar: ExternalCalendar) -> None:
    calendar.sync_cursor = ""
    ExternalCalendar.objects.filter(pk=calendar.pk).update(sync_cursor="")


_RUN_RESULT_FIELDS = (
    "kind", "status", "finished_at", "duration_ms", "pages", "events_seen", "blocks_upserted", "blocks_deleted", "error"
)  # fmt: skip


def _finish(run: SyncRun, progress: _Progress, started: float, status: str, error: str = "") -> None:
    run.finished_at = timezone.now()
    run.duration_ms = int((time.monotonic() - started) * 1000)
    run.pages = progress.pages
    run.events_seen = progress.events_seen
    run.blocks_upserted = progress.writes.upserted
    run.blocks_deleted = progress.writes.deleted
    run.status, run.error = status, error
    # An UPDATE, never an INSERT: a calendar deleted meanwhile (disconnect) took its runs along.
    # The same statement closes runs still marked running: the caller holds the calendar's
    # lock, so they were cut off (a worker killed mid-run); one round trip fewer per sync.
    ours = Q(pk=run.pk)
    closed = {
        "status": Value(SyncRun.Status.FAILED),
        "finished_at": Value(run.finished_at),
        "error": Value(INTERRUPTED),
    }
    SyncRun.objects.filter(ours | Q(calendar_id=run.calendar_id, status=SyncRun.Status.RUNNING)).update(
        **{
            name: Case(
                When(ours, then=Value(getattr(run, name))),
                default=closed.get(name, F(name)),
                output_field=SyncRun._meta.get_field(name),
            )
            for name in _RUN_RESULT_FIELDS
        }
    )


def _record_success(run: SyncRun, calendar: ExternalCalendar, progress: _Progress, started, *, full, now) -> None:
    _finish(run, progress, started, SyncRun.Status.SUCCEEDED)
    # No cursor on the last page means the provider gave none: the next run is full again.
    calendar.sync_cursor = progress.cursor or ""
    calendar.last_synced_at = run.finished_at
    calendar.last_error = ""
    calendar.failing_since = None
    fields = ["sync_cursor", "last_synced_at", "last_error", "failing_since"] + (["window_end"] if full else [])
    ExternalCalendar.objects.filter(pk=calendar.pk).update(**{name: getattr(calendar, name) for name in fields})
    # A success clears an earlier error; reauth_required and disconnected are left to the
    # connection flow (another calendar of the same grant may just have lost its token).
    Status = CalendarConnection.Status
    CalendarConnection.objects.filter(pk=calendar.connection_id).exclude(status=Status.DISCONNECTED).update(
        status=Case(When(status=Status.ERROR, then=Value(Status.ACTIVE)), default=F("status")),
        last_synced_at=run.finished_at,
        last_error="",
        updated_at=run.finished_at,
    )
    logger.info(
        "synced calendar %s (%s, %s): %s pages, %s events, %s upserted, %s deleted in %s ms",
        calendar.pk,
        run.kind,
        run.trigger,
        run.pages,
        run.events_seen,
        run.blocks_upserted,
        run.blocks_deleted,
        run.duration_ms,
    )


def error_text(exc: BaseException) -> str:
    """What we show of a failure: the class and our own message (never a token or a body)."""
    message = str(exc)
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return text[:ERROR_MAX_CHARS]


def _record_failure(run: SyncRun, calendar: ExternalCalendar, progress: _Progress, started, exc: Exception) -> None:
    _finish(run, progress, started, SyncRun.Status.FAILED, error_text(exc))
    ExternalCalendar.objects.filter(pk=calendar.pk).update(last_error=run.error)
    ExternalCalendar.objects.filter(pk=calendar.pk, failing_since__isnull=True).update(failing_since=run.started_at)
    status = (
        CalendarConnection.Status.REAUTH_REQUIRED
        if isinstance(exc, ReauthRequired)
        else CalendarConnection.Status.ERROR
    )
    CalendarConnection.objects.filter(pk=calendar.connection_id).exclude(
        status__in=[CalendarConnection.Status.DISCONNECTED, CalendarConnection.Status.REAUTH_REQUIRED]
    ).update(status=status, last_error=run.error, updated_at=run.finished_at)
    logger.warning("sync of calendar %s failed (%s, %s): %s", calendar.pk, run.kind, run.trigger, run.error)
