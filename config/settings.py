"""Settings, read from the environment (SPEC §2) with embedded development defaults.

https://docs.djangoproject.com/en/5.2/ref/settings/
https://django-environ.readthedocs.io/
"""

import base64
import hashlib
import os
import warnings
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ

from integrations.schedule import BEAT_SCHEDULE as INTEGRATIONS_BEAT_SCHEDULE

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

# Production unless told otherwise: only an explicit DEBUG=true (development, `manage.py demo`,
# the test suite's tests/settings.py) allows the development keys below.
DEBUG = env.bool("DEBUG", default=False)

# The repository's development key, and the encryption key derived from it: anyone with the
# repository has both, so a process without DEBUG=true refuses to start on either.
_DEV_SECRET_KEY = "django-insecure-development-key-do-not-use-in-production"


def _derived_fernet_key(secret: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest()).decode()


SECRET_KEY = env.str("SECRET_KEY", default="")
if not DEBUG and SECRET_KEY in ("", _DEV_SECRET_KEY):
    raise environ.ImproperlyConfigured(
        "SECRET_KEY must be set to a secret of your own (not the repository's development key) "
        "when DEBUG is not true. Set DEBUG=true for development."
    )
if not SECRET_KEY:
    warnings.warn("SECRET_KEY is not set: using the development key.", stacklevel=1)
    SECRET_KEY = _DEV_SECRET_KEY

PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
_public_host = urlsplit(PUBLIC_BASE_URL).hostname or "127.0.0.1"
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["*"] if DEBUG else [_public_host])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[PUBLIC_BASE_URL])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "axes",
    "csp",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "merchants",
    "scheduling",
    "integrations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # The week view's once-a-second change poll, answered before the rest (scheduling/live.py).
    "scheduling.live.LivePollMiddleware",
    # The calendar providers' notification POSTs, answered before the rest (integrations/webhooks.py).
    "integrations.webhooks.WebhookMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last: turns a login refused by django-axes into the lockout answer (config/lockout.py).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "integrations.context_processors.incidents",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Persistent connections: opening a PostgreSQL connection per request costs more than most
# requests (the watch endpoint ran at 83 requests/s without this, see docs/BENCHMARKS.md).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web server, the emulator's pushes and eager
    # tasks share the development file without "database is locked" errors.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL;",
        "transaction_mode": "IMMEDIATE",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "merchants.passwords.NotContainingEmailValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked-out login before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/app/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Serve app static files straight from their apps too, so tests and a fresh checkout need
# no collectstatic step (production still runs it in the Procfile).
WHITENOISE_USE_FINDERS = True


# HTTPS (SPEC §12): production defaults; development (DEBUG=true) serves plain http.
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# A load balancer's health check may come over plain http.
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
# "HEADER,value": the header (as in request.META) a trusted proxy sets on https requests; empty: none.
_proxy_ssl_header = env.list("SECURE_PROXY_SSL_HEADER", default=["HTTP_X_FORWARDED_PROTO", "https"])
SECURE_PROXY_SSL_HEADER = tuple(_proxy_ssl_header) if _proxy_ssl_header else None
if SECURE_PROXY_SSL_HEADER is not None and len(SECURE_PROXY_SSL_HEADER) != 2:
    raise environ.ImproperlyConfigured("SECURE_PROXY_SSL_HEADER must be 'HEADER,value' (or empty for none).")
# Proxies in front of the app that append to X-Forwarded-For: the client address (login
# lockout, throttling) is the one the last of them saw. 0: the socket's address (REMOTE_ADDR).
NUM_PROXIES = env.int("NUM_PROXIES", default=0 if DEBUG else 1)

# Content-Security-Policy on every response (django-csp). The pages use only app.js and
# app.css; the week view positions entries with style attributes (style-src-attr). The
# Swagger UI (/api/v1/docs/) adds what it needs on its own view (config/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        # Google's consent page (or the local emulator's) is reached by a redirect after a POST.
        "form-action": ["'self'", "https:", "http://127.0.0.1:*", "http://localhost:*"]
        if DEBUG
        else ["'self'", "https:"],
    },
}

