"""``Authorization: Token <key>`` (SPEC §3) over django-rest-knox's hashed, expiring tokens.

Knox stores only a SHA-512 digest of each token and its expiry; a key that cannot be one of
ours (not hex, wrong length: 64 characters, or 40 for a token migrated from DRF's authtoken
by merchants/migrations/0002) is refused before any database lookup, so NUL bytes, spaces or
non-UTF-8 bytes in the header are a plain 401.
"""

import re

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from rest_framework import exceptions

_KEY = re.compile(rb"[0-9a-f]{64}|[0-9a-f]{40}")


class TokenAuthentication(KnoxTokenAuthentication):
    def authenticate_credentials(self, token: bytes):
        if not _KEY.fullmatch(token):
            raise exceptions.AuthenticationFailed("Invalid token.")
        return super().authenticate_credentials(token)


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    """The OpenAPI security scheme: the same ``tokenAuth`` as DRF's token authentication had."""

    target_class = "config.auth.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'Token-based authentication with required prefix "Token" (POST /api/v1/auth/token); '
            "tokens expire API_TOKEN_TTL_DAYS after they were issued and are revoked with DELETE /api/v1/auth/token.",
        }
