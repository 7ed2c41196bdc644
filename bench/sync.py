"""Targets 1 and 2: full sync of a 20,000-event calendar, then incremental syncs of one change.

    .venv/bin/python -m bench.sync [--events 20000] [--series 20] [--rounds 3] [--changes 20]

The emulator runs in its own process with the calendar (``--events`` stored events, of
which ``--series`` are endless recurring series, expanded by ``singleEvents=true``). In
this process, against PostgreSQL and Redis:

- baseline: fetch the same ``events.list`` pages the full sync fetches (same query, same
  token, httplib2 like Google's client) and ``json.loads`` them, nothing else;
- provider layer: Google's client + our mapping + the busy rules, no database;
- full sync: ``calendar_sync_run`` (lock, listing, writes, reconcile, run record) into an
  empty calendar; rounds alternate with the baseline so noise hits both alike;
- queries per full sync at three page sizes (they grow with pages, not events);
- peak memory: ``tracemalloc`` over one full sync, and the process's peak RSS;
- incremental: move one event, then ``calendar_sync_run`` (trigger ``notification``):
  API calls (the emulator's call log), queries and time, against a raw fetch of the same
  incremental page.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import itertools
import json
import resource
import time
import tracemalloc
from urllib.parse import quote, urlencode

from bench import harness


class QueryCounter:
    """Counts statements sent to the database (an executemany counts once), storing none of them."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


@contextlib.contextmanager
def counting_queries():
    """Statements sent through Django, plus the COPY statements the store sends past it."""
    import psycopg
    from django.db import connection

    counter = QueryCounter()
    copy = psycopg.Cursor.copy

    def counted_copy(cursor, *args, **kwargs):
        counter.count += 1
        return copy(cursor, *args, **kwargs)

    psycopg.Cursor.copy = counted_copy
    try:
        with connection.execute_wrapper(counter):
            yield counter
    finally:
        psycopg.Cursor.copy = copy


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def raw_fetch(connection, calendar_id: str, query: dict) -> tuple[int, int]:
    """GET every page of one events.list query and parse it; returns (pages, items)."""
    import httplib2
    from django.conf import settings

    http = httplib2.Http(timeout=120)
    url = f"{settings.GOOGLE_API_ROOT}calendar/v3/calendars/{quote(calendar_id, safe='')}/events"
    headers = {"Authorization": f"Bearer {connection.access_token}"}
    pages = items = 0
    page_token = None
    while True:
        params = dict(query, pageToken=page_token) if page_token else query
        response, content = http.request(f"{url}?{urlencode(params)}", headers=headers)
        assert response.status == 200, content[:500]
        page = json.loads(content)
        pages += 1
        items += len(page.get("items", ()))
        page_token = page.get("nextPageToken")
        if not page_token:
            return pages, items


def full_query() -> dict:
    from django.utils import timezone

    from integrations.providers.google.client import EVENTS_PAGE_SIZE, _rfc3339
    from integrations.sync.engine import sync_window

    window = sync_window(timezone.now())
    return {
        "singleEvents": "true",
        "maxResults": EVENTS_PAGE_SIZE,
        "timeMin": _rfc3339(window.start),
        "timeMax": _rfc3339(window.end),
    }


def provider_layer(connection, calendar) -> list:
    """Google's client, our mapping and the busy rules over the whole window; no database.
    Returns the busy (key, interval) pairs."""
    from django.utils import timezone

    from integrations.providers import client_for
    from integrations.sync.engine import _preferences, sync_window
    from integrations.sync.rules import event_block

    window = sync_window(timezone.now())
    prefs, zone = _preferences(connection), connection.merchant.zone
    blocks = []
    for page in client_for(connection).list_events(
        calendar.external_id, cursor=None, window_start=window.start, window_end=window.end
    ):
        for event in page.events:
            interval = event_block(event, prefs=prefs, zone=zone, window=window)
            if interval is not None:
                blocks.append((event.id, interval))
    return blocks


