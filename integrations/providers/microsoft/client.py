"""``MicrosoftCalendarClient``: the :class:`~integrations.providers.base.CalendarClient` for Graph.

Plain HTTPS + JSON over requests (Graph needs no SDK), with:

- tokens refreshed through msal before they expire and once more on a 401; Microsoft rotates
  refresh tokens, so every refresh hands the new pair to ``on_tokens`` (the service saves it);
  ``invalid_grant`` (revoked consent, revoked sessions, inactivity) raises ReauthRequired;
- one place, :func:`provider_error_from_response`, mapping Graph's answers onto the
  ProviderError hierarchy (401, 403, 404, 410, 429, 5xx), with ``Retry-After`` honoured by
  short in-call retries and longer waits handed back on the exception;
- ``calendarView/delta`` per calendar with ``Prefer: odata.maxpagesize`` and
  ``outlook.timezone="UTC"``; the whole ``@odata.deltaLink`` is the opaque cursor;
- subscriptions (change notifications) as the push channel: create, renew (PATCH), delete;
- two-way (SPEC §10, ``Calendars.ReadWrite``): the bookings calendar, booking copies keyed
  on a single-value extended property (``bookings.py``), and the live check over
  ``calendarView`` (SPEC §11).

https://learn.microsoft.com/en-us/graph/delta-query-events
https://learn.microsoft.com/en-us/graph/errors
https://learn.microsoft.com/en-us/graph/throttling
https://learn.microsoft.com/en-us/graph/api/resources/subscription
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
from collections.abc import Iterator
from urllib.parse import quote

import msal
import requests
from django.conf import settings
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from integrations.providers import base
from integrations.providers.base import (
    BookingEvent,
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
    RemoteEvent,
    TokensSaved,
    TokenUpdate,
    TransientError,
    retry_after_seconds,
)
from integrations.providers.microsoft import bookings
from integrations.providers.microsoft.mapping import MalformedEvent, calendar_from_graph, event_from_graph
from integrations.providers.microsoft.provider import CALENDARS_READ, MicrosoftProvider, normalize_scope

logger = logging.getLogger(__name__)

REFRESH_MARGIN = dt.timedelta(minutes=5)  # refresh this long before the access token expires
RESYNC_CODES = {"syncstatenotfound", "resyncrequired", "syncstateinvalid"}
_EXPIRY_LIMIT = re.compile(r"(\d+)\s*minutes", re.IGNORECASE)


# --- errors: the one place where Graph's failures become ProviderErrors ----------------------------


def _retry_after(headers) -> float | None:
    return retry_after_seconds((headers or {}).get("Retry-After"))


def _error_code(response: requests.Response) -> tuple[str, str]:
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        return "", ""
    if not isinstance(error, dict):
        return str(error), ""
    return str(error.get("code") or ""), str(error.get("message") or "")


def provider_error_from_response(response: requests.Response) -> ProviderError:
    """The typed error for a Graph failure; ``graph_code`` keeps Graph's own code (e.g.
    ``ErrorFolderExists``) for the few callers that act on one."""
    code, graph_message = _error_code(response)
    error = _typed_error(response.status_code, code, response.headers)
    error.graph_code = code
    error.graph_message = graph_message
    return error


def _typed_error(status: int, code: str, headers) -> ProviderError:
    request_id = headers.get("request-id", "")
    message = f"Microsoft Graph answered {status}" + (f" ({code})" if code else "")
    if request_id:
        message += f" request-id {request_id}"
    retry_after = _retry_after(headers)
    if status == 401:
        return ReauthRequired(message)  # still refused after one refresh
    if status == 403:
        return PermissionDenied(message)
    if status == 404:
        return NotFound(message)
    if status == 410 or code.lower() in RESYNC_CODES:
        return CursorExpired(message)
    if status == 429:
        return RateLimited(message, retry_after=retry_after)
    if status == 408 or status >= 500:
        return TransientError(message, retry_after=retry_after)
    if status == 400:
        return InvalidRequest(message)
    return ProviderError(message)


def _should_retry(exc: BaseException) -> bool:
    if not isinstance(exc, ProviderError) or not exc.retryable:
        return False
    return exc.retry_after is None or exc.retry_after <= settings.MICROSOFT_API_RETRY_MAX_WAIT_SECONDS


def _wait(retry_state: RetryCallState) -> float:
    cap = settings.MICROSOFT_API_RETRY_MAX_WAIT_SECONDS
    backoff = wait_random_exponential(multiplier=settings.MICROSOFT_API_RETRY_BASE_SECONDS, max=cap)(retry_state)
    exc = retry_state.outcome.exception() if retry_state.outcome else None
    retry_after = getattr(exc, "retry_after", None) or 0.0
    return min(cap, max(backoff, retry_after))


def _log_retry(retry_state: RetryCallState) -> None:
    exc = retry_state.outcome.exception() if retry_state.outcome else None
    logger.warning("Microsoft Graph attempt %s failed (%s); retrying", retry_state.attempt_number, exc)


def _graph_instant(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_instant(value: str | None) -> dt.datetime | None:
    """Graph's DateTimeOffset, e.g. ``2026-11-27T11:00:00.0000000+00:00`` (seven digits)."""
    if not value:
        return None
    text = re.sub(r"(\.\d{6})\d+", r"\1", value.replace("Z", "+00:00"))
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


