"""Synced blocked times: batched, idempotent writes keyed by (calendar, external key).

A page of events costs a constant number of queries whatever its size: one SELECT of the
blocks already stored for the page's keys, one bulk INSERT of new ones, one bulk UPDATE
of moved ones, one DELETE of the ones that stopped being busy. Unchanged blocks are not
written at all, so re-running a sync changes nothing. (SQLite splits bulk statements into
batches of ~100 rows because of its bound-parameter limit; PostgreSQL does not.)

The unique constraint on (calendar, external_key) is partial, which ``ON CONFLICT`` cannot
target, so inserts and updates are told apart by the SELECT; the per-calendar sync lock
keeps a second writer out, and the constraint still refuses a duplicate if one slips in.
https://docs.djangoproject.com/en/5.2/ref/models/querysets/#bulk-create
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from integrations.models import ExternalCalendar
from integrations.providers.base import GROUP_SEPARATOR
from integrations.sync.rules import BlockInterval
from scheduling.models import BlockedTime

_UPDATED = ("start", "end", "all_day", "reason", "updated_at")
DELETE_CHUNK = 500  # ids per DELETE when sweeping; keeps SQLite under its parameter limit


@dataclass(slots=True)
class WriteCounts:
    upserted: int = 0
    deleted: int = 0

    def add(self, other: WriteCounts) -> None:
        self.upserted += other.upserted
        self.deleted += other.deleted


def _same(stored: tuple, interval: BlockInterval) -> bool:
    _pk, start, end, all_day, reason = stored
    return start == interval.start and end == interval.end and all_day == interval.all_day and reason == interval.reason


@transaction.atomic
def blocked_times_apply(
    *,
    calendar: ExternalCalendar,
    blocks: Mapping[str, BlockInterval | None],
    replaced_groups: Iterable[str] = (),
) -> WriteCounts:
    """Make the calendar's stored blocks for ``blocks``' keys match it exactly.

    A key mapped to an interval gets exactly that blocked time (timing and reason); a key mapped to None has
    none afterwards. Keys not in ``blocks`` are left alone, except in ``replaced_groups``:
    a stored block whose key is ``group + GROUP_SEPARATOR + ...`` and not in ``blocks``
    goes (one more DELETE per page; see ``EventPage.replaced_groups``).

    Stored rows are read as tuples and new ones written as tuples: model instances only for
    the (few) moved blocks ``bulk_update`` needs (building 2,500 instances per page was a
    fifth of a full sync's time, bench/sync.py).
    """
    replaced = _groups_replace(calendar=calendar, groups=replaced_groups, keep=blocks)
    if not blocks:
        return WriteCounts(deleted=replaced)
    existing = {
        row[1]: (row[0], *row[2:])
        for row in BlockedTime.objects.filter(calendar=calendar, external_key__in=list(blocks)).values_list(
            "id", "external_key", "start", "end", "all_day", "reason"
        )
    }
    to_create: list[tuple[str, BlockInterval]] = []
    to_update: list[BlockedTime] = []
    to_delete: list[int] = []
    now = timezone.now()
    for key, interval in blocks.items():
        stored = existing.get(key)
        if interval is None:
            if stored is not None:
                to_delete.append(stored[0])
        elif stored is None:
            to_create.append((key, interval))
        elif not _same(stored, interval):
            to_update.append(
                BlockedTime(
                    pk=stored[0],
                    start=interval.start,
                    end=interval.end,
                    all_day=interval.all_day,
                    reason=str(interval.reason),
                    updated_at=now,  # bulk_update does not run auto_now
                )
            )
    if to_create:
        _insert(calendar, to_create)
    if len(to_update) == 1:  # an incremental sync's usual page: a plain UPDATE, no CASE to build
        [block] = to_update
        BlockedTime.objects.filter(pk=block.pk).update(**{name: getattr(block, name) for name in _UPDATED})
    elif to_update:
        BlockedTime.objects.bulk_update(to_update, _UPDATED)
    if to_delete:
        BlockedTime.objects.filter(pk__in=to_delete).delete()
    return WriteCounts(upserted=len(to_create) + len(to_update), deleted=len(to_delete) + replaced)


def _groups_replace(*, calendar: ExternalCalendar, groups: Iterable[str], keep: Mapping[str, object]) -> int:
    condition = Q()
    for group in set(groups):
        condition |= Q(external_key__startswith=group + GROUP_SEPARATOR)
    if not condition:
        return 0
    stale = [
        pk
        for pk, key in BlockedTime.objects.filter(condition, calendar=calendar).values_list("pk", "external_key")
        if key not in keep
    ]
    if stale:
        BlockedTime.objects.filter(pk__in=stale).delete()
    return len(stale)


_COPY_FIELDS = (
    "merchant",
    "calendar",
    "external_key",
    "source",
    "start",
    "end",
    "all_day",
    "note",
    "reason",
    "created_at",
    "updated_at",
)


def _insert(calendar: ExternalCalendar, rows: list[tuple[str, BlockInterval]]) -> None:
    """One statement for the whole page: ``COPY`` on PostgreSQL, ``bulk_create`` elsewhere.

    ``COPY`` skips the per-value work of an ``INSERT`` with thousands of parameters (about
    a third of a 2,500-event page's cost, measured by bench/sync.py); constraints,
    indexes and foreign keys are checked exactly as for an ``INSERT``.
    """
    merchant_id, source = calendar.connection.merchant_id, calendar.connection.provider
    if connection.vendor != "postgresql":
        BlockedTime.objects.bulk_create(
            BlockedTime(
                merchant_id=merchant_id,
                calendar=calendar,
                external_key=key,
                source=source,
                start=interval.start,
                end=interval.end,
                all_day=interval.all_day,
                reason=str(interval.reason),
            )
            for key, interval in rows
        )
        return
    fields = [BlockedTime._meta.get_field(name) for name in _COPY_FIELDS]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    now = timezone.now()
    note = BlockedTime._meta.get_field("note").get_default()
    statement = f"COPY {BlockedTime._meta.db_table} ({columns}) FROM STDIN"
    calendar_id = calendar.pk
    with connection.cursor() as cursor, connection.wrap_database_errors, cursor.cursor.copy(statement) as copy:
        write = copy.write_row
        for key, i in rows:
            write((merchant_id, calendar_id, key, source, i.start, i.end, i.all_day, note, str(i.reason), now, now))


def blocked_times_sweep(*, calendar: ExternalCalendar, keep: Iterable[str], ending_after: dt.datetime) -> int:
    """Delete the calendar's blocks ending after ``ending_after`` whose key is not in ``keep``.

    The reconcile step of a full sync: what the full listing did not return as busy is
    gone at the provider. Blocks that ended before the window are history and stay.
    """
    keep = set(keep)
    stale = [
        pk
        for pk, key in BlockedTime.objects.filter(calendar=calendar, end__gt=ending_after).values_list(
            "pk", "external_key"
        )
        if key not in keep
    ]
    for i in range(0, len(stale), DELETE_CHUNK):
        BlockedTime.objects.filter(pk__in=stale[i : i + DELETE_CHUNK]).delete()
    return len(stale)
