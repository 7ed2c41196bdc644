"""``GoogleCalendarClient``: the :class:`~integrations.providers.base.CalendarClient` for Google.

Google's own client library does the HTTP (``google-api-python-client`` over httplib2,
with the bundled Calendar v3 discovery document, ``api_endpoint`` from settings so the
emulator can stand in). The two-way writes and the live check live in :mod:`.bookings`.
This module adds the three things callers rely on:

- one place, :func:`provider_error_from`, mapping HttpError / timeouts / unreadable
  answers onto the ProviderError hierarchy, so no caller sees an HttpError or a raw dict;
- short in-call retries of transient failures (5xx, 429, rate-limit 403s, timeouts) with
  exponential backoff and jitter (tenacity), honouring ``Retry-After`` up to a cap;
  a longer ``Retry-After`` is handed back on the exception for the task to reschedule;
- auth through :mod:`.credentials` (refresh before expiry, once more on a 401).

https://developers.google.com/calendar/api/v3/reference
https://developers.google.com/calendar/api/guides/errors
https://developers.google.com/calendar/api/guides/sync
https://googleapis.github.io/google-api-python-client/docs/epy/googleapiclient.errors.HttpError-class.html
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httplib2
from django.conf import settings
from google.auth import exceptions as auth_exceptions
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient import errors as api_errors
from googleapiclient.discovery import build
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from integrations.models import CalendarConnection
from integrations.providers.base import (
    ChannelInfo,
    CursorExpired,
    EventPage,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    ProviderError,
    RateLimited,
    ReauthRequired,
    RemoteCalendar,
    TokensSaved,
    TransientError,
    retry_after_seconds,
)
from integrations.providers.google.bookings import BookingWrites, EventExists
from integrations.providers.google.credentials import credentials_for
from integrations.providers.google.mapping import MalformedEvent, calendar_from_google, event_from_google

logger = logging.getLogger(__name__)

EVENTS_PAGE_SIZE = 2500  # Google's maximum for events.list
CALENDARS_PAGE_SIZE = 250  # Google's maximum for calendarList.list
DEFAULT_CHANNEL_TTL = dt.timedelta(seconds=604800)  # Google's documented default
_RATE_LIMIT_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"}


# --- errors: the one place where Google's failures become ProviderErrors -------------------


def _error_reason(exc: api_errors.HttpError) -> str:
    try:
        return json.loads(exc.content)["error"]["errors"][0]["reason"]
    except (ValueError, TypeError, KeyError, IndexError):
        return ""


def _retry_after(headers: Any) -> float | None:
    return retry_after_seconds((headers or {}).get("retry-after"))


def provider_error_from(exc: Exception) -> ProviderError:
    """Translate anything the Google client raised into our error hierarchy."""
    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, api_errors.HttpError):
        status = exc.status_code or getattr(exc.resp, "status", 0)
        reason = _error_reason(exc)
        message = f"Google Calendar API answered {status}" + (f" ({reason})" if reason else "")
        retry_after = _retry_after(exc.resp)
        if status == 401:
            # Still refused after one refresh with a grant Google accepted: credentials unusable.
            return ReauthRequired(message)
        if status == 403:
            if reason in _RATE_LIMIT_REASONS:
                return RateLimited(message, retry_after=retry_after)
            return PermissionDenied(message)
        if status == 404:
            return NotFound(message)
        if status == 409 and reason == "duplicate":
            return EventExists(message)
        if status == 410:
            # ``deleted``: an events.delete of an event already gone; else a stale sync token.
            return NotFound(message) if reason == "deleted" else CursorExpired(message)
        if status == 429:
            return RateLimited(message, retry_after=retry_after)
        if status == 408 or status >= 500:
            return TransientError(message, retry_after=retry_after)
        if status == 400:
            return InvalidRequest(message)
        return ProviderError(message)
    if isinstance(exc, TimeoutError):
        return TransientError("Google Calendar API timed out")
    if isinstance(exc, (OSError, httplib2.HttpLib2Error, auth_exceptions.TransportError)):
        return TransientError(f"Could not reach the Google Calendar API ({type(exc).__name__})")
    if isinstance(exc, (ValueError, api_errors.Error)):
        return TransientError(f"Unreadable answer from the Google Calendar API ({type(exc).__name__})")
    return ProviderError(f"Google Calendar API call failed ({type(exc).__name__})")


_MAPPED = (
    api_errors.Error,
    httplib2.HttpLib2Error,
    auth_exceptions.TransportError,
    OSError,
    ValueError,
)


def _should_retry(exc: BaseException) -> bool:
    if not isinstance(exc, ProviderError) or not exc.retryable:
        return False
    # A long Retry-After is not worth blocking a worker for: let the task reschedule.
    return exc.retry_after is None or exc.retry_after <= settings.GOOGLE_API_RETRY_MAX_WAIT_SECONDS


def _wait(retry_state: RetryCallState) -> float:
    cap = settings.GOOGLE_API_RETRY_MAX_WAIT_SECONDS
    backoff = wait_random_exponential(multiplier=settings.GOOGLE_API_RETRY_BASE_SECONDS, max=cap)(retry_state)
    exc = retry_state.outcome.exception() if retry_state.outcome else None
    retry_after = getattr(exc, "retry_after", None) or 0.0
    return min(cap, max(backoff, retry_after))


def _log_retry(retry_state: RetryCallState) -> None:
    exc = retry_state.outcome.exception() if retry_state.outcome else None
    logger.warning("Google Calendar API attempt %s failed (%s); retrying", retry_state.attempt_number, exc)


# --- the client ----------------------------------------------------------------------------------


def _rfc3339(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _from_millis(value: Any) -> dt.datetime | None:
    try:
        return dt.datetime.fromtimestamp(int(value) / 1000, tz=dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


class _ConnectionHttpRequired:
    """The shared services' own ``http``: every request must be sent with the connection's
    (``execute(http=...)``), so one forgotten ``http=`` fails loudly instead of going out
    without credentials."""

    def request(self, *args, **kwargs):
        raise RuntimeError("a Calendar API request was executed without the connection's http")

    def close(self) -> None:
        return None


_resources: dict[tuple[str, str], Any] = {}
_resources_lock = threading.Lock()


def _resource(name: str):
    """``service.<name>()`` of the Calendar v3 service, built once per process and API endpoint.

    Building the service (the bundled discovery document) costs ~2 ms and each resource
    (``events()``, methods and docstrings made from the schema) ~4 ms, per call when made per
    client: more than the rest of an incremental sync (bench/sync.py). A resource holds no
    credentials and no connection state (requests carry the connection's ``http`` when
    executed), so one per process serves every connection and thread.
    https://googleapis.github.io/google-api-python-client/docs/thread_safety.html
    """
    from integrations.providers.google.provider import GoogleProvider

    key = (GoogleProvider.api_endpoint(), name)
    resource = _resources.get(key)
    if resource is None:
        with _resources_lock:
            resource = _resources.get(key)
            if resource is None:
                service = build(
                    "calendar",
                    "v3",
                    http=_ConnectionHttpRequired(),
                    static_discovery=True,
                    cache_discovery=False,
                    client_options={"api_endpoint": key[0]},
                )
                resource = _resources[key] = getattr(service, name)()
    return resource


class _SharedService:
    """``service.events()`` and the like, answered from the process-wide resources (:func:`_resource`)."""

    def __getattr__(self, name: str):
        return lambda: _resource(name)


_shared_service = _SharedService()


class GoogleCalendarClient(BookingWrites):
    """Calendar v3 for one connection: reads everywhere, writes only in the bookings calendar
    (:mod:`.bookings`). Not thread-safe (httplib2): one per task.

    ``reads_ahead``: its listing does no database work (refreshed tokens go to ``on_tokens``,
    which the service runs on the sync's own thread), so the engine may run it one page ahead
    on another thread, never two calls at once (``integrations.sync.readahead``).
    """

    reads_ahead = True

    def __init__(self, connection: CalendarConnection, on_tokens: TokensSaved | None = None):
        self.connection = connection
        self._on_tokens = on_tokens
        self._http = None

    # -- plumbing

    @property
    def service(self) -> Any:
        """Calendar v3 resources (``self.service.events().list(...)``), shared by the process;
        requests built from them are executed with :attr:`http` (``_execute``)."""
        return _shared_service

    @property
    def http(self) -> AuthorizedHttp:
        """This connection's authorised transport (tokens refreshed before expiry and on a 401)."""
        if self._http is None:
            self._http = AuthorizedHttp(
                credentials_for(self.connection, self._on_tokens),
                http=httplib2.Http(timeout=settings.GOOGLE_API_TIMEOUT_SECONDS),
                # SPEC §5: a 401 refreshes the token once, then the call fails.
                max_refresh_attempts=1,
            )
        return self._http

    def _execute(self, make_request: Callable[[], Any], *, expect_object: bool = True, retry: bool = True) -> Any:
        """Run one API call with in-call retries; every failure leaves as a ProviderError.

        googleapiclient hands back unparseable JSON as a plain string: with ``expect_object``
        anything but a JSON object counts as a transient, retried failure.

        ``retry=False``: one attempt, for callers on a deadline that fall back on failure.
        """
        retrying = Retrying(
            stop=stop_after_attempt(max(1, settings.GOOGLE_API_MAX_ATTEMPTS) if retry else 1),
            wait=_wait,
            retry=retry_if_exception(_should_retry),
            before_sleep=_log_retry,
            reraise=True,
        )
        result = None
        for attempt in retrying:
            with attempt:
                try:
                    result = make_request().execute(http=self.http, num_retries=0)
                except ProviderError:
                    raise
                except _MAPPED as exc:
                    raise provider_error_from(exc) from exc
                if expect_object and not isinstance(result, dict):
                    raise TransientError("Unreadable answer from the Google Calendar API (not a JSON object)")
        return result

    # -- CalendarClient

    def list_calendars(self) -> list[RemoteCalendar]:
        calendars: list[RemoteCalendar] = []
        page_token: str | None = None
        while True:
            kwargs = {"maxResults": CALENDARS_PAGE_SIZE}
            if page_token:
                kwargs["pageToken"] = page_token
            response = self._execute(lambda kw=kwargs: self.service.calendarList().list(**kw))
            for entry in response.get("items") or ():
                if entry.get("deleted") or not entry.get("id"):
                    continue
                calendars.append(calendar_from_google(entry))
            next_token = response.get("nextPageToken")
            if not next_token or next_token == page_token:
                return calendars
            page_token = next_token

    def list_events(
        self,
        calendar_id: str,
        *,
        cursor: str | None,
        window_start: dt.datetime,
        window_end: dt.datetime,
    ) -> Iterator[EventPage]:
        """Full listing of the window (``cursor`` None) or the changes since ``cursor``.

        Expanded instances (``singleEvents=true``), never ``orderBy`` (it can suppress
        ``nextSyncToken``). Incremental listings carry no time bounds (Google refuses
        them with a sync token), so they may contain events outside the window. The
        last page carries the next cursor; a 410 raises CursorExpired.
        """
        query: dict[str, Any] = {"calendarId": calendar_id, "singleEvents": True, "maxResults": EVENTS_PAGE_SIZE}
        if cursor:
            query["syncToken"] = cursor
        else:
            query["timeMin"] = _rfc3339(window_start)
            query["timeMax"] = _rfc3339(window_end)
        page_token: str | None = None
        while True:
            kwargs = dict(query, pageToken=page_token) if page_token else query
            response = self._execute(lambda kw=kwargs: self.service.events().list(**kw))
            events = self._events_of(response, calendar_id)
            next_token = response.get("nextPageToken")
            if next_token:
                if next_token == page_token:
                    raise TransientError("Google Calendar API repeated a page token")
                yield EventPage(events=events)
                page_token = next_token
                continue
            next_cursor = response.get("nextSyncToken")
            if not next_cursor:
                logger.warning("events.list of calendar %s ended without a nextSyncToken", calendar_id)
            yield EventPage(events=events, next_cursor=next_cursor or None)
            return

    @staticmethod
    def _events_of(response: dict[str, Any], calendar_id: str):
        zone = response.get("timeZone")
        events = []
        for item in response.get("items") or ():
            try:
                events.append(event_from_google(item, calendar_zone=zone))
            except MalformedEvent as exc:
                # One unreadable event must not stop the calendar from syncing.
                logger.warning("skipping event %s of calendar %s: %s", item.get("id"), calendar_id, exc)
        return events

    def watch(self, calendar_id: str, *, address: str, channel_id: str, token: str) -> ChannelInfo:
        body = {"id": channel_id, "type": "web_hook", "address": address, "token": token}
        response = self._execute(lambda: self.service.events().watch(calendarId=calendar_id, body=body))
        resource_id = response.get("resourceId")
        if not resource_id:
            raise TransientError("events.watch answered without a resourceId")
        expires_at = _from_millis(response.get("expiration")) or dt.datetime.now(dt.UTC) + DEFAULT_CHANNEL_TTL
        return ChannelInfo(
            channel_id=response.get("id") or channel_id,
            resource_id=resource_id,
            resource_uri=response.get("resourceUri", ""),
            expires_at=expires_at,
        )

    def renew_channel(self, *, channel_id: str, resource_id: str) -> None:
        """Google channels cannot be extended: the caller opens a successor."""
        return None

    def stop_channel(self, *, channel_id: str, resource_id: str) -> None:
        body = {"id": channel_id, "resourceId": resource_id}
        self._execute(lambda: self.service.channels().stop(body=body), expect_object=False)

    def revoke(self) -> None:
        """Revoke the grant at Google (the refresh token; revoking it kills the access token too)."""
        from integrations.providers.google.oauth import token_revoke

        token = self.connection.refresh_token or self.connection.access_token
        if token:
            token_revoke(token=token)
