"""Outlook.com and Microsoft 365 as a provider: a class-level description (key, name, scopes,
endpoints) for Microsoft Graph through the Microsoft identity platform.

Endpoints come from settings (SPEC §8.1), so pointing ``MICROSOFT_AUTHORITY_HOST`` and
``MICROSOFT_GRAPH_ROOT`` at the local emulator redirects every call. Nothing here imports
msal or requests: the registry can be imported by provider-neutral code without them.

https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow
https://learn.microsoft.com/en-us/graph/permissions-reference#calendars-permissions
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar
from urllib.parse import urlsplit

from django.conf import settings

from integrations.providers.base import AuthKind, RemoteAccount

if TYPE_CHECKING:
    from collections.abc import Mapping

    from integrations.models import CalendarConnection
    from integrations.providers.base import AuthorizationRequest, GrantedTokens, RemoteCalendar, TokensSaved
    from integrations.providers.microsoft.client import MicrosoftCalendarClient

CALENDARS_READ = "Calendars.Read"
# Two-way (SPEC §10): creating the bookings calendar and writing its events. Graph has no
# narrower delegated permission for "a calendar of our own", so the product itself keeps
# every write inside the calendar it created (``MicrosoftCalendarClient.booking_event_put``).
CALENDARS_READWRITE = "Calendars.ReadWrite"
USER_READ = "User.Read"
# Grants that are enough to read calendars, their events and subscribe to them.
SUFFICIENT_CALENDAR_SCOPES = frozenset({"calendars.read", "calendars.readwrite"})
GRAPH_RESOURCE = "https://graph.microsoft.com/"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def normalize_scope(scope: str) -> str:
    """``https://graph.microsoft.com/Calendars.Read`` and ``calendars.read`` compare equal."""
    lowered = scope.strip().lower()
    return lowered[len(GRAPH_RESOURCE) :] if lowered.startswith(GRAPH_RESOURCE) else lowered


