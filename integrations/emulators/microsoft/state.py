"""In-memory state of the emulated tenant: app registrations, accounts, calendars, events,
grants, codes, tokens, subscriptions and delta rounds. Plain dataclasses under one lock."""

from __future__ import annotations

import base64
import datetime as dt
import secrets
import time
import uuid
from dataclasses import dataclass, field

CONSUMERS_TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"


def new_id(prefix: str = "AAMkAG", size: int = 24) -> str:
    """An opaque, case-sensitive Outlook-style id (base64 alphabet, may contain '-', '_')."""
    return prefix + base64.urlsafe_b64encode(secrets.token_bytes(size)).decode().rstrip("=")


class Clock:
    """Wall clock plus an offset moved by ``advance_time``."""

    def __init__(self):
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def now_dt(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.now(), tz=dt.UTC)


@dataclass
class Client:
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    name: str = "Merchant Calendar"


@dataclass
class Account:
    email: str
    name: str
    oid: str
    tid: str
    mail: str | None  # Graph's ``mail``: often null for personal accounts
    time_zone: str = "UTC"
    calendar_ids: list[str] = field(default_factory=list)
    disabled: bool = False


@dataclass
class Exception_:
    """A modified occurrence of a series: its own id (the occurrence's), patch and change number."""

    id: str
    patch: dict
    seq: int
    created: float
    modified: float


@dataclass
class Event:
    id: str
    calendar_id: str
    data: dict  # the Graph fields given on input (subject, start, end, showAs, recurrence, ...)
    seq: int  # change number of the last change to this event or (for a master) its series
    created: float
    modified: float
    ical_uid: str
    deleted: bool = False
    exceptions: dict[str, Exception_] = field(default_factory=dict)  # original start date -> exception
    cancelled: set[str] = field(default_factory=set)  # original start dates deleted from the series
    # singleValueExtendedProperties: property id ("String {guid} Name x") -> value.
    extended: dict[str, str] = field(default_factory=dict)
    transaction_id: str | None = None  # set once, on create (Graph: immutable afterwards)

    @property
    def is_master(self) -> bool:
        return bool(self.data.get("recurrence"))

    @property
    def change_key(self) -> str:
        return base64.b64encode(f"{self.id}:{self.seq}".encode()).decode()[-24:]


@dataclass
class Calendar:
    id: str
    owner_email: str
    name: str
    color: str = "auto"
    hex_color: str = ""
    is_default: bool = False
    can_edit: bool = True
    owner_name: str = ""
    events: dict[str, Event] = field(default_factory=dict)
    delta_epoch: int = 0  # bumped by invalidate_delta_tokens: older tokens answer 410


@dataclass
class Grant:
    email: str
    client_id: str
    scopes: set[str] = field(default_factory=set)
    revoked: int | None = None  # the AADSTS code a refresh answers with once revoked


@dataclass
class AuthCode:
    code: str
    client_id: str
    email: str
    redirect_uri: str
    scopes: list[str]
    challenge: str | None
    method: str | None
    nonce: str | None
    expires_at: float
    tenant: str
    used: bool = False


@dataclass
class AccessToken:
    token: str
    email: str
    client_id: str
    scopes: frozenset[str]
    expires_at: float


@dataclass
class RefreshToken:
    token: str
    email: str
    client_id: str
    scopes: frozenset[str]
    issued: float
    last_used: float
    replaced_by: str | None = None


@dataclass
class Subscription:
    id: str
    resource: str
    calendar_id: str
    email: str
    client_id: str
    change_types: list[str]
    notification_url: str
    lifecycle_url: str | None
    client_state: str | None
    expiration: dt.datetime
    created: float
    tls_version: str = "v1_2"

    def as_json(self) -> dict:
        from .timeutil import subscription_instant

        return {
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#subscriptions/$entity",
            "id": self.id,
            "resource": self.resource,
            "applicationId": self.client_id,
            "changeType": ",".join(self.change_types),
            "clientState": self.client_state,
            "notificationUrl": self.notification_url,
            "notificationQueryOptions": None,
            "lifecycleNotificationUrl": self.lifecycle_url,
            "expirationDateTime": subscription_instant(self.expiration),
            "creatorId": self.email_oid,
            "includeResourceData": False,
            "latestSupportedTlsVersion": self.tls_version,
            "encryptionCertificate": None,
            "encryptionCertificateId": None,
            "notificationUrlAppId": None,
        }

    email_oid: str = ""


@dataclass
class DeltaRound:
    """A round in progress (``$skiptoken``) or finished (``$deltatoken``)."""

    token: str
    calendar_id: str
    email: str
    start: dt.datetime
    end: dt.datetime
    epoch: int
    seq: int  # change number when the round began
    known: dict[str, int] = field(default_factory=dict)  # item id -> version reported so far
    pending: list[list[dict]] = field(default_factory=list)  # groups of item refs still to page out
    next_known: dict[str, int] = field(default_factory=dict)  # what the delta token will know


@dataclass
class State:
    clients: dict[str, Client] = field(default_factory=dict)
    accounts: dict[str, Account] = field(default_factory=dict)  # lower-cased email ->
    calendars: dict[str, Calendar] = field(default_factory=dict)
    grants: dict[tuple[str, str], Grant] = field(default_factory=dict)
    codes: dict[str, AuthCode] = field(default_factory=dict)
    access_tokens: dict[str, AccessToken] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    rounds: dict[str, DeltaRound] = field(default_factory=dict)  # delta tokens
    skips: dict[str, tuple[DeltaRound, int]] = field(default_factory=dict)  # skip token -> (round, next group)
    pending_consents: dict[str, dict] = field(default_factory=dict)
    seq: int = 0
    deny_next_consent: bool = False
    grant_only_scopes_next: list[str] | None = None

    def account(self, email: str) -> Account | None:
        return self.accounts.get((email or "").lower())

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq


def new_guid() -> str:
    return str(uuid.uuid4())
