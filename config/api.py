"""One error shape for the whole API: ``{"error": {"code", "message"}}`` (SPEC §3).

Services raise :class:`ApplicationError`; DRF's own exceptions (validation, auth,
404, parse errors) are rendered in the same shape by :func:`exception_handler`.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class ApplicationError(Exception):
    """A business rule refused the request; rendered as ``status`` with ``code``."""

    def __init__(self, message: str, *, code: str = "invalid", status_code: int = status.HTTP_400_BAD_REQUEST):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status_code = status_code


def _first_message(detail) -> str:
    """Flatten DRF's nested validation detail into one readable sentence."""
    if isinstance(detail, dict):
        parts = []
        for field, value in detail.items():
            text = _first_message(value)
            parts.append(text if field == "non_field_errors" else f"{field}: {text}")
        return "; ".join(parts)
    if isinstance(detail, list):
        return " ".join(_first_message(item) for item in detail)
    return str(detail)


def error_response(code: str, message: str, status_code: int, headers=None) -> Response:
    return Response({"error": {"code": code, "message": message}}, status=status_code, headers=headers)


def exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        return error_response(exc.code, exc.message, exc.status_code)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        code = "invalid"
    elif isinstance(exc, exceptions.Throttled):
        code = "rate_limited"  # SPEC §12; DRF's Retry-After header goes along
    elif isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        code = "not_authenticated"
        response.status_code = status.HTTP_401_UNAUTHORIZED
    else:
        code = getattr(exc, "default_code", "error")
    return error_response(code, _first_message(exc.detail), response.status_code, headers=_auth_headers(response))


def _auth_headers(response):
    return {k: v for k, v in response.items() if k in ("WWW-Authenticate", "Retry-After", "Allow")}


def page_not_found(request, exception):
    """``handler404``: the API's error shape under ``/api/``, Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"error": {"code": "not_found", "message": "Not found."}}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    """``handler500``: the API's error shape under ``/api/``, Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"error": {"code": "server_error", "message": "Internal server error."}}, status=500)
    return defaults.server_error(request)