def store_floor(connection, calendar, blocks: list, page: int = 2500) -> float:
    """Seconds PostgreSQL takes to store these blocks alone: COPY in page-sized transactions,
    rows prepared beforehand (the database's share of a full sync, nothing of ours)."""
    from django.db import connection as db
    from django.db import transaction
    from django.utils import timezone

    now = timezone.now()
    rows = [
        (connection.merchant_id, calendar.pk, key, "google", b.start, b.end, b.all_day, "", str(b.reason), now, now)
        for key, b in blocks
    ]
    statement = (
        'COPY scheduling_blockedtime (merchant_id, calendar_id, external_key, source, start, "end", all_day, '
        "note, reason, created_at, updated_at) FROM STDIN"
    )
    started = time.perf_counter()
    for i in range(0, len(rows), page):
        with transaction.atomic(), db.cursor() as cursor, cursor.cursor.copy(statement) as copy:
            for row in rows[i : i + page]:
                copy.write_row(row)
    elapsed = time.perf_counter() - started
    calendar_empty(calendar)
    return elapsed


def calendar_empty(calendar) -> None:
    """Back to never synced: no blocks, no cursor (outside any timing)."""
    from integrations.models import ExternalCalendar
    from scheduling.models import BlockedTime

    BlockedTime.objects.filter(calendar=calendar).delete()
    ExternalCalendar.objects.filter(pk=calendar.pk).update(sync_cursor="", window_end=None)


@contextlib.contextmanager
def read_ahead_off():
    """The same full sync without read-ahead (``CALENDAR_SYNC_READ_AHEAD``): fetch, write, fetch..."""
    from django.conf import settings

    before = getattr(settings, "CALENDAR_SYNC_READ_AHEAD", True)
    settings.CALENDAR_SYNC_READ_AHEAD = False
    try:
        yield
    finally:
        settings.CALENDAR_SYNC_READ_AHEAD = before


def full_sync(calendar, trigger: str = "initial") -> dict:
    from integrations.services.sync import calendar_sync_run
    from scheduling.models import BlockedTime

    with counting_queries() as queries:
        started = time.perf_counter()
        runs = calendar_sync_run(calendar_id=calendar.pk, trigger=trigger)
        elapsed = time.perf_counter() - started
    [run] = runs
    assert run.status == "succeeded", run.error
    return {
        "seconds": elapsed,
        "queries": queries.count,
        "pages": run.pages,
        "events": run.events_seen,
        "upserted": run.blocks_upserted,
        "deleted": run.blocks_deleted,
        "blocks": BlockedTime.objects.filter(calendar=calendar).count(),
    }


def bench_full(emu, connection, calendar, rounds: int) -> dict:
    baseline, provider, floor, syncs, sequential = [], [], [], [], []
    # Warm-up: the emulator renders each event's JSON once and caches it; Google has no such cold start.
    pages, items = raw_fetch(connection, calendar.external_id, full_query())
    for i in range(rounds):
        calendar_empty(calendar)
        started = time.perf_counter()
        pages, items = raw_fetch(connection, calendar.external_id, full_query())
        baseline.append(time.perf_counter() - started)
        started = time.perf_counter()
        blocks = provider_layer(connection, calendar)
        provider.append(time.perf_counter() - started)
        floor.append(store_floor(connection, calendar, blocks))
        with read_ahead_off():
            sequential.append(full_sync(calendar)["seconds"])
        calendar_empty(calendar)
        syncs.append(full_sync(calendar))
        print(
            f"  round {i + 1}: baseline {baseline[-1]:.2f} s, provider layer {provider[-1]:.2f} s, "
            f"COPY floor {floor[-1]:.2f} s, without read-ahead {sequential[-1]:.2f} s, "
            f"full sync {syncs[-1]['seconds']:.2f} s ({syncs[-1]['queries']} queries)"
        )
    sync_seconds = [s["seconds"] for s in syncs]
    last = syncs[-1]
    again = full_sync(calendar, trigger="manual")  # nothing changed: reads only
    return {
        "rounds": rounds,
        "listed_items": items,
        "pages": pages,
        "baseline_seconds": baseline,
        "provider_layer_seconds": provider,
        "full_sync_seconds": sync_seconds,
        "baseline_median_s": harness.median(baseline),
        "provider_layer_median_s": harness.median(provider),
        "store_floor_seconds": floor,
        "store_floor_median_s": harness.median(floor),
        "ratio_to_fetch_plus_store_floor": harness.median(sync_seconds)
        / (harness.median(baseline) + harness.median(floor)),
        "full_sync_median_s": harness.median(sync_seconds),
        "ratio_to_baseline": harness.median(sync_seconds) / harness.median(baseline),
        "without_read_ahead_seconds": sequential,
        "without_read_ahead_median_s": harness.median(sequential),
        "events_per_second": last["events"] / harness.median(sync_seconds),
        "last_run": last,
        "unchanged_full_sync": again,
    }


