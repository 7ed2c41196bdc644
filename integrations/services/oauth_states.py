"""Issuing and spending OAuth ``state`` values (CSRF protection of the connect flow).

A state is random (256 bits), recorded server-side as a SHA-256 hash with the merchant
who asked for it, and spent at most once within :data:`STATE_TTL`. The API layer also
puts it, signed, in an HttpOnly cookie, so a callback is accepted only in the browser
that started the flow, for the merchant who started it, once, and within minutes.
https://datatracker.ietf.org/doc/html/rfc6749#section-10.12
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from django.utils import timezone

from integrations.models import OAuthState
from merchants.models import Merchant

STATE_TTL = dt.timedelta(minutes=10)
_KEEP_SPENT = dt.timedelta(days=1)


class InvalidState(Exception):
    """The callback's state is missing, forged, expired, replayed or someone else's."""


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def oauth_state_issue(*, merchant: Merchant, provider: str) -> str:
    """A fresh state for ``merchant``; old records are swept on the way."""
    now = timezone.now()
    OAuthState.objects.filter(created_at__lt=now - _KEEP_SPENT).delete()
    state = secrets.token_urlsafe(32)
    OAuthState.objects.create(merchant=merchant, provider=provider, state_hash=_hash(state), created_at=now)
    return state


def oauth_state_spend(*, merchant: Merchant, provider: str, state: str | None, cookie_state: str | None) -> None:
    """Accept ``state`` once, or raise :class:`InvalidState` saying why (for the log)."""
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
        return
    record = OAuthState.objects.filter(state_hash=_hash(state), provider=provider).first()
    if record is None:
        raise InvalidState("unknown state")
    if record.merchant_id != merchant.pk:
        raise InvalidState("the state was issued to another merchant")
    if record.used_at is not None:
        raise InvalidState("the state was already used")
    raise InvalidState("the state has expired")