class MicrosoftProvider:
    key: ClassVar[str] = "microsoft"
    name: ClassVar[str] = "Outlook / Microsoft 365"
    auth: ClassVar[AuthKind] = AuthKind.OAUTH
    push: ClassVar[bool] = True
    required_settings: ClassVar[tuple[str, ...]] = ("MICROSOFT_OAUTH_CLIENT_ID", "MICROSOFT_OAUTH_CLIENT_SECRET")
    # Read-only; msal adds ``openid profile`` (and ``offline_access``) itself.
    scopes: ClassVar[tuple[str, ...]] = ("offline_access", USER_READ, CALENDARS_READ)
    # Asked on top, only when the merchant turns ``write_bookings`` on (incremental consent).
    write_scopes: ClassVar[tuple[str, ...]] = (CALENDARS_READWRITE,)
    callback_path: ClassVar[str] = "/api/v1/merchant/integrations/microsoft/calendar/callback"
    notification_path: ClassVar[str] = "/api/v1/merchant/integrations/microsoft/calendar/watch"
    lifecycle_path: ClassVar[str] = "/api/v1/merchant/integrations/microsoft/calendar/lifecycle"
    # Where a merchant removes the app's access (there is no revocation endpoint).
    consent_pages: ClassVar[dict[str, str]] = {
        "personal": "https://account.live.com/consent/Manage",
        "work_or_school": "https://myapplications.microsoft.com",
    }

    @classmethod
    def missing_configuration(cls) -> list[str]:
        """Names of the settings that must be set before anyone can connect."""
        return [name for name in cls.required_settings if not getattr(settings, name, "")]

    @classmethod
    def client_id(cls) -> str:
        return settings.MICROSOFT_OAUTH_CLIENT_ID

    @classmethod
    def client_secret(cls) -> str:
        return settings.MICROSOFT_OAUTH_CLIENT_SECRET

    @classmethod
    def authority(cls) -> str:
        return f"{settings.MICROSOFT_AUTHORITY_HOST.rstrip('/')}/{settings.MICROSOFT_OAUTH_TENANT}"

    @classmethod
    def graph_root(cls) -> str:
        root = settings.MICROSOFT_GRAPH_ROOT
        return root if root.endswith("/") else root + "/"

    @classmethod
    def redirect_uri(cls) -> str:
        return settings.PUBLIC_BASE_URL + cls.callback_path

    @classmethod
    def notification_url(cls) -> str:
        return settings.MICROSOFT_WEBHOOK_URL

    @classmethod
    def webhook_url(cls) -> str:
        """The provider-neutral name the platform asks for (the subscriptions' notificationUrl)."""
        return cls.notification_url()

    @classmethod
    def lifecycle_url_for(cls, notification_url: str) -> str:
        """The lifecycle URL beside a notification URL (``.../watch`` -> ``.../lifecycle``);
        Graph allows both to be the same URL, which is the fallback."""
        base, sep, query = notification_url.partition("?")
        if base.endswith("/watch"):
            return base[: -len("watch")] + "lifecycle" + sep + query
        return notification_url

    @classmethod
    def webhook_usable(cls, url: str | None = None) -> bool:
        """SPEC §8.1: subscriptions only for an https URL, or plain http on a loopback address
        (the local emulator calls those); anything else means polling, no subscriptions."""
        parts = urlsplit(url if url is not None else cls.notification_url())
        if parts.scheme == "https":
            return bool(parts.hostname)
        return parts.scheme == "http" and parts.hostname in LOOPBACK

    @classmethod
    def grants_calendar_read(cls, granted) -> bool:
        return bool({normalize_scope(s) for s in granted} & SUFFICIENT_CALENDAR_SCOPES)

    @classmethod
    def grants_booking_writes(cls, granted) -> bool:
        """Whether the grant lets the product create its bookings calendar and write there."""
        return normalize_scope(CALENDARS_READWRITE) in {normalize_scope(s) for s in granted}

    # -- connecting (the services call these; msal loads only then)

    @classmethod
    def authorization_request(cls, *, state: str, write_bookings: bool = False) -> AuthorizationRequest:
        """The consent URL; ``secret`` is msal's whole auth-code flow as JSON (PKCE verifier and
        nonce inside), which the platform keeps server-side, encrypted, until the callback.

        ``write_bookings``: ask ``Calendars.ReadWrite`` too. The Microsoft identity platform
        consents incrementally: the merchant is asked only for what is new, and the token
        that comes back names every scope granted so far."""
        import json

        from integrations.providers.base import AuthorizationRequest
        from integrations.providers.microsoft.oauth import authorization_request_build

        extra = cls.write_scopes if write_bookings else ()
        request = authorization_request_build(state=state, extra_scopes=extra)
        return AuthorizationRequest(url=request.url, secret=json.dumps(request.flow))

    @classmethod
    def authorization_complete(
        cls, *, code: str, secret: str, state: str, callback: Mapping[str, str]
    ) -> GrantedTokens:
        """Exchange the code through msal with the stored flow; raises TokenExchangeFailed.
        Scopes are judged by the platform (``grants_calendar_read``), not here."""
        import json

        from integrations.providers.base import TokenExchangeFailed
        from integrations.providers.microsoft.oauth import AuthorizationFailed, token_exchange

        try:
            flow = json.loads(secret)
        except ValueError as exc:
            raise TokenExchangeFailed("the stored flow is unreadable") from exc
        if not isinstance(flow, dict):
            raise TokenExchangeFailed("the stored flow is unreadable")
        try:
            return token_exchange(flow=flow, auth_response={**callback, "code": code, "state": state})
        except AuthorizationFailed as exc:
            raise TokenExchangeFailed(f"{exc.reason}: {exc}") from exc

    @classmethod
    def account_of(cls, *, tokens: GrantedTokens, calendars: list[RemoteCalendar]) -> RemoteAccount | None:
        """The account is its object id (``oid``); the email is only for display."""
        if not tokens.account_id:
            return None
        return RemoteAccount(id=tokens.account_id, email=tokens.account_email)

    @classmethod
    def client(cls, connection: CalendarConnection, *, on_tokens: TokensSaved | None = None) -> MicrosoftCalendarClient:
        from integrations.providers.microsoft.client import MicrosoftCalendarClient

        return MicrosoftCalendarClient(connection, on_tokens=on_tokens)
