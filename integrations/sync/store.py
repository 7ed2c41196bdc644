"""Synced blocked times: batched, idempotent writes keyed by (calendar, external key).

A page of events costs a constant number of queries whatever its size: one SELECT of the
blocks already stored for the page's keys, one bulk INSERT of new ones, one bulk UPDATE
of moved ones, one DELETE of the ones that stopped being busy. A full sync reads the
calendar's stored blocks once instead (:class:`StoredBlocks`), for every page and the sweep. Unchanged blocks are not
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
from dataclasses import dataclass, field

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


_STORED = ("id", "external_key", "start", "end", "all_day", "reason")


def _stored_rows(queryset) -> dict[str, tuple]:
    return {row[1]: (row[0], *row[2:]) for row in queryset.values_list(*_STORED)}


@dataclass(slots=True)
class StoredBlocks:
    """A full sync's picture of the calendar's stored blocks: read once at its start
    (:func:`blocked_times_stored`) and kept current by every write it makes, so its pages
    and its sweep need no SELECT of their own (the sync lock keeps other writers out).

    ``rows``: key -> (pk, start, end, all_day, reason) of blocks whose pk is known;
    ``inserted``: keys this sync inserted (``COPY`` hands back no pk: re-read if seen again).
    """

    rows: dict[str, tuple]
    inserted: set[str] = field(default_factory=set)


def blocked_times_stored(*, calendar: ExternalCalendar) -> StoredBlocks:
    """Every stored block of the calendar, in one query (none on a first sync)."""
    return StoredBlocks(rows=_stored_rows(BlockedTime.objects.filter(calendar=calendar)))


def blocked_times_apply(
    *,
    calendar: ExternalCalendar,
    blocks: Mapping[str, BlockInterval | None],
    replaced_groups: Iterable[str] = (),
    stored: StoredBlocks | None = None,
) -> WriteCounts:
    """Make the calendar's stored blocks for ``blocks``' keys match it exactly.

    A key mapped to an interval gets exactly that blocked time (timing and reason); a key mapped to None has
    none afterwards. Keys not in ``blocks`` are left alone, except in ``replaced_groups``:
    a stored block whose key is ``group + GROUP_SEPARATOR + ...`` and not in ``blocks``
    goes (one more DELETE per page; see ``EventPage.replaced_groups``).

    ``stored`` (a full sync): what is stored is known, no SELECT; it is updated with what
    this call writes. The writes of a page are one transaction; a page needing a single
    write statement (an incremental sync's usual page) sends it without BEGIN/COMMIT, two
    round trips of ~12 per incremental sync (bench/sync.py). Stored rows are read as
    tuples and new ones written as tuples: model instances only for the (few) moved blocks
    ``bulk_update`` needs (building 2,500 instances per page was a fifth of a full sync's
    time, bench/sync.py).
    """
    replaced_groups = list(replaced_groups)
    if replaced_groups:  # group deletes too (CalDAV): everything in one transaction
        with transaction.atomic():
            replaced = _groups_replace(calendar=calendar, groups=replaced_groups, keep=blocks, stored=stored)
            return _write(calendar, _changes(calendar, blocks, stored), stored, replaced)
    changes = _changes(calendar, blocks, stored)
    if changes.statements() <= 1:
        return _write(calendar, changes, stored, 0)
    with transaction.atomic():
        return _write(calendar, changes, stored, 0)


@dataclass(slots=True)
class _Changes:
    create: list[tuple[str, BlockInterval]] = field(default_factory=list)
    update: list[BlockedTime] = field(default_factory=list)
    delete: list[tuple[int, str]] = field(default_factory=list)

    def statements(self) -> int:
        return bool(self.create) + bool(self.update) + bool(self.delete)


def _changes(calendar, blocks: Mapping[str, BlockInterval | None], stored: StoredBlocks | None) -> _Changes:
    """What must be written for ``blocks`` (reads only)."""
    changes = _Changes()
    if not blocks:
        return changes
    if stored is None:
        existing = _stored_rows(BlockedTime.objects.filter(calendar=calendar, external_key__in=list(blocks)))
    else:
        existing = {key: stored.rows[key] for key in blocks if key in stored.rows}
        again = [key for key in blocks if key in stored.inserted]  # a repeated id across pages: rare
        if again:
            existing |= _stored_rows(BlockedTime.objects.filter(calendar=calendar, external_key__in=again))
    now = timezone.now()
    for key, interval in blocks.items():
        row = existing.get(key)
        if interval is None:
            if row is not None:
                changes.delete.append((row[0], key))
        elif row is None:
            changes.create.append((key, interval))
        elif not _same(row, interval):
            changes.update.append(
                BlockedTime(
                    pk=row[0],
                    external_key=key,
                    start=interval.start,
                    end=interval.end,
                    all_day=interval.all_day,
                    reason=str(interval.reason),
                    updated_at=now,  # bulk_update does not run auto_now
                )
            )
    return changes


def _write(calendar, changes: _Changes, stored: StoredBlocks | None, replaced: int) -> WriteCounts:
    if changes.create:
        _insert(calendar, changes.create)
    if len(changes.update) == 1:  # an incremental sync's usual page: a plain UPDATE, no CASE to build
        [block] = changes.update
        BlockedTime.objects.filter(pk=block.pk).update(**{name: getattr(block, name) for name in _UPDATED})
    elif changes.update:
        BlockedTime.objects.bulk_update(changes.update, _UPDATED)
    if changes.delete:
        BlockedTime.objects.filter(pk__in=[pk for pk, _key in changes.delete]).delete()
    if stored is not None:
        stored.inserted.update(key for key, _interval in changes.create)
        for block in changes.update:
            stored.rows[block.external_key] = (block.pk, block.start, block.end, block.all_day, block.reason)
            stored.inserted.discard(block.external_key)
        for _pk, key in changes.delete:
            stored.rows.pop(key, None)
            stored.inserted.discard(key)
    return WriteCounts(upserted=len(changes.create) + len(changes.update), deleted=len(changes.delete) + replaced)


def _groups_replace(
    *, calendar: ExternalCalendar, groups: Iterable[str], keep: Mapping[str, object], stored: StoredBlocks | None
) -> int:
    condition = Q()
    for group in set(groups):
        condition |= Q(external_key__startswith=group + GROUP_SEPARATOR)
    if not condition:
        return 0
    stale = [
        (pk, key)
        for pk, key in BlockedTime.objects.filter(condition, calendar=calendar).values_list("pk", "external_key")
        if key not in keep
    ]
    if stale:
        BlockedTime.objects.filter(pk__in=[pk for pk, _key in stale]).delete()
    if stored is not None:
        for _pk, key in stale:
            stored.rows.pop(key, None)
            stored.inserted.discard(key)
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


def blocked_times_sweep(
    *, calendar: ExternalCalendar, keep: Iterable[str], ending_after: dt.datetime, stored: StoredBlocks | None = None
) -> int:
    """Delete the calendar's blocks ending after ``ending_after`` whose key is not in ``keep``.

    The reconcile step of a full sync: what the full listing did not return as busy is
    gone at the provider. Blocks that ended before the window are history and stay.
    ``stored``: the sync's own picture of the stored blocks (no SELECT); every block it
    inserted is in ``keep``, so only rows with a known pk can be stale.
    """
    keep = set(keep)
    if stored is None:
        rows = BlockedTime.objects.filter(calendar=calendar, end__gt=ending_after).values_list("pk", "external_key")
        stale = [pk for pk, key in rows if key not in keep]
    else:
        stale = [row[0] for key, row in stored.rows.items() if row[2] > ending_after and key not in keep]
    for i in range(0, len(stale), DELETE_CHUNK):
        BlockedTime.objects.filter(pk__in=stale[i : i + DELETE_CHUNK]).delete()
    return len(stale)
