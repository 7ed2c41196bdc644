"""Target 5: availability for a merchant with 10,000 blocked times, 30-day range, 30-minute slots.

    .venv/bin/python -m bench.availability [--blocks 10000] [--days 30] [--runs 200]

Against PostgreSQL (database ``bench``), runs interleaved:

- in this process (set up as ``config.wsgi`` sets up a server process), the selector
  ``availability_slots``, against the baseline of reading the same busy rows (one query
  for the range's blocked times as Unix seconds, fetched, nothing computed);
- over HTTP, one request at a time, to gunicorn (2 workers, ``DEBUG=false``):
  ``GET /api/v1/public/merchants/{slug}/availability``, against the bare view
  (``bench.urls``) in the same server.

The blocked times are short (1-4 min) and spread at random over the 30 days, the
hardest case for the sweep: 333 a day, most inside business hours.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time

from bench import harness

BUSY_SQL = (
    'SELECT floor(extract(epoch FROM start))::bigint, ceil(extract(epoch FROM "end"))::bigint '
    'FROM scheduling_blockedtime WHERE merchant_id = %s AND start < %s AND "end" > %s'
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--blocks", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()

    with harness.bench_database(), harness.Processes() as processes:
        import requests
        from django.db import connection

        import config.wsgi  # noqa: F401 - the server's process setup (gc.freeze), for the selector
        from merchants.services import merchant_create
        from scheduling.models import BlockedTime
        from scheduling.selectors import availability_slots

        merchant = merchant_create(
            email=harness.MERCHANT_EMAIL, password="bench-password-1", name="Bench", time_zone="Europe/Berlin"
        )
        rng = random.Random(1)
        start = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=1)
        end = start + dt.timedelta(days=args.days)
        blocks = []
        for _ in range(args.blocks):
            block_start = start + dt.timedelta(minutes=rng.randrange(0, args.days * 24 * 60))
            block_end = block_start + dt.timedelta(minutes=rng.randrange(1, 5))
            blocks.append(BlockedTime(merchant=merchant, start=block_start, end=block_end))
        BlockedTime.objects.bulk_create(blocks, batch_size=2000)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE scheduling_blockedtime")

        def selector():
            return availability_slots(
                merchant=merchant, start=start, end=end, duration=dt.timedelta(minutes=30), now=start
            )

        def busy_rows():
            # The floor: the range's blocked times read as whole seconds (as the selector reads
            # them) and fetched, with no Python work on them.
            with connection.cursor() as cursor:
                cursor.execute(BUSY_SQL, [merchant.pk, end, start])
                return cursor.fetchall()

        base = harness.start_gunicorn(processes, workers=2)
        http_session = requests.Session()
        http_session.trust_env = False  # loopback only, never a proxy
        query = {"start": start.isoformat(), "end": end.isoformat(), "duration": 30}

        def http():
            response = http_session.get(f"{base}/api/v1/public/merchants/{merchant.slug}/availability", params=query)
            assert response.status_code == 200, response.text

        def bare():
            assert http_session.get(base + harness.BARE_PATH).status_code == 200

        free = len(selector())
        rows = len(busy_rows())
        timings: dict[str, list[float]] = {"selector": [], "busy_rows": [], "http": [], "bare": []}
        functions = {"selector": selector, "busy_rows": busy_rows, "http": http, "bare": bare}
        for fn in functions.values():  # warm-up
            fn()
        for _ in range(args.runs):
            for name, fn in functions.items():
                began = time.perf_counter()
                fn()
                timings[name].append((time.perf_counter() - began) * 1000)

    figures = {
        name: {"p50_ms": harness.percentile(samples, 50), "p95_ms": harness.percentile(samples, 95)}
        for name, samples in timings.items()
    }
    result = {
        "parameters": vars(args),
        "free_slots": free,
        "busy_rows_in_range": rows,
        "figures": figures,
        "selector_ratio_to_busy_rows": figures["selector"]["p50_ms"] / figures["busy_rows"]["p50_ms"],
        "http_ratio_to_bare": figures["http"]["p50_ms"] / figures["bare"]["p50_ms"],
        "targets": {"p95_under_50ms": figures["http"]["p95_ms"] < 50},
    }
    harness.save_result("availability", result)
    print(
        f"\n{args.blocks} blocked times ({rows} in range), {args.days} days, {free} free slots, {args.runs} runs each"
    )
    for name, f in figures.items():
        print(f"  {name:10} p50 {f['p50_ms']:6.2f} ms   p95 {f['p95_ms']:6.2f} ms")
    print(
        f"selector {result['selector_ratio_to_busy_rows']:.1f}x reading the busy rows; HTTP request "
        f"{result['http_ratio_to_bare']:.1f}x the bare view; HTTP p95 {figures['http']['p95_ms']:.1f} ms "
        f"(target < 50 ms: {harness.verdict(result['targets']['p95_under_50ms'])})"
    )


if __name__ == "__main__":
    main()