def bench_latency(emu, calendar, fetch, latency: float, rounds: int) -> dict:
    """Full syncs with ``latency`` seconds added to every listing page at the emulator, against
    the pure fetch of the same pages (``fetch()``: GET + parse, nothing else), interleaved;
    one more sync without read-ahead shows what read-ahead saves."""
    emu.set_listing_latency(latency)
    try:
        fetch()  # warm-up
        baseline, syncs = [], []
        for i in range(rounds):
            calendar_empty(calendar)
            started = time.perf_counter()
            pages, items = fetch()
            baseline.append(time.perf_counter() - started)
            syncs.append(full_sync(calendar)["seconds"])
            print(f"  round {i + 1}: fetch {baseline[-1]:.2f} s, full sync {syncs[-1]:.2f} s")
        calendar_empty(calendar)
        with read_ahead_off():
            sequential = full_sync(calendar)["seconds"]
        print(f"  without read-ahead: {sequential:.2f} s")
    finally:
        emu.set_listing_latency(0)
    return {
        "latency_s": latency,
        "pages": pages,
        "listed_items": items,
        "fetch_seconds": baseline,
        "full_sync_seconds": syncs,
        "fetch_median_s": harness.median(baseline),
        "full_sync_median_s": harness.median(syncs),
        "ratio_to_fetch": harness.median(syncs) / harness.median(baseline),
        "without_read_ahead_s": sequential,
        "without_read_ahead_ratio": sequential / harness.median(baseline),
    }


def bench_query_growth(emu, calendar, page_sizes: tuple[int, ...]) -> list[dict]:
    rows = []
    for size in page_sizes:
        emu.set_page_size(size)
        calendar_empty(calendar)
        sync = full_sync(calendar)
        rows.append({"page_size": size, **sync})
        print(f"  page size {size}: {sync['pages']} pages, {sync['events']} events, {sync['queries']} queries")
    emu.set_page_size(None)
    return rows


def bench_memory(calendar) -> dict:
    calendar_empty(calendar)
    rss_before = rss_mb()
    tracemalloc.start()
    try:
        sync = full_sync(calendar)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return {
        "tracemalloc_peak_mb": peak / 2**20,
        "process_peak_rss_mb_before": rss_before,
        "process_peak_rss_mb": rss_mb(),
        "seconds_under_tracemalloc": sync["seconds"],
    }


def movable_events(ids: list[str], singles: list[dict]) -> list[str]:
    """Ids of busy timed single events (moving one of them moves a blocked time)."""
    return [
        event_id
        for event_id, event in zip(ids, singles, strict=True)
        if "dateTime" in event["start"] and "transparency" not in event and "status" not in event
    ]


