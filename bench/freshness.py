"""Target 4: freshness, from an event change at Google to the blocked time in our API.

    .venv/bin/python -m bench.freshness [--changes 50] [--events 2000]

The emulator (own process) pushes to the watch endpoint of gunicorn (2 workers), which
queues a task on Redis for a real Celery worker (prefork, 2 processes) that syncs into
PostgreSQL; we poll ``GET /api/v1/merchant/blocked-times`` (token auth, keep-alive, every
10 ms) until the moved block shows. Each change moves one busy event to a new time; the
clock starts just before the emulator is told. Changes are 1-1.5 s apart (a person editing
a calendar); closer ones are a burst and wait for it to settle (docs/calendar-sync.md).

Baseline, in the same run: telling the emulator plus one API request (the floor of the
measurement itself).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time

from bench import harness

TIMEOUT_SECONDS = 15.0
POLL_SECONDS = 0.01


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=50)
    parser.add_argument("--events", type=int, default=2000)
    args = parser.parse_args()

    with harness.bench_database(), harness.Processes() as processes:
        import requests

        from bench.sync import movable_events
        from integrations.models import SyncRun
        from integrations.services.channels import calendar_watch_open
        from integrations.services.sync import calendar_sync_run
        from merchants.services import api_token_create

        emu = harness.start_emulator(processes)
        base = harness.start_gunicorn(processes, workers=2)
        merchant, _connection, calendar = harness.merchant_connected(emu)
        singles, _recurring = harness.calendar_events(args.events, 20)
        ids = harness.seed_calendar(emu, calendar.external_id, count=args.events, series=20)
        calendar_sync_run(calendar_id=calendar.pk, trigger="initial")
        channel = calendar_watch_open(calendar_id=calendar.pk)
        assert channel is not None, "no channel: is GOOGLE_WEBHOOK_URL usable?"
        harness.start_worker(processes)
        token = api_token_create(user=merchant.user)[1]
        http = requests.Session()
        http.trust_env = False  # loopback only, never a proxy
        http.headers["Authorization"] = f"Token {token}"
        url = base + "/api/v1/merchant/blocked-times"
        movable = movable_events(ids, singles)
        rng = random.Random(8)
        first_run = SyncRun.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

        def blocks_from(start: dt.datetime) -> tuple[list[dt.datetime], float]:
            params = {"start": start.isoformat(), "end": (start + dt.timedelta(hours=1)).isoformat()}
            began = time.perf_counter()
            response = http.get(url, params=params, timeout=10)
            elapsed = time.perf_counter() - began
            response.raise_for_status()
            body = response.json()
            items = body["results"] if isinstance(body, dict) else body
            return [dt.datetime.fromisoformat(b["start"]) for b in items if b["source"] == "google"], elapsed

        blocks_from(dt.datetime.now(dt.UTC))  # warm-up
        day = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=3)
        samples, baselines, missed = [], [], 0
        for i in range(args.changes):
            event_id = movable[(i * 53) % len(movable)]
            start = day + dt.timedelta(days=i // 10, hours=1 + 2 * (i % 10), minutes=7 + i % 40)
            patch = {
                "start": {"dateTime": harness._rfc3339(start)},
                "end": {"dateTime": harness._rfc3339(start + dt.timedelta(minutes=20))},
            }
            began = time.perf_counter()
            emu.update_event(calendar.external_id, event_id, patch)
            told = time.perf_counter() - began
            first_poll = None
            while True:
                seen, poll = blocks_from(start)
                first_poll = first_poll if first_poll is not None else poll
                if start in seen:
                    samples.append(time.perf_counter() - began)
                    break
                if time.perf_counter() - began > TIMEOUT_SECONDS:
                    missed += 1
                    break
                time.sleep(POLL_SECONDS)
            baselines.append(told + first_poll)
            time.sleep(1.0 + rng.random() * 0.5)
        runs = list(SyncRun.objects.filter(pk__gt=first_run).values_list("trigger", "status"))
        delivered = [n for n in emu.notifications() if n.get("state") == "exists"]

    result = {
        "parameters": vars(args),
        "samples_s": samples,
        "missed": missed,
        "p50_ms": harness.percentile(samples, 50) * 1000,
        "p95_ms": harness.percentile(samples, 95) * 1000,
        "max_ms": max(samples) * 1000 if samples else None,
        "baseline_p50_ms": harness.percentile(baselines, 50) * 1000,
        "syncs": len(runs),
        "failed_syncs": sum(1 for _trigger, status in runs if status != "succeeded"),
        "notifications_delivered": len(delivered),
    }
    result["ratio_to_baseline"] = result["p50_ms"] / result["baseline_p50_ms"]
    result["targets"] = {"p95_under_2s": missed == 0 and result["p95_ms"] < 2000}
    harness.save_result("freshness", result)
    print(
        f"\nfreshness over {len(samples)} changes ({missed} missed): p50 {result['p50_ms']:.0f} ms, "
        f"p95 {result['p95_ms']:.0f} ms, max {result['max_ms']:.0f} ms; baseline (tell emulator + one GET) "
        f"{result['baseline_p50_ms']:.1f} ms; {result['syncs']} syncs for {len(delivered)} notifications "
        f"(target p95 < 2 s: {harness.verdict(result['targets']['p95_under_2s'])})"
    )


if __name__ == "__main__":
    main()
