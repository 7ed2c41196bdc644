"""Booking latency with the live check (SPEC §11) against the booking without it.

    .venv/bin/python -m bench.booking [--runs 150] [--latency-ms 150]

Against PostgreSQL (database ``bench``) and the Google emulator in its own process: a
merchant (Europe/Berlin, open every day 08:00-20:00) with Google connected and its primary
calendar selected. Two gunicorn servers (2 sync workers each, ``DEBUG=false``) serve the
same database, one with ``BOOKING_LIVE_CHECK_SECONDS=2`` (the default) and one with the
live check off (``0``). Customers book free 30-minute slots one at a time over HTTP
(``POST /api/v1/public/merchants/{slug}/bookings``), alternating between the two servers,
each on a slot of its own; p50 and p95 of both, and their difference, which is the cost of
the live check (one ``freeBusy.query`` round trip from a thread). Two rounds: the emulator
answering at once, then with ``--latency-ms`` added to every ``freeBusy.query`` (a slow but
normal answer, ``inject_fault(delay=)``), as a remote Google answers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time

from bench import harness


def _slots(days: int):
    zone_start = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    for day in range(1, days + 1):
        for half_hour in range(24):
            start = (zone_start + dt.timedelta(days=day)).replace(hour=8) + dt.timedelta(minutes=30 * half_hour)
            yield start, start + dt.timedelta(minutes=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=150)
    parser.add_argument("--latency-ms", type=int, default=150)
    args = parser.parse_args()

    # The public booking limits would refuse a benchmark's hundreds of bookings from one address.
    os.environ["BOOKING_RATE_PER_ADDRESS"] = "1000000/hour"
    os.environ["BOOKING_RATE_PER_MERCHANT"] = "1000000/hour"
    with harness.bench_database(), harness.Processes() as processes:
        import requests

        from merchants.models import BusinessHours

        emu = harness.start_emulator(processes)
        merchant, _connection, _calendar = harness.merchant_connected(emu)
        # Every day 08:00-20:00 UTC wall-clock in Berlin is fine: slots are placed in UTC below.
        merchant.time_zone = "UTC"
        merchant.minimum_notice_minutes = 0
        merchant.max_days_ahead = 365
        merchant.slot_lengths = [30]
        merchant.save()
        BusinessHours.objects.filter(merchant=merchant).delete()
        BusinessHours.objects.bulk_create(
            BusinessHours(merchant=merchant, weekday=day, start=dt.time(8), end=dt.time(20)) for day in range(7)
        )
        servers = {}
        for name, seconds in (("with_live_check", "2"), ("without", "0")):
            os.environ["BOOKING_LIVE_CHECK_SECONDS"] = seconds
            servers[name] = harness.start_gunicorn(processes, workers=2)
        session = requests.Session()
        session.trust_env = False  # loopback only, never a proxy
        slots = _slots(days=(4 * args.runs + 10) // 24 + 2)  # two rounds, two servers
        rounds = {"0": 0, str(args.latency_ms): args.latency_ms}
        timings: dict[str, dict[str, list[float]]] = {latency: {name: [] for name in servers} for latency in rounds}

        def book(name: str, number: int) -> float:
            start, end = next(slots)
            body = {
                "start": start.isoformat(),
                "end": end.isoformat(),
                "customer_name": "Bench Customer",
                "customer_email": f"customer-{name}-{number}@example.com",
            }
            began = time.perf_counter()
            response = session.post(f"{servers[name]}/api/v1/public/merchants/{merchant.slug}/bookings", json=body)
            elapsed = (time.perf_counter() - began) * 1000
            assert response.status_code == 201, response.text
            return elapsed

        for name in servers:  # warm-up: each worker's first request
            for i in range(4):
                book(name, -1 - i)
        for latency, milliseconds in rounds.items():
            if milliseconds:
                emu.inject_fault("freebusy.query", delay=milliseconds / 1000, times=None)
            for number in range(args.runs):
                for name in servers:
                    timings[latency][name].append(book(name, number + 10_000 * milliseconds))
            emu.clear_faults()

    result: dict = {"parameters": vars(args), "rounds": {}}
    for latency, samples in timings.items():
        figures = {
            name: {"p50_ms": harness.percentile(values, 50), "p95_ms": harness.percentile(values, 95)}
            for name, values in samples.items()
        }
        result["rounds"][latency] = {
            "figures": figures,
            "live_check_cost_p50_ms": figures["with_live_check"]["p50_ms"] - figures["without"]["p50_ms"],
            "live_check_cost_p95_ms": figures["with_live_check"]["p95_ms"] - figures["without"]["p95_ms"],
            "ratio_p50": figures["with_live_check"]["p50_ms"] / figures["without"]["p50_ms"],
        }
    harness.save_result("booking", result)
    for latency, r in result["rounds"].items():
        print(f"\n{args.runs} public bookings each, freeBusy answered after {latency} ms")
        for name, f in r["figures"].items():
            print(f"  {name:16} p50 {f['p50_ms']:6.2f} ms   p95 {f['p95_ms']:6.2f} ms")
        print(
            f"the live check adds {r['live_check_cost_p50_ms']:.1f} ms at p50 and "
            f"{r['live_check_cost_p95_ms']:.1f} ms at p95 ({r['ratio_p50']:.2f}x at p50)"
        )


if __name__ == "__main__":
    main()
