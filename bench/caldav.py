"""CalDAV against Radicale: the unchanged poll, the initial sync of 2,000 objects, the horizon roll.

    .venv/bin/python -m bench.caldav [--objects 2000] [--series 50] [--polls 200] [--rounds 3]

Radicale 3 (``integrations.emulators.caldav.RadicaleServer``, its own process on a free
loopback port) holds two users with the same calendar: 2,000 objects, 50 of them recurring
series (weekly or daily, endless, 10 with an EXDATE and an overridden occurrence), the rest
single events of 15 min - 2 h over the sync window. One user is reached through the fault
proxy (``FaultProxy``, in this process, also on a free port), which counts requests; the
other directly, so that this process's CPU is the product's alone when it is timed.

- Unchanged poll (``calendar_sync_run(trigger="periodic")``, as ``calendars_poll_task``
  queues it): HTTP requests counted at the proxy, queries with Django's
  ``CaptureQueriesContext`` (separate polls), product CPU with ``time.process_time()``
  around the poll (direct user; Radicale's CPU is its own process's). Targets: 1 request,
  <= 3 queries, < 5 ms.
- Initial sync of the calendar into an empty state, against the baseline of Radicale
  serving the same objects to ``requests``: the same ``sync-collection`` REPORT and
  ``calendar-multiget`` REPORTs of the same hrefs in the same batches, bodies read, nothing
  parsed. Interleaved round by round, medians. Target: <= 2x.
- The horizon roll (``trigger="horizon"``): requests at the proxy (target 0) and its time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import time
import uuid

from bench import harness


def _stamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def calendar_body(objects: int, series: int, *, seed: int = 1) -> str:
    """One VCALENDAR with ``objects`` events (``series`` of them recurring), for a collection PUT."""
    rng = random.Random(seed)
    today = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//bench//EN"]

    def event(uid: str, start: dt.datetime, minutes: int, *extra: str) -> None:
        lines.extend(["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20261101T000000Z", f"DTSTART:{_stamp(start)}"])
        lines.append(f"DTEND:{_stamp(start + dt.timedelta(minutes=minutes))}")
        lines.extend(["SUMMARY:Busy", *extra, "END:VEVENT"])

    for _ in range(objects - series):
        day = today + dt.timedelta(days=rng.randrange(-25, 360))
        start = day + dt.timedelta(minutes=15 * rng.randrange(6 * 4, 20 * 4))
        extra = ["TRANSP:TRANSPARENT"] if rng.random() < 0.04 else []
        event(str(uuid.UUID(int=rng.getrandbits(128))), start, 15 * rng.randrange(1, 9), *extra)
    for i in range(series):
        start = today - dt.timedelta(days=90) + dt.timedelta(hours=7 + i % 10, minutes=30 * (i % 2))
        rule = "RRULE:FREQ=DAILY" if i % 5 == 4 else f"RRULE:FREQ=WEEKLY;BYDAY={['MO', 'TU', 'WE', 'TH', 'FR'][i % 5]}"
        uid = f"series-{i}"
        if i % 5 == 0:  # an exception and a moved occurrence, as real series have
            skipped = start + dt.timedelta(days=7 * 20)
            moved = start + dt.timedelta(days=7 * 21)
            event(uid, start, 45, rule, f"EXDATE:{_stamp(skipped)}")
            event(uid, moved + dt.timedelta(hours=2), 45, f"RECURRENCE-ID:{_stamp(moved)}")
        else:
            event(uid, start, 45, rule)
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, default=2000)
    parser.add_argument("--series", type=int, default=50)
    parser.add_argument("--polls", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="print cProfile's top functions of the poll and sync")
    args = parser.parse_args()

    import os

    os.environ["CALDAV_ALLOW_PRIVATE_ADDRESSES"] = "true"  # Radicale on loopback (as the tests and the demo)
    from integrations.emulators.caldav import FaultProxy, RadicaleServer

    radicale = RadicaleServer()
    radicale.start()
    proxy = FaultProxy(radicale.url)
    proxy.start()
    try:
        with harness.bench_database():
            result = _run(args, radicale, proxy)
    finally:
        proxy.stop()
        radicale.stop()
    harness.save_result("caldav", result)
    _print(result)


def _user_with_calendar(radicale, body: str) -> tuple[str, str, str]:
    name, password = radicale.user_add()
    url = radicale.calendar_create(name, "work", "Work")
    response = radicale.session(name).put(
        url, data=body.encode(), headers={"Content-Type": "text/calendar; charset=utf-8"}, timeout=300
    )
    response.raise_for_status()
    return name, password, url


def _run(args, radicale, proxy) -> dict:
    import requests
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    import config.wsgi  # noqa: F401 - the server process's setup
    from integrations.models import CalDAVObject, ExternalCalendar, SyncRun
    from integrations.providers.caldav import xml
    from integrations.services.caldav import caldav_connection_create
    from integrations.services.sync import calendar_sync_run
    from merchants.services import merchant_create
    from scheduling.models import BlockedTime

    body = calendar_body(args.objects, args.series)
    began = time.perf_counter()
    direct_user, direct_password, direct_url = _user_with_calendar(radicale, body)
    proxied_user, proxied_password, _ = _user_with_calendar(radicale, body)
    seed_seconds = time.perf_counter() - began

    def connect(email: str, server: str, user: str, password: str) -> ExternalCalendar:
        merchant = merchant_create(email=email, password="bench-password-1", name="Bench", time_zone="Europe/Berlin")
        conn = caldav_connection_create(merchant=merchant, server=server, username=user, password=password)
        return conn.calendars.get(selected=True)

    direct = connect("direct@example.com", radicale.url, direct_user, direct_password)
    proxied = connect("proxied@example.com", proxy.url, proxied_user, proxied_password)

    def reset(calendar: ExternalCalendar) -> None:
        CalDAVObject.objects.filter(calendar=calendar).delete()
        BlockedTime.objects.filter(calendar=calendar).delete()
        ExternalCalendar.objects.filter(pk=calendar.pk).update(sync_cursor="", window_end=None, last_synced_at=None)

    def initial(calendar: ExternalCalendar) -> SyncRun:
        [run] = calendar_sync_run(calendar_id=calendar.pk, trigger=SyncRun.Trigger.INITIAL)
        assert run.status == SyncRun.Status.SUCCEEDED, run.error
        return run

    # The baseline: Radicale serving the same objects to requests, the same REPORTs, nothing parsed.
    session = requests.Session()
    session.trust_env = False
    session.auth = (direct_user, direct_password)
    headers = {"Content-Type": "application/xml; charset=utf-8"}

    def raw_fetch() -> int:
        _ = session.request(
            "PROPFIND", direct_url, data=xml.COLLECTION_STATE, headers={**headers, "Depth": "0"}
        ).content
        listing = session.request("REPORT", direct_url, data=xml.sync_collection(""), headers={**headers, "Depth": "1"})
        responses, _ = xml.multistatus(listing.content)  # the hrefs to ask for (the client parses them too)
        hrefs = [r.href for r in responses if r.href.endswith(".ics")]
        size = 0
        for i in range(0, len(hrefs), 50):
            answer = session.request(
                "REPORT", direct_url, data=xml.calendar_multiget(hrefs[i : i + 50]), headers={**headers, "Depth": "1"}
            )
            size += len(answer.content)
        return size

    raw_fetch()  # warm-up (Radicale's caches, our connection pool)
    full, baseline, blocks, events = [], [], 0, 0
    for _ in range(args.rounds):
        began = time.perf_counter()
        raw_fetch()
        baseline.append(time.perf_counter() - began)
        reset(direct)
        began = time.perf_counter()
        run = initial(direct)
        full.append(time.perf_counter() - began)
        blocks, events = BlockedTime.objects.filter(calendar=direct).count(), run.events_seen
    objects_stored = CalDAVObject.objects.filter(calendar=direct).count()

    # Requests of the initial sync, at the proxy.
    reset(proxied)
    proxy.reset()
    initial(proxied)
    initial_requests = proxy.count()

    # The unchanged poll: CPU and wall time (direct), queries (separate polls), requests (proxy).
    calendar_sync_run(calendar_id=direct.pk, trigger=SyncRun.Trigger.PERIODIC)  # warm
    runs_before = SyncRun.objects.count()
    cpu, wall = [], []
    for _ in range(args.polls):
        began_cpu, began = time.process_time(), time.perf_counter()
        made = calendar_sync_run(calendar_id=direct.pk, trigger=SyncRun.Trigger.PERIODIC)
        cpu.append((time.process_time() - began_cpu) * 1000)
        wall.append((time.perf_counter() - began) * 1000)
        assert made == [], made  # unchanged: a check, no run
    runs_recorded = SyncRun.objects.count() - runs_before
    queries = []
    for _ in range(20):
        with CaptureQueriesContext(connection) as captured:
            calendar_sync_run(calendar_id=direct.pk, trigger=SyncRun.Trigger.PERIODIC)
        queries.append(len(captured.captured_queries))
    poll_sql = [q["sql"][:100] for q in captured.captured_queries]
    requests_per_poll = []
    for _ in range(20):
        proxy.reset()
        calendar_sync_run(calendar_id=proxied.pk, trigger=SyncRun.Trigger.PERIODIC)
        requests_per_poll.append(proxy.count())
    poll_methods = [f"{r.method} Depth {r.headers.get('Depth')}" for r in proxy.requests]

    # The raw floor of the poll: the same PROPFIND with requests.
    raw_poll = []
    for _ in range(args.polls):
        began = time.perf_counter()
        _ = session.request(
            "PROPFIND", direct_url, data=xml.COLLECTION_STATE, headers={**headers, "Depth": "0"}
        ).content
        raw_poll.append((time.perf_counter() - began) * 1000)

    if args.profile:
        import cProfile
        import pstats

        profile = cProfile.Profile(time.process_time)  # CPU, not waiting for Radicale
        profile.enable()
        for _ in range(50):
            calendar_sync_run(calendar_id=direct.pk, trigger=SyncRun.Trigger.PERIODIC)
        profile.disable()
        print("\n--- profile: 50 unchanged polls ---")
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
        reset(direct)
        profile = cProfile.Profile()
        profile.enable()
        initial(direct)
        profile.disable()
        print("\n--- profile: one initial sync ---")
        pstats.Stats(profile).sort_stats("tottime").print_stats(30)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(40)

    # The horizon roll: re-expanded from the stored objects, no request.
    roll, roll_requests = [], []
    for _ in range(args.rounds):
        proxy.reset()
        began = time.perf_counter()
        [run] = calendar_sync_run(calendar_id=proxied.pk, trigger=SyncRun.Trigger.HORIZON)
        roll.append(time.perf_counter() - began)
        roll_requests.append(proxy.count())
        assert run.status == SyncRun.Status.SUCCEEDED and run.kind == SyncRun.Kind.FULL, run.error

    full_median, baseline_median = statistics.median(full), statistics.median(baseline)
    result = {
        "parameters": vars(args),
        "seed_seconds": seed_seconds,
        "initial": {
            "objects": objects_stored,
            "events_listed": events,
            "blocks": blocks,
            "median_s": full_median,
            "samples_s": full,
            "baseline_median_s": baseline_median,
            "baseline_samples_s": baseline,
            "ratio_to_baseline": full_median / baseline_median,
            "requests": initial_requests,
        },
        "poll": {
            "cpu_ms_p50": harness.percentile(cpu, 50),
            "cpu_ms_p95": harness.percentile(cpu, 95),
            "wall_ms_p50": harness.percentile(wall, 50),
            "wall_ms_p95": harness.percentile(wall, 95),
            "raw_propfind_ms_p50": harness.percentile(raw_poll, 50),
            "queries_max": max(queries),
            "queries": poll_sql,
            "requests_max": max(requests_per_poll),
            "requests": poll_methods,
            "runs_recorded": runs_recorded,
        },
        "horizon_roll": {"median_s": statistics.median(roll), "requests_max": max(roll_requests)},
    }
    result["targets"] = {
        "poll_one_request": result["poll"]["requests_max"] == 1,
        "poll_at_most_3_queries": result["poll"]["queries_max"] <= 3,
        "poll_under_5ms_cpu": result["poll"]["cpu_ms_p50"] < 5,
        "initial_at_most_2x_baseline": result["initial"]["ratio_to_baseline"] <= 2,
        "horizon_roll_no_requests": result["horizon_roll"]["requests_max"] == 0,
    }
    return result


def _print(r: dict) -> None:
    i, p, h, t = r["initial"], r["poll"], r["horizon_roll"], r["targets"]
    print(
        f"\ninitial sync of {i['objects']} objects ({i['events_listed']} events listed, {i['blocks']} blocks, "
        f"{i['requests']} requests): {i['median_s']:.2f} s against Radicale serving them {i['baseline_median_s']:.2f} s"
        f" = {i['ratio_to_baseline']:.2f}x (target <= 2x: {harness.verdict(t['initial_at_most_2x_baseline'])})"
    )
    print(
        f"unchanged poll: {p['requests_max']} request(s) {p['requests']}, {p['queries_max']} queries, "
        f"CPU p50 {p['cpu_ms_p50']:.2f} ms p95 {p['cpu_ms_p95']:.2f} ms, wall p50 {p['wall_ms_p50']:.2f} ms "
        f"(raw PROPFIND {p['raw_propfind_ms_p50']:.2f} ms), runs recorded {p['runs_recorded']} "
        f"(targets: {harness.verdict(t['poll_one_request'])}, {harness.verdict(t['poll_at_most_3_queries'])}, "
        f"{harness.verdict(t['poll_under_5ms_cpu'])})"
    )
    print(
        f"horizon roll: {h['median_s']:.2f} s, {h['requests_max']} requests "
        f"(target 0: {harness.verdict(t['horizon_roll_no_requests'])})"
    )


if __name__ == "__main__":
    main()
