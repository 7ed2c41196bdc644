"""``MicrosoftEmulator``: the public Python API of the local Microsoft identity platform + Graph.

Tests, the demo command and benchmarks drive it in-process; other processes use the same
operations through ``EmulatorControl`` (``control.py``). See the package docstring and README.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Iterable

from . import identity, render, scopes, store, subscriptions
from .errors import EmulatorError, GraphError, access_denied, unauthorized
from .faults import Fault, FaultBook, fault_response
from .notify import Delivery, Dispatcher, Sender
from .server import DISCONNECT, WRITE_ENDPOINTS, not_found, route, serve_in_thread
from .state import CONSUMERS_TENANT, Account, Calendar, Client, Clock, Grant, State, new_id
from .timeutil import parse_instant, zone
from .tls import TestAuthority
from .wire import Request, Response

DEFAULT_CLIENT_ID = "00000000-0000-0000-0000-00000000c1d0"
DEFAULT_CLIENT_SECRET = "test-client-secret"
PERSONAL_DOMAINS = {"outlook.com", "hotmail.com", "live.com", "msn.com", "outlook.de", "hotmail.de"}
MAX_LOGGED = 50_000
UNLOGGED = {"index", "keys"}
SELF_LOCKING = {"subscriptions.create", "subscriptions.update"}

# Knobs: where Microsoft's documentation is unsure (README, "Choices"), with their defaults.
KNOBS = {
    "access_token_lifetime": 3599,
    "auto_approve": False,
    "code_lifetime": 600,
    "refresh_token_lifetime": 90 * 86400,
    "old_refresh_tokens_valid": True,
    "scope_format": "short",  # or "qualified": https://graph.microsoft.com/Calendars.Read
    "revoke_kills_access_tokens": False,
    "max_subscription_minutes": 10080,
    "max_subscriptions_per_mailbox": 1000,
    "revalidate_on_renew": False,
    "validation_timeout": 10.0,
    "validation_requires_text_plain": True,
    "allow_http_loopback": True,
    "readbasic_allows_subscriptions": False,
    "lifecycle_on_revoke": True,
    "delta_page_size": 10,
    "max_page_size": 1000,
    "expired_delta_mode": "SyncStateNotFound",  # syncStateNotFound, resyncRequired, location
    "report_removed_occurrences": True,
    "delta_includes_masters": True,
    "report_out_of_window_changes": True,
    "unanswered_response": "notResponded",  # or "none"
    "token_lists_granted_scopes": True,  # incremental consent: a token names every scope granted so far
    "graph_latency": 0.0,
    # Seconds added to every listing page (calendarView, calendarView/delta, instances), outside
    # the lock: a remote mailbox's time per page, which the loopback lacks (for benchmarks).
    "listing_latency": 0.0,
}

LISTING_ENDPOINTS = frozenset({"calendarView", "calendarView.delta", "events.instances"})


class MicrosoftEmulator:
    """An in-memory Microsoft that msal and a requests-based Graph client talk to over HTTPS."""

    def __init__(
        self,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        redirect_uris: Iterable[str] = (),
        *,
        tls: bool = True,
        ca_dir: str | None = None,
        notification_retry_delays: tuple[float, ...] = (0.05, 0.1, 0.2, 0.4, 0.8),
        **knobs,
    ):
        unknown = set(knobs) - set(KNOBS)
        if unknown:
            raise TypeError(f"unknown emulator settings: {sorted(unknown)}")
        self._initial_clients = [Client(client_id, client_secret, list(redirect_uris))]
        self._initial_knobs = {**KNOBS, **knobs}
        self.authority_ca = TestAuthority(ca_dir) if tls else None
        self.lock = __import__("threading").RLock()
        self.clock = Clock()
        self.state = State()
        self.faults = FaultBook()
        self.dispatcher = Dispatcher(retry_delays=tuple(notification_retry_delays))
        self.dispatcher.is_live = self._delivery_live
        self._calls: list[dict] = []
        self._validations: list[dict] = []
        self._notifications_enabled = True
        self._server = None
        self._base_url = ""
        self.reset()

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> MicrosoftEmulator:
        if self._server is not None:
            return self
        context = self.authority_ca.server_context() if self.authority_ca else None
        self._server, _ = serve_in_thread(self, host, port, context)
        bound_port = self._server.server_address[1]
        shown = host if host not in ("0.0.0.0", "") else "127.0.0.1"
        self._base_url = f"{'https' if context else 'http'}://{shown}:{bound_port}/"
        self.dispatcher.start()
        return self

    def serve_forever(self, host: str = "127.0.0.1", port: int = 0) -> None:
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
        self.dispatcher.stop()

    def __enter__(self) -> MicrosoftEmulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget accounts, calendars, tokens, subscriptions, faults and calls; restore the knobs
        and the clients given to the constructor. The server and its certificate stay."""
        self.dispatcher.clear()
        with self.lock:
            self.state = State()
            self.faults.clear()
            self._calls, self._validations = [], []
            self._notifications_enabled = True
            self.clock.offset = 0.0
            for name, value in self._initial_knobs.items():
                setattr(self, name, value)
            for client in self._initial_clients:
                self.state.clients[client.client_id] = Client(
                    client.client_id, client.client_secret, list(client.redirect_uris), client.name
                )

    def configure(self, **knobs) -> dict:
        """Change knobs (see ``KNOBS``); returns every knob's current value."""
        unknown = set(knobs) - set(KNOBS)
        if unknown:
            raise EmulatorError(f"unknown knobs {sorted(unknown)}; choose from {sorted(KNOBS)}")
        with self.lock:
            for name, value in knobs.items():
                setattr(self, name, value)
            return {name: getattr(self, name) for name in KNOBS}

    # --- URLs ----------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if not self._base_url:
            raise EmulatorError("The emulator is not started: call start() first")
        return self._base_url

    @property
    def authority_host(self) -> str:
        """What MICROSOFT_AUTHORITY_HOST must be (no trailing slash)."""
        return self.base_url.rstrip("/")

    def authority(self, tenant: str = "common") -> str:
        return f"{self.authority_host}/{tenant}"

    @property
    def graph_root(self) -> str:
        """What MICROSOFT_GRAPH_ROOT must be."""
        return self.base_url + "v1.0/"

    @property
    def outlook_root(self) -> str:
        return self.base_url + "outlook/"

    @property
    def ca_bundle_path(self) -> str | None:
        """PEM of the emulator's certificate authority: set REQUESTS_CA_BUNDLE / SSL_CERT_FILE to it."""
        return self.authority_ca.ca_bundle_path if self.authority_ca else None

    def ssl_context(self):
        return self.authority_ca.client_context() if self.authority_ca else None

    # --- clients, accounts, calendars --------------------------------------------------------------

    def add_client(self, client_id: str, client_secret: str, redirect_uris: Iterable[str] = (), name: str = "App"):
        with self.lock:
            self.state.clients[client_id] = Client(client_id, client_secret, list(redirect_uris), name)

    def add_redirect_uri(self, uri: str, client_id: str | None = None) -> None:
        with self.lock:
            client = self.state.clients[client_id or self._initial_clients[0].client_id]
            if uri not in client.redirect_uris:
                client.redirect_uris.append(uri)

    def add_account(
        self,
        email: str,
        name: str | None = None,
        time_zone: str = "UTC",
        *,
        personal: bool | None = None,
        mail: str | bool | None = True,
    ) -> dict:
        """Create an account with its default calendar ("Calendar"). Idempotent.

        ``personal`` (default: an outlook.com/hotmail.com/live.com address) puts it in the
        consumers tenant; ``mail=True`` copies the address into Graph's ``mail`` for work
        accounts only (personal accounts often have ``mail: null``), a string sets it, None clears it.
        """
        with self.lock:
            account = self.ensure_account(email, name=name, time_zone=time_zone, personal=personal, mail=mail)
            return self._account_json(account)

    def _account_json(self, account: Account) -> dict:
        return {
            "email": account.email,
            "name": account.name,
            "oid": account.oid,
            "tid": account.tid,
            "mail": account.mail,
            "calendars": list(account.calendar_ids),
            "default_calendar": account.calendar_ids[0] if account.calendar_ids else None,
        }

    def ensure_account(self, email: str, *, name=None, time_zone="UTC", personal=None, mail=True) -> Account:
        with self.lock:
            existing = self.state.account(email)
            if existing is not None:
                return existing
            if "@" not in email:
                raise EmulatorError(f"Not an email address: {email!r}")
            zone(time_zone)
            email = email.lower()
            domain = email.split("@", 1)[1]
            personal = domain in PERSONAL_DOMAINS if personal is None else personal
            tid = CONSUMERS_TENANT if personal else str(uuid.uuid5(uuid.NAMESPACE_DNS, domain))
            if mail is True:
                mail = None if personal else email
            oid = str(uuid.uuid5(uuid.NAMESPACE_URL, "account:" + email))
            account = Account(
                email=email,
                name=name or email.split("@")[0].replace(".", " ").title(),
                oid=oid if not personal else "00000000-0000-0000-" + oid[-17:],
                tid=tid,
                mail=mail or None,
                time_zone=time_zone,
            )
            self.state.accounts[email] = account
            self._create_calendar(account, "Calendar", is_default=True, can_edit=True)
            return account

    def known_tenants(self) -> set[str]:
        out = set()
        for account in self.state.accounts.values():
            out |= {account.tid, account.email.split("@", 1)[1]}
        return out

    def tenant_id_for(self, tenant: str) -> str:
        if tenant == "consumers":
            return CONSUMERS_TENANT
        for account in self.state.accounts.values():
            if tenant in (account.tid, account.email.split("@", 1)[1]):
                return account.tid
        return tenant

    def _account(self, email: str) -> Account:
        account = self.state.account(email)
        if account is None:
            raise EmulatorError(f"Unknown account {email!r}: add_account() first")
        return account

    def _create_calendar(self, account: Account, name: str, *, is_default=False, can_edit=True, color="auto"):
        calendar = Calendar(
            id=new_id("AAMkAGI2T", 30) + "AAA=",
            owner_email=account.email,
            name=name,
            color=color,
            is_default=is_default,
            can_edit=can_edit,
            owner_name=account.name,
        )
        self.state.calendars[calendar.id] = calendar
        account.calendar_ids.append(calendar.id)
        return calendar

    def add_calendar(self, email: str, name: str, *, color: str = "auto", shared_from: str | None = None) -> dict:
        """Add a calendar to ``email``'s list: a new one, or (``shared_from`` a calendar id) a shared one."""
        with self.lock:
            account = self._account(email)
            if shared_from is not None:
                calendar = self._calendar(shared_from)
                if calendar.id not in account.calendar_ids:
                    account.calendar_ids.append(calendar.id)
            else:
                calendar = self._create_calendar(account, name, color=color)
            return render.calendar_json(calendar, account)

    def remove_calendar(self, email: str, calendar_id: str) -> None:
        with self.lock:
            account = self._account(email)
            if calendar_id not in account.calendar_ids:
                raise EmulatorError(f"{calendar_id!r} is not in {email!r}'s calendars")
            account.calendar_ids.remove(calendar_id)

    def default_calendar(self, email: str) -> str:
        with self.lock:
            return self._account(email).calendar_ids[0]

    def _calendar(self, calendar_id: str) -> Calendar:
        calendar = self.state.calendars.get(calendar_id)
        if calendar is None:
            raise EmulatorError(f"Unknown calendar {calendar_id!r}")
        return calendar

    def _owner(self, calendar: Calendar) -> Account:
        return self.state.account(calendar.owner_email)

    # --- events --------------------------------------------------------------------------------

    def _view(self, calendar: Calendar, event_id: str) -> dict:
        owner = self._owner(calendar)
        event, day = store.find(calendar, event_id)
        if event.is_master:
            limit = day + dt.timedelta(days=1) if day else dt.date(1900, 1, 1)
            item = next(i for i in store.series_items(event, limit) if i.id == event_id)
        else:
            start, end = store.instant(event.data["start"]), store.instant(event.data["end"])
            item = store.Item(event.id, event.id, "singleInstance", event, event.data, start, end, event.seq)
        return render.event_json(
            item, owner, out_zone=None, web_root=self.outlook_root, unanswered=self.unanswered_response
        )

    def insert_event(self, calendar_id: str, event: dict, notify: bool = True) -> dict:
        """Store a Graph event (single or series master); returns its Graph JSON (UTC)."""
        with self.lock:
            calendar = self._calendar(calendar_id)
            stored = store.insert(self.state, calendar, event, self.clock)
            if notify:
                self._notify(calendar, [("created", stored.id)])
            return self._view(calendar, stored.id)

    def insert_events(self, calendar_id: str, events: Iterable[dict], notify: bool = True) -> list[str]:
        """Store many events; one notification POST per subscription. Returns their ids."""
        with self.lock:
            calendar = self._calendar(calendar_id)
            stored = [store.insert(self.state, calendar, event, self.clock) for event in events]
            if notify and stored:
                self._notify(calendar, [("created", e.id) for e in stored])
            return [e.id for e in stored]

    def update_event(self, calendar_id: str, event_id: str, patch: dict, notify: bool = True) -> dict:
        """Patch an event (top-level fields replaced, None removes). An occurrence id stores an
        exception; changing a series' start or recurrence drops its exceptions."""
        with self.lock:
            calendar = self._calendar(calendar_id)
            event = store.update(self.state, calendar, event_id, patch, self.clock)
            if notify:
                self._notify(calendar, [("updated", event.id)])
            return self._view(calendar, event_id)

    def delete_event(self, calendar_id: str, event_id: str, notify: bool = True) -> None:
        """Delete an event or a whole series; an occurrence id deletes that occurrence only."""
        with self.lock:
            calendar = self._calendar(calendar_id)
            event = store.delete(self.state, calendar, event_id, self.clock)
            if notify:
                self._notify(calendar, [("deleted" if event.deleted else "updated", event.id)])

    def get_event(self, calendar_id: str, event_id: str) -> dict:
        with self.lock:
            return self._view(self._calendar(calendar_id), event_id)

    def instances(self, calendar_id: str, event_id: str, start: str, end: str) -> list[dict]:
        """Occurrences and exceptions of a series overlapping [start, end) (ISO instants), as Graph JSON."""
        with self.lock:
            calendar = self._calendar(calendar_id)
            event, _ = store.find(calendar, event_id)
            lo, hi = parse_instant(start), parse_instant(end)
            owner = self._owner(calendar)
            return [
                render.event_json(
                    i, owner, out_zone=None, web_root=self.outlook_root, unanswered=self.unanswered_response
                )
                for i in store.series_items(event, (hi + dt.timedelta(days=2)).date())[1:]
                if store._overlaps(i, lo, hi)
            ]

    def list_events(self, calendar_id: str, start: str, end: str) -> list[dict]:
        """What calendarView would list for [start, end) (occurrences expanded, no masters)."""
        with self.lock:
            calendar = self._calendar(calendar_id)
            owner = self._owner(calendar)
            groups = store.items_in_window(calendar, parse_instant(start), parse_instant(end), masters=False)
            items = sorted((i for g in groups for i in g), key=lambda i: (i.start, i.id))
            return [
                render.event_json(
                    i, owner, out_zone=None, web_root=self.outlook_root, unanswered=self.unanswered_response
                )
                for i in items
            ]

    def stored_events(self, calendar_id: str) -> list[dict]:
        """Every live single event and series master of a calendar (Graph JSON, UTC), with its
        ``singleValueExtendedProperties`` (when it has any) as an expanding GET would show them."""
        with self.lock:
            calendar = self._calendar(calendar_id)
            out = []
            for event in calendar.events.values():
                if event.deleted:
                    continue
                view = self._view(calendar, event.id)
                if event.extended:
                    view["singleValueExtendedProperties"] = [{"id": k, "value": v} for k, v in event.extended.items()]
                out.append(view)
            return out

    def calendar_ids(self, email: str) -> list[str]:
        """The ids of every calendar in ``email``'s list (what ``GET me/calendars`` lists)."""
        with self.lock:
            return list(self._account(email).calendar_ids)

    def writes(self) -> list[dict]:
        """Every Graph call that asked to change the mailbox (``method``, ``path``, ``status``,
        ``body``), refused ones included: what a test checks "wrote nowhere else" against."""
        with self.lock:
            return [dict(c) for c in self._calls if c["endpoint"] in WRITE_ENDPOINTS]

    def invalidate_delta_tokens(self, calendar_id: str | None = None) -> None:
        """Every delta and skip token of the calendar (or all) answers 410 from now on."""
        with self.lock:
            targets = [self._calendar(calendar_id)] if calendar_id else list(self.state.calendars.values())
            for calendar in targets:
                calendar.delta_epoch += 1

    # --- identity knobs ------------------------------------------------------------------------

    def revoke_grant(self, email: str, client_id: str | None = None, aadsts: int = 65001) -> int:
        """The user removes the app's consent (65001) or an admin revokes sessions (50173): the next
        refresh answers invalid_grant with that code. Returns how many grants changed."""
        changed = 0
        with self.lock:
            account = self._account(email)
            for (grant_email, grant_client), grant in self.state.grants.items():
                if grant_email == account.email and client_id in (None, grant_client) and not grant.revoked:
                    grant.revoked = int(aadsts)
                    changed += 1
                    if self.lifecycle_on_revoke:
                        for sub in self.state.subscriptions.values():
                            if sub.email == account.email and sub.client_id == grant_client:
                                self._lifecycle(sub, "reauthorizationRequired")
        return changed

    def revoke_sessions(self, email: str) -> int:
        """``revokeSignInSessions``: every refresh token of the user answers AADSTS50173."""
        return self.revoke_grant(email, aadsts=50173)

    def expire_refresh_tokens(self, email: str | None = None) -> None:
        """Refresh tokens idle past their lifetime: the next refresh answers AADSTS700082."""
        with self.lock:
            for token in self.state.refresh_tokens.values():
                if email is None or token.email == email.lower():
                    token.last_used -= self.refresh_token_lifetime + 1

    def disable_account(self, email: str, disabled: bool = True) -> None:
        with self.lock:
            self._account(email).disabled = bool(disabled)

    def deny_next_consent(self) -> None:
        with self.lock:
            self.state.deny_next_consent = True

    def grant_only_scopes_next(self, scopes: Iterable[str]) -> None:
        """The next consent grants only these of the asked Graph scopes (to test missing_scope)."""
        with self.lock:
            self.state.grant_only_scopes_next = list(scopes)

    def set_auto_approve(self, enabled: bool = True) -> None:
        self.configure(auto_approve=bool(enabled))

    def set_access_token_lifetime(self, seconds: int) -> None:
        self.configure(access_token_lifetime=int(seconds))

    def set_graph_latency(self, seconds: float) -> None:
        """Delay every Graph response by ``seconds`` (a slow mailbox; for timing the product)."""
        self.configure(graph_latency=float(seconds))

    def set_listing_latency(self, seconds: float) -> None:
        """Delay every listing page (calendarView, its delta, instances) by ``seconds`` (0 for none):
        Graph's own time per page, which the loopback lacks; other calls stay immediate."""
        self.configure(listing_latency=max(0.0, float(seconds)))

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
        """Move the emulator's clock (token, code, refresh-token and subscription expiry)."""
        with self.lock:
            self.clock.offset += float(seconds)

    def issue_tokens(
        self,
        email: str,
        scopes: Iterable[str] = ("User.Read", "Calendars.Read"),
        client_id: str | None = None,
        offline: bool = True,
    ) -> dict:
        """Tokens as if ``email`` had consented, without the browser (the token endpoint's JSON)."""
        with self.lock:
            client_id = client_id or self._initial_clients[0].client_id
            account = self.ensure_account(email)
            graph, _ = scopes_parse(scopes)
            key = (account.email, client_id)
            grant = self.state.grants.get(key)
            if grant is None or grant.revoked:
                grant = Grant(email=account.email, client_id=client_id)
                self.state.grants[key] = grant
            grant.scopes |= set(graph)
            identity_scopes = ["openid", "profile"] + (["offline_access"] if offline else [])
            return identity.issue(
                self, account.email, client_id, graph, identity_scopes, {"client_info": "1"}, nonce=None
            )

    # --- subscriptions and notifications -------------------------------------------------------------

    def subscriptions(self) -> list[dict]:
        with self.lock:
            now = self.clock.now_dt()
            return [
                {**s.as_json(), "calendarId": s.calendar_id, "expired": s.expiration <= now}
                for s in self.state.subscriptions.values()
            ]

    def send_lifecycle_notification(self, subscription_id: str, event: str = "reauthorizationRequired") -> bool:
        """Send ``reauthorizationRequired``, ``subscriptionRemoved`` or ``missed``. ``subscriptionRemoved``
        also deletes the subscription, as Graph does. False when it has no lifecycle URL."""
        if event not in ("reauthorizationRequired", "subscriptionRemoved", "missed"):
            raise EmulatorError(f"unknown lifecycle event {event!r}")
        with self.lock:
            sub = self.state.subscriptions.get(subscription_id)
            if sub is None:
                raise EmulatorError(f"unknown subscription {subscription_id!r}")
            sent = self._lifecycle(sub, event)
            if event == "subscriptionRemoved":
                self.state.subscriptions.pop(subscription_id, None)
            return sent

    def _lifecycle(self, sub, event: str) -> bool:
        if not sub.lifecycle_url:
            return False
        owner = self.state.account(sub.email)
        item = subscriptions.lifecycle_item(sub, owner.tid, event)
        self.dispatcher.enqueue(Delivery(sub.lifecycle_url, [item], "lifecycle", (sub.id,), self.dispatcher.generation))
        return True

    def _notify(self, calendar: Calendar, changes: list[tuple[str, str]]) -> None:
        now = self.clock.now_dt()
        by_url: dict[str, tuple[list[dict], list[str]]] = {}
        for sub in self.state.subscriptions.values():
            if sub.calendar_id != calendar.id or sub.expiration <= now:
                continue
            owner = self.state.account(sub.email)
            for change_type, event_id in changes:
                if change_type not in sub.change_types:
                    continue
                event = calendar.events.get(event_id)
                etag = f'W/"{event.change_key}"' if event else 'W/"AAAA"'
                items, ids = by_url.setdefault(sub.notification_url, ([], []))
                items.append(subscriptions.change_item(sub, owner.tid, change_type, event_id, etag))
                if sub.id not in ids:
                    ids.append(sub.id)
        if not self._notifications_enabled:
            return
        for url, (items, ids) in by_url.items():
            self.dispatcher.enqueue(Delivery(url, items, "change", tuple(ids), self.dispatcher.generation))

    def _delivery_live(self, delivery: Delivery) -> bool:
        if delivery.kind == "lifecycle":
            return True
        now = self.clock.now_dt()
        return any(
            (s := self.state.subscriptions.get(sid)) is not None and s.expiration > now
            for sid in delivery.subscription_ids
        )

    def notifications(self) -> list[dict]:
        """Every delivery attempt (url, kind, value, attempt, status, outcome, error, time)."""
        return list(self.dispatcher.log)

    def validations(self) -> list[dict]:
        """Every validation handshake (url, ok, problem)."""
        with self.lock:
            return list(self._validations)

    def record_validation(self, url: str, problem: str | None) -> None:
        self._validations.append({"url": url, "ok": problem is None, "problem": problem, "time": time.time()})

    def wait_for_notifications(self, timeout: float = 5) -> bool:
        return self.dispatcher.wait(timeout)

    def set_notifications_enabled(self, enabled: bool) -> None:
        """Off: changes send nothing (Graph may drop notifications; ``missed`` tells about it)."""
        with self.lock:
            self._notifications_enabled = bool(enabled)

    def set_notification_sender(self, sender: Sender | None) -> None:
        """Replace HTTP for deliveries and validations: ``sender(url, headers, body) -> (status,
        content_type, text)`` (e.g. into Django's test client)."""
        self.dispatcher.sender = sender

    def pause_notifications(self) -> None:
        self.dispatcher.pause()

    def resume_notifications(self) -> None:
        self.dispatcher.resume()

    def deliver_notifications(self, sender: Sender | None = None) -> list[dict]:
        return self.dispatcher.deliver_now(sender)

    # --- faults and observation ----------------------------------------------------------------

    def inject_fault(
        self,
        endpoint: str,
        status: int | None = None,
        kind: str | None = None,
        times: int | None = 1,
        delay: float | None = None,
        retry_after: float | None = None,
        code: str | None = None,
        aadsts: int | None = None,
    ) -> None:
        """Make the next ``times`` calls to ``endpoint`` fail (see README for names and kinds)."""
        self.faults.add(Fault(endpoint, status, kind, times, delay, retry_after, code, aadsts))

    def clear_faults(self) -> None:
        self.faults.clear()

    def take_empty_page(self, endpoint: str) -> bool:
        return self.faults.take(endpoint, kind="empty_page") is not None

    def calls(self, endpoint: str | None = None) -> list[dict]:
        with self.lock:
            return [dict(c) for c in self._calls if endpoint is None or c["endpoint"] == endpoint]

    def clear_calls(self) -> None:
        with self.lock:
            self._calls = []

    def snapshot(self) -> dict:
        with self.lock:
            return {
                "base_url": self._base_url,
                "authority_host": self.authority_host if self._base_url else None,
                "graph_root": self.graph_root if self._base_url else None,
                "ca_bundle_path": self.ca_bundle_path,
                "clients": [
                    {"client_id": c.client_id, "redirect_uris": list(c.redirect_uris)}
                    for c in self.state.clients.values()
                ],
                "accounts": [
                    {
                        **self._account_json(a),
                        "calendars": [
                            {
                                "id": cid,
                                "name": self.state.calendars[cid].name,
                                "events": sum(1 for e in self.state.calendars[cid].events.values() if not e.deleted),
                            }
                            for cid in a.calendar_ids
                        ],
                    }
                    for a in self.state.accounts.values()
                ],
                "grants": [
                    {"email": g.email, "client_id": g.client_id, "scopes": sorted(g.scopes), "revoked": g.revoked}
                    for g in self.state.grants.values()
                ],
                "subscriptions": len(self.state.subscriptions),
                "knobs": {name: getattr(self, name) for name in KNOBS},
            }

    # --- HTTP ----------------------------------------------------------------------------------

    def handle(self, req: Request) -> Response:
        endpoint, kind, handler, args = route(req)
        if endpoint is None:
            return not_found(req)
        if kind == "control":
            from . import control

            return control.handle(self, req, *args) if endpoint == "_emulator" else control.index_page(self, req)
        fault = self.faults.take(endpoint)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if kind in ("graph", "subscriptions") and self.graph_latency:
            time.sleep(self.graph_latency)
        if endpoint in LISTING_ENDPOINTS and self.listing_latency:
            time.sleep(self.listing_latency)
        if fault is not None and (fault.status is not None or fault.kind is not None):
            resp = DISCONNECT if fault.kind == "disconnect" else fault_response(endpoint, fault)
        else:
            try:
                if kind == "identity":
                    with self.lock:
                        resp = handler(self, req, *args)
                else:
                    with self.lock:
                        token = self._authenticate(req, endpoint)
                        account = self.state.account(token.email)
                    if endpoint in SELF_LOCKING:
                        # They call the subscriber (validation, up to 10 s) without holding the lock.
                        resp = handler(self, req, account, token.client_id, *args)
                    else:
                        with self.lock:
                            if kind == "subscriptions":
                                resp = handler(self, req, account, token.client_id, *args)
                            else:
                                resp = handler(self, req, account, *args)
            except GraphError as exc:
                resp = exc.response()
        self._record(endpoint, req, resp)
        return resp

    def _authenticate(self, req: Request, endpoint: str):
        header = req.header("authorization") or ""
        if not header.lower().startswith("bearer ") or not header[7:].strip():
            raise unauthorized("Access token is empty.")
        token = self.state.access_tokens.get(header[7:].strip())
        if token is None:
            raise unauthorized("CompactToken parsing failed with error code: 80049217")
        if token.expires_at <= self.clock.now():
            raise unauthorized("Access token has expired or is not yet valid.")
        account = self.state.account(token.email)
        grant = self.state.grants.get((token.email, token.client_id))
        if (
            account is None
            or account.disabled
            or (self.revoke_kills_access_tokens and (grant is None or grant.revoked))
        ):
            raise unauthorized("Access token validation failure.")
        if endpoint == "me":
            needed = scopes.USER_READ
        elif endpoint in WRITE_ENDPOINTS:
            needed = scopes.CALENDAR_WRITE
        elif endpoint.startswith("subscriptions"):
            needed = scopes.CALENDAR_READ if self.readbasic_allows_subscriptions else scopes.CALENDAR_READ_FULL
        else:
            needed = scopes.CALENDAR_READ
        if not needed & token.scopes:
            raise access_denied()
        return token

    def _record(self, endpoint: str, req: Request, resp: Response) -> None:
        if endpoint in UNLOGGED:
            return
        content_type = req.header("content-type") or ""
        entry = {
            "endpoint": endpoint,
            "method": req.method,
            "path": req.path,
            "query": {k: list(v) for k, v in req.query.items()},
            "headers": dict(req.headers),
            "body": req.json() if "json" in content_type else None,
            "form": req.form() if "x-www-form-urlencoded" in content_type else {},
            "status": None if resp is DISCONNECT else resp.status,
            "time": self.clock.now(),
        }
        with self.lock:
            self._calls.append(entry)
            if len(self._calls) > MAX_LOGGED:
                del self._calls[: len(self._calls) - MAX_LOGGED]


def scopes_parse(values: Iterable[str]):
    return scopes.parse(" ".join(values))
