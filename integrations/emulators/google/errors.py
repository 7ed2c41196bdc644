"""Google's error bodies, as the Calendar API and the OAuth endpoints send them.

Calendar v3 errors use the legacy JSON shape ``{"error": {"code", "message", "errors": [...]}}``;
401/403 answers seen since about 2021 also carry a gRPC ``status`` (and ``details`` for
scope errors). OAuth endpoints answer ``{"error", "error_description"}``.
See https://developers.google.com/calendar/api/guides/errors and
https://developers.google.com/identity/protocols/oauth2/web-server#handlingresponse
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

JSON_TYPE = "application/json; charset=UTF-8"

AUTH_ERROR_MESSAGE = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other "
    "valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."
)
LOGIN_REQUIRED_MESSAGE = (
    "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or "
    "other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."
)
FULL_SYNC_MESSAGE = "Sync token is no longer valid, a full sync is required."


class EmulatorError(Exception):
    """A misuse of the emulator's Python or control API (unknown calendar, bad event JSON...)."""


@dataclass
class Response:
    """A finished HTTP answer; the server writes it as is."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload, headers: dict[str, str] | None = None) -> Response:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return cls(status, body, {"Content-Type": JSON_TYPE, **(headers or {})})

    @classmethod
    def html(cls, status: int, text: str, headers: dict[str, str] | None = None) -> Response:
        return cls(status, text.encode(), {"Content-Type": "text/html; charset=utf-8", **(headers or {})})

    @classmethod
    def redirect(cls, location: str) -> Response:
        return cls(302, b"", {"Location": location, "Content-Type": "text/html; charset=UTF-8"})


class ApiError(Exception):
    """Raised inside Calendar handlers; rendered as Google's error JSON."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        *,
        domain: str = "global",
        location: str | None = None,
        location_type: str | None = None,
        top_message: str | None = None,
        status: str | None = None,
        details: list | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.domain = domain
        self.location = location
        self.location_type = location_type
        self.top_message = top_message or message
        self.status = status
        self.details = details
        self.headers = headers or {}

    def body(self) -> dict:
        item = {"domain": self.domain, "reason": self.reason, "message": self.message}
        if self.location_type:
            item["locationType"] = self.location_type
        if self.location:
            item["location"] = self.location
        error: dict = {"errors": [item], "code": self.code, "message": self.top_message}
        if self.status:
            error["status"] = self.status
        if self.details:
            error["details"] = self.details
        return {"error": error}

    def response(self) -> Response:
        return Response.json(self.code, self.body(), self.headers)


def auth_error() -> ApiError:
    return ApiError(
        401,
        "authError",
        "Invalid Credentials",
        location="Authorization",
        location_type="header",
        top_message=AUTH_ERROR_MESSAGE,
        status="UNAUTHENTICATED",
        headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", error="invalid_token"'},
    )


def login_required() -> ApiError:
    return ApiError(
        401,
        "required",
        "Login Required.",
        location="Authorization",
        location_type="header",
        top_message=LOGIN_REQUIRED_MESSAGE,
        status="UNAUTHENTICATED",
        headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'},
    )


def insufficient_permissions(method: str, scopes: list[str]) -> ApiError:
    return ApiError(
        403,
        "insufficientPermissions",
        "Insufficient Permission",
        top_message="Request had insufficient authentication scopes.",
        status="PERMISSION_DENIED",
        details=[
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
                "domain": "googleapis.com",
                "metadata": {"method": method, "service": "calendar-json.googleapis.com"},
            }
        ],
        headers={
            "WWW-Authenticate": (
                'Bearer realm="https://accounts.google.com/", error="insufficient_scope", scope="{}"'.format(
                    " ".join(scopes)
                )
            )
        },
    )


def not_found(message: str = "Not Found") -> ApiError:
    return ApiError(404, "notFound", message)


def bad_request(message: str = "Bad Request", *, reason: str = "badRequest", location: str | None = None) -> ApiError:
    return ApiError(400, reason, message, location=location, location_type="parameter" if location else None)


def invalid_param(location: str, message: str) -> ApiError:
    return ApiError(400, "invalid", message, location=location, location_type="parameter")


def duplicate() -> ApiError:
    """``events.insert`` with an id (or iCalUID) the calendar already holds, deleted events included."""
    return ApiError(409, "duplicate", "The requested identifier already exists.")


def deleted() -> ApiError:
    """``events.delete`` of an event that is already deleted."""
    return ApiError(410, "deleted", "Resource has been deleted")


def required_access_level() -> ApiError:
    """A write into a calendar the token may read but not change (a reader's role, or a
    ``calendar.app.created`` grant on a calendar another client or the user made)."""
    return ApiError(403, "requiredAccessLevel", "You need to have writer access to this calendar.")


def full_sync_required() -> ApiError:
    return ApiError(
        410, "fullSyncRequired", FULL_SYNC_MESSAGE, domain="calendar", location="syncToken", location_type="parameter"
    )


def oauth_error(status: int, error: str, description: str, headers: dict[str, str] | None = None) -> Response:
    return Response.json(
        status,
        {"error": error, "error_description": description},
        {"Cache-Control": "no-cache, no-store, max-age=0, must-revalidate", "Pragma": "no-cache", **(headers or {})},
    )


# Bodies for injected faults on Calendar endpoints (status -> reason, domain, message).
FAULT_BODIES = {
    400: ("badRequest", "global", "Bad Request"),
    401: ("authError", "global", "Invalid Credentials"),
    403: ("forbidden", "global", "Forbidden"),
    404: ("notFound", "global", "Not Found"),
    409: ("conflict", "global", "Conflict"),
    410: ("fullSyncRequired", "calendar", FULL_SYNC_MESSAGE),
    429: ("rateLimitExceeded", "usageLimits", "Rate Limit Exceeded"),
    500: ("backendError", "global", "Backend Error"),
    502: ("backendError", "global", "Bad Gateway"),
    503: ("backendError", "global", "The service is currently unavailable."),
    504: ("backendError", "global", "Deadline exceeded."),
}
FAULT_KINDS_403 = {
    "rate_limit_403": ("rateLimitExceeded", "usageLimits", "Rate Limit Exceeded"),
    "user_rate_limit_403": ("userRateLimitExceeded", "usageLimits", "User Rate Limit Exceeded"),
    "quota_403": ("quotaExceeded", "usageLimits", "Calendar usage limits exceeded."),
}
