"""Race-free bookings: many customers booking the same time at once get exactly one booking.

Needs PostgreSQL (real row locks and concurrent connections); ``.ci/run`` runs it there.
Each thread has its own database connection, so the lock in ``booking_create`` is what
keeps the second booking out.
"""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from scheduling.models import Booking
from tests.factories import MerchantFactory
from tests.scheduling.helpers import at, next_weekday

THREADS = 8

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL row locks and concurrent connections"
    ),
    pytest.mark.django_db(transaction=True),
]


def book_concurrently(merchant, intervals) -> list[int]:
    """POST one booking per interval, all released at once by a barrier; returns the status codes."""
    return book_concurrently_for([(merchant, start, end) for start, end in intervals])


def book_concurrently_for(requests) -> list[int]:
    barrier = threading.Barrier(len(requests))
    codes: list[int] = [0] * len(requests)
    errors: list[BaseException] = []

    def run(index, merchant, start, end):
        try:
            client = APIClient()
            body = {
                "start": start.isoformat(),
                "end": end.isoformat(),
                "customer_name": f"Customer {index}",
                "customer_email": f"customer{index}@example.com",
            }
            barrier.wait(timeout=30)
            codes[index] = client.post(
                f"/api/v1/public/merchants/{merchant.slug}/bookings", body, format="json"
            ).status_code
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, *request)) for i, request in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return codes


def test_same_slot_is_booked_exactly_once():
    merchant = MerchantFactory()
    monday = next_weekday(0)

    codes = book_concurrently(merchant, [(at(monday, "10:00"), at(monday, "11:00"))] * THREADS)

    assert sorted(codes) == [201] + [409] * (THREADS - 1)
    assert Booking.objects.filter(merchant=merchant).count() == 1


def test_overlapping_slots_are_booked_exactly_once():
    merchant = MerchantFactory()
    monday = next_weekday(0)
    starts = ["10:00", "10:15", "10:30", "09:45", "09:50", "10:05", "10:20", "10:40"]  # all within 55 minutes
    intervals = [(at(monday, s), at(monday, s).replace(hour=at(monday, s).hour + 1)) for s in starts]

    codes = book_concurrently(merchant, intervals)

    assert codes.count(201) == 1  # every pair of these one-hour intervals overlaps
    assert codes.count(409) == THREADS - 1
    assert Booking.objects.filter(merchant=merchant).count() == 1


def test_different_merchants_do_not_block_each_other():
    merchants = [MerchantFactory() for _ in range(2)]
    monday = next_weekday(0)

    requests = [(m, at(monday, "10:00"), at(monday, "11:00")) for m in merchants for _ in range(4)]

    codes = book_concurrently_for(requests)

    assert sorted(codes[:4]) == sorted(codes[4:]) == [201, 409, 409, 409]


def test_reschedules_and_new_bookings_racing_for_one_slot_get_it_once():
    """Moving bookings is race-free too: the same merchant lock as a new booking."""
    from scheduling.tokens import booking_token
    from tests.scheduling.helpers import booking

    merchant = MerchantFactory()
    monday = next_weekday(0)
    movers = [booking(merchant, at(monday, f"{9 + i:02d}:00"), at(monday, f"{9 + i:02d}:30")) for i in range(3)]
    target = {"start": at(monday, "15:00").isoformat(), "end": at(monday, "15:30").isoformat()}
    barrier = threading.Barrier(len(movers) + 2)
    codes: list[int] = []
    errors: list[BaseException] = []

    def run(path, data):
        try:
            client = APIClient()
            barrier.wait(timeout=30)
            codes.append(client.post(path, data, format="json").status_code)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread below
            errors.append(exc)
        finally:
            connection.close()

    jobs = [(f"/api/v1/public/bookings/{booking_token(m.uid)}/reschedule", target) for m in movers]
    jobs += [
        (
            f"/api/v1/public/merchants/{merchant.slug}/bookings",
            {**target, "customer_name": f"New {i}", "customer_email": f"new{i}@example.com"},
        )
        for i in range(2)
    ]
    threads = [threading.Thread(target=run, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors, errors
    assert sorted(codes) in ([200, 409, 409, 409, 409], [201, 409, 409, 409, 409])
    assert Booking.objects.filter(merchant=merchant, start=at(monday, "15:00"), status="confirmed").count() == 1
