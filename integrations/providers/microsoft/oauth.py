"""Microsoft's authorization code flow with PKCE (S256) through msal: the authorization request
and the code exchange.

``authorization_request_build`` returns msal's auth-code-flow dict with the URL: it holds the
PKCE verifier and the nonce, so the caller keeps it **server-side** (never in a cookie) until
the callback hands it to ``code_exchange``. Where state is stored and checked is not this
module's business: it only builds and spends.

https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow
https://msal-python.readthedocs.io/en/latest/#msal.ClientApplication.initiate_auth_code_flow
"""

from __future__ import annotations

import datetime as dt
import logging
import warnings
from collections.abc import Iterable
from dataclasses import dataclass

import msal
import requests
from django.conf import settings

from integrations.providers.base import GrantedTokens
from integrations.providers.microsoft.identity import msal_app
from integrations.providers.microsoft.provider import MicrosoftProvider, normalize_scope

logger = logging.getLogger(__name__)


class AuthorizationFailed(Exception):
    """The callback did not end in usable tokens; ``reason`` is one of SPEC §8.1's reasons."""

    def __init__(self, reason: str, message: str = ""):
        super().__init__(message or reason)
        self.reason = reason


@dataclass(frozen=True)
class AuthorizationRequest:
    url: str
    state: str
    flow: dict  # msal's auth-code flow (PKCE verifier, nonce): keep it server-side


def authorization_request_build(
    *, state: str, login_hint: str | None = None, extra_scopes: Iterable[str] = (), prompt: str | None = None
) -> AuthorizationRequest:
    """The URL to send the merchant to (PKCE S256, nonce), and the flow to keep for the callback."""
    scopes = [s for s in MicrosoftProvider.scopes if s != "offline_access"]  # msal adds it (reserved)
    scopes += [s for s in extra_scopes if s not in scopes]
    with warnings.catch_warnings():
        # msal recommends form_post; our callback is a GET (SPEC §8.1), so the code comes in the query.
        warnings.filterwarnings("ignore", message="response_mode='form_post' is recommended")
        flow = msal_app().initiate_auth_code_flow(
            scopes,
            redirect_uri=MicrosoftProvider.redirect_uri(),
            state=state,
            login_hint=login_hint,
            prompt=prompt,
            response_mode="query",
        )
    return AuthorizationRequest(url=flow["auth_uri"], state=flow["state"], flow=flow)


def _short(scope: str) -> str:
    lowered = scope.strip()
    if lowered.lower().startswith("https://graph.microsoft.com/"):
        return lowered[len("https://graph.microsoft.com/") :]
    return lowered


def _me(access_token: str) -> dict:
    try:
        response = requests.get(
            MicrosoftProvider.graph_root() + "me",
            headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
            timeout=settings.MICROSOFT_API_TIMEOUT_SECONDS,
        )
    except requests.RequestException as exc:
        raise AuthorizationFailed("token_exchange_failed", f"could not reach Graph ({type(exc).__name__})") from exc
    if response.status_code != 200:
        return {}
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def token_exchange(*, flow: dict, auth_response: dict) -> GrantedTokens:
    """Trade the callback's parameters for tokens, without judging the granted scopes.
    Raises :class:`AuthorizationFailed` with ``invalid_state``, ``access_denied`` or
    ``token_exchange_failed``. ``account_id`` is the ID token's ``oid`` (stable across email
    changes), ``account_email`` is ``/me``'s ``mail``, else its ``userPrincipalName``."""
    if auth_response.get("error"):
        reason = "access_denied" if auth_response["error"] in ("access_denied", "consent_required") else None
        raise AuthorizationFailed(reason or "token_exchange_failed", str(auth_response.get("error")))
    try:
        result = msal_app().acquire_token_by_auth_code_flow(dict(flow), dict(auth_response))
    except ValueError as exc:
        # msal: state mismatch, or the identity platform's discovery failed.
        if "state" in str(exc).lower():
            raise AuthorizationFailed("invalid_state", "the state does not match the stored flow") from exc
        raise AuthorizationFailed("token_exchange_failed", f"unusable identity platform ({exc})") from exc
    except (msal.exceptions.MsalServiceError, requests.RequestException, RuntimeError) as exc:
        raise AuthorizationFailed("token_exchange_failed", f"token endpoint failed ({type(exc).__name__})") from exc
    if "error" in result:
        codes = result.get("error_codes") or []
        reason = "access_denied" if result["error"] == "access_denied" else "token_exchange_failed"
        raise AuthorizationFailed(reason, f"{result['error']} {codes}".strip())
    access_token = result.get("access_token")
    if not access_token:
        raise AuthorizationFailed("token_exchange_failed", "the token response carried no access token")
    granted = frozenset(_short(s) for s in (result.get("scope") or "").split())
    claims = result.get("id_token_claims") or {}
    me = _me(access_token) if "user.read" in {normalize_scope(s) for s in granted} else {}
    account_id = claims.get("oid") or me.get("id") or ""
    email = me.get("mail") or me.get("userPrincipalName") or claims.get("preferred_username") or claims.get("email")
    if not account_id or not email:
        raise AuthorizationFailed("token_exchange_failed", "the account has no id or email")
    expires_in = result.get("expires_in")
    expires_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=float(expires_in)) if expires_in else None
    return GrantedTokens(
        access_token=access_token,
        refresh_token=result.get("refresh_token"),
        expires_at=expires_at,
        scopes=granted,
        account_id=account_id,
        account_email=email,
    )


def code_exchange(*, flow: dict, auth_response: dict) -> GrantedTokens:
    """:func:`token_exchange`, plus ``missing_scope`` when Calendars.Read was not granted."""
    tokens = token_exchange(flow=flow, auth_response=auth_response)
    if not MicrosoftProvider.grants_calendar_read(tokens.scopes or ()):
        raise AuthorizationFailed("missing_scope", "Calendars.Read was not granted")
    return tokens
