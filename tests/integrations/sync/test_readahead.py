"""Read-ahead (``integrations.sync.readahead``): page n+1 is fetched on a thread while page n
is applied, never further ahead; errors arrive in order; work handed to the caller's thread
runs there; leaving early stops the thread. Then the same through a real full sync."""

from __future__ import annotations

import threading

import pytest

from integrations.models import CalendarConnection, ExternalCalendar, SyncRun
from integrations.services.clients import connection_client
from integrations.sync.engine import calendar_sync
from integrations.sync.readahead import on_caller_thread, read_ahead
from tests.integrations.sync.conftest import at, timed_event

WAIT = 10  # seconds: a guard against a hang, not a timing


def test_pages_arrive_in_order_and_the_next_is_fetched_while_one_is_handled():
    fetching = [threading.Event() for _ in range(6)]
    fetched: list[int] = []

    def listing():
        for n in range(5):
            fetching[n].set()
            fetched.append(n)
            yield n

    seen = []
    with read_ahead(listing()) as pages:
        for page in pages:
            # While page n is handled, page n+1 is fetched (the last one has no successor) ...
            if page < 4:
                assert fetching[page + 1].wait(WAIT)
            # ... and never page n+2.
            assert max(fetched) <= page + 1
            seen.append(page)
    assert seen == [0, 1, 2, 3, 4]


def test_an_error_fetching_a_page_is_raised_after_the_pages_before_it():
    def listing():
        yield 1
        yield 2
        raise ValueError("page 3 failed")

    seen = []
    with pytest.raises(ValueError, match="page 3 failed"), read_ahead(listing()) as pages:
        for page in pages:
            seen.append(page)
    assert seen == [1, 2]


def test_work_handed_to_the_caller_runs_on_the_callers_thread_with_its_result_or_error():
    def fails():
        raise LookupError("from the caller's thread")

    def listing():
        yield ("listing thread", threading.get_ident())
        yield ("handed over", on_caller_thread(threading.get_ident))
        try:
            on_caller_thread(fails)
        except LookupError as exc:
            yield ("error handed back", str(exc))

    with read_ahead(listing()) as pages:
        answers = dict(pages)
    assert answers["listing thread"] != threading.get_ident()
    assert answers["handed over"] == threading.get_ident()
    assert answers["error handed back"] == "from the caller's thread"
    # Outside a read-ahead thread it is a plain call.
    assert on_caller_thread(threading.get_ident) == threading.get_ident()


def test_leaving_early_stops_the_thread_and_closes_the_listing():
    closed = threading.Event()
    threads: list[threading.Thread] = []

    def listing():
        threads.append(threading.current_thread())
        try:
            yield from range(100)
        finally:
            closed.set()

    with pytest.raises(RuntimeError, match="write failed"), read_ahead(listing()) as pages:
        for page in pages:
            if page == 1:
                raise RuntimeError("write failed")
    assert closed.is_set()  # before read_ahead returned, on the listing's thread
    assert not threads[0].is_alive()


def test_a_listing_never_started_needs_no_thread():
    with read_ahead(iter(())):
        pass


# --- through a full sync against the emulator ------------------------------------------------


def test_a_token_refreshed_on_the_read_ahead_thread_is_saved_on_the_syncs_own(gcal):
    """The access token expires mid-listing: the read-ahead thread refreshes it (Google answers
    401) and the new token is saved through the sync's own database connection, in the same
    transaction as everything else of this test."""
    ids = {gcal.add(timed_event(at(2 + i))) for i in range(8)}
    gcal.emulator.set_page_size(2)
    calendar = ExternalCalendar.objects.select_related("connection__merchant").get(pk=gcal.calendar.pk)
    before = CalendarConnection.objects.get(pk=calendar.connection_id).access_token
    pages = []

    def after_page():
        pages.append(1)
        if len(pages) == 1:
            gcal.emulator.expire_access_tokens()

    run = calendar_sync(
        calendar=calendar,
        client=connection_client(calendar.connection),
        trigger="manual",
        full=True,
        heartbeat=after_page,
    )
    assert (run.status, run.kind, run.pages) == (SyncRun.Status.SUCCEEDED, SyncRun.Kind.FULL, 4)
    assert set(gcal.blocks()) == ids
    saved = CalendarConnection.objects.get(pk=calendar.connection_id).access_token
    assert saved and saved != before
    assert gcal.emulator.calls("token")  # it really was refreshed


def test_the_thread_switch_interval_is_short_during_a_read_ahead_and_restored_after():
    import sys

    before = sys.getswitchinterval()
    with read_ahead(iter([1])) as pages:
        assert sys.getswitchinterval() <= 0.001
        assert list(pages) == [1]
    assert sys.getswitchinterval() == before
