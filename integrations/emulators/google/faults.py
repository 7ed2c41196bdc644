"""Injected failures: error statuses, rate-limit 403s, delays, malformed JSON, dropped connections.

A fault matches an endpoint name ("events.list", "token", ... or "*" for any) and fires
``times`` times (None = until cleared). Bodies follow Google's shapes for the endpoint
family: Calendar JSON errors, OAuth ``{"error", "error_description"}``, or an HTML page for
the authorization endpoint.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from .errors import FAULT_BODIES, FAULT_KINDS_403, ApiError, Response, auth_error, insufficient_permissions, oauth_error

KINDS = {
    "empty_page",
    "rate_limit_403",
    "user_rate_limit_403",
    "quota_403",
    "malformed_json",
    "invalid_grant",
    "disconnect",
    "auth_error",
}
_OAUTH_ENDPOINTS = {"token", "revoke"}
_REASON_DOMAINS = {
    "rateLimitExceeded": "usageLimits",
    "userRateLimitExceeded": "usageLimits",
    "quotaExceeded": "usageLimits",
    "insufficientPermissions": "global",
}
_REASON_MESSAGES = {
    "rateLimitExceeded": "Rate Limit Exceeded",
    "userRateLimitExceeded": "User Rate Limit Exceeded",
    "quotaExceeded": "Calendar usage limits exceeded.",
    "notFound": "Not Found",
    "forbidden": "Forbidden",
    "backendError": "Backend Error",
    "fullSyncRequired": "Sync token is no longer valid, a full sync is required.",
}
_HTML_ENDPOINTS = {"auth", "consent"}


@dataclass
class Fault:
    endpoint: str
    status: int | None = None
    kind: str | None = None
    times: int | None = 1
    delay: float | None = None
    retry_after: float | None = None
    reason: str | None = None
    fired: int = 0

    def as_dict(self) -> dict:
        return {
            k: getattr(self, k)
            for k in ("endpoint", "status", "kind", "times", "delay", "retry_after", "reason", "fired")
        }


class FaultBook:
    def __init__(self):
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        if fault.kind is not None and fault.kind not in KINDS:
            raise ValueError(f"Unknown fault kind {fault.kind!r}; choose from {sorted(KINDS)}")
        if fault.reason is not None and fault.kind is None and fault.status is None:
            fault.status = 403 if fault.reason in _REASON_DOMAINS else 400
        if fault.status is None and fault.kind is None and fault.delay is None:
            raise ValueError("A fault needs a status, a kind or a delay")
        with self._lock:
            self._faults.append(fault)

    def take(self, endpoint: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.endpoint in (endpoint, "*") and (fault.times is None or fault.fired < fault.times):
                    fault.fired += 1
                    return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def list(self) -> list[dict]:
        with self._lock:
            return [f.as_dict() for f in self._faults]


def fault_response(endpoint: str, fault: Fault) -> Response:
    headers = {"Retry-After": str(int(fault.retry_after))} if fault.retry_after is not None else {}
    kind, status = fault.kind, fault.status
    if kind == "malformed_json":
        return Response(
            status or 200,
            b'{"kind": "calendar#events", "items": [{"id": "trunc',
            {"Content-Type": "application/json; charset=UTF-8", **headers},
        )
    if endpoint in _OAUTH_ENDPOINTS:
        if kind == "invalid_grant":
            return oauth_error(status or 400, "invalid_grant", "Token has been expired or revoked.", headers)
        status = status or 500
        if status == 503:
            return oauth_error(status, "temporarily_unavailable", "The service is currently unavailable.", headers)
        if status >= 500:
            return oauth_error(status, "internal_failure", "Backend Error", headers)
        if status == 429:
            return oauth_error(status, "rate_limit_exceeded", "Rate Limit Exceeded", headers)
        return oauth_error(status, "invalid_request", "Bad Request", headers)
    if endpoint in _HTML_ENDPOINTS:
        return Response.html(
            status or 500, f"<!doctype html><title>Error {status or 500}</title><p>Server Error", headers
        )
    if fault.reason == "insufficientPermissions":
        error = insufficient_permissions("calendar.v3", [])
        error.headers.update(headers)
        return error.response()
    if fault.reason is not None:
        message = _REASON_MESSAGES.get(fault.reason, fault.reason)
        domain = _REASON_DOMAINS.get(fault.reason, "global")
        return ApiError(status or 403, fault.reason, message, domain=domain, headers=headers).response()
    if kind in FAULT_KINDS_403:
        reason, domain, message = FAULT_KINDS_403[kind]
        return ApiError(status or 403, reason, message, domain=domain, headers=headers).response()
    if kind == "auth_error" or status == 401:
        error = auth_error()
        error.headers.update(headers)
        return error.response()
    if kind == "invalid_grant":
        status = status or 400
    status = status or 500
    reason, domain, message = FAULT_BODIES.get(status, ("backendError", "global", "Backend Error"))
    location = {"location": "syncToken", "location_type": "parameter"} if status == 410 else {}
    return ApiError(status, reason, message, domain=domain, headers=headers, **location).response()
