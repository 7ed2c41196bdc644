"""Google's OAuth 2.0 web-server flow: authorization URL (PKCE S256), code exchange, revoke.

google-auth-oauthlib's ``Flow`` builds the URL and exchanges the code; the endpoints and
client come from settings (SPEC §2). Where ``state`` is kept and checked is not this
module's business (see ``integrations.services.oauth_state``): it only builds and spends.

https://developers.google.com/identity/protocols/oauth2/web-server
https://google-auth-oauthlib.readthedocs.io/en/latest/reference/google_auth_oauthlib.flow.html
https://datatracker.ietf.org/doc/html/rfc7636 (PKCE)
"""

from __future__ import annotations

import datetime as dt
import logging

import requests
from django.conf import settings
from google_auth_oauthlib.flow import Flow
from oauthlib.oauth2.rfc6749.errors import OAuth2Error

from integrations.providers.base import AuthorizationRequest, GrantedTokens, TokenExchangeFailed, TransientError
from integrations.providers.google.provider import CALENDAR_APP_CREATED, GoogleProvider

logger = logging.getLogger(__name__)


def _flow(*, state: str, code_verifier: str | None, scopes: tuple[str, ...] | None = None) -> Flow:
    redirect_uri = GoogleProvider.redirect_uri()
    client_config = {
        "web": {
            "client_id": GoogleProvider.client_id(),
            "client_secret": GoogleProvider.client_secret(),
            "auth_uri": GoogleProvider.auth_uri(),
            "token_uri": GoogleProvider.token_uri(),
            "redirect_uris": [redirect_uri],
        }
    }
    return Flow.from_client_config(
        client_config,
        scopes=list(scopes or GoogleProvider.scopes),
        redirect_uri=redirect_uri,
        state=state,
        code_verifier=code_verifier,
        autogenerate_code_verifier=code_verifier is None,
    )


def authorization_request_build(*, state: str, write_bookings: bool = False) -> AuthorizationRequest:
    """The URL to send the merchant to, with a fresh 128-character PKCE verifier (S256).

    ``write_bookings``: incremental authorization (SPEC §10). Only ``calendar.app.created`` is
    asked, so the consent screen shows just that; ``include_granted_scopes=true`` makes the new
    tokens cover the read-only grant as well (the token response's ``scope`` lists both), and
    ``prompt=consent`` brings a new refresh token for that union, to be stored in place of the old.
    https://developers.google.com/identity/protocols/oauth2/web-server#incrementalAuth
    """
    flow = _flow(state=state, code_verifier=None, scopes=(CALENDAR_APP_CREATED,) if write_bookings else None)
    url, _ = flow.authorization_url(
        access_type="offline",  # a refresh token, so syncs run without the merchant
        prompt="consent",  # always a new refresh token, also when reconnecting
        # Connecting: the token covers exactly what we ask for. Two-way: what we ask for on
        # top of what was granted.
        include_granted_scopes="true" if write_bookings else "false",
    )
    return AuthorizationRequest(url=url, secret=flow.code_verifier)


def _scopes(value) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = value.split()
    return frozenset(value)


def code_exchange(*, code: str, code_verifier: str, state: str) -> GrantedTokens:
    """Trade the authorization code for tokens (PKCE verifier included). Raises TokenExchangeFailed."""
    flow = _flow(state=state, code_verifier=code_verifier)
    try:
        token = flow.fetch_token(code=code, timeout=settings.GOOGLE_API_TIMEOUT_SECONDS)
    except OAuth2Error as exc:
        # ``description`` comes from Google's error body: no secret in it.
        raise TokenExchangeFailed(f"{exc.error}: {exc.description or ''}".strip(": ")) from exc
    except requests.RequestException as exc:
        raise TokenExchangeFailed(f"could not reach the token endpoint ({type(exc).__name__})") from exc
    except (ValueError, Warning) as exc:
        raise TokenExchangeFailed(f"unreadable token response ({type(exc).__name__})") from exc
    access_token = token.get("access_token")
    if not access_token:
        raise TokenExchangeFailed("the token response carried no access token")
    expires_at = None
    if token.get("expires_at"):
        expires_at = dt.datetime.fromtimestamp(float(token["expires_at"]), tz=dt.UTC)
    elif token.get("expires_in"):
        expires_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=float(token["expires_in"]))
    return GrantedTokens(
        access_token=access_token,
        refresh_token=token.get("refresh_token"),
        expires_at=expires_at,
        scopes=_scopes(token.get("scope")),
    )


def token_revoke(*, token: str) -> None:
    """Revoke a token (and with it the whole grant) at Google.

    400 means Google no longer knows the token (already revoked or expired): nothing left
    to do. Unreachable or 5xx raises TransientError so the caller can log it.
    """
    try:
        response = requests.post(
            GoogleProvider.revoke_uri(),
            data={"token": token},
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=settings.GOOGLE_API_TIMEOUT_SECONDS,
        )
    except requests.RequestException as exc:
        raise TransientError(f"could not reach Google's revoke endpoint ({type(exc).__name__})") from exc
    if response.status_code == 400:
        logger.info("token already revoked or unknown at Google")
        return
    if response.status_code >= 300:
        raise TransientError(f"Google's revoke endpoint answered {response.status_code}")