def bench_incremental(emu, connection, calendar, movable: list[str], changes: int) -> dict:
    from integrations.models import ExternalCalendar
    from integrations.services.sync import calendar_sync_run
    from scheduling.models import BlockedTime

    base = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=20)
    samples, baseline, queries, calls = [], [], [], []
    for i in range(changes):
        event_id = movable[i * 37 % len(movable)]
        start = base + dt.timedelta(hours=i, minutes=7)
        end = start + dt.timedelta(minutes=25)
        emu.update_event(
            calendar.external_id,
            event_id,
            {"start": {"dateTime": harness._rfc3339(start)}, "end": {"dateTime": harness._rfc3339(end)}},
            notify=False,
        )
        cursor = ExternalCalendar.objects.get(pk=calendar.pk).sync_cursor
        started = time.perf_counter()
        raw_fetch(connection, calendar.external_id, {"singleEvents": "true", "maxResults": 2500, "syncToken": cursor})
        baseline.append(time.perf_counter() - started)
        emu.clear_calls()
        with counting_queries() as counter:
            started = time.perf_counter()
            [run] = calendar_sync_run(calendar_id=calendar.pk, trigger="notification")
            samples.append(time.perf_counter() - started)
        queries.append(counter.count)
        calls.append(len(emu.calls()))
        assert run.kind == "incremental" and run.status == "succeeded", (run.kind, run.error)
        block = BlockedTime.objects.get(calendar=calendar, external_key=event_id)
        assert (block.start, block.end) == (start, end), (block.start, block.end, start, end)
    return {
        "changes": changes,
        "api_calls_max": max(calls),
        "api_calls": calls,
        "queries_max": max(queries),
        "queries": queries,
        "p50_ms": harness.percentile(samples, 50) * 1000,
        "p95_ms": harness.percentile(samples, 95) * 1000,
        "baseline_p50_ms": harness.percentile(baseline, 50) * 1000,
        "ratio_to_baseline": harness.percentile(samples, 50) / harness.percentile(baseline, 50),
    }


# --- Microsoft Graph (calendarView/delta) ------------------------------------------------------


def ms_session(connection):
    import requests

    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {connection.access_token}", "Accept": "application/json"})
    return session


def ms_prefer() -> str:
    from django.conf import settings

    return f'odata.maxpagesize={settings.MICROSOFT_GRAPH_PAGE_SIZE}, outlook.timezone="UTC"'


def ms_full_url(calendar) -> str:
    from django.conf import settings
    from django.utils import timezone

    from integrations.providers.microsoft.client import _graph_instant
    from integrations.sync.engine import sync_window

    window = sync_window(timezone.now())
    return (
        f"{settings.MICROSOFT_GRAPH_ROOT}me/calendars/{quote(calendar.external_id, safe='')}/calendarView/delta"
        f"?startDateTime={_graph_instant(window.start)}&endDateTime={_graph_instant(window.end)}"
    )


def ms_raw_fetch(session, url: str) -> tuple[int, int]:
    """GET every page of one delta round (requests, like our Graph client) and parse it."""
    pages = items = 0
    prefer = ms_prefer()
    while url:
        response = session.get(url, headers={"Prefer": prefer}, timeout=300)
        assert response.status_code == 200, response.text[:500]
        body = response.json()
        pages += 1
        items += len(body.get("value", ()))
        url = body.get("@odata.nextLink")
    return pages, items


def ms_bench_full(ms, connection, calendar, rounds: int) -> dict:
    session = ms_session(connection)
    ms_raw_fetch(session, ms_full_url(calendar))  # warm-up
    baseline, syncs, sequential = [], [], []
    for i in range(rounds):
        calendar_empty(calendar)
        started = time.perf_counter()
        pages, items = ms_raw_fetch(session, ms_full_url(calendar))
        baseline.append(time.perf_counter() - started)
        with read_ahead_off():
            sequential.append(full_sync(calendar)["seconds"])
        calendar_empty(calendar)
        syncs.append(full_sync(calendar))
        print(
            f"  round {i + 1}: fetch + parse {baseline[-1]:.2f} s, without read-ahead {sequential[-1]:.2f} s, "
            f"full sync {syncs[-1]['seconds']:.2f} s ({syncs[-1]['queries']} queries)"
        )
    seconds = [s["seconds"] for s in syncs]
    return {
        "rounds": rounds,
        "pages": pages,
        "listed_items": items,
        "baseline_seconds": baseline,
        "full_sync_seconds": seconds,
        "baseline_median_s": harness.median(baseline),
        "full_sync_median_s": harness.median(seconds),
        "ratio_to_baseline": harness.median(seconds) / harness.median(baseline),
        "without_read_ahead_median_s": harness.median(sequential),
        "last_run": syncs[-1],
    }