# --- the client ------------------------------------------------------------------------------------


class MicrosoftCalendarClient:
    """Graph calendars for one connection: read everywhere, write only into the bookings
    calendar the product created. One per task (not thread-safe).

    ``reads_ahead``: its listing does no database work (rotated tokens go to ``on_tokens``,
    which the service runs on the sync's own thread), so the engine may run it one page ahead
    on another thread, never two calls at once (``integrations.sync.readahead``).
    """

    reads_ahead = True

    def __init__(self, connection, *, on_tokens: TokensSaved | None = None):
        self.connection = connection
        self.on_tokens = on_tokens
        self._access_token = connection.access_token or ""
        self._refresh_token = connection.refresh_token or ""
        self._expires_at = connection.token_expires_at
        self._app = None
        self._http = requests.Session()
        self.root = MicrosoftProvider.graph_root()

    # -- tokens

    def _refresh_scopes(self) -> list[str]:
        granted = (self.connection.granted_scopes or "").split()
        graph = [s for s in granted if normalize_scope(s) not in ("openid", "profile", "email", "offline_access")]
        return graph or [CALENDARS_READ]

    def _refresh(self) -> None:
        if not self._refresh_token:
            raise ReauthRequired("No refresh token is stored; reconnect Outlook.")
        try:
            if self._app is None:
                from integrations.providers.microsoft.identity import msal_app

                self._app = msal_app()
            result = self._app.acquire_token_by_refresh_token(self._refresh_token, scopes=self._refresh_scopes())
        except ValueError as exc:
            raise TransientError(f"The Microsoft identity platform is unusable ({type(exc).__name__})") from exc
        except (msal.exceptions.MsalServiceError, requests.RequestException) as exc:
            raise TransientError(f"Microsoft's token endpoint failed ({type(exc).__name__})") from exc
        if "error" in result:
            error, codes = result.get("error"), result.get("error_codes") or []
            message = f"Token refresh refused: {error} {codes}".strip()
            if error in ("invalid_grant", "interaction_required"):
                raise ReauthRequired(message + " (consent removed, sessions revoked or the grant expired)")
            if error in ("temporarily_unavailable", "server_error"):
                raise TransientError(message)
            raise ProviderError(message)  # e.g. invalid_client: our configuration is wrong
        if not result.get("access_token"):
            raise TransientError("The token endpoint answered without an access token")
        self._access_token = result["access_token"]
        expires_in = result.get("expires_in")
        self._expires_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=float(expires_in)) if expires_in else None
        rotated = result.get("refresh_token")
        if rotated:
            self._refresh_token = rotated
        if self.on_tokens is not None:
            self.on_tokens(
                TokenUpdate(access_token=self._access_token, expires_at=self._expires_at, refresh_token=rotated)
            )
        logger.info(
            "refreshed the Microsoft access token of calendar connection %s", getattr(self.connection, "pk", None)
        )

    def _token(self) -> str:
        expiring = self._expires_at is not None and self._expires_at - REFRESH_MARGIN <= dt.datetime.now(dt.UTC)
        if not self._access_token or expiring:
            self._refresh()
        return self._access_token

    # -- HTTP

    def _send(self, method: str, url: str, *, json=None, prefer: str | None = None) -> requests.Response:
        headers = {"Accept": "application/json"}
        if prefer:
            headers["Prefer"] = prefer
        for attempt in (1, 2):
            headers["Authorization"] = f"Bearer {self._token()}"
            try:
                response = self._http.request(
                    method, url, json=json, headers=headers, timeout=settings.MICROSOFT_API_TIMEOUT_SECONDS
                )
            except requests.Timeout as exc:
                raise TransientError("Microsoft Graph timed out") from exc
            except requests.RequestException as exc:
                raise TransientError(f"Could not reach Microsoft Graph ({type(exc).__name__})") from exc
            if response.status_code == 401 and attempt == 1:
                self._refresh()  # SPEC §8.1: a 401 refreshes once, then the call fails
                continue
            return response
        return response

    def _call(self, method: str, url: str, *, json=None, prefer: str | None = None, expect_body: bool = True):
        """One Graph call with in-call retries; every failure leaves as a ProviderError."""
        retrying = Retrying(
            stop=stop_after_attempt(max(1, settings.MICROSOFT_API_MAX_ATTEMPTS)),
            wait=_wait,
            retry=retry_if_exception(_should_retry),
            before_sleep=_log_retry,
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                response = self._send(method, url, json=json, prefer=prefer)
                if response.status_code >= 300:
                    raise provider_error_from_response(response)
                if not expect_body or response.status_code == 204:
                    return None
                try:
                    body = response.json()
                except ValueError as exc:
                    raise TransientError("Unreadable answer from Microsoft Graph (not JSON)") from exc
                if not isinstance(body, dict):
                    raise TransientError("Unreadable answer from Microsoft Graph (not a JSON object)")
                return body
        return None

    def _prefer(self) -> str:
        return f'odata.maxpagesize={settings.MICROSOFT_GRAPH_PAGE_SIZE}, outlook.timezone="UTC"'

    def _ours(self, url: str) -> bool:
        """Links are followed verbatim, but only under the configured Graph root (the bearer
        token goes with them)."""
        return isinstance(url, str) and url.startswith(self.root)

    def _pages(self, url: str) -> Iterator[dict]:
        seen: set[str] = set()
        while url:
            body = self._call("GET", url, prefer=self._prefer())
            yield body
            url = body.get("@odata.nextLink")
            if url and not self._ours(url):
                raise TransientError("Microsoft Graph answered a link to another host")
            if url in seen:
                raise TransientError("Microsoft Graph repeated a nextLink")
            if url:
                seen.add(url)

    # -- CalendarClient

    def list_calendars(self) -> list[RemoteCalendar]:
        calendars = []
        for body in self._pages(self.root + "me/calendars"):
            calendars += [calendar_from_graph(entry) for entry in body.get("value") or () if entry.get("id")]
        return calendars

    def list_events(
        self,
        calendar_id: str,
        *,
        cursor: str | None,
        window_start: dt.datetime,
        window_end: dt.datetime,
    ) -> Iterator[EventPage]:
        """A delta round: the full window (``cursor`` None) or the changes since the delta link.

        Sparse delta occurrences take their busy fields from the series master (in the same
        round, or fetched). In an incremental round a series that changed is re-read whole
        through ``instances`` and replaces its group, so an occurrence Graph dropped silently
        goes too. ``@removed`` items remove that id (and, if it was a series, its group). Events
        carrying the product's marker come out ``ours`` (see ``_ours_in``)."""
        if cursor:
            if not self._ours(cursor):
                # Not a delta link of this Graph root (another host, or no URL at all): never send
                # the token there; start a new round instead.
                raise CursorExpired("The stored cursor is not a delta link of the configured Graph root")
            url = cursor
        else:
            url = (
                f"{self.root}me/calendars/{quote(calendar_id, safe='')}/calendarView/delta"
                f"?startDateTime={_graph_instant(window_start)}&endDateTime={_graph_instant(window_end)}"
            )
        masters: dict[str, dict | None] = {}
        replaced: set[str] = set()
        seen: set[str] = set()
        ours: set[str] | None = None
        while True:
            body = self._call("GET", url, prefer=self._prefer())
            items = [i for i in body.get("value") or () if isinstance(i, dict) and i.get("id")]
            for item in items:
                if item.get("type") == "seriesMaster" and "@removed" not in item:
                    masters[item["id"]] = item
            page = EventPage()
            for item in items:
                self._apply(item, page, masters, replaced, incremental=bool(cursor), window=(window_start, window_end))
            if ours is None and any(e.status != base.EventStatus.CANCELLED for e in page.events):
                ours = self._ours_in(calendar_id)
            if ours:
                page.events = [dataclasses.replace(e, ours=True) if e.id in ours else e for e in page.events]
            next_link, delta_link = body.get("@odata.nextLink"), body.get("@odata.deltaLink")
            for link in filter(None, (next_link, delta_link)):
                if not self._ours(link):
                    raise TransientError("Microsoft Graph answered a link to another host")
            if next_link:
                if next_link in seen:
                    raise TransientError("Microsoft Graph repeated a nextLink")
                seen.add(next_link)
                yield page
                url = next_link
                continue
            if not delta_link:
                logger.warning("calendarView delta of calendar %s ended without a deltaLink", calendar_id)
            page.next_cursor = delta_link or None
            yield page
            return

    def _apply(self, item, page: EventPage, masters, replaced: set[str], *, incremental: bool, window) -> None:
        if "@removed" in item:
            page.events.append(event_from_graph(item))
            page.replaced_groups.append(item["id"])  # harmless unless it was a series
            return
        kind = item.get("type")
        if kind == "seriesMaster":
            if incremental and item["id"] not in replaced:
                replaced.add(item["id"])
                page.replaced_groups.append(item["id"])
                page.events.extend(self._series(item, window))
            return
        master_id = item.get("seriesMasterId")
        if incremental and master_id in replaced:
            return  # already listed whole through instances
        master = None
        if kind == "occurrence" and master_id:
            master = self._master(master_id, masters)
            if master is None:
                return  # the series is gone
        try:
            event = event_from_graph(item, master=master)
        except MalformedEvent as exc:
            logger.warning("skipping a Graph event of calendar: %s", exc)
            return
        if event is not None:
            page.events.append(event)

    def _master(self, master_id: str, masters: dict) -> dict | None:
        if master_id not in masters:
            try:
                masters[master_id] = self._call(
                    "GET", f"{self.root}me/events/{quote(master_id, safe='')}", prefer=self._prefer()
                )
            except NotFound:
                masters[master_id] = None
        return masters[master_id]

    def _series(self, master: dict, window) -> list[RemoteEvent]:
        start, end = window
        url = (
            f"{self.root}me/events/{quote(master['id'], safe='')}/instances"
            f"?startDateTime={_graph_instant(start)}&endDateTime={_graph_instant(end)}"
        )
        events = []
        try:
            for body in self._pages(url):
                for item in body.get("value") or ():
                    try:
                        event = event_from_graph(item, master=master)
                    except MalformedEvent as exc:
                        logger.warning("skipping an occurrence: %s", exc)
                        continue
                    if event is not None:
                        events.append(event)
        except NotFound:
            return []
        return events

    # -- two-way (SPEC §10): writes go only to the bookings calendar

    def _may_have_written(self) -> bool:
        granted = (self.connection.granted_scopes or "").split()
        return MicrosoftProvider.grants_booking_writes(granted) or bool(
            getattr(self.connection, "bookings_calendar_id", "")
        )

    def _ours_in(self, calendar_id: str) -> set[str]:
        """Ids of the calendar's events carrying our marker. calendarView delta refuses
        ``$expand``, so one filtered listing per round says which they are; only for grants
        that could ever write (a read-only connection never wrote anything)."""
        if not self._may_have_written():
            return set()
        return set(self._marked(calendar_id))

    def _marked(self, calendar_id: str, booking_uid: str | None = None) -> list[str]:
        params = {
            "$filter": bookings.marker_filter(booking_uid),
            "$select": "id",
            "$top": str(settings.MICROSOFT_GRAPH_PAGE_SIZE),
        }
        url = f"{self.root}me/calendars/{quote(calendar_id, safe='')}/events?{bookings.query(params)}"
        return [item["id"] for body in self._pages(url) for item in body.get("value") or () if item.get("id")]

    def bookings_calendar_create(self, name: str, *, time_zone: str) -> RemoteCalendar:
        """``POST me/calendars``. Graph refuses a second calendar of the same name (409
        ``ErrorFolderExists``): that is ours from before (a retried create, or the preference
        turned off and on again, which leaves the calendar in place), so it is used again.
        Graph calendars have no time zone of their own; events carry it."""
        try:
            body = self._call("POST", self.root + "me/calendars", json={"name": name})
        except ProviderError as exc:
            if getattr(exc, "graph_code", "").lower() != "errorfolderexists":
                raise
            wanted = name.strip().lower()
            found = [c for c in self.list_calendars() if c.summary.strip().lower() == wanted]
            if not found:
                raise
            return found[0]
        if not body.get("id"):
            raise TransientError("Graph answered a new calendar without an id")
        return calendar_from_graph(body)

    def booking_event_put(self, calendar_id: str, event: BookingEvent) -> None:
        """Find the booking's copy by its marker and PATCH it, else POST a new one (with a
        ``transactionId``, so a POST retried after a lost answer still makes one event). Copies
        found twice (two writers racing) are reduced to one."""
        events = f"{self.root}me/calendars/{quote(calendar_id, safe='')}/events"
        body = bookings.event_body(event)
        existing = self._marked(calendar_id, event.booking_uid)
        for extra in existing[1:]:
            self._delete_event(calendar_id, extra)
        if existing:
            try:
                self._call("PATCH", f"{events}/{quote(existing[0], safe='')}", json=body)
                return
            except NotFound:
                pass  # deleted meanwhile: create it again
        self._call("POST", events, json={**body, "transactionId": bookings.transaction_id(event)})

    def booking_event_delete(self, calendar_id: str, booking_uid: str) -> None:
        for event_id in self._marked(calendar_id, booking_uid):
            self._delete_event(calendar_id, event_id)

    def _delete_event(self, calendar_id: str, event_id: str) -> None:
        url = f"{self.root}me/calendars/{quote(calendar_id, safe='')}/events/{quote(event_id, safe='')}"
        try:
            self._call("DELETE", url, expect_body=False)
        except NotFound:
            logger.info("booking copy %s was already gone", event_id)

    def busy_between(self, calendar_ids: list[str], *, start: dt.datetime, end: dt.datetime) -> list[RemoteEvent]:
        """``calendarView`` of each calendar over the interval, asked now (SPEC §11): occurrences
        come expanded with their own busy fields, and the marker is expanded so our own copies
        map to ``ours``. The window is widened by a day (all-day events sit at midnight of their
        own zone); timed events outside ``[start, end)`` are dropped, all-day ones kept for the
        busy rules to place in the merchant's zone."""
        lo, hi = start - dt.timedelta(days=1), end + dt.timedelta(days=1)
        params = {
            "startDateTime": _graph_instant(lo),
            "endDateTime": _graph_instant(hi),
            "$select": "id,type,seriesMasterId,showAs,isCancelled,isAllDay,isOrganizer,responseStatus,start,end",
            "$expand": bookings.MARKER_EXPAND,
        }
        found: list[RemoteEvent] = []
        for calendar_id in calendar_ids:
            url = f"{self.root}me/calendars/{quote(calendar_id, safe='')}/calendarView?{bookings.query(params)}"
            for body in self._pages(url):
                for item in body.get("value") or ():
                    try:
                        event = event_from_graph(item)
                    except MalformedEvent as exc:
                        logger.warning("skipping a Graph event in the live check: %s", exc)
                        continue
                    if event is None or (event.start is not None and not (event.start < end and event.end > start)):
                        continue
                    found.append(event)
        return found

    # -- subscriptions (push)

    def _channel(self, body: dict) -> ChannelInfo:
        subscription_id = body.get("id")
        expires_at = _parse_instant(body.get("expirationDateTime"))
        if not subscription_id or expires_at is None:
            raise TransientError("Graph answered a subscription without id or expiration")
        return ChannelInfo(
            channel_id=subscription_id,
            resource_id=subscription_id,
            resource_uri=body.get("resource", ""),
            expires_at=expires_at,
        )

    def _expiration(self, minutes: int) -> str:
        when = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)
        return when.strftime("%Y-%m-%dT%H:%M:%S.0000000Z")

    def _with_expiry_retry(self, method: str, url: str, body: dict) -> dict:
        """Ask for MICROSOFT_SUBSCRIPTION_MINUTES; if Graph names a shorter limit, ask for that."""
        minutes = settings.MICROSOFT_SUBSCRIPTION_MINUTES
        try:
            return self._call(method, url, json={**body, "expirationDateTime": self._expiration(minutes)})
        except InvalidRequest as exc:
            match = _EXPIRY_LIMIT.search(getattr(exc, "graph_message", ""))
            if not match or "expiration" not in exc.graph_message.lower() or int(match.group(1)) >= minutes:
                raise
            shorter = max(1, int(match.group(1)) - 10)
            return self._call(method, url, json={**body, "expirationDateTime": self._expiration(shorter)})

    def watch(self, calendar_id: str, *, address: str, channel_id: str, token: str) -> ChannelInfo:
        """Subscribe to the calendar's events. Graph picks the subscription id (returned as the
        channel id; ``channel_id`` is ours and unused); ``token`` is the secret ``clientState``."""
        body = {
            "changeType": "created,updated,deleted",
            "notificationUrl": address,
            "lifecycleNotificationUrl": MicrosoftProvider.lifecycle_url_for(address),
            "resource": f"me/calendars/{calendar_id}/events",
            "clientState": token,
            "latestSupportedTlsVersion": "v1_2",
        }
        return self._channel(self._with_expiry_retry("POST", self.root + "subscriptions", body))

    def renew_channel(self, *, channel_id: str, resource_id: str) -> ChannelInfo | None:
        """PATCH the expiration (this also reauthorises it); NotFound when Graph dropped it."""
        url = f"{self.root}subscriptions/{quote(channel_id, safe='')}"
        return self._channel(self._with_expiry_retry("PATCH", url, {}))

    def stop_channel(self, *, channel_id: str, resource_id: str) -> None:
        try:
            self._call("DELETE", f"{self.root}subscriptions/{quote(channel_id, safe='')}", expect_body=False)
        except NotFound:
            logger.info("subscription %s was already gone", channel_id)

    def revoke(self) -> None:
        """Nothing to call: the Microsoft identity platform has no revocation endpoint for this
        grant. Disconnecting deletes the subscriptions and forgets the tokens; the merchant
        removes the app's access at ``MicrosoftProvider.consent_pages``."""
        return None
