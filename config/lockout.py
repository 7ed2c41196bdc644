"""Login lockout (django-axes, SPEC §12): who an attempt counts against, and the answer to a locked one.

``settings.AXES_*`` point here. An attempt counts against the account (the email as typed,
normalised like every login does, so "Anna@Example.com" and "anna@example.com" are one
account) and against the client address (:func:`client_address`, the one DRF's throttling
uses, honouring ``NUM_PROXIES``). Whether the account exists makes no difference: the
counts, the lockout and the answer are the same.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from rest_framework.throttling import BaseThrottle

from merchants.services import email_normalize

TOO_MANY_ATTEMPTS = "too_many_attempts"


def lockout_message() -> str:
    minutes = settings.LOGIN_LOCKOUT_MINUTES
    return (
        f"Too many failed login attempts. Logging in is blocked for {minutes} minutes "
        f"for this account and from this address; please try again later."
    )


def username(request: HttpRequest, credentials: dict | None) -> str | None:
    value = (credentials or {}).get("username")
    if value is None:
        value = getattr(request, "POST", {}).get("username")
    return email_normalize(value) if isinstance(value, str) else None


def client_address(request: HttpRequest) -> str | None:
    """``REMOTE_ADDR``, or with ``NUM_PROXIES`` set, the address the last proxy saw (X-Forwarded-For)."""
    return BaseThrottle().get_ident(request) or None


def retry_after_seconds() -> int:
    return settings.LOGIN_LOCKOUT_MINUTES * 60


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """429 everywhere: the API's error shape under ``/api/``, a page in plain words elsewhere."""
    headers = {"Retry-After": str(retry_after_seconds())}
    if request.path.startswith("/api/"):
        body = {"error": {"code": TOO_MANY_ATTEMPTS, "message": lockout_message()}}
        return JsonResponse(body, status=429, headers=headers)
    response = TemplateResponse(
        request, "registration/locked_out.html", {"message": lockout_message()}, status=429, headers=headers
    )
    return response.render()
