"""A per-merchant change counter in the shared cache, for the week view's cheap live poll (SPEC §9).

Every write that changes what a merchant's week shows bumps the counter
(``scheduling.services.merchant_changed``); the open week page asks for it about once a
second with ``If-None-Match`` and re-fetches its grid only when it moved. Reading it is one
cache GET and no database query, so a poll costs the web tier almost nothing and holds no
worker (see ``scheduling.live`` and docs/BENCHMARKS.md). With Redis (``REDIS_URL``) every web
process sees the same counter; ``INCR`` is atomic.
https://docs.djangoproject.com/en/5.2/topics/cache/#cache-api
"""

from __future__ import annotations

from django.core.cache import cache

KEY = "scheduling:changes:{merchant_id}"


def _key(merchant_id: int) -> str:
    return KEY.format(merchant_id=int(merchant_id))


def changes_bump(merchant_id: int) -> int:
    key = _key(merchant_id)
    cache.add(key, 0, timeout=None)
    try:
        return cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=None)
        return 1


def changes_version(merchant_id: int) -> int:
    return int(cache.get(_key(merchant_id)) or 0)
