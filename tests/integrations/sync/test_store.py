"""The blocked-time store: exact, idempotent, batched writes keyed by (calendar, external key)."""

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from integrations.models import CalendarConnection, ExternalCalendar
from integrations.sync.rules import BlockInterval, BlockReason
from integrations.sync.store import _insert, blocked_times_apply, blocked_times_stored, blocked_times_sweep
from scheduling.models import BlockedTime

T0 = dt.datetime(2030, 5, 6, 8, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


@pytest.fixture
def calendar(merchant):
    connection = CalendarConnection.objects.create(merchant=merchant, provider="google", account_email="m@example.com")
    return ExternalCalendar.objects.create(connection=connection, external_id="m@example.com", selected=True)


def interval(hours_from_t0: int, length: int = 1) -> BlockInterval:
    start = T0 + hours_from_t0 * HOUR
    return BlockInterval(start=start, end=start + length * HOUR)


def stored(calendar):
    return {b.external_key: (b.start, b.end, b.all_day) for b in BlockedTime.objects.filter(calendar=calendar)}


def test_apply_creates_moves_and_deletes(calendar):
    counts = blocked_times_apply(calendar=calendar, blocks={"a": interval(0), "b": interval(2), "c": None})
    assert (counts.upserted, counts.deleted) == (2, 0)
    counts = blocked_times_apply(calendar=calendar, blocks={"a": interval(5), "b": None})
    assert (counts.upserted, counts.deleted) == (1, 1)
    assert stored(calendar) == {"a": (T0 + 5 * HOUR, T0 + 6 * HOUR, False)}
    block = BlockedTime.objects.get(calendar=calendar)
    assert block.source == "google"
    assert block.merchant_id == calendar.connection.merchant_id
    assert block.note == ""


def test_apply_twice_writes_nothing_the_second_time(calendar, django_assert_num_queries):
    blocks = {f"k{i}": interval(i) for i in range(20)}
    blocked_times_apply(calendar=calendar, blocks=blocks)
    before = list(BlockedTime.objects.filter(calendar=calendar).values_list("pk", "start", "end", "updated_at"))
    with django_assert_num_queries(1):  # the SELECT: no write, so no transaction either
        counts = blocked_times_apply(calendar=calendar, blocks=blocks)
    assert (counts.upserted, counts.deleted) == (0, 0)
    assert list(BlockedTime.objects.filter(calendar=calendar).values_list("pk", "start", "end", "updated_at")) == before


def test_apply_costs_the_same_queries_for_few_or_many_events(calendar, django_assert_max_num_queries):
    blocked_times_apply(calendar=calendar, blocks={f"old{i}": interval(i) for i in range(60)})
    # 60 moved, 60 deleted, 60 created in one call: SELECT + INSERT + UPDATE + DELETE (+ savepoint).
    blocks = {f"old{i}": interval(i + 100) for i in range(60)}
    blocks |= {f"gone{i}": None for i in range(60)}
    blocks |= {f"new{i}": interval(i + 300) for i in range(60)}
    with django_assert_max_num_queries(6):
        counts = blocked_times_apply(calendar=calendar, blocks=blocks)
    assert counts.upserted == 120


def test_keys_are_per_calendar(calendar, merchant):
    other = ExternalCalendar.objects.create(connection=calendar.connection, external_id="team@example.com")
    blocked_times_apply(calendar=calendar, blocks={"same": interval(0)})
    blocked_times_apply(calendar=other, blocks={"same": interval(3)})
    assert stored(calendar) == {"same": (T0, T0 + HOUR, False)}
    assert stored(other) == {"same": (T0 + 3 * HOUR, T0 + 4 * HOUR, False)}


def test_manual_blocks_are_never_touched(calendar, merchant):
    manual = BlockedTime.objects.create(merchant=merchant, start=T0, end=T0 + HOUR, note="dentist")
    blocked_times_apply(calendar=calendar, blocks={"a": interval(0)})
    blocked_times_sweep(calendar=calendar, keep=set(), ending_after=T0 - 100 * HOUR)
    manual.refresh_from_db()
    assert manual.note == "dentist"
    assert not BlockedTime.objects.filter(calendar=calendar).exists()


def test_sweep_removes_what_the_listing_did_not_return_but_keeps_history(calendar):
    blocked_times_apply(calendar=calendar, blocks={"past": interval(-48), "kept": interval(1), "gone": interval(2)})
    deleted = blocked_times_sweep(calendar=calendar, keep={"kept"}, ending_after=T0)
    assert deleted == 1
    assert set(stored(calendar)) == {"past", "kept"}


def test_the_unique_constraint_refuses_a_duplicate_key(calendar, merchant):
    blocked_times_apply(calendar=calendar, blocks={"a": interval(0)})
    with pytest.raises(IntegrityError):
        BlockedTime.objects.create(merchant=merchant, calendar=calendar, external_key="a", start=T0, end=T0 + HOUR)


def test_a_page_insert_is_checked_like_an_insert(calendar, merchant):
    """The per-page insert (COPY on PostgreSQL, bulk INSERT elsewhere) meets the same constraints."""

    def block(key: str, length: int = 1) -> tuple[str, BlockInterval]:
        return key, BlockInterval(start=T0, end=T0 + length * HOUR, reason=BlockReason.TENTATIVE)

    _insert(calendar, [block("a"), block("b")])
    with pytest.raises(IntegrityError), transaction.atomic():
        _insert(calendar, [block("c"), block("a")])  # duplicate key
    with pytest.raises(IntegrityError), transaction.atomic():
        _insert(calendar, [block("d", length=0)])  # end not after start
    assert set(stored(calendar)) == {"a", "b"}
    rows = BlockedTime.objects.filter(calendar=calendar)
    assert all(b.created_at and b.updated_at and b.merchant_id == merchant.pk for b in rows)
    assert {(b.source, b.reason, b.note) for b in rows} == {("google", "tentative", "")}


# --- the reason a synced block blocks ------------------------------------------------------


def reasons(calendar) -> dict[str, str]:
    return dict(BlockedTime.objects.filter(calendar=calendar).values_list("external_key", "reason"))


def test_apply_writes_each_blocks_reason(calendar):
    blocked_times_apply(
        calendar=calendar,
        blocks={
            "busy": interval(0),
            "maybe": BlockInterval(T0 + HOUR, T0 + 2 * HOUR, reason=BlockReason.TENTATIVE),
            "day": BlockInterval(T0, T0 + 24 * HOUR, all_day=True, reason=BlockReason.ALL_DAY),
        },
    )
    assert reasons(calendar) == {"busy": "busy", "maybe": "tentative", "day": "all_day"}


def test_a_change_of_reason_alone_is_written(calendar, django_assert_num_queries):
    same_time = interval(0)
    blocked_times_apply(calendar=calendar, blocks={"a": BlockInterval(same_time.start, same_time.end)})
    before = BlockedTime.objects.get(calendar=calendar)
    # The merchant answered "maybe" to an event that was busy: same instants, new reason.
    tentative = BlockInterval(same_time.start, same_time.end, reason=BlockReason.TENTATIVE)
    counts = blocked_times_apply(calendar=calendar, blocks={"a": tentative})
    assert (counts.upserted, counts.deleted) == (1, 0)
    after = BlockedTime.objects.get(calendar=calendar)
    assert (after.pk, after.reason) == (before.pk, "tentative")
    with django_assert_num_queries(1):  # and once written, re-applying writes nothing (one SELECT)
        assert blocked_times_apply(calendar=calendar, blocks={"a": tentative}).upserted == 0


def test_blocks_stored_without_a_reason_get_one_on_the_next_apply(calendar, merchant):
    """Blocks synced before reasons existed (blank) are filled in by the next sync's writes."""
    BlockedTime.objects.create(
        merchant=merchant, calendar=calendar, external_key="old", source="google", start=T0, end=T0 + HOUR
    )
    assert blocked_times_apply(calendar=calendar, blocks={"old": interval(0)}).upserted == 1
    assert reasons(calendar) == {"old": "busy"}


@pytest.mark.postgres
def test_the_postgresql_copy_insert_writes_the_reason(calendar, merchant):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: run with DATABASE_URL=postgres://...")

    def block(key: str, reason: str, *, all_day: bool = False) -> tuple[str, BlockInterval]:
        return key, BlockInterval(start=T0, end=T0 + HOUR, all_day=all_day, reason=BlockReason(reason))

    with CaptureQueriesContext(connection) as queries:
        _insert(calendar, [block("b", "busy"), block("t", "tentative"), block("d", "all_day", all_day=True)])
    # COPY goes past Django's cursor wrapper: no INSERT was made, yet the rows are there.
    assert not [q for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("INSERT")]
    assert reasons(calendar) == {"b": "busy", "t": "tentative", "d": "all_day"}
    # And through the store's own path: a page of new blocks goes through COPY with its reasons.
    blocked_times_apply(
        calendar=calendar,
        blocks={f"p{i}": BlockInterval(T0, T0 + HOUR, reason=BlockReason.TENTATIVE) for i in range(5)},
    )
    assert {reasons(calendar)[f"p{i}"] for i in range(5)} == {"tentative"}


# --- a full sync's one read of the stored blocks ----------------------------------------------


def test_a_full_sync_reads_the_stored_blocks_once_and_keeps_its_picture_current(calendar):
    """With ``stored`` no page SELECTs, a key repeated on a later page is re-read (COPY hands back
    no pk), and the sweep works from the picture: the same blocks as reading the table."""
    blocked_times_apply(calendar=calendar, blocks={"moved": interval(1), "freed": interval(2), "gone": interval(3)})
    picture = blocked_times_stored(calendar=calendar)
    with CaptureQueriesContext(connection) as queries:
        first = blocked_times_apply(
            calendar=calendar, blocks={"moved": interval(5), "freed": None, "new": interval(6)}, stored=picture
        )
    assert not [q for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
    again = blocked_times_apply(calendar=calendar, blocks={"new": interval(7)}, stored=picture)  # re-read, moved
    assert (first.upserted, first.deleted, again.upserted) == (2, 1, 1)
    deleted = blocked_times_sweep(calendar=calendar, keep={"moved", "new"}, ending_after=T0, stored=picture)
    assert deleted == 1  # "gone"
    assert stored(calendar) == {
        "moved": (T0 + 5 * HOUR, T0 + 6 * HOUR, False),
        "new": (T0 + 7 * HOUR, T0 + 8 * HOUR, False),
    }