# Login lockout (django-axes, SPEC §12): LOGIN_FAILURE_LIMIT failures for one account OR from
# one address lock further attempts (the right password too) for LOGIN_LOCKOUT_MINUTES. The
# attempts live in the database (axes' default handler): every process shares it, with or
# without Redis, and staff see attempts and lockouts in the admin.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_LOCKOUT_MINUTES = env.int("LOGIN_LOCKOUT_MINUTES", default=15)
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# Attempts during a lockout do not extend it: it ends LOGIN_LOCKOUT_MINUTES after the limit.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_USERNAME_CALLABLE = "config.lockout.username"
AXES_CLIENT_IP_CALLABLE = "config.lockout.client_address"
AXES_LOCKOUT_CALLABLE = "config.lockout.lockout_response"
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "password", "email"]

# API tokens (django-rest-knox): only a SHA-512 digest is stored; one token per login
# (device), each expiring API_TOKEN_TTL_DAYS after it was issued; DELETE /api/v1/auth/token
# revokes the one in use.
API_TOKEN_TTL_DAYS = env.int("API_TOKEN_TTL_DAYS", default=30)
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=API_TOKEN_TTL_DAYS),
    "AUTO_REFRESH": False,
    "AUTH_HEADER_PREFIX": "Token",
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "config.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "NUM_PROXIES": NUM_PROXIES,
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["config.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Merchant calendar API",
    "DESCRIPTION": "Bookings, blocked times, availability and Google Calendar sync.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Email (SPEC §11): EMAIL_URL such as smtp://user:pass@host:587 (django-environ); console when unset.
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Merchant calendar <noreply@localhost>")

# Celery: Redis when REDIS_URL is set, otherwise tasks run eagerly in-process.
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"  # a hostname: kombu warns without one
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 15 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 14 * 60
# A task taken by a worker that dies (acks_late) goes back to the queue after this long.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT_SECONDS", default=20 * 60)}
CELERY_BEAT_SCHEDULE = {**INTEGRATIONS_BEAT_SCHEDULE}  # see integrations/schedule.py

# Token encryption (Fernet, MultiFernet rotation: the first key encrypts, all decrypt).
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
if not DEBUG and (not FIELD_ENCRYPTION_KEYS or _derived_fernet_key(_DEV_SECRET_KEY) in FIELD_ENCRYPTION_KEYS):
    raise environ.ImproperlyConfigured(
        "FIELD_ENCRYPTION_KEYS must be set to Fernet keys of your own (not one derived from the repository's "
        "development key) when DEBUG is not true. Set DEBUG=true for development."
    )
if not FIELD_ENCRYPTION_KEYS:
    FIELD_ENCRYPTION_KEYS = [_derived_fernet_key(SECRET_KEY)]

# Google (SPEC §2). Pointing these at the local emulator is enough to run everything.
GOOGLE_OAUTH_CLIENT_ID = env.str("GOOGLE_OAUTH_CLIENT_ID", default="")
GOOGLE_OAUTH_CLIENT_SECRET = env.str("GOOGLE_OAUTH_CLIENT_SECRET", default="")
GOOGLE_OAUTH_AUTH_URI = env.str("GOOGLE_OAUTH_AUTH_URI", default="https://accounts.google.com/o/oauth2/v2/auth")
GOOGLE_OAUTH_TOKEN_URI = env.str("GOOGLE_OAUTH_TOKEN_URI", default="https://oauth2.googleapis.com/token")
GOOGLE_OAUTH_REVOKE_URI = env.str("GOOGLE_OAUTH_REVOKE_URI", default="https://oauth2.googleapis.com/revoke")
GOOGLE_API_ROOT = env.str("GOOGLE_API_ROOT", default="https://www.googleapis.com/")
GOOGLE_WEBHOOK_PATH = "/api/v1/merchant/integrations/google/calendar/watch"
GOOGLE_WEBHOOK_URL = env.str("GOOGLE_WEBHOOK_URL", default=PUBLIC_BASE_URL + GOOGLE_WEBHOOK_PATH)
CALENDAR_SYNC_HORIZON_DAYS = env.int("CALENDAR_SYNC_HORIZON_DAYS", default=365)
# Calls to Google: per-request socket timeout and short in-call retries (exponential
# backoff with jitter, honouring Retry-After up to the cap; longer waits go back to the task).
GOOGLE_API_TIMEOUT_SECONDS = env.float("GOOGLE_API_TIMEOUT_SECONDS", default=20.0)
GOOGLE_API_MAX_ATTEMPTS = env.int("GOOGLE_API_MAX_ATTEMPTS", default=4)
GOOGLE_API_RETRY_BASE_SECONDS = env.float("GOOGLE_API_RETRY_BASE_SECONDS", default=0.5)
GOOGLE_API_RETRY_MAX_WAIT_SECONDS = env.float("GOOGLE_API_RETRY_MAX_WAIT_SECONDS", default=30.0)
CALENDAR_SYNC_LOOKBACK_DAYS = env.int("CALENDAR_SYNC_LOOKBACK_DAYS", default=30)
# A full sync fetches page n+1 on a thread while it writes page n (integrations/sync/readahead.py).
CALENDAR_SYNC_READ_AHEAD = env.bool("CALENDAR_SYNC_READ_AHEAD", default=True)

# Microsoft: Outlook.com and Microsoft 365 through Microsoft Graph (SPEC §8.1). Pointing
# these at the local Microsoft emulator (and REQUESTS_CA_BUNDLE / SSL_CERT_FILE at its test
# certificate authority) is enough to run everything against it.
MICROSOFT_OAUTH_CLIENT_ID = env.str("MICROSOFT_OAUTH_CLIENT_ID", default="")
MICROSOFT_OAUTH_CLIENT_SECRET = env.str("MICROSOFT_OAUTH_CLIENT_SECRET", default="")
MICROSOFT_OAUTH_TENANT = env.str("MICROSOFT_OAUTH_TENANT", default="common")
MICROSOFT_AUTHORITY_HOST = env.str("MICROSOFT_AUTHORITY_HOST", default="https://login.microsoftonline.com").rstrip("/")
MICROSOFT_GRAPH_ROOT = env.str("MICROSOFT_GRAPH_ROOT", default="https://graph.microsoft.com/v1.0/")
MICROSOFT_WEBHOOK_PATH = "/api/v1/merchant/integrations/microsoft/calendar/watch"
MICROSOFT_LIFECYCLE_PATH = "/api/v1/merchant/integrations/microsoft/calendar/lifecycle"
MICROSOFT_WEBHOOK_URL = env.str("MICROSOFT_WEBHOOK_URL", default=PUBLIC_BASE_URL + MICROSOFT_WEBHOOK_PATH)
# Calls to Graph and the token endpoint: per-request timeout, short in-call retries (as Google's),
# page size asked with ``Prefer: odata.maxpagesize``, and the subscription lifetime asked for
# (under the older 4,230-minute limit; renewed before it runs out).
MICROSOFT_API_TIMEOUT_SECONDS = env.float("MICROSOFT_API_TIMEOUT_SECONDS", default=20.0)
MICROSOFT_API_MAX_ATTEMPTS = env.int("MICROSOFT_API_MAX_ATTEMPTS", default=4)
MICROSOFT_API_RETRY_BASE_SECONDS = env.float("MICROSOFT_API_RETRY_BASE_SECONDS", default=0.5)
MICROSOFT_API_RETRY_MAX_WAIT_SECONDS = env.float("MICROSOFT_API_RETRY_MAX_WAIT_SECONDS", default=30.0)
MICROSOFT_GRAPH_PAGE_SIZE = env.int("MICROSOFT_GRAPH_PAGE_SIZE", default=100)
MICROSOFT_SUBSCRIPTION_MINUTES = env.int("MICROSOFT_SUBSCRIPTION_MINUTES", default=4200)
CALENDAR_PERIODIC_SYNC_INTERVAL = timedelta(hours=env.int("CALENDAR_PERIODIC_SYNC_HOURS", default=3))
# A notification this soon after the previous one is part of a burst: with a worker, its sync
# waits until notifications have been quiet this long, but never more than the max delay.
CALENDAR_NOTIFICATION_SETTLE_SECONDS = env.float("CALENDAR_NOTIFICATION_SETTLE_SECONDS", default=0.5)
CALENDAR_NOTIFICATION_MAX_DELAY_SECONDS = env.float("CALENDAR_NOTIFICATION_MAX_DELAY_SECONDS", default=30.0)
# Task-level retries of a sync whose provider errors outlived the client's in-call retries.
# SPEC §9: a calendar failing this long opens an incident (banner, one email).
CALENDAR_INCIDENT_AFTER = timedelta(minutes=env.int("CALENDAR_INCIDENT_AFTER_MINUTES", default=60))
# SPEC §12: manual syncs per merchant and hour (POST .../sync beyond it: 429 rate_limited).
SYNC_MANUAL_PER_HOUR = env.int("SYNC_MANUAL_PER_HOUR", default=30)
CALENDAR_SYNC_MAX_RETRIES = env.int("CALENDAR_SYNC_MAX_RETRIES", default=5)
CALENDAR_SYNC_RETRY_BASE_SECONDS = env.float("CALENDAR_SYNC_RETRY_BASE_SECONDS", default=30.0)
CALENDAR_SYNC_RETRY_MAX_SECONDS = env.float("CALENDAR_SYNC_RETRY_MAX_SECONDS", default=30 * 60.0)

# Bookings (SPEC §11, §12): public booking limits; rules themselves are per merchant.
BOOKING_RATE_PER_ADDRESS = env.str("BOOKING_RATE_PER_ADDRESS", default="20/hour")
BOOKING_RATE_PER_MERCHANT = env.str("BOOKING_RATE_PER_MERCHANT", default="200/hour")
BOOKING_MAX_ACTIVE_PER_EMAIL = env.int("BOOKING_MAX_ACTIVE_PER_EMAIL", default=3)
# Booking emails: retries of a send that failed (mail server down), with exponential backoff.
BOOKING_EMAIL_MAX_RETRIES = env.int("BOOKING_EMAIL_MAX_RETRIES", default=8)
# SPEC §11: how long a public booking waits for the providers' live answer (all in parallel);
# after it, the stored blocked times decide; 0 turns the live check off.
BOOKING_LIVE_CHECK_SECONDS = env.float("BOOKING_LIVE_CHECK_SECONDS", default=2.0)
# SPEC §10: copies of bookings in the merchant's calendar. A failed write is retried by its
# task with backoff (the sync retry settings), then by the sweep every few minutes until it lands.
BOOKING_COPY_SWEEP_AFTER = timedelta(minutes=env.int("BOOKING_COPY_SWEEP_AFTER_MINUTES", default=10))

# Email (SPEC §11): EMAIL_URL such as smtp://user:pass@host:587 (smtp+tls://, smtps://),
# console output when unset. https://django-environ.readthedocs.io/en/latest/types.html#environ-env-email-url
_email_config = env.email_url("EMAIL_URL", default="consolemail://")
vars().update({key: value for key, value in _email_config.items() if value not in (None, "")})
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default=f"Merchant calendar <bookings@{_public_host}>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)

# CalDAV (SPEC §8.2). Private addresses (loopback, RFC 1918, link-local...) are refused as
# CalDAV servers unless this is on: tests and the demo only, never production.
CALDAV_ALLOW_PRIVATE_ADDRESSES = env.bool("CALDAV_ALLOW_PRIVATE_ADDRESSES", default=False)
CALDAV_POLL_MINUTES = env.int("CALDAV_POLL_MINUTES", default=5)
CALDAV_REQUEST_TIMEOUT_SECONDS = env.float("CALDAV_REQUEST_TIMEOUT_SECONDS", default=20.0)
CALDAV_MAX_RESPONSE_BYTES = env.int("CALDAV_MAX_RESPONSE_BYTES", default=20 * 1024 * 1024)
CALDAV_MAX_ATTEMPTS = env.int("CALDAV_MAX_ATTEMPTS", default=3)
CALDAV_RETRY_BASE_SECONDS = env.float("CALDAV_RETRY_BASE_SECONDS", default=0.5)
CALDAV_RETRY_MAX_WAIT_SECONDS = env.float("CALDAV_RETRY_MAX_WAIT_SECONDS", default=10.0)
CALDAV_ICLOUD_URL = env.str("CALDAV_ICLOUD_URL", default="https://caldav.icloud.com/")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # django-axes logs two INFO lines per failed login besides its WARNING: keep the warning.
        "axes": {"level": "WARNING"},
        # These libraries log request bodies, tokens and Authorization headers at DEBUG
        # (requests-oauthlib: "Obtained token ..."; googleapiclient with dump_request_response):
        # never let LOG_LEVEL=DEBUG put OAuth tokens into the logs.
        **{
            name: {"level": "WARNING"}
            for name in (
                "requests_oauthlib",
                "oauthlib",
                "googleapiclient",
                "google_auth_httplib2",
                "google.auth",
                "msal",
            )
        },
    },
}

# oauthlib refuses plain http. Allow it only when every OAuth endpoint is a loopback
# address (the local emulator), never for a real deployment.
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_OAUTH_URLS = [urlsplit(u) for u in (GOOGLE_OAUTH_AUTH_URI, GOOGLE_OAUTH_TOKEN_URI, GOOGLE_OAUTH_REVOKE_URI)]
if any(u.scheme == "http" for u in _OAUTH_URLS) and all(
    u.scheme == "https" or u.hostname in _LOOPBACK for u in _OAUTH_URLS
):
    os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
os.environ.setdefault("OAUTHLIB_RELAX_TOKEN_SCOPE", "1")
