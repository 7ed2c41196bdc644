"""Microsoft's error bodies: Graph ``{"error": {"code", "message", "innerError"}}`` and the
identity platform's ``{"error", "error_description", "error_codes", ...}`` with AADSTS codes.

https://learn.microsoft.com/en-us/graph/errors
https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes
"""

from __future__ import annotations

import datetime as dt
import uuid

from .wire import NO_STORE, Response

WWW_AUTHENTICATE = (
    'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", '
    'client_id="00000003-0000-0000-c000-000000000000"'
)


class EmulatorError(Exception):
    """A misuse of the emulator's Python or control API (unknown calendar, bad event JSON...)."""


def _now_text() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")


class GraphError(Exception):
    """Raised inside Graph handlers; rendered as Graph's error JSON."""

    def __init__(self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}

    def response(self, request_id: str | None = None) -> Response:
        request_id = request_id or str(uuid.uuid4())
        body = {
            "error": {
                "code": self.code,
                "message": self.message,
                "innerError": {"date": _now_text(), "request-id": request_id, "client-request-id": request_id},
            }
        }
        return Response.json(
            self.status, body, {"request-id": request_id, "client-request-id": request_id, **self.headers}
        )


def unauthorized(message: str = "Access token has expired or is not yet valid.") -> GraphError:
    return GraphError(401, "InvalidAuthenticationToken", message, headers={"WWW-Authenticate": WWW_AUTHENTICATE})


def access_denied() -> GraphError:
    return GraphError(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")


def item_not_found() -> GraphError:
    return GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")


def bad_request(message: str, code: str = "BadRequest") -> GraphError:
    return GraphError(400, code, message)


def sync_state_not_found() -> GraphError:
    return GraphError(
        410, "SyncStateNotFound", "The sync state generation is not found; generation=149;[highest=157][157][155][156]."
    )


def resync_required() -> GraphError:
    return GraphError(410, "resyncRequired", "A resync is required: the delta token is no longer valid.")


def throttled(retry_after: float | None) -> GraphError:
    headers = {"Retry-After": str(int(retry_after))} if retry_after is not None else {}
    return GraphError(429, "ApplicationThrottled", "Application is over its MailboxConcurrency limit.", headers=headers)


# --- identity platform -----------------------------------------------------------------------

AADSTS = {
    50011: "The redirect URI specified in the request does not match the redirect URIs configured for the application.",
    50020: "User account from identity provider does not exist in tenant and cannot access the application in "
    "that tenant.",
    50034: "The user account does not exist in the directory.",
    50057: "The user account is disabled.",
    90002: "Tenant not found.",
    700005: "Provided Authorization Code is intended to use against other tenant, thus rejected.",
    50173: "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might "
    "have changed or reset their password.",
    54005: "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing "
    "refresh token.",
    65001: "The user or administrator has not consented to use the application. Send an interactive authorization "
    "request for this user and resource.",
    65004: "User declined to consent to access the app.",
    70008: "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive "
    "authorization request for this user and resource.",
    70011: "The provided request must include a 'scope' input parameter. The provided value for the input parameter "
    "'scope' is not valid.",
    700016: "Application was not found in the directory.",
    700082: "The refresh token has expired due to inactivity. The token was issued on 2026-01-01T00:00:00Z and was "
    "inactive for 90.00:00:00.",
    7000215: "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, "
    "not the client secret ID.",
    900144: "The request body must contain the following parameter: '{}'.",
    501481: "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
    90024: "The service is temporarily unavailable.",
    9002313: "Invalid request. Request is malformed or invalid.",
}
SUBERRORS = {65001: "consent_required", 50173: "bad_token", 700082: "bad_token"}


def aadsts_error(status: int, error: str, code: int, *, detail: str | None = None, headers=None) -> Response:
    """The token endpoint's error JSON (HTTP 400 for grant errors, 401 for client authentication)."""
    trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    text = AADSTS.get(code, "Error.")
    if detail is not None and "{}" in text:
        text = text.format(detail)
    body = {
        "error": error,
        "error_description": f"AADSTS{code}: {text}\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}\r\n"
        f"Timestamp: {stamp}",
        "error_codes": [code],
        "timestamp": stamp,
        "trace_id": trace,
        "correlation_id": correlation,
        "error_uri": f"https://login.microsoftonline.com/error?code={code}",
    }
    if code in SUBERRORS:
        body["suberror"] = SUBERRORS[code]
    return Response.plain_json(status, body, {**NO_STORE, **(headers or {})})


# Graph bodies for injected faults (status -> code, message).
FAULT_BODIES = {
    400: ("BadRequest", "Bad request."),
    401: ("InvalidAuthenticationToken", "Access token validation failure."),
    403: ("ErrorAccessDenied", "Access is denied. Check credentials and try again."),
    404: ("ErrorItemNotFound", "The specified object was not found in the store."),
    409: ("ErrorIrresolvableConflict", "The change key passed in the request does not match the current change key."),
    410: ("SyncStateNotFound", "The sync state generation is not found."),
    429: ("ApplicationThrottled", "Application is over its MailboxConcurrency limit."),
    500: ("generalException", "An unspecified error has occurred."),
    502: ("generalException", "Bad gateway."),
    503: ("serviceNotAvailable", "The service is currently unavailable."),
    504: ("generalException", "Gateway timeout."),
}
