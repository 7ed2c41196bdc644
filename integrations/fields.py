"""An encrypted text field on ``cryptography``'s MultiFernet (key rotation).

The first key of ``FIELD_ENCRYPTION_KEYS`` encrypts, every key decrypts. A value that
no configured key can decrypt raises :class:`DecryptionError` instead of returning
ciphertext: a wrong key must fail loudly, never leak garbage into an API call.
https://cryptography.io/en/latest/fernet/#cryptography.fernet.MultiFernet
"""

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


class DecryptionError(Exception):
    """A stored value cannot be decrypted with any configured key."""


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError("stored value cannot be decrypted with FIELD_ENCRYPTION_KEYS") from exc


def rotate(token: str) -> str:
    """Re-encrypt ``token`` under the newest key."""
    try:
        return fernet().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError("stored value cannot be decrypted with FIELD_ENCRYPTION_KEYS") from exc


class EncryptedTextField(models.TextField):
    """Stores Fernet ciphertext; Python code only ever sees plain text (or ``None``)."""

    def from_db_value(self, value, expression, connection):
        return None if value is None else decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return None if value is None else encrypt(value)
