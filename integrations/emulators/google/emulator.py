"""``GoogleEmulator``: the public Python API of the local Google (OAuth 2.0 + Calendar v3 + push).

Tests, the demo command and benchmarks drive it in-process; out-of-process callers use the
same operations through ``EmulatorControl`` (``control.py``). See the package docstring.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterable

from . import oauth, store
from .errors import ApiError, EmulatorError, Response
from .faults import Fault, FaultBook, fault_response
from .push import Message, PushDispatcher, Sender
from .render import RenderContext, render
from .server import DISCONNECT, _not_found, route, serve_in_thread
from .state import Account, Calendar, CalendarEntry, Client, Clock, Grant, RefreshToken, State, new_opaque
from .urls import EmulatorUrls
from .wire import Request

DEFAULT_CLIENT_ID = "test-client-id"
DEFAULT_CLIENT_SECRET = "test-client-secret"
MAX_LOGGED = 50_000
# Endpoints whose first path argument is a calendar id (recorded with each call).
_CALENDAR_ENDPOINTS = {
    "calendarList.get",
    "calendars.get",
    "events.list",
    "events.get",
    "events.instances",
    "events.watch",
    "events.insert",
    "events.update",
    "events.patch",
    "events.delete",
}
# Endpoints that change a calendar or its events (see ``calendar_writes``).
WRITE_ENDPOINTS = {"calendars.insert", "events.insert", "events.update", "events.patch", "events.delete"}


class GoogleEmulator(EmulatorUrls):
    """An in-memory Google that Google's own client libraries can talk to over HTTP."""

    def __init__(
        self,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        redirect_uris: Iterable[str] = (),
        access_token_lifetime: int = 3600,
        auto_approve: bool = False,
        *,
        code_lifetime: int = 600,
        horizon_days: int = 730,
        default_channel_ttl: int = 604800,
        max_channel_ttl: int = 31 * 86400,
        push_retry_delays: tuple[float, ...] = (0.05, 0.1, 0.2, 0.4, 0.8),
        project_number: str = "123456789012",
        listing_latency: float = 0.0,
    ):
        self._initial = {
            "clients": [Client(client_id, client_secret, list(redirect_uris))],
            "knobs": {
                "access_token_lifetime": access_token_lifetime,
                "auto_approve": auto_approve,
                "code_lifetime": code_lifetime,
                "horizon_days": horizon_days,
                "default_channel_ttl": default_channel_ttl,
                "max_channel_ttl": max_channel_ttl,
                "project_number": project_number,
                "listing_latency": listing_latency,
            },
        }
        self.access_token_lifetime = access_token_lifetime
        self.auto_approve = auto_approve
        self.code_lifetime = code_lifetime
        self.horizon_days = horizon_days
        self.default_channel_ttl = default_channel_ttl
        self.max_channel_ttl = max_channel_ttl
        self.project_number = project_number
        # Seconds added to every events.list / events.instances page (outside the lock, so
        # concurrent listings overlap as at Google): a remote Google's round trip, for benchmarks.
        self.listing_latency = float(listing_latency)
        # Real Google omits nextSyncToken on listings ordered by orderBy or filtered by q.
        self.sync_token_with_order_by = False
        self.page_size: int | None = None
        self.lock = threading.RLock()
        self.clock = Clock()
        self.state = State()
        self.push = PushDispatcher(retry_delays=tuple(push_retry_delays))
        self.push.is_live = self._message_live
        self.faults = FaultBook()
        self._calls: list[dict] = []
        self._notifications_enabled = True
        self._server = None
        self._thread = None
        self._base_url = ""
        self._install_clients()

    # --- lifecycle -----------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> GoogleEmulator:
        if self._server is not None:
            return self
        self._server, self._thread = serve_in_thread(self, host, port)
        _bound_host, bound_port = self._server.server_address[:2]
        shown = host if host not in ("0.0.0.0", "") else "127.0.0.1"
        self._base_url = f"http://{shown}:{bound_port}/"
        self.push.start()
        return self

    def serve_forever(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Start and block until interrupted (used by the management command)."""
        self.start(host, port)
        try:
            while True:
                time.sleep(3600)
        finally:
            self.stop()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.push.stop()

    def __enter__(self) -> GoogleEmulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget every account, calendar, token, channel, fault and call; keep the server and the
        clients given to the constructor (redirect URIs added later are dropped)."""
        self.push.clear()
        with self.lock:
            self.state = State()
            self.faults.clear()
            self._calls = []
            self._notifications_enabled = True
            self.clock.offset = 0.0
            for name, value in self._initial["knobs"].items():
                setattr(self, name, value)
            self.sync_token_with_order_by = False
            self.page_size = None
            self._install_clients()

    def _install_clients(self) -> None:
        for client in self._initial["clients"]:
            self.state.clients[client.client_id] = Client(
                client.client_id, client.client_secret, list(client.redirect_uris)
            )

    # --- URLs ----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if not self._base_url:
            raise EmulatorError("The emulator is not started: call start() first")
        return self._base_url

    def horizon(self) -> dt.datetime:
        return self.clock.now_dt() + dt.timedelta(days=self.horizon_days)

    # --- clients, accounts, calendars ----------------------------------------------------

    def add_client(self, client_id: str, client_secret: str, redirect_uris: Iterable[str] = ()) -> None:
        with self.lock:
            self.state.clients[client_id] = Client(client_id, client_secret, list(redirect_uris))

    def add_redirect_uri(self, uri: str, client_id: str | None = None) -> None:
        with self.lock:
            client = self._client(client_id)
            if uri not in client.redirect_uris:
                client.redirect_uris.append(uri)

    def _client(self, client_id: str | None) -> Client:
        if client_id is None:
            client_id = self._initial["clients"][0].client_id
        try:
            return self.state.clients[client_id]
        except KeyError:
            raise EmulatorError(f"Unknown OAuth client {client_id!r}") from None

    def add_account(self, email: str, name: str | None = None, time_zone: str = "UTC") -> dict:
        """Create an account and its primary calendar (id = the email). Idempotent."""
        with self.lock:
            account = self.ensure_account(email, name=name, time_zone=time_zone)
            return {"email": account.email, "name": account.name, "sub": account.sub}

    def ensure_account(self, email: str, *, name: str | None = None, time_zone: str = "UTC") -> Account:
        with self.lock:
            existing = self.state.account(email)
            if existing is not None:
                return existing
            if "@" not in email:
                raise EmulatorError(f"Not an email address: {email!r}")
            sub = str(int(hashlib.sha256(email.lower().encode()).hexdigest()[:15], 16)).rjust(21, "1")[:21]
            account = Account(email=email, name=name or email.split("@")[0].replace(".", " ").title(), sub=sub)
            self.state.accounts[email.lower()] = account
            self._create_calendar(email, summary=email, time_zone=time_zone, owner=email)
            self._add_entry(account, email, access_role="owner", primary=True)
            return account

    def _create_calendar(
        self, calendar_id: str, *, summary: str, time_zone: str, owner: str, description: str | None = None
    ) -> Calendar:
        from .timeutil import zone

        zone(time_zone)  # validates
        calendar = Calendar(
            id=calendar_id,
            summary=summary,
            time_zone=time_zone,
            owner_email=owner,
            description=description,
            resource_id=new_opaque(size=18).replace("-", "a").replace("_", "b"),
            updated_ms=self.clock.next_ms(),
        )
        self.state.calendars[calendar_id] = calendar
        return calendar

    def _add_entry(self, account: Account, calendar_id: str, **fields) -> CalendarEntry:
        account.list_seq += 1
        entry = CalendarEntry(calendar_id=calendar_id, seq=account.list_seq, updated_ms=self.clock.next_ms(), **fields)
        account.entries[calendar_id] = entry
        return entry

    def add_calendar(
        self,
        email: str,
        calendar_id: str | None = None,
        summary: str | None = None,
        time_zone: str | None = None,
        *,
        access_role: str | None = None,
        description: str | None = None,
        selected: bool = True,
        hidden: bool = False,
        summary_override: str | None = None,
    ) -> dict:
        """Add a calendar to ``email``'s calendar list. A new id creates the calendar (owned by
        ``email``); an existing id shares that calendar (default role ``reader``)."""
        with self.lock:
            account = self.state.account(email)
            if account is None:
                raise EmulatorError(f"Unknown account {email!r}: add_account() first")
            primary_tz = self.state.calendars[account.email].time_zone
            calendar_id = (
                calendar_id
                or f"{new_opaque(size=12).lower().replace('-', '').replace('_', '')}@group.calendar.google.com"
            )
            calendar = self.state.calendars.get(calendar_id)
            if calendar is None:
                calendar = self._create_calendar(
                    calendar_id,
                    summary=summary or calendar_id,
                    time_zone=time_zone or primary_tz,
                    owner=account.email,
                    description=description,
                )
                role = access_role or "owner"
            else:
                role = access_role or ("owner" if calendar.owner_email == account.email else "reader")
            entry = self._add_entry(
                account,
                calendar_id,
                access_role=role,
                selected=selected,
                hidden=hidden,
                summary_override=summary_override,
            )
            from .calendar import _entry_json

            return _entry_json(self, calendar, entry)

    def remove_calendar(self, email: str, calendar_id: str) -> None:
        """Take a calendar off an account's list (it shows as ``deleted`` in calendarList sync)."""
        with self.lock:
            account = self.state.account(email)
            entry = account.entries.get(calendar_id) if account else None
            if entry is None:
                raise EmulatorError(f"{calendar_id!r} is not in {email!r}'s calendar list")
            account.list_seq += 1
            entry.deleted, entry.seq, entry.updated_ms = True, account.list_seq, self.clock.next_ms()

    def _calendar(self, calendar_id: str) -> Calendar:
        calendar = self.state.calendars.get(calendar_id)
        if calendar is None:
            raise EmulatorError(f"Unknown calendar {calendar_id!r}: add_account()/add_calendar() first")
        return calendar

    # --- events --------------------------------------------------------------------------

    def _view(self, event) -> dict:
        """A private copy of the event's Google JSON (the cached rendering stays untouched)."""
        calendar = event.calendar
        context = RenderContext(
            calendar.time_zone, self.base_url if self._base_url else "http://emulator/", full_cancelled=True
        )
        return json.loads(render(event, context)[1])

    def insert_event(self, calendar_id: str, event: dict, notify: bool = True) -> dict:
        with self.lock:
            calendar = self._calendar(calendar_id)
            stored = store.insert(calendar, event, self.clock)
            if notify:
                self._notify(calendar)
            return self._view(stored)

    def insert_events(
        self, calendar_id: str, events: Iterable[dict], notify: bool = True, return_events: bool = True
    ) -> list:
        """Insert many events at once; at most one push notification per channel.

        Returns the stored events' JSON, or only their ids with ``return_events=False``
        (cheaper for 20,000-event benchmarks over the control API)."""
        with self.lock:
            calendar = self._calendar(calendar_id)
            stored = [store.insert(calendar, event, self.clock) for event in events]
            if notify and stored:
                self._notify(calendar)
            if not return_events:
                return [event.id for event in stored]
            return [self._view(event) for event in stored]

    def update_event(self, calendar_id: str, event_id: str, patch: dict, notify: bool = True) -> dict:
        """Patch an event (top-level fields replaced, ``None`` removes). An instance id of a series
        stores a modified exception (e.g. a moved occurrence)."""
        with self.lock:
            calendar = self._calendar(calendar_id)
            if patch.get("status") == "cancelled" and len(patch) == 1:
                stored = store.delete(calendar, event_id, self.clock, self.horizon())
            else:
                stored = store.update(calendar, event_id, patch, self.clock, self.horizon())
            if notify:
                self._notify(calendar)
            return self._view(stored)

    def delete_event(self, calendar_id: str, event_id: str, notify: bool = True) -> None:
        """Cancel an event (it stays as a tombstone for sync); an instance id cancels one occurrence."""
        with self.lock:
            calendar = self._calendar(calendar_id)
            store.delete(calendar, event_id, self.clock, self.horizon())
            if notify:
                self._notify(calendar)

    def get_event(self, calendar_id: str, event_id: str) -> dict:
        with self.lock:
            calendar = self._calendar(calendar_id)
            event = calendar.events.get(event_id)
            if event is None:
                found = store.parse_instance_id(calendar, event_id, self.horizon())
                if found is None:
                    raise EmulatorError(f"Event {event_id!r} not found in {calendar_id!r}")
                event = store.make_instance(*found)
            return self._view(event)

    def list_stored_events(self, calendar_id: str) -> list[dict]:
        """Every stored event (masters, one-offs, exceptions, tombstones) as Google JSON."""
        with self.lock:
            return [self._view(event) for event in self._calendar(calendar_id).events.values()]

    def invalidate_sync_tokens(self, calendar_id: str | None = None) -> None:
        """Make every sync token of the calendar (or of all calendars) answer 410 fullSyncRequired."""
        with self.lock:
            calendars = [self._calendar(calendar_id)] if calendar_id else list(self.state.calendars.values())
            for calendar in calendars:
                calendar.sync_epoch += 1
            if calendar_id is None:
                for account in self.state.accounts.values():
                    account.list_epoch += 1

    # --- OAuth knobs ---------------------------------------------------------------------

    def revoke_grant(self, email: str, client_id: str | None = None) -> None:
        """What the user does at myaccount.google.com/permissions: refresh -> invalid_grant, API -> 401."""
        with self.lock:
            for (grant_email, grant_client), grant in list(self.state.grants.items()):
                if grant_email.lower() == email.lower() and client_id in (None, grant_client):
                    oauth.revoke_grant(self.state, grant.id)

    def granted_scopes(self, email: str, client_id: str | None = None) -> list[str]:
        """Every scope ``email`` has granted the client so far (what incremental authorization adds to)."""
        with self.lock:
            grant = self.state.grants.get((self.ensure_account(email).email, self._client(client_id).client_id))
            return sorted(grant.scopes) if grant else []

    def deny_next_consent(self) -> None:
        with self.lock:
            self.state.deny_next_consent = True

    def grant_only_scopes_next(self, scopes: Iterable[str]) -> None:
        with self.lock:
            self.state.grant_only_scopes_next = list(scopes)

    def set_auto_approve(self, enabled: bool = True) -> None:
        with self.lock:
            self.auto_approve = bool(enabled)

    def set_access_token_lifetime(self, seconds: int) -> None:
        with self.lock:
            self.access_token_lifetime = int(seconds)

    def expire_access_tokens(self) -> None:
        with self.lock:
            now = self.clock.now()
            for token in self.state.access_tokens.values():
                token.expires_at = min(token.expires_at, now - 1)

    def expire_auth_codes(self) -> None:
        with self.lock:
            now = self.clock.now()
            for code in self.state.codes.values():
                code.expires_at = min(code.expires_at, now - 1)

    def advance_time(self, seconds: float) -> None:
        """Move the emulator's clock (token, code and channel expiry; the recurrence horizon)."""
        with self.lock:
            self.clock.offset += seconds

    def issue_tokens(
        self,
        email: str,
        scopes: Iterable[str] = ("https://www.googleapis.com/auth/calendar.readonly",),
        client_id: str | None = None,
        offline: bool = True,
    ) -> dict:
        """Mint tokens as if ``email`` had consented, without the browser dance (for sync tests).
        Returns the token endpoint's JSON (``access_token``, ``refresh_token``, ``expires_in``, ``scope``)."""
        with self.lock:
            client = self._client(client_id)
            account = self.ensure_account(email)
            wanted = frozenset(oauth.normalize_scopes(" ".join(scopes)))
            key = (account.email, client.client_id)
            grant = self.state.grants.get(key)
            if grant is None:
                grant = Grant(id=secrets.token_hex(8), email=account.email, client_id=client.client_id)
                self.state.grants[key] = grant
            grant.scopes |= wanted
            payload = oauth._issue_access(self, grant, wanted)
            if offline:
                refresh = "1//0" + secrets.token_urlsafe(64)
                self.state.refresh_tokens[refresh] = RefreshToken(
                    refresh, grant.id, client.client_id, account.email, wanted
                )
                payload["refresh_token"] = refresh
            return payload

    # --- faults and observation ----------------------------------------------------------

    def inject_fault(
        self,
        endpoint: str,
        status: int | None = None,
        kind: str | None = None,
        times: int | None = 1,
        delay: float | None = None,
        retry_after: float | None = None,
        reason: str | None = None,
    ) -> None:
        """Make the next ``times`` calls to ``endpoint`` ("events.list", "token", ..., "*") fail.

        ``status`` 5xx/429/...; ``kind`` one of rate_limit_403, user_rate_limit_403, quota_403,
        malformed_json, invalid_grant, auth_error, disconnect, empty_page (events.list answers a
        page without items that still carries a nextPageToken); ``delay`` seconds before answering
        (alone: a slow but normal answer); ``retry_after`` adds a Retry-After header; ``reason``
        sets the Calendar error reason (e.g. status=403, reason="rateLimitExceeded")."""
        self.faults.add(Fault(endpoint, status, kind, times, delay, retry_after, reason))

    def clear_faults(self) -> None:
        self.faults.clear()

    def calls(self, endpoint: str | None = None) -> list[dict]:
        with self.lock:
            return [dict(c) for c in self._calls if endpoint is None or c["endpoint"] == endpoint]

    def calendar_writes(self) -> list[dict]:
        """Every write call so far (calendars.insert, events.insert/update/patch/delete), refused
        ones included: ``endpoint``, ``method``, ``calendar_id``, ``status``, ``body``."""
        with self.lock:
            return [
                {k: c[k] for k in ("endpoint", "method", "path", "calendar_id", "status", "body")}
                for c in self._calls
                if c["endpoint"] in WRITE_ENDPOINTS
            ]

    def calendar_ids(self, email: str) -> list[str]:
        """The ids of every calendar on ``email``'s calendar list (removed ones left out)."""
        with self.lock:
            account = self.state.account(email)
            if account is None:
                raise EmulatorError(f"Unknown account {email!r}")
            return [e.calendar_id for e in account.entries.values() if not e.deleted]

    def calendar_creator(self, calendar_id: str) -> str | None:
        """The OAuth client whose calendars.insert made ``calendar_id`` (None: not made through the API)."""
        with self.lock:
            return self._calendar(calendar_id).created_by_client

    def clear_calls(self) -> None:
        with self.lock:
            self._calls = []

    def channels(self) -> list[dict]:
        with self.lock:
            now_ms = self.clock.now() * 1000
            return [{**c.as_dict(), "expired": c.expiration_ms <= now_ms} for c in self.state.channels.values()]

    def set_page_size(self, size: int | None) -> None:
        """Cap every list page at ``size`` items whatever maxResults asks (Google may return short
        pages too); ``None`` restores the normal limits."""
        with self.lock:
            self.page_size = int(size) if size else None

    def set_listing_latency(self, seconds: float) -> None:
        """Delay every ``events.list`` / ``events.instances`` page by ``seconds`` (0 for none): Google's
        own latency, hundreds of milliseconds per 2,500-event page, which the loopback lacks."""
        with self.lock:
            self.listing_latency = max(0.0, float(seconds))

    def revoked_tokens(self) -> list[str]:
        with self.lock:
            return list(self.state.revoked)

    def notifications(self) -> list[dict]:
        """Every delivery attempt so far (channelId, state, messageNumber, status, outcome, headers, ...)."""
        return list(self.push.log)

    def wait_for_notifications(self, timeout: float = 5) -> bool:
        """Block until every queued notification was delivered or given up; False on timeout."""
        return self.push.wait(timeout)

    def set_notifications_enabled(self, enabled: bool) -> None:
        """Off: changes still bump message numbers but nothing is sent (Google drops some pushes)."""
        with self.lock:
            self._notifications_enabled = bool(enabled)

    def set_notification_sender(self, sender: Sender | None) -> None:
        """Replace the HTTP POST with ``sender(address, headers) -> status`` (called off-thread)."""
        self.push.sender = sender

    def pause_notifications(self) -> None:
        self.push.pause()

    def resume_notifications(self) -> None:
        self.push.resume()

    def deliver_notifications(self, sender: Sender | None = None) -> list[dict]:
        """Deliver queued notifications now, in the calling thread (e.g. into Django's test client)."""
        return self.push.deliver_now(sender)

    def snapshot(self) -> dict:
        """A summary of the state, for the index page and the control API."""
        with self.lock:
            return {
                "base_url": self._base_url,
                "clients": [
                    {"client_id": c.client_id, "redirect_uris": list(c.redirect_uris)}
                    for c in self.state.clients.values()
                ],
                "accounts": [
                    {
                        "email": a.email,
                        "name": a.name,
                        "calendars": [
                            {
                                "id": e.calendar_id,
                                "accessRole": e.access_role,
                                "primary": e.primary,
                                "deleted": e.deleted,
                                "events": len(self.state.calendars[e.calendar_id].events),
                            }
                            for e in a.entries.values()
                        ],
                    }
                    for a in self.state.accounts.values()
                ],
                "grants": [
                    {"email": g.email, "client_id": g.client_id, "scopes": sorted(g.scopes)}
                    for g in self.state.grants.values()
                ],
                "channels": len(self.state.channels),
                "auto_approve": self.auto_approve,
            }

    # --- push ----------------------------------------------------------------------------

    def _message(self, channel, state: str) -> Message:
        return Message(
            channel_id=channel.id,
            address=channel.address,
            token=channel.token,
            resource_id=channel.resource_id,
            resource_uri=channel.resource_uri,
            expiration_ms=channel.expiration_ms,
            state=state,
            number=channel.message_number,
            generation=self.push.generation,
        )

    def send_sync_message(self, channel) -> None:
        channel.message_number = 1
        if self._notifications_enabled:
            self.push.enqueue(self._message(channel, "sync"))

    def _notify(self, calendar: Calendar) -> None:
        now_ms = self.clock.now() * 1000
        for channel in self.state.channels.values():
            if channel.calendar_id != calendar.id or channel.stopped or channel.expiration_ms <= now_ms:
                continue
            # Message numbers increase with gaps, as Google's do.
            channel.message_number += 1 + secrets.randbelow(3)
            if self._notifications_enabled:
                self.push.enqueue(self._message(channel, "exists"))

    def _message_live(self, message: Message) -> bool:
        channel = self.state.channels.get(message.channel_id)
        return (
            channel is not None
            and not channel.stopped
            and channel.expiration_ms > self.clock.now() * 1000
            and channel.address == message.address
        )

    # --- HTTP ----------------------------------------------------------------------------

    def handle(self, req: Request) -> Response:
        endpoint, handler, args = route(req)
        if handler is None:
            return _not_found(req)
        if endpoint == "_emulator":
            return handler(self, req, *args)
        fault = self.faults.take(endpoint)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.kind == "empty_page":
            req.empty_page = True
            fault = None
        if fault is not None and (fault.status is not None or fault.kind is not None):
            resp = DISCONNECT if fault.kind == "disconnect" else fault_response(endpoint, fault)
        else:
            try:
                resp = handler(self, req, *args)
            except ApiError as exc:
                resp = exc.response()
        self._record(endpoint, req, resp, calendar_id=args[0] if endpoint in _CALENDAR_ENDPOINTS else None)
        return resp

    def _record(self, endpoint: str, req: Request, resp: Response, *, calendar_id: str | None = None) -> None:
        if endpoint in ("index", "certs", "openid-configuration"):
            return
        params: dict = {}
        for key, values in req.params().items():
            params[key] = values[0] if len(values) == 1 else list(values)
        entry = {
            "endpoint": endpoint,
            "method": req.method,
            "path": req.path,
            "calendar_id": calendar_id,  # as the client named it (``primary`` stays ``primary``)
            "params": params,
            "query": {k: list(v) for k, v in req.query.items()},
            "headers": dict(req.headers),
            "body": req.json() if "json" in (req.header("content-type") or "") else None,
            "form": {k: v[0] if len(v) == 1 else list(v) for k, v in req.form().items()}
            if req.method == "POST" and "json" not in (req.header("content-type") or "")
            else {},
            "status": None if resp is DISCONNECT else resp.status,
            "time": self.clock.now(),
        }
        with self.lock:
            self._calls.append(entry)
            if len(self._calls) > MAX_LOGGED:  # a long-running demo must not grow without bound
                del self._calls[: len(self._calls) - MAX_LOGGED]
