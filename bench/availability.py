"""Availability speed: a merchant with 10,000 short blocked times, 30-day range, 30-minute slots.

    .venv/bin/python bench/availability.py            # SQLite (a throwaway test database)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/availability.py

Creates and destroys its own test database (``test_<name>``), like the test suite. Prints
the median and 95th percentile of the selector and of the full HTTP request.
"""

import datetime as dt
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.test import Client  # noqa: E402
from django.test.utils import setup_databases, setup_test_environment, teardown_databases  # noqa: E402

BLOCKS, DAYS, RUNS = 10_000, 30, 50


def timed(fn, runs: int = RUNS) -> tuple[float, float]:
    fn()  # warm-up
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main() -> None:
    setup_test_environment()
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        from django.contrib.auth import get_user_model

        from merchants.services import merchant_create
        from scheduling.models import BlockedTime
        from scheduling.selectors import availability_slots

        get_user_model()  # the app registry is ready
        merchant = merchant_create(
            email="bench@example.com", password="bench-password-1", name="Bench", time_zone="Europe/Berlin"
        )
        rng = random.Random(1)
        start = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=1)
        end = start + dt.timedelta(days=DAYS)
        blocks = []
        for _ in range(BLOCKS):
            block_start = start + dt.timedelta(minutes=rng.randrange(0, DAYS * 24 * 60))
            blocks.append(
                BlockedTime(
                    merchant=merchant, start=block_start, end=block_start + dt.timedelta(minutes=rng.randrange(1, 5))
                )
            )
        BlockedTime.objects.bulk_create(blocks, batch_size=2000)

        def selector():
            return availability_slots(
                merchant=merchant, start=start, end=end, duration=dt.timedelta(minutes=30), now=start
            )

        client = Client()
        query = {"start": start.isoformat(), "end": end.isoformat(), "duration": 30}

        def http():
            response = client.get(f"/api/v1/public/merchants/{merchant.slug}/availability", query)
            assert response.status_code == 200, response.content

        from django.db import connection

        print(f"{connection.vendor}: {BLOCKS} blocked times, {DAYS} days, {len(selector())} free slots")
        for label, fn in (("selector", selector), ("HTTP request", http)):
            median, p95 = timed(fn)
            print(f"  {label:13} median {median:6.1f} ms   p95 {p95:6.1f} ms")
    finally:
        teardown_databases(old_config, verbosity=0)


if __name__ == "__main__":
    main()
