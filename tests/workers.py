"""What a real ``celery worker`` subprocess of a test needs to see the test's world."""

from __future__ import annotations

import os
from urllib.parse import quote

from django.conf import settings
from django.db import connection


def worker_database_url() -> str:
    """The URL of the database the tests run on (``test_<name>`` by the time tests run)."""
    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    host = db["HOST"] or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{user}{password}@{host}{port}/{db['NAME']}"


def worker_environment(redis_url: str, **extra: str) -> dict[str, str]:
    """What a production worker gets, pointed at the test database, this Redis and the emulator."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "true",
        "DATABASE_URL": worker_database_url(),
        "REDIS_URL": redis_url,
        "SECRET_KEY": settings.SECRET_KEY,
        "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
        "GOOGLE_OAUTH_CLIENT_ID": settings.GOOGLE_OAUTH_CLIENT_ID,
        "GOOGLE_OAUTH_CLIENT_SECRET": settings.GOOGLE_OAUTH_CLIENT_SECRET,
        "GOOGLE_OAUTH_AUTH_URI": settings.GOOGLE_OAUTH_AUTH_URI,
        "GOOGLE_OAUTH_TOKEN_URI": settings.GOOGLE_OAUTH_TOKEN_URI,
        "GOOGLE_OAUTH_REVOKE_URI": settings.GOOGLE_OAUTH_REVOKE_URI,
        "GOOGLE_API_ROOT": settings.GOOGLE_API_ROOT,
        "GOOGLE_WEBHOOK_URL": settings.GOOGLE_WEBHOOK_URL,
        "GOOGLE_API_RETRY_BASE_SECONDS": "0.01",
        "OAUTHLIB_INSECURE_TRANSPORT": "1",
        "LOG_LEVEL": "INFO",
        **extra,
    }
