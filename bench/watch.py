"""Target 3: the watch endpoint under load, against a bare view in the same gunicorn.

    .venv/bin/python -m bench.watch [--connections 100] [--seconds 10] [--rounds 2] [--burst 10000]

gunicorn (``config.wsgi``, 2 sync workers, ``DEBUG=false``) on PostgreSQL and Redis, a
Celery worker, the emulator in its own process. The merchant's calendar is synced and
watched (a real channel, so notifications pass the id/token/resource checks).

- wrk (1 thread, ``--connections``, ``--seconds`` per phase, loopback) POSTs to the bare
  view (``bench.urls``) and to the watch endpoint in alternating phases; notifications
  carry growing message numbers as Google's do. Figures: requests/s, p50/p99 latency, the
  gunicorn processes' CPU per request (from /proc: steadier than requests/s on a shared
  machine), the syncs each phase caused and whether the last one began after the phase's
  last notification (nothing lost).
- Burst: ``--burst`` notifications for the calendar from 100 concurrent senders; then
  we wait (at most 60 s) until nothing is queued or running and count the syncs it caused.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from bench import harness

WRK_SCRIPT = harness.ROOT / "bench" / "notify.lua"


def wrk(url: str, *, connections: int, seconds: int, env: dict[str, str] | None = None, script=WRK_SCRIPT) -> dict:
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "-s", str(script), url]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, env={**os.environ, **(env or {})})
    line = next((line for line in out.stdout.splitlines() if line.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no figures:\n{out.stdout}\n{out.stderr}")
    figures = json.loads(line.removeprefix("BENCH_JSON "))
    figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
    figures["errors"] = sum(v for k, v in figures.items() if k.startswith("errors_"))
    return figures


def gunicorn_cpu_seconds(process) -> float:
    """User + system CPU so far of the gunicorn master and workers (its process group)."""
    from bench.live_poll import _group_cpu_seconds

    return _group_cpu_seconds(process.pid)


def covered(calendar_id: int) -> bool:
    """Nothing lost: the latest sync began after the latest notification (the engine's own test)."""
    from django.core.cache import cache

    from integrations.services.sync import _notified_key, _synced_key

    started, notified = cache.get(_synced_key(calendar_id)), cache.get(_notified_key(calendar_id))
    return started is not None and notified is not None and started >= notified


def burst_post(url: str, body: str, *, count: int, senders: int = 100) -> dict:
    """``count`` POSTs of the same JSON ``body`` from ``senders`` concurrent connections (Graph)."""
    parts = urlsplit(url)
    remaining = iter(range(count))
    lock = threading.Lock()
    statuses: dict[int, int] = {}
    payload = body.encode()
    headers = {"Content-Type": "application/json; charset=utf-8", "Content-Length": str(len(payload))}

    def sender() -> None:
        while True:
            with lock:
                if next(remaining, None) is None:
                    return
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
            try:
                conn.request("POST", parts.path, body=payload, headers=headers)
                status = conn.getresponse().status
            except OSError:
                status = 0
            finally:
                conn.close()
            with lock:
                statuses[status] = statuses.get(status, 0) + 1

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=senders) as pool:
        for _ in range(senders):
            pool.submit(sender)
    return {"notifications": count, "seconds": time.perf_counter() - started, "statuses": statuses}


def channel_env(channel, first_number: int) -> dict[str, str]:
    return {
        "BENCH_CHANNEL_ID": channel.channel_id,
        "BENCH_CHANNEL_TOKEN": channel.token,
        "BENCH_RESOURCE_ID": channel.resource_id,
        "BENCH_FIRST_NUMBER": str(first_number),
    }


def quiet(calendar_id: int, settle: float = 1.5, timeout: float = 60.0) -> None:
    """Wait until no sync is pending, queued or running, and stays so for ``settle`` seconds."""
    import redis

    from integrations.models import SyncRun
    from integrations.services.sync import calendar_sync_pending

    queue = redis.Redis.from_url(harness.REDIS_URL)

    def idle() -> bool:
        return (
            not calendar_sync_pending(calendar_id=calendar_id)
            and queue.llen("celery") == 0
            and not SyncRun.objects.filter(calendar_id=calendar_id, status=SyncRun.Status.RUNNING).exists()
        )

    deadline = time.monotonic() + timeout
    calm_since = None
    while time.monotonic() < deadline:
        if idle():
            calm_since = calm_since or time.monotonic()
            if time.monotonic() - calm_since >= settle:
                return
        else:
            calm_since = None
        time.sleep(0.1)
    raise TimeoutError("syncs still pending or running after the burst")


def syncs_since(calendar_id: int, pk: int) -> list[dict]:
    from integrations.models import SyncRun

    return list(
        SyncRun.objects.filter(calendar_id=calendar_id, pk__gt=pk)
        .order_by("pk")
        .values("pk", "trigger", "kind", "status", "started_at", "finished_at", "duration_ms")
    )


