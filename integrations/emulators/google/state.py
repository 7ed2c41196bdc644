"""The emulator's in-memory world: OAuth clients, accounts, calendars, grants, tokens, channels.

Everything lives behind one re-entrant lock (``State.lock``); HTTP handlers and the Python
API take it for each operation. Nothing here imports Django.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from .timeutil import zone


def new_event_id() -> str:
    """26 base32hex characters (a-v, 0-9), the alphabet of Google event ids."""
    return base64.b32hexencode(secrets.token_bytes(16)).decode().lower().rstrip("=")


def new_opaque(prefix: str = "", size: int = 32) -> str:
    return prefix + secrets.token_urlsafe(size)


class Clock:
    """Wall clock with an adjustable offset (``advance``) and strictly increasing millisecond stamps."""

    def __init__(self):
        self.offset = 0.0
        self._last_ms = 0
        self._lock = threading.Lock()

    def now(self) -> float:
        return time.time() + self.offset

    def now_dt(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.now(), dt.UTC)

    def next_ms(self) -> int:
        with self._lock:
            ms = max(int(self.now() * 1000), self._last_ms + 1)
            self._last_ms = ms
            return ms


@dataclass
class Client:
    client_id: str
    client_secret: str
    redirect_uris: list[str] = field(default_factory=list)


@dataclass
class CalendarEntry:
    """One calendar as it appears in one account's calendar list."""

    calendar_id: str
    access_role: str = "owner"
    primary: bool = False
    selected: bool = True
    hidden: bool = False
    deleted: bool = False
    summary_override: str | None = None
    color_id: str = "14"
    background_color: str = "#9fe1e7"
    foreground_color: str = "#000000"
    seq: int = 0
    updated_ms: int = 0


@dataclass
class Account:
    email: str
    name: str
    sub: str
    entries: dict[str, CalendarEntry] = field(default_factory=dict)
    list_seq: int = 0
    list_epoch: int = 0


@dataclass(eq=False)
class Calendar:
    id: str
    summary: str
    time_zone: str
    owner_email: str
    description: str | None = None
    resource_id: str = ""
    # The OAuth client whose ``calendars.insert`` made it: with ``calendar.app.created`` only
    # that client may write in it (None: made by the user, or seeded through the Python API).
    created_by_client: str | None = None
    events: dict[str, Event] = field(default_factory=dict)
    change_seq: int = 0
    sync_epoch: int = 0
    updated_ms: int = 0
    next_order: int = 0
    # (query key, snapshot seq) -> list of (item, minimal) computed by listing.py
    list_cache: OrderedDict = field(default_factory=OrderedDict)

    @property
    def tz(self) -> dt.tzinfo:
        return zone(self.time_zone)


@dataclass(eq=False)
class Event:
    """A stored event: a one-off event, a recurring master, or an exception of a series."""

    id: str
    calendar: Calendar
    body: dict
    created_ms: int
    updated_ms: int
    seq: int
    order: int
    sequence: int = 0
    # Derived from body by store.derive():
    status: str = "confirmed"
    all_day: bool = False
    start_value: dt.date | dt.datetime | None = None
    end_value: dt.date | dt.datetime | None = None
    start_utc: dt.datetime | None = None
    end_utc: dt.datetime | None = None
    series_tz: dt.tzinfo | None = None
    recurrence: list[str] | None = None
    recurring_event_id: str | None = None
    original: dt.date | dt.datetime | None = None
    original_utc: dt.datetime | None = None
    event_type: str = "default"
    # Instance ids that a rule change removed: id -> (original start, seq), for incremental sync.
    ghosts: dict = field(default_factory=dict)
    render_cache: dict = field(default_factory=dict)
    occurrence_cache: dict = field(default_factory=dict)
    instance_cache: dict = field(default_factory=dict)

    @property
    def is_master(self) -> bool:
        return bool(self.recurrence) and not self.recurring_event_id


@dataclass(eq=False)
class Instance:
    """One generated occurrence of a recurring master (not stored unless it becomes an exception)."""

    id: str
    master: Event
    original: dt.date | dt.datetime
    original_utc: dt.datetime
    start_value: dt.date | dt.datetime
    end_value: dt.date | dt.datetime
    start_utc: dt.datetime
    end_utc: dt.datetime
    render_cache: dict = field(default_factory=dict)

    @property
    def status(self) -> str:
        return self.master.status

    @property
    def updated_ms(self) -> int:
        return self.master.updated_ms

    @property
    def event_type(self) -> str:
        return self.master.event_type

    @property
    def body(self) -> dict:
        return self.master.body

    @property
    def all_day(self) -> bool:
        return self.master.all_day

    @property
    def calendar(self) -> Calendar:
        return self.master.calendar

    @property
    def order(self) -> int:
        return self.master.order


@dataclass
class Grant:
    """What one account granted to one client; revoking any of its tokens removes it."""

    id: str
    email: str
    client_id: str
    scopes: set[str] = field(default_factory=set)


@dataclass
class AccessToken:
    token: str
    grant_id: str
    client_id: str
    email: str
    scopes: frozenset[str]
    expires_at: float
    revoked: bool = False


@dataclass
class RefreshToken:
    token: str
    grant_id: str
    client_id: str
    email: str
    scopes: frozenset[str]
    revoked: bool = False


@dataclass
class AuthCode:
    code: str
    client_id: str
    redirect_uri: str
    email: str
    scopes: frozenset[str]
    grant_id: str
    issue_refresh_token: bool
    expires_at: float
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    nonce: str | None = None
    used: bool = False


@dataclass
class Channel:
    id: str
    resource_id: str
    resource_uri: str
    calendar_id: str
    address: str
    token: str | None
    expiration_ms: int
    client_id: str
    email: str
    params: dict = field(default_factory=dict)
    created_ms: int = 0
    stopped: bool = False
    message_number: int = 0

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "resourceId": self.resource_id,
            "resourceUri": self.resource_uri,
            "calendarId": self.calendar_id,
            "resource_id": self.resource_id,
            "resource_uri": self.resource_uri,
            "calendar_id": self.calendar_id,
            "address": self.address,
            "token": self.token,
            "expiration": str(self.expiration_ms),
            "params": dict(self.params),
            "clientId": self.client_id,
            "email": self.email,
            "stopped": self.stopped,
            "messageNumber": self.message_number,
            "expiration_ms": self.expiration_ms,
        }


@dataclass
class State:
    clients: dict[str, Client] = field(default_factory=dict)
    accounts: dict[str, Account] = field(default_factory=dict)
    calendars: dict[str, Calendar] = field(default_factory=dict)
    grants: dict[tuple[str, str], Grant] = field(default_factory=dict)
    access_tokens: dict[str, AccessToken] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict)
    codes: dict[str, AuthCode] = field(default_factory=dict)
    pending_auth: dict[str, dict] = field(default_factory=dict)
    channels: dict[str, Channel] = field(default_factory=dict)
    revoked: list[str] = field(default_factory=list)
    boot_id: str = field(default_factory=lambda: secrets.token_hex(4))
    deny_next_consent: bool = False
    grant_only_scopes_next: list[str] | None = None

    def account(self, email: str) -> Account | None:
        return self.accounts.get(email.lower())