def ms_movable(calendar_id: str, ms, singles: list[dict], ids: list[str]) -> list[str]:
    return [i for i, e in zip(ids, singles, strict=True) if not e.get("isAllDay") and "showAs" not in e]


def ms_bench_incremental(ms, connection, calendar, movable: list[str], changes: int) -> dict:
    from integrations.models import ExternalCalendar
    from integrations.services.sync import calendar_sync_run
    from scheduling.models import BlockedTime

    session = ms_session(connection)
    base = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=20)
    samples, baseline, queries, calls = [], [], [], []
    for i in range(changes):
        event_id = movable[i * 37 % len(movable)]
        start = base + dt.timedelta(hours=i, minutes=7)
        end = start + dt.timedelta(minutes=25)

        def graph_time(value: dt.datetime) -> dict:
            return {"dateTime": value.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"}

        ms.update_event(
            calendar.external_id, event_id, {"start": graph_time(start), "end": graph_time(end)}, notify=False
        )
        cursor = ExternalCalendar.objects.get(pk=calendar.pk).sync_cursor
        started = time.perf_counter()
        ms_raw_fetch(session, cursor)
        baseline.append(time.perf_counter() - started)
        ms.clear_calls()
        with counting_queries() as counter:
            started = time.perf_counter()
            [run] = calendar_sync_run(calendar_id=calendar.pk, trigger="notification")
            samples.append(time.perf_counter() - started)
        queries.append(counter.count)
        calls.append(len([c for c in ms.calls() if not c["endpoint"].startswith("token")]))
        assert run.kind == "incremental" and run.status == "succeeded", (run.kind, run.error)
        block = BlockedTime.objects.get(calendar=calendar, external_key=event_id)
        assert (block.start, block.end) == (start, end), (block.start, block.end, start, end)
    return {
        "changes": changes,
        "api_calls_max": max(calls),
        "queries_max": max(queries),
        "p50_ms": harness.percentile(samples, 50) * 1000,
        "p95_ms": harness.percentile(samples, 95) * 1000,
        "baseline_p50_ms": harness.percentile(baseline, 50) * 1000,
        "ratio_to_baseline": harness.percentile(samples, 50) / harness.percentile(baseline, 50),
    }


def bench_microsoft(processes, args) -> dict:
    ms = harness.start_microsoft_emulator(processes)
    _merchant, connection, calendar = harness.microsoft_connected(ms)
    print(f"seeding {args.events} events ({args.series} endless series) in the Microsoft emulator ...")
    singles, recurring = harness.graph_calendar_events(args.events, args.series)
    ids: list[str] = []
    for i in range(0, len(singles), 2000):
        ids += ms.insert_events(calendar.external_id, singles[i : i + 2000], notify=False)
    ms.insert_events(calendar.external_id, recurring, notify=False)
    connection.refresh_from_db()
    calendar.refresh_from_db()
    print("Microsoft full sync:")
    full = ms_bench_full(ms, connection, calendar, args.rounds)
    print(f"Microsoft full sync, {args.latency * 1000:.0f} ms per listing page:")
    session = ms_session(connection)
    latency = bench_latency(
        ms, calendar, lambda: ms_raw_fetch(session, ms_full_url(calendar)), args.latency, args.latency_rounds
    )
    print("Microsoft incremental sync of one change:")
    calendar_empty(calendar)
    full_sync(calendar)
    incremental = ms_bench_incremental(
        ms, connection, calendar, ms_movable(calendar.external_id, ms, singles, ids), args.changes
    )
    return {"page_size": _ms_page_size(), "full": full, "latency": latency, "incremental": incremental}


def _ms_page_size() -> int:
    from django.conf import settings

    return settings.MICROSOFT_GRAPH_PAGE_SIZE


def profile_full_sync(calendar) -> None:
    import cProfile
    import pstats

    calendar_empty(calendar)
    profiler = cProfile.Profile()
    with read_ahead_off():  # cProfile sees one thread: the whole sync on it
        profiler.runcall(full_sync, calendar)
    path = harness.RESULTS_DIR / "sync-full.prof"
    harness.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    profiler.dump_stats(path)
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    print(f"profile written to {path.relative_to(harness.ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--series", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--profile", action="store_true", help="also write a cProfile of one full sync")
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per listing page for the latency rounds")
    parser.add_argument("--latency-rounds", type=int, default=2)
    parser.add_argument(
        "--ms-page-size",
        type=int,
        default=1000,
        help="MICROSOFT_GRAPH_PAGE_SIZE for the Microsoft rounds (Graph's largest; the product's default is 100)",
    )
    parser.add_argument("--no-microsoft", action="store_true", help="skip the Microsoft rounds")
    args = parser.parse_args()

    with harness.bench_database(), harness.Processes() as processes:
        emu = harness.start_emulator(processes)
        _merchant, connection, calendar = harness.merchant_connected(emu)
        print(f"seeding {args.events} events ({args.series} endless series) in the emulator ...")
        singles, _recurring = harness.calendar_events(args.events, args.series)
        ids = harness.seed_calendar(emu, calendar.external_id, count=args.events, series=args.series)
        connection.refresh_from_db()
        calendar.refresh_from_db()

        if args.profile:
            profile_full_sync(calendar)
        print("full sync (target 1):")
        full = bench_full(emu, connection, calendar, args.rounds)
        print(f"full sync, {args.latency * 1000:.0f} ms per listing page:")
        latency = bench_latency(
            emu,
            calendar,
            lambda: raw_fetch(connection, calendar.external_id, full_query()),
            args.latency,
            args.latency_rounds,
        )
        print("queries against pages:")
        growth = bench_query_growth(emu, calendar, (2500, 1000, 500))
        print("memory:")
        memory = bench_memory(calendar)
        print("incremental sync of one change (target 2):")
        incremental = bench_incremental(emu, connection, calendar, movable_events(ids, singles), args.changes)
        microsoft = None
        if not args.no_microsoft:
            from django.conf import settings

            settings.MICROSOFT_GRAPH_PAGE_SIZE = args.ms_page_size
            microsoft = bench_microsoft(processes, args)

    per_page = [
        (b["queries"] - a["queries"]) / (b["pages"] - a["pages"])
        for a, b in itertools.pairwise(growth)
        if b["pages"] != a["pages"]
    ]
    targets = {
        "full_sync_at_most_2x_baseline": full["ratio_to_baseline"] <= 2,
        "queries_grow_with_pages_not_events": len(set(per_page)) == 1 and per_page[0] <= 10,
        "peak_memory_under_300_mb": memory["process_peak_rss_mb"] < 300,
        "incremental_at_most_2_api_calls": incremental["api_calls_max"] <= 2,
        "incremental_at_most_15_queries": incremental["queries_max"] <= 15,
        "full_sync_at_most_3x_baseline": full["ratio_to_baseline"] <= 3,
        "full_sync_with_latency_at_most_1_2x_fetch": latency["ratio_to_fetch"] <= 1.2,
        "incremental_at_most_3x_raw_fetch": incremental["ratio_to_baseline"] <= 3,
    }
    if microsoft is not None:
        targets |= {
            "microsoft_full_sync_at_most_3x_baseline": microsoft["full"]["ratio_to_baseline"] <= 3,
            "microsoft_full_sync_with_latency_at_most_1_2x_fetch": microsoft["latency"]["ratio_to_fetch"] <= 1.2,
            "microsoft_incremental_at_most_3x_raw_fetch": microsoft["incremental"]["ratio_to_baseline"] <= 3,
        }
    result = {
        "parameters": vars(args),
        "full": full,
        "query_growth": growth,
        "queries_per_extra_page": per_page,
        "memory": memory,
        "incremental": incremental,
        "latency": latency,
        "microsoft": microsoft,
        "targets": targets,
    }
    harness.save_result("sync", result)
    print(
        f"\nfull sync: {full['last_run']['events']} listed events in {full['pages']} pages, "
        f"median {full['full_sync_median_s']:.2f} s = {full['events_per_second']:.0f} events/s; "
        f"baseline (fetch + parse) {full['baseline_median_s']:.2f} s; ratio {full['ratio_to_baseline']:.2f}x "
        f"(target <= 3x: {harness.verdict(targets['full_sync_at_most_3x_baseline'])}; "
        f"<= 2x: {harness.verdict(targets['full_sync_at_most_2x_baseline'])}); "
        f"without read-ahead {full['without_read_ahead_median_s']:.2f} s"
    )
    print(
        f"full sync at {latency['latency_s'] * 1000:.0f} ms per page: {latency['full_sync_median_s']:.2f} s against "
        f"fetching the same {latency['pages']} pages {latency['fetch_median_s']:.2f} s: "
        f"{latency['ratio_to_fetch']:.2f}x "
        f"(target <= 1.2x: {harness.verdict(targets['full_sync_with_latency_at_most_1_2x_fetch'])}); "
        f"without read-ahead {latency['without_read_ahead_ratio']:.2f}x"
    )
    print(
        f"queries: {full['last_run']['queries']} for {full['pages']} pages; per extra page {per_page} "
        f"({harness.verdict(targets['queries_grow_with_pages_not_events'])})"
    )
    print(
        f"memory: tracemalloc peak {memory['tracemalloc_peak_mb']:.0f} MB, process peak RSS "
        f"{memory['process_peak_rss_mb']:.0f} MB "
        f"(target < 300 MB: {harness.verdict(targets['peak_memory_under_300_mb'])})"
    )
    print(
        f"incremental: <= {incremental['api_calls_max']} API calls, <= {incremental['queries_max']} queries, "
        f"p50 {incremental['p50_ms']:.1f} ms, p95 {incremental['p95_ms']:.1f} ms, "
        f"{incremental['ratio_to_baseline']:.2f}x a raw fetch of the same page "
        f"({harness.verdict(targets['incremental_at_most_2_api_calls'] and targets['incremental_at_most_15_queries'])}"
        "; "
        f"<= 3x: {harness.verdict(targets['incremental_at_most_3x_raw_fetch'])})"
    )
    if microsoft is not None:
        mf, ml, mi = microsoft["full"], microsoft["latency"], microsoft["incremental"]
        print(
            f"Microsoft (page size {microsoft['page_size']}): full sync {mf['full_sync_median_s']:.2f} s, "
            f"{mf['pages']} pages, against fetch + parse {mf['baseline_median_s']:.2f} s: "
            f"{mf['ratio_to_baseline']:.2f}x "
            f"(<= 3x: {harness.verdict(targets['microsoft_full_sync_at_most_3x_baseline'])}); at "
            f"{ml['latency_s'] * 1000:.0f} ms per page {ml['ratio_to_fetch']:.2f}x the fetch "
            f"(<= 1.2x: {harness.verdict(targets['microsoft_full_sync_with_latency_at_most_1_2x_fetch'])}); "
            f"incremental p50 {mi['p50_ms']:.1f} ms, {mi['ratio_to_baseline']:.2f}x a raw fetch "
            f"(<= 3x: {harness.verdict(targets['microsoft_incremental_at_most_3x_raw_fetch'])})"
        )


if __name__ == "__main__":
    main()
