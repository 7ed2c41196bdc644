"""Issuing and spending OAuth ``state`` values (CSRF protection of the connect flow).

A state is random (256 bits), recorded server-side as a SHA-256 hash with the merchant
who asked for it and the flow's secret (the PKCE verifier, encrypted), and spent at most
once within :data:`STATE_TTL`. The API layer puts only the state, signed, in an HttpOnly
cookie, so a callback is accepted only in the browser
that started the flow, for the merchant who started it, once, and within minutes.
https://datatracker.ietf.org/doc/html/rfc6749#section-10.12
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.utils import timezone

from integrations.models import OAuthState
from merchants.models import Merchant

STATE_TTL = dt.timedelta(minutes=10)
_KEEP_SPENT = dt.timedelta(days=1)


class InvalidState(Exception):
    """The callback's state is missing, forged, expired, replayed or someone else's."""


class StateSecretUnreadable(Exception):
    """The state is good but its stored secret cannot be decrypted (a broken key): our side failed."""


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def oauth_state_new() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class SpentState:
    secret: str  # the flow's secret (PKCE verifier, msal flow)
    purpose: str  # OAuthState.Purpose: a connect, or the consent that turns two-way on


def oauth_state_issue(
    *, merchant: Merchant, provider: str, state: str, secret: str, purpose: str = OAuthState.Purpose.CONNECT
) -> None:
    """Record ``state`` (from :func:`oauth_state_new`) for ``merchant`` with the flow's secret
    and what it is for; old records are swept on the way."""
    now = timezone.now()
    OAuthState.objects.filter(created_at__lt=now - _KEEP_SPENT).delete()
    OAuthState.objects.create(
        merchant=merchant, provider=provider, purpose=purpose, state_hash=_hash(state), secret=secret, created_at=now
    )


def oauth_state_spend(*, merchant: Merchant, provider: str, state: str | None, cookie_state: str | None) -> SpentState:
    """Accept ``state`` once and return the flow's secret and purpose, or raise
    :class:`InvalidState` saying why (for the log). The secret is wiped from the row as it is spent."""
    if not state:
        raise InvalidState("the callback carries no state")
    if not cookie_state:
        raise InvalidState("the state cookie is missing, tampered with or expired")
    if not hmac.compare_digest(state.encode(), cookie_state.encode()):
        raise InvalidState("the state does not match the cookie")
    now = timezone.now()
    # One conditional UPDATE: two concurrent callbacks cannot both spend the same state.
    spent = OAuthState.objects.filter(
        state_hash=_hash(state),
        provider=provider,
        merchant=merchant,
        used_at__isnull=True,
        created_at__gte=now - STATE_TTL,
    ).update(used_at=now)
    if spent == 1:
        try:
            secret, purpose = OAuthState.objects.values_list("secret", "purpose").get(state_hash=_hash(state))
        except Exception as exc:  # the field's decryption failed: nothing the merchant did
            raise StateSecretUnreadable("the stored flow secret cannot be decrypted") from exc
        OAuthState.objects.filter(state_hash=_hash(state)).update(secret="")
        return SpentState(secret=secret, purpose=purpose)
    record = OAuthState.objects.filter(state_hash=_hash(state), provider=provider).first()
    if record is None:
        raise InvalidState("unknown state")
    if record.merchant_id != merchant.pk:
        raise InvalidState("the state was issued to another merchant")
    if record.used_at is not None:
        raise InvalidState("the state was already used")
    raise InvalidState("the state has expired")
