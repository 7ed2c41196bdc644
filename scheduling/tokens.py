"""The customer's manage link: an unguessable, signed token per booking (SPEC §11).

The token is the booking's random UID (122 random bits) with an HMAC signature made from
``SECRET_KEY`` and a salt of its own, so it can neither be guessed nor forged from another
booking's. It does not expire: it is the customer's way back to a booking until it is over.
https://docs.djangoproject.com/en/5.2/topics/signing/
"""

from __future__ import annotations

import uuid

from django.core import signing

SALT = "scheduling.booking-manage"
SEPARATOR = "."  # not in the signature's URL-safe base64 alphabet, and fine in a path


def _signer() -> signing.Signer:
    return signing.Signer(salt=SALT, sep=SEPARATOR)


def booking_token(uid: uuid.UUID) -> str:
    return _signer().sign(uid.hex)


def booking_uid_from_token(token: str) -> uuid.UUID | None:
    """The UID a token was made for; None for anything unknown, malformed or tampered with."""
    if not isinstance(token, str) or len(token) > 200:
        return None
    try:
        return uuid.UUID(hex=_signer().unsign(token))
    except (signing.BadSignature, ValueError):
        return None
