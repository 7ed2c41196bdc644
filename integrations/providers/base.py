"""The provider contract: neutral types and errors shared by every calendar provider.

The sync engine (``integrations.sync``) only speaks these types. A provider package
(``integrations/providers/google/``, later ``microsoft/``, ``caldav/``) maps its wire
format onto them and its HTTP failures onto :class:`ProviderError` subclasses.
"""

from __future__ import annotations

import datetime as dt
import email.utils
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar, Protocol

if TYPE_CHECKING:
    from integrations.models import CalendarConnection

# --- errors -----------------------------------------------------------------------------


class ProviderError(Exception):
    """Any failure talking to a provider. ``retryable`` says whether trying again may help."""

    retryable = False

    def __init__(self, message: str = "", *, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class ReauthRequired(ProviderError):
    """The grant is gone (revoked, expired refresh token): the merchant must reconnect."""


class PermissionDenied(ProviderError):
    """The grant lacks a needed scope, or the resource is not readable (403)."""


class NotFound(ProviderError):
    """Unknown calendar or channel (404)."""


class CursorExpired(ProviderError):
    """The stored sync cursor is no longer valid: a full sync is required (410)."""


class InvalidRequest(ProviderError):
    """The provider refused our request as malformed (400); a bug on our side, not retried."""


class TransientError(ProviderError):
    """5xx, timeouts, unreadable answers: try again with backoff."""

    retryable = True


class RateLimited(TransientError):
    """429 or a rate-limit 403; ``retry_after`` in seconds when the provider said so."""


def retry_after_seconds(value: str | None) -> float | None:
    """A ``Retry-After`` header in seconds from now (delay-seconds or an HTTP-date), else None."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


# --- data ----------------------------------------------------------------------------------


class EventStatus(StrEnum):
    CONFIRMED = "confirmed"
    TENTATIVE = "tentative"
    CANCELLED = "cancelled"


class Response(StrEnum):
    """The calendar owner's own answer to an invitation."""

    ACCEPTED = "accepted"
    DECLINED = "declined"
    TENTATIVE = "tentative"
    NEEDS_ACTION = "needs_action"


class EventKind(StrEnum):
    DEFAULT = "default"
    OUT_OF_OFFICE = "out_of_office"
    FOCUS_TIME = "focus_time"
    WORKING_LOCATION = "working_location"
    BIRTHDAY = "birthday"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class RemoteCalendar:
    id: str
    summary: str
    primary: bool = False
    time_zone: str = ""


@dataclass(frozen=True, slots=True)
class RemoteEvent:
    """One event occurrence, already expanded: timing and the fields that decide busy.

    Timed events carry aware ``start``/``end``; all-day events carry ``start_date``/
    ``end_date`` (end exclusive) and no instants, because they are placed in the
    merchant's time zone. No title, description, location or attendees: we never keep them.
    """

    id: str
    status: EventStatus = EventStatus.CONFIRMED
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    transparent: bool = False
    own_response: Response | None = None
    kind: EventKind = EventKind.DEFAULT
    # The product wrote it (a booking copy, SPEC §10): recognised by the provider's marker
    # (Google private extended property, Graph extended property, iCalendar ``X-`` property or
    # a UID of ours), wherever the merchant moved it. Never busy: the booking already is.
    ours: bool = False

    @property
    def all_day(self) -> bool:
        return self.start_date is not None


@dataclass(slots=True)
class EventPage:
    """One page of a listing.

    ``replaced_groups``: for providers whose unit of change holds many occurrences (a
    CalDAV object with its expanded series), the groups this page describes completely:
    every stored block whose key starts with ``group + GROUP_SEPARATOR`` and is not among
    ``events`` goes. A removed object is a group with no events.
    """

    events: list[RemoteEvent] = field(default_factory=list)
    next_cursor: str | None = None  # set on the last page only
    replaced_groups: list[str] = field(default_factory=list)


GROUP_SEPARATOR = "#"  # an occurrence id of a grouped provider is ``f"{group}#{suffix}"``


@dataclass(frozen=True, slots=True)
class TokenUpdate:
    """New tokens obtained mid-call; ``refresh_token`` is set only when the provider rotated it."""

    access_token: str
    expires_at: dt.datetime | None
    refresh_token: str | None = None


# The service passes this in so a refreshed (or rotated) token is saved without the
# provider importing a service (STYLE 13: providers raise, services decide).
TokensSaved = Callable[[TokenUpdate], None]


@dataclass(frozen=True, slots=True)
class ChannelInfo:
    channel_id: str
    resource_id: str
    resource_uri: str
    expires_at: dt.datetime


# --- two-way (SPEC §10) --------------------------------------------------------------------

# The name of the marker on every event the product writes (Google private extended
# property, Graph single-value extended property, iCalendar property ``X-MERCHANT-CALENDAR-BOOKING``);
# its value is the booking's UID.
BOOKING_MARKER = "merchantCalendarBooking"
BOOKING_ICAL_PROPERTY = "X-MERCHANT-CALENDAR-BOOKING"
# An iCalendar UID / a provider-side id derived from the booking: ``booking_event_uid(uid)``.
BOOKING_UID_DOMAIN = "bookings.merchant-calendar"


def booking_event_uid(booking_uid: str) -> str:
    """The iCalendar UID of a booking's copy: the same for every write of that booking."""
    return f"{booking_uid}@{BOOKING_UID_DOMAIN}"


def booking_event_id(booking_uid: str) -> str:
    """A provider event id derived from the booking (Google: base32hex, 5-1024 chars, so the
    UUID's hex digits qualify): a retried insert of the same booking collides instead of duplicating."""
    return "mcb" + booking_uid.replace("-", "").lower()


@dataclass(frozen=True, slots=True)
class BookingEvent:
    """The copy of one booking in the merchant's bookings calendar (SPEC §10)."""

    booking_uid: str
    title: str  # "<customer name> (booking)"
    description: str  # the customer's email and a link to the booking
    start: dt.datetime
    end: dt.datetime
    time_zone: str  # the merchant's zone, for the provider's display


# --- connecting (OAuth providers) -------------------------------------------------------------


class TokenExchangeFailed(Exception):
    """The provider did not turn the authorization code into tokens."""


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """Where to send the merchant, and what must stay on our server until the callback
    (a PKCE verifier, or msal's whole auth-code flow): never put ``secret`` in a cookie."""

    url: str
    secret: str


@dataclass(frozen=True, slots=True)
class GrantedTokens:
    access_token: str
    refresh_token: str | None
    expires_at: dt.datetime | None
    scopes: frozenset[str] | None  # None: the token response did not say
    account_id: str = ""  # the provider's stable id of the account, when the token response names it
    account_email: str = ""


@dataclass(frozen=True, slots=True)
class RemoteAccount:
    """The external account behind a connection: ``id`` is what makes it one account (§8)."""

    id: str
    email: str


class AuthKind(StrEnum):
    OAUTH = "oauth"  # a redirect to the provider's consent screen
    CREDENTIALS = "credentials"  # a form: server, user name, (app-specific) password


class Provider(Protocol):
    """A class-level description of one provider (Sentry's pattern); see ``PROVIDERS``."""

    key: ClassVar[str]
    name: ClassVar[str]
    auth: ClassVar[AuthKind]
    push: ClassVar[bool]  # True: the provider notifies us; False: we poll
    required_settings: ClassVar[tuple[str, ...]]

    @classmethod
    def missing_configuration(cls) -> list[str]: ...

    @classmethod
    def client(cls, connection: CalendarConnection, *, on_tokens: TokensSaved | None = None) -> CalendarClient: ...

    # Two-way (SPEC §10). OAuth providers: the grant covers writing into a calendar of our
    # own (Google ``calendar.app.created``, Graph ``Calendars.ReadWrite``); CalDAV: always True.
    @classmethod
    def grants_booking_writes(cls, granted: frozenset[str]) -> bool: ...

    # OAuth providers only: ``write_bookings=True`` asks for the write scope on top of what
    # is granted (Google: incremental, ``include_granted_scopes=true``).
    # def authorization_request(cls, *, state: str, write_bookings: bool = False) -> AuthorizationRequest


class CalendarClient(Protocol):
    """What the sync engine needs from a provider, for one connection."""

    def list_calendars(self) -> list[RemoteCalendar]: ...

    def list_events(
        self,
        calendar_id: str,
        *,
        cursor: str | None,
        window_start: dt.datetime,
        window_end: dt.datetime,
    ) -> Iterator[EventPage]:
        """Full listing of the window when ``cursor`` is None, else the changes since it.

        Optional ``reads_ahead = True`` on the client: this listing does no database work of
        its own (tokens go through ``on_tokens``), so a full sync may fetch the next page on
        a thread while it stores the current one (``integrations.sync.readahead``).
        """
        ...

    # Push providers only (``Provider.push``): a Google channel, a Graph subscription.
    def watch(self, calendar_id: str, *, address: str, channel_id: str, token: str) -> ChannelInfo: ...

    def renew_channel(self, *, channel_id: str, resource_id: str) -> ChannelInfo | None:
        """Extend a channel in place (Graph); None when it cannot be (Google: open a successor)."""
        ...

    def stop_channel(self, *, channel_id: str, resource_id: str) -> None: ...

    def revoke(self) -> None: ...

    # Two-way (SPEC §10): writes only ever go to the calendar the product created.
    def bookings_calendar_create(self, name: str, *, time_zone: str) -> RemoteCalendar:
        """Create the merchant's bookings calendar (CalDAV: ``MKCALENDAR``); PermissionDenied
        when the grant or the server does not allow it."""
        ...

    def booking_event_put(self, calendar_id: str, event: BookingEvent) -> None:
        """Create or replace the booking's copy, keyed on ``event.booking_uid``: repeating a
        write (a retry after a lost answer) never makes a second event. Carries the marker."""
        ...

    def booking_event_delete(self, calendar_id: str, booking_uid: str) -> None:
        """Remove the booking's copy; one that is already gone is not an error."""
        ...

    # The live check (SPEC §11).
    def busy_between(self, calendar_ids: list[str], *, start: dt.datetime, end: dt.datetime) -> list[RemoteEvent]:
        """What the provider has in ``[start, end)`` in these calendars, asked now (Google
        ``freeBusy.query``: busy periods as confirmed events; Graph ``calendarView``; CalDAV
        ``calendar-query`` with a time range): the busy rules decide what blocks."""
        ...
