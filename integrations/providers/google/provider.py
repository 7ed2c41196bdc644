"""Google Calendar as a provider: a class-level description (key, name, scopes, endpoints).

Endpoints come from settings (SPEC §2), so pointing four variables at the local emulator
redirects every call. Nothing here imports Google's libraries: the registry in
``integrations.providers`` can be imported by provider-neutral code without pulling them in.

https://developers.google.com/identity/protocols/oauth2/web-server
https://developers.google.com/calendar/api/auth
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings

from integrations.providers.base import AuthKind, RemoteAccount

if TYPE_CHECKING:
    from collections.abc import Mapping

    from integrations.models import CalendarConnection
    from integrations.providers.base import AuthorizationRequest, GrantedTokens, RemoteCalendar, TokensSaved
    from integrations.providers.google.client import GoogleCalendarClient

CALENDAR_READONLY = "https://www.googleapis.com/auth/calendar.readonly"
CALENDAR_EVENTS_READONLY = "https://www.googleapis.com/auth/calendar.events.readonly"
CALENDARLIST_READONLY = "https://www.googleapis.com/auth/calendar.calendarlist.readonly"
CALENDAR_FULL = "https://www.googleapis.com/auth/calendar"
# Two-way (SPEC §10): make secondary calendars and change events in those only; with it the
# product can neither read nor change any calendar it did not create.
CALENDAR_APP_CREATED = "https://www.googleapis.com/auth/calendar.app.created"


class GoogleProvider:
    key = "google"
    name = "Google Calendar"
    auth = AuthKind.OAUTH
    push = True
    required_settings = ("GOOGLE_OAUTH_CLIENT_ID", "GOOGLE_OAUTH_CLIENT_SECRET")
    # One read-only scope covers everything we call: calendarList.list (the account email
    # is the primary calendar's id), events.list, events.watch and channels.stop. Long
    # form, so oauthlib never sees an alias expanded in the token response.
    scopes: tuple[str, ...] = (CALENDAR_READONLY,)
    # Grants that are enough to read calendars and their events (any one of these sets).
    sufficient_scope_sets: tuple[frozenset[str], ...] = (
        frozenset({CALENDAR_READONLY}),
        frozenset({CALENDAR_FULL}),
        frozenset({CALENDAR_EVENTS_READONLY, CALENDARLIST_READONLY}),
    )
    callback_path = "/api/v1/merchant/integrations/google/calendar/callback"

    @classmethod
    def client_id(cls) -> str:
        return settings.GOOGLE_OAUTH_CLIENT_ID

    @classmethod
    def client_secret(cls) -> str:
        return settings.GOOGLE_OAUTH_CLIENT_SECRET

    @classmethod
    def auth_uri(cls) -> str:
        return settings.GOOGLE_OAUTH_AUTH_URI

    @classmethod
    def token_uri(cls) -> str:
        return settings.GOOGLE_OAUTH_TOKEN_URI

    @classmethod
    def revoke_uri(cls) -> str:
        return settings.GOOGLE_OAUTH_REVOKE_URI

    @classmethod
    def api_endpoint(cls) -> str:
        root = settings.GOOGLE_API_ROOT
        return (root if root.endswith("/") else root + "/") + "calendar/v3/"

    @classmethod
    def webhook_url(cls) -> str:
        return settings.GOOGLE_WEBHOOK_URL

    @classmethod
    def redirect_uri(cls) -> str:
        return settings.PUBLIC_BASE_URL + cls.callback_path

    @classmethod
    def missing_configuration(cls) -> list[str]:
        """Names of the settings that must be set before anyone can connect."""
        return [name for name in cls.required_settings if not getattr(settings, name, "")]

    @classmethod
    def grants_calendar_read(cls, granted: set[str] | frozenset[str]) -> bool:
        return any(required <= granted for required in cls.sufficient_scope_sets)

    @classmethod
    def grants_booking_writes(cls, granted: set[str] | frozenset[str]) -> bool:
        """Creating the bookings calendar and writing in it: ``calendar.app.created`` (what we
        ask for), or the full ``calendar`` scope should a grant carry it."""
        return CALENDAR_APP_CREATED in granted or CALENDAR_FULL in granted

    # -- connecting (the services call these; the OAuth libraries load only then)

    @classmethod
    def authorization_request(cls, *, state: str, write_bookings: bool = False) -> AuthorizationRequest:
        """``write_bookings``: the incremental consent that turns two-way on, asking only
        ``calendar.app.created`` on top of what the connection already granted."""
        from integrations.providers.google.oauth import authorization_request_build

        return authorization_request_build(state=state, write_bookings=write_bookings)

    @classmethod
    def authorization_complete(
        cls, *, code: str, secret: str, state: str, callback: Mapping[str, str]
    ) -> GrantedTokens:
        """Exchange the code (``secret`` is the PKCE verifier); raises TokenExchangeFailed.
        Scopes: the token response is authoritative, the callback's ``scope`` the fallback."""
        from dataclasses import replace

        from integrations.providers.google.oauth import code_exchange

        tokens = code_exchange(code=code, code_verifier=secret, state=state)
        if tokens.scopes is None:
            tokens = replace(tokens, scopes=frozenset(callback.get("scope", "").split()))
        return tokens

    @classmethod
    def account_of(cls, *, tokens: GrantedTokens, calendars: list[RemoteCalendar]) -> RemoteAccount | None:
        """Google names the account by its primary calendar, whose id is the account's email."""
        primary = next((c for c in calendars if c.primary), None)
        return RemoteAccount(id=primary.id, email=primary.id) if primary else None

    @classmethod
    def client(cls, connection: CalendarConnection, *, on_tokens: TokensSaved | None = None) -> GoogleCalendarClient:
        from integrations.providers.google.client import GoogleCalendarClient

        return GoogleCalendarClient(connection, on_tokens)
