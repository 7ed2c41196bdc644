"""The live check (SPEC §11): before a public booking, ask every connected provider now.

A notification can lag the change it announces by seconds; a booking in those seconds
would land on a time that is already busy. So before the booking takes its lock, every
active connection of the merchant is asked about the booking's interval, all at once in
threads (Google ``freeBusy.query``, Graph ``calendarView``, CalDAV ``calendar-query``), and
the booking waits at most ``BOOKING_LIVE_CHECK_SECONDS`` for the answers.

- Any provider says busy (by the connection's own busy rules): the booking is refused and
  a sync of that calendar is queued, so the stored blocks catch up.
- No answer in time, or an error: the stored blocked times decide, and it is logged.

Threads only do HTTP: everything they need from the database is read before they start,
and a token refreshed on the way is saved by the client's callback on that thread's own
database connection, closed when it ends.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass

from django.conf import settings
from django.db import connections

from integrations.models import CalendarConnection, ExternalCalendar, SyncRun
from integrations.providers.base import RemoteEvent
from integrations.services.clients import connection_client
from integrations.services.sync import calendar_sync_enqueue
from integrations.sync.rules import BusyPreferences, event_block

logger = logging.getLogger(__name__)

LIVE = (CalendarConnection.Status.ACTIVE, CalendarConnection.Status.ERROR)


@dataclass(frozen=True)
class _Ask:
    connection: CalendarConnection
    calendars: dict[str, int]  # external id -> our calendar id


def _asks(merchant_id: int) -> list[_Ask]:
    calendars = (
        ExternalCalendar.objects.filter(
            connection__merchant_id=merchant_id,
            connection__status__in=LIVE,
            connection__access_token__isnull=False,  # an OAuth token or a CalDAV password to ask with
            selected=True,
        )
        .select_related("connection__merchant")  # the threads touch no database
        .order_by("connection_id")
    )
    asks: dict[int, _Ask] = {}
    for calendar in calendars:
        ask = asks.setdefault(calendar.connection_id, _Ask(connection=calendar.connection, calendars={}))
        ask.calendars[calendar.external_id] = calendar.pk
    return list(asks.values())


def _ask(ask: _Ask, start: dt.datetime, end: dt.datetime) -> list[RemoteEvent]:
    try:
        client = connection_client(ask.connection)
        return client.busy_between(list(ask.calendars), start=start, end=end)
    finally:
        connections.close_all()  # this thread's own connections (a saved token refresh)


def _says_busy(ask: _Ask, events: list[RemoteEvent], start: dt.datetime, end: dt.datetime, zone) -> bool:
    prefs = BusyPreferences(block_tentative=ask.connection.block_tentative, block_all_day=ask.connection.block_all_day)
    for event in events:
        block = event_block(event, prefs=prefs, zone=zone)
        if block is not None and block.start < end and block.end > start:
            return True
    return False


def interval_busy_now(*, merchant, start: dt.datetime, end: dt.datetime) -> bool | None:
    """True when a provider says ``[start, end)`` is busy now; False when every provider
    answered free; None when there is nothing to ask or some answer did not come in time."""
    deadline = settings.BOOKING_LIVE_CHECK_SECONDS
    if deadline <= 0:
        return None  # turned off
    asks = _asks(merchant.pk)
    if not asks:
        return None
    started = time.monotonic()
    pool = ThreadPoolExecutor(max_workers=len(asks), thread_name_prefix="live-check")
    try:
        futures = {pool.submit(_ask, ask, start, end): ask for ask in asks}
        done, late = wait(futures, timeout=deadline)
    finally:
        # Never wait for a straggler: it finishes (or times out) on its own thread.
        pool.shutdown(wait=False, cancel_futures=True)
    unknown = bool(late)
    busy = False
    for future in done:
        ask = futures[future]
        try:
            events = future.result()
        except Exception as exc:  # noqa: BLE001 - any failure: the stored blocks decide
            unknown = True
            logger.warning(
                "live check of connection %s (%s) failed, stored blocks decide: %s",
                ask.connection.pk,
                ask.connection.provider,
                exc,
            )
            continue
        if _says_busy(ask, events, start, end, merchant.zone):
            busy = True
            # The stored blocks are behind: sync what this connection has.
            for calendar_id in ask.calendars.values():
                calendar_sync_enqueue(calendar_id=calendar_id, trigger=SyncRun.Trigger.LIVE_CHECK)
    for future in late:
        ask = futures[future]
        logger.warning(
            "live check of connection %s (%s) gave no answer within %.1f s, stored blocks decide",
            ask.connection.pk,
            ask.connection.provider,
            deadline,
        )
    logger.info(
        "live check of merchant %s: %s in %.0f ms",
        merchant.pk,
        "busy" if busy else ("unknown" if unknown else "free"),
        (time.monotonic() - started) * 1000,
    )
    if busy:
        return True
    return None if unknown else False


def live_check_receiver(sender, *, merchant, start: dt.datetime, end: dt.datetime, **kwargs) -> bool | None:
    """``scheduling.signals.live_check``."""
    return interval_busy_now(merchant=merchant, start=start, end=end)
