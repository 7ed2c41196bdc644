"""``Authorization: Token <key>`` (SPEC §3) over django-rest-knox's hashed, expiring tokens.

Knox stores only a SHA-512 digest of each token and its expiry; a key that cannot be one of
ours (not hex, wrong length: 64 characters, or 40 for a token migrated from DRF's authtoken
by merchants/migrations/0002) is refused before any database lookup, so NUL bytes, spaces or
non-UTF-8 bytes in the header are a plain 401.
"""

import re

from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from rest_framework import exceptions

_KEY = re.compile(rb"[0-9a-f]{64}|[0-9a-f]{40}")


class TokenAuthentication(KnoxTokenAuthentication):
    def authenticate_credentials(self, token: bytes):
        if not _KEY.fullmatch(token):
            raise exceptions.AuthenticationFailed("Invalid token.")
        return super().authenticate_credentials(token)
