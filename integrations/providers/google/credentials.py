"""google-auth credentials for one connection: refresh, persist, detect a dead grant.

The tokens live encrypted on :class:`~integrations.models.CalendarConnection`. The
credentials object built here is handed to ``google_auth_httplib2.AuthorizedHttp``, which
refreshes it before expiry (``Credentials.expired`` is true 3 min 45 s early) and once
more on a 401. Every successful refresh is handed to the ``on_tokens`` callback the service passed
in (which saves it), so the next task starts with the new access token; Google does not
rotate refresh tokens, so the stored one is kept. A refresh answered with
``invalid_grant`` (revoked, expired, password change) raises
:class:`~integrations.providers.base.ReauthRequired`; what that means for the connection
is the services' decision.

https://googleapis.dev/python/google-auth/latest/reference/google.oauth2.credentials.html
https://developers.google.com/identity/protocols/oauth2/web-server#offline
"""

from __future__ import annotations

import datetime as dt
import logging

from google.auth import exceptions as auth_exceptions
from google.oauth2.credentials import Credentials

from integrations.models import CalendarConnection
from integrations.providers.base import ProviderError, ReauthRequired, TokensSaved, TokenUpdate, TransientError
from integrations.providers.google.provider import GoogleProvider

logger = logging.getLogger(__name__)


def _naive_utc(value: dt.datetime | None) -> dt.datetime | None:
    # google-auth compares ``expiry`` with a naive UTC "now".
    if value is None:
        return None
    return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value


def _aware_utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def is_invalid_grant(exc: auth_exceptions.RefreshError) -> bool:
    """True when Google answered ``invalid_grant``: only the merchant can fix it."""
    details = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], dict) else {}
    if details.get("error") == "invalid_grant":
        return True
    return bool(exc.args) and str(exc.args[0]).startswith("invalid_grant")


class ConnectionCredentials(Credentials):
    """Credentials bound to a connection row: refreshed tokens are saved to it."""

    def __init__(self, connection: CalendarConnection, on_tokens: TokensSaved | None = None, **kwargs):
        super().__init__(**kwargs)
        self._connection = connection
        self._on_tokens = on_tokens

    def refresh(self, request) -> None:
        connection = self._connection
        if not self.refresh_token:
            raise ReauthRequired("No refresh token is stored; reconnect Google Calendar.")
        try:
            super().refresh(request)
        except auth_exceptions.RefreshError as exc:
            if is_invalid_grant(exc):
                raise ReauthRequired("Google refused the stored grant (revoked or expired).") from exc
            if exc.retryable:
                raise TransientError("Google's token endpoint is unavailable.") from exc
            # e.g. invalid_client: our OAuth configuration is wrong, retrying will not help.
            raise ProviderError(f"Token refresh refused: {exc.args[0] if exc.args else exc}") from exc
        except auth_exceptions.TransportError as exc:
            raise TransientError("Could not reach Google's token endpoint.") from exc
        update = TokenUpdate(access_token=self.token, expires_at=_aware_utc(self.expiry))
        connection.access_token, connection.token_expires_at = update.access_token, update.expires_at
        if self._on_tokens is not None:
            self._on_tokens(update)
        logger.info("refreshed the access token of calendar connection %s", connection.pk)


def credentials_for(connection: CalendarConnection, on_tokens: TokensSaved | None = None) -> ConnectionCredentials:
    """Credentials for ``connection``; an empty or expired access token is refreshed on first use."""
    return ConnectionCredentials(
        connection,
        on_tokens,
        token=connection.access_token or None,
        refresh_token=connection.refresh_token or None,
        token_uri=GoogleProvider.token_uri(),
        client_id=GoogleProvider.client_id(),
        client_secret=GoogleProvider.client_secret(),
        # No ``scopes``: google-auth would send them with every refresh, and Google
        # refuses a refresh asking for more than was granted. The grant decides.
        scopes=None,
        expiry=_naive_utc(connection.token_expires_at),
    )
