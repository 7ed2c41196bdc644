"""Injected failures per endpoint: statuses with Microsoft's bodies, Retry-After, delays,
malformed JSON, dropped connections, token-endpoint AADSTS errors, empty delta pages.

A fault matches an endpoint name (``token``, ``calendarView.delta``, ... or ``*``) and fires
``times`` times (None: until cleared).
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass

from .errors import FAULT_BODIES, GraphError, aadsts_error
from .wire import Response

KINDS = {
    "disconnect",  # close the connection without an answer
    "malformed_json",
    "empty_page",  # calendarView.delta: a page without items that still has a nextLink
    "invalid_grant",  # token endpoint: invalid_grant with ``aadsts`` (default 50173)
    "invalid_client",  # token endpoint: 401 invalid_client AADSTS7000215
    "temporarily_unavailable",  # token endpoint: 503 temporarily_unavailable AADSTS90024
    "sync_state_not_found",  # delta: 410 SyncStateNotFound
    "resync_required",  # delta: 410 resyncRequired
}
IDENTITY_ENDPOINTS = {"token", "openid-configuration", "instance-discovery", "keys"}
HTML_ENDPOINTS = {"authorize", "consent"}


@dataclass
class Fault:
    endpoint: str
    status: int | None = None
    kind: str | None = None
    times: int | None = 1
    delay: float | None = None
    retry_after: float | None = None
    code: str | None = None  # Graph error code override
    aadsts: int | None = None
    fired: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


class FaultBook:
    def __init__(self):
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        if fault.kind is not None and fault.kind not in KINDS:
            raise ValueError(f"Unknown fault kind {fault.kind!r}; choose from {sorted(KINDS)}")
        if fault.status is None and fault.kind is None and fault.delay is None:
            raise ValueError("A fault needs a status, a kind or a delay")
        with self._lock:
            self._faults.append(fault)

    def take(self, endpoint: str, *, kind: str | None = None) -> Fault | None:
        """The next live fault for ``endpoint``; with ``kind`` only faults of that kind."""
        with self._lock:
            for fault in self._faults:
                if fault.endpoint not in (endpoint, "*") or (fault.times is not None and fault.fired >= fault.times):
                    continue
                if kind is None and fault.kind == "empty_page":
                    continue
                if kind is not None and fault.kind != kind:
                    continue
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
        return Response(status or 200, b'{"value": [{"id": "trunc', {"Content-Type": "application/json", **headers})
    if endpoint in IDENTITY_ENDPOINTS:
        if kind == "invalid_grant":
            return aadsts_error(status or 400, "invalid_grant", fault.aadsts or 50173, headers=headers)
        if kind == "invalid_client":
            return aadsts_error(status or 401, "invalid_client", fault.aadsts or 7000215, headers=headers)
        status = status or 503
        if kind == "temporarily_unavailable" or status in (429, 503):
            return aadsts_error(status, "temporarily_unavailable", fault.aadsts or 90024, headers=headers)
        if status >= 500:
            return aadsts_error(status, "server_error", fault.aadsts or 90024, headers=headers)
        return aadsts_error(status, "invalid_request", fault.aadsts or 9002313, headers=headers)
    if endpoint in HTML_ENDPOINTS:
        return Response.html(
            status or 500, f"<!doctype html><title>Error {status or 500}</title><p>Server Error", headers
        )
    if kind == "sync_state_not_found":
        status, code = status or 410, fault.code or "SyncStateNotFound"
    elif kind == "resync_required":
        status, code = status or 410, fault.code or "resyncRequired"
    else:
        status = status or 500
        code = fault.code or FAULT_BODIES.get(status, ("generalException", ""))[0]
    message = FAULT_BODIES.get(status, ("", "An unspecified error has occurred."))[1]
    error = GraphError(status, code, message, headers=headers)
    if status == 401:
        from .errors import WWW_AUTHENTICATE

        error.headers["WWW-Authenticate"] = WWW_AUTHENTICATE
    return error.response()
