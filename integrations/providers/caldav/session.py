"""One account's DAV requests with the ProviderError mapping and short in-call retries.

401 -> ReauthRequired, 403 -> PermissionDenied, 404 -> NotFound, 429/503 -> RateLimited with
``Retry-After`` (seconds or an HTTP date), other 5xx -> TransientError, other 4xx ->
InvalidRequest. 429 and 5xx are retried here up to ``CALDAV_MAX_ATTEMPTS`` times, waiting
``Retry-After`` when the server gives one (exponential backoff with jitter otherwise); a
``Retry-After`` longer than ``CALDAV_RETRY_MAX_WAIT_SECONDS`` is handed back on the
exception at once so the Celery task reschedules instead of holding a worker.
Callers that need a status themselves (403 + ``valid-sync-token``) pass it in ``accept``.
"""

from __future__ import annotations

import logging
import random
import time

from django.conf import settings

from integrations.providers.base import (
    CursorExpired,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    ProviderError,
    RateLimited,
    ReauthRequired,
    TransientError,
    retry_after_seconds,
)
from integrations.providers.caldav.http import XML, Answer, CalDAVHttp

logger = logging.getLogger(__name__)

RETRIED = frozenset({429, 500, 502, 503, 504})


def retry_after(answer: Answer) -> float | None:
    return retry_after_seconds(answer.header("retry-after"))


def error_for(answer: Answer, what: str) -> ProviderError:
    status = answer.status
    if status == 401:
        return ReauthRequired(f"the CalDAV server refused the credentials ({what}: 401)")
    if status == 403:
        return PermissionDenied(f"the CalDAV server refused access ({what}: 403)")
    if status == 404:
        return NotFound(f"not found on the CalDAV server ({what}: 404)")
    if status == 410:  # gone: whatever state we held (a sync token) is no longer valid
        return CursorExpired(f"the CalDAV server no longer knows this state ({what}: 410)")
    if status in (429, 503):
        return RateLimited(f"the CalDAV server is busy ({what}: {status})", retry_after=retry_after(answer))
    if status >= 500:
        return TransientError(f"the CalDAV server failed ({what}: {status})", retry_after=retry_after(answer))
    return InvalidRequest(f"the CalDAV server refused the request ({what}: {status})")


class DAVSession:
    def __init__(self, username: str, password: str, *, hosts: set[str] | None = None):
        self.http = CalDAVHttp(username, password)
        self.hosts = set(hosts or ())  # the account's hosts: credentials go there only

    def call(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        depth: str | None = None,
        accept: tuple[int, ...] = (207,),
        what: str = "",
        content_type: str = XML,
        attempts: int | None = None,
    ) -> Answer:
        """``attempts``: at most this many tries (default ``CALDAV_MAX_ATTEMPTS``); the live
        check passes 1, because its caller decides from the stored blocks rather than wait."""
        attempts = max(1, attempts or int(settings.CALDAV_MAX_ATTEMPTS))
        what = what or method
        for attempt in range(attempts):
            answer = self.http.request(
                method, url, body=body, depth=depth, content_type=content_type, trusted_hosts=self.hosts
            )
            if answer.status in accept:
                return answer
            error = error_for(answer, what)
            if answer.status not in RETRIED or attempt == attempts - 1:
                raise error
            wait = error.retry_after
            if wait is None:
                ceiling = float(settings.CALDAV_RETRY_BASE_SECONDS) * 2**attempt
                wait = random.uniform(ceiling / 2, ceiling)
            if wait > float(settings.CALDAV_RETRY_MAX_WAIT_SECONDS):
                raise error
            logger.info("CalDAV %s answered %s; retrying in %.2f s", what, answer.status, wait)
            time.sleep(wait)
        raise AssertionError("unreachable")
