"""Abuse limits on public bookings (SPEC §12), as DRF throttles on the shared cache.

- :class:`BookingAddressThrottle`: per client address, ``BOOKING_RATE_PER_ADDRESS`` (``20/hour``);
- :class:`BookingMerchantThrottle`: per merchant, ``BOOKING_RATE_PER_MERCHANT`` (``200/hour``).

Both count every booking attempt (API and booking page) in the default cache, Redis when
``REDIS_URL`` is set, so every web process shares the counts. Over a limit the API answers
429 ``rate_limited`` with ``Retry-After`` (``config.api.exception_handler``); the booking page
says so in plain words. The client address is DRF's (``REMOTE_ADDR``, or
``X-Forwarded-For`` behind ``NUM_PROXIES`` trusted proxies).
https://www.django-rest-framework.org/api-guide/throttling/
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class _SettingRateThrottle(SimpleRateThrottle):
    setting: str

    def get_rate(self) -> str:
        # Read at request time, so a changed setting (tests, a reload) applies at once.
        return getattr(settings, self.setting)

    def __init__(self):
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)


class BookingAddressThrottle(_SettingRateThrottle):
    scope = "booking_address"
    setting = "BOOKING_RATE_PER_ADDRESS"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class BookingMerchantThrottle(_SettingRateThrottle):
    scope = "booking_merchant"
    setting = "BOOKING_RATE_PER_MERCHANT"

    def get_cache_key(self, request, view) -> str | None:
        slug = (getattr(view, "kwargs", None) or {}).get("slug")
        return self.cache_format % {"scope": self.scope, "ident": slug} if slug else None


def booking_throttle_wait(request, view) -> float | None:
    """For views outside DRF (the booking page): None when allowed, else seconds to wait."""
    waits = []
    for throttle in (BookingAddressThrottle(), BookingMerchantThrottle()):
        if not throttle.allow_request(request, view):
            waits.append(throttle.wait() or 1)
    return max(waits) if waits else None