def last_run_pk() -> int:
    from integrations.models import SyncRun

    return SyncRun.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def burst(url: str, channel, *, count: int, first_number: int, senders: int = 100) -> dict:
    """``count`` notifications, numbered upwards, from ``senders`` concurrent connections."""
    parts = urlsplit(url)
    numbers = iter(range(first_number, first_number + count))
    lock = threading.Lock()
    statuses: dict[int, int] = {}
    headers = {
        "X-Goog-Channel-Id": channel.channel_id,
        "X-Goog-Channel-Token": channel.token,
        "X-Goog-Resource-Id": channel.resource_id,
        "X-Goog-Resource-State": "exists",
        "Content-Length": "0",
    }

    def sender() -> None:
        while True:
            with lock:
                number = next(numbers, None)
            if number is None:
                return
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
            try:
                conn.request("POST", parts.path, headers={**headers, "X-Goog-Message-Number": str(number)})
                status = conn.getresponse().status
            except OSError:
                status = 0
            finally:
                conn.close()
            with lock:
                statuses[status] = statuses.get(status, 0) + 1

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=senders) as pool:
        for _ in range(senders):
            pool.submit(sender)
    return {"notifications": count, "seconds": time.perf_counter() - started, "statuses": statuses}


def handler_costs(channel, first_number: int, runs: int = 300) -> dict:
    """Single-threaded, in this process (Django's handler, no socket), median ms of: the bare
    view, a valid notification, and its parts (the channel query, one cache operation)."""
    import statistics

    from django.core.cache import cache
    from django.test import Client

    from integrations.models import WatchChannel

    client = Client()
    headers = {
        "X-Goog-Channel-Id": channel.channel_id,
        "X-Goog-Channel-Token": channel.token,
        "X-Goog-Resource-Id": channel.resource_id,
        "X-Goog-Resource-State": "exists",
    }
    numbers = iter(range(first_number, first_number + 10 * runs))
    steps = {
        "bare_view": lambda: client.post(harness.BARE_PATH),
        "notification": lambda: client.post(
            harness.WEBHOOK_PATH, headers={**headers, "X-Goog-Message-Number": str(next(numbers))}
        ),
        "channel_query": lambda: (
            WatchChannel.objects.filter(channel_id=channel.channel_id)
            .values("pk", "calendar_id", "token", "resource_id", "status", "calendar__selected")
            .first()
        ),
        "cache_operation": lambda: cache.get("bench:absent"),
    }
    costs = {}
    for name, step in steps.items():
        step()
        samples = []
        for _ in range(runs):
            began = time.perf_counter()
            step()
            samples.append((time.perf_counter() - began) * 1000)
        costs[name] = statistics.median(samples)
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--burst", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--low-connections", type=int, default=4, help="one more round at this concurrency (latency without queueing)"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk (bench/run does it)")

    with harness.bench_database(), harness.Processes() as processes:
        from integrations.services.channels import calendar_watch_open
        from integrations.services.sync import calendar_sync_run

        emu = harness.start_emulator(processes)
        base = harness.start_gunicorn(processes, workers=args.workers)
        _merchant, _connection, calendar = harness.merchant_connected(emu)
        harness.seed_calendar(emu, calendar.external_id, count=200, series=2)
        calendar_sync_run(calendar_id=calendar.pk, trigger="initial")
        channel = calendar_watch_open(calendar_id=calendar.pk)
        assert channel is not None, "no channel: is GOOGLE_WEBHOOK_URL usable?"
        harness.start_worker(processes)
        watch_url, bare_url = base + harness.WEBHOOK_PATH, base + harness.BARE_PATH
        gunicorn = next(p for name, p, _log in processes.started if name == "gunicorn")

        def measured(url: str, env: dict[str, str] | None = None) -> dict:
            cpu = gunicorn_cpu_seconds(gunicorn)
            figures = wrk(url, connections=args.connections, seconds=args.seconds, env=env)
            figures["cpu_ms_per_request"] = (gunicorn_cpu_seconds(gunicorn) - cpu) * 1000 / max(figures["requests"], 1)
            return figures

        # Warm-up (imports, connections, caches), then alternate so noise hits both alike.
        wrk(bare_url, connections=args.connections, seconds=2)
        wrk(watch_url, connections=args.connections, seconds=2, env=channel_env(channel, 1))
        quiet(calendar.pk)
        phases = {"bare": [], "watch": []}
        for i in range(args.rounds):
            phases["bare"].append(measured(bare_url))
            before = last_run_pk()
            figures = measured(watch_url, env=channel_env(channel, (i + 1) * 10_000_000))
            quiet(calendar.pk)
            figures["syncs"] = len(syncs_since(calendar.pk, before))
            figures["covered"] = covered(calendar.pk)
            phases["watch"].append(figures)
            for name in ("bare", "watch"):
                f = phases[name][-1]
                print(
                    f"  round {i + 1} {name:5}: {f['rps']:7.0f} req/s  p50 {f['p50_us'] / 1000:6.1f} ms  "
                    f"p99 {f['p99_us'] / 1000:6.1f} ms  cpu {f['cpu_ms_per_request']:.2f} ms/req  errors {f['errors']}"
                    + (f"  syncs {f['syncs']}  covered {f['covered']}" if name == "watch" else "")
                )

        low = {
            "bare": wrk(bare_url, connections=args.low_connections, seconds=args.seconds),
            "watch": wrk(
                watch_url,
                connections=args.low_connections,
                seconds=args.seconds,
                env=channel_env(channel, (args.rounds + 1) * 10_000_000),
            ),
        }
        quiet(calendar.pk)
        for name, f in low.items():
            print(
                f"  {args.low_connections} connections {name:5}: {f['rps']:7.0f} req/s  "
                f"p50 {f['p50_us'] / 1000:6.1f} ms"
                f"  p99 {f['p99_us'] / 1000:6.1f} ms"
            )
        costs = handler_costs(channel, (args.rounds + 2) * 10_000_000)
        print("  in-process costs (ms): " + ", ".join(f"{k} {v:.2f}" for k, v in costs.items()))
        quiet(calendar.pk)
        before = last_run_pk()
        sent = burst(watch_url, channel, count=args.burst, first_number=(args.rounds + 3) * 10_000_000)
        quiet(calendar.pk)
        runs = syncs_since(calendar.pk, before)
        burst_covered = covered(calendar.pk)
        print(
            f"  burst: {sent['notifications']} notifications in {sent['seconds']:.1f} s "
            f"({sent['statuses']}) -> {len(runs)} syncs, covered {burst_covered}"
        )

    def med(name: str, key: str) -> float:
        return harness.median([f[key] for f in phases[name]])

    rps_ratio = med("watch", "rps") / med("bare", "rps")
    watch_p99_ms = max(f["p99_us"] for f in phases["watch"]) / 1000
    bare_p99_ms = max(f["p99_us"] for f in phases["bare"]) / 1000
    targets = {
        "throughput_at_least_60pct_of_bare": rps_ratio >= 0.6,
        "p99_under_50ms": watch_p99_ms < 50,
        "p99_within_1_5x_of_bare": watch_p99_ms <= 1.5 * bare_p99_ms,
        "burst_at_most_2_syncs": len(runs) <= 2,
        "nothing_lost": all(f["covered"] for f in phases["watch"]) and burst_covered,
    }
    result = {
        "parameters": vars(args),
        "phases": phases,
        "bare_rps_median": med("bare", "rps"),
        "watch_rps_median": med("watch", "rps"),
        "rps_ratio": rps_ratio,
        "bare_p50_ms": med("bare", "p50_us") / 1000,
        "bare_p99_ms": bare_p99_ms,
        "watch_p50_ms": med("watch", "p50_us") / 1000,
        "watch_p99_ms": watch_p99_ms,
        "bare_cpu_ms_per_request": med("bare", "cpu_ms_per_request"),
        "watch_cpu_ms_per_request": med("watch", "cpu_ms_per_request"),
        "burst": {**sent, "syncs": len(runs), "runs": runs, "covered": burst_covered},
        "in_process_ms": costs,
        "low_concurrency": low,
        "targets": targets,
    }
    harness.save_result("watch", result)
    print(
        f"\nwatch endpoint: {result['watch_rps_median']:.0f} req/s = {rps_ratio:.0%} of the bare view's "
        f"{result['bare_rps_median']:.0f} "
        f"(target >= 60%: {harness.verdict(targets['throughput_at_least_60pct_of_bare'])}); "
        f"p50 {result['watch_p50_ms']:.1f} ms, p99 {watch_p99_ms:.1f} ms (bare p99 {result['bare_p99_ms']:.1f} ms; "
        f"target < 50 ms: {harness.verdict(targets['p99_under_50ms'])}; "
        f"within 1.5x of the bare view's: {harness.verdict(targets['p99_within_1_5x_of_bare'])}); "
        f"CPU {result['watch_cpu_ms_per_request']:.2f} against {result['bare_cpu_ms_per_request']:.2f} ms per request"
    )
    print(
        f"burst: {args.burst} notifications -> {len(runs)} syncs "
        f"(target <= 2: {harness.verdict(targets['burst_at_most_2_syncs'])}); "
        f"nothing lost: {harness.verdict(targets['nothing_lost'])}"
    )


if __name__ == "__main__":
    main()
