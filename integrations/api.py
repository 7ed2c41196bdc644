"""Merchant-facing Google Calendar endpoints (SPEC §3): connect, callback, status,
preferences, calendar selection, manual sync, disconnect.

Thin views: they validate input, call one selector or service and render the result.
The OAuth state travels in a signed, HttpOnly, ``SameSite=Lax`` cookie scoped to the
callback path and also lives server-side (``integrations.services.oauth_states``).
https://developers.google.com/identity/protocols/oauth2/web-server#creatingclient
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.http import HttpResponseRedirect
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import ApplicationError
from integrations import selectors, serializers
from integrations.providers.google.oauth import authorization_request_build
from integrations.providers.google.provider import GoogleProvider
from integrations.services.connections import (
    ConnectFailed,
    calendars_selection_update,
    connection_disconnect,
    connection_preferences_update,
    connection_sync_request,
    google_connection_complete,
)
from integrations.services.oauth_states import STATE_TTL, InvalidState, oauth_state_issue, oauth_state_spend
from merchants.models import Merchant

logger = logging.getLogger(__name__)

STATE_COOKIE = "google_oauth_state"
_COOKIE_SALT = "integrations.google.oauth-state"
INTEGRATIONS_PAGE = "/app/integrations"


def _merchant(request: Request) -> Merchant:
    merchant = getattr(request.user, "merchant", None)
    if merchant is None:
        raise ApplicationError(
            "Only merchant accounts have calendar integrations.", code="not_a_merchant", status_code=403
        )
    return merchant


def _status_response(merchant: Merchant, *, http_status: int = status.HTTP_200_OK) -> Response:
    data = serializers.ConnectionStatusOutput(selectors.connection_status(merchant=merchant)).data
    return Response(data, status=http_status)


def _salt(merchant: Merchant) -> str:
    # Bound to the merchant: a cookie lifted from another account does not verify.
    return f"{_COOKIE_SALT}:{merchant.pk}"


def _read_state_cookie(request: Request, merchant: Merchant) -> dict | None:
    raw = request.COOKIES.get(STATE_COOKIE)
    if not raw:
        return None
    try:
        payload = signing.loads(raw, salt=_salt(merchant), max_age=STATE_TTL)
    except signing.BadSignature:  # includes SignatureExpired
        return None
    return payload if isinstance(payload, dict) else None


class GoogleCalendarView(APIView):
    """``/merchant/integrations/google/calendar``: connect (POST), status (GET),
    preferences (PATCH), disconnect (DELETE)."""

    @extend_schema(
        summary="Start connecting Google Calendar",
        request=None,
        responses={
            200: serializers.AuthorizationUrlOutput,
            307: OpenApiResponse(description="Redirect to Google's consent screen (Location header)."),
            503: OpenApiResponse(description="The Google OAuth client is not configured."),
        },
    )
    def post(self, request: Request) -> Response:
        merchant = _merchant(request)
        missing = GoogleProvider.missing_configuration()
        if missing:
            raise ApplicationError(
                f"Google Calendar is not configured on this server: set {' and '.join(missing)}.",
                code="google_not_configured",
                status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            )
        state = oauth_state_issue(merchant=merchant, provider=GoogleProvider.key)
        authorization = authorization_request_build(state=state)
        if "application/json" in request.headers.get("Accept", ""):
            response = Response(serializers.AuthorizationUrlOutput({"authorization_url": authorization.url}).data)
        else:
            response = Response(status=status.HTTP_307_TEMPORARY_REDIRECT, headers={"Location": authorization.url})
        response.set_cookie(
            STATE_COOKIE,
            signing.dumps({"state": state, "verifier": authorization.code_verifier}, salt=_salt(merchant)),
            max_age=int(STATE_TTL.total_seconds()),
            path=GoogleProvider.callback_path,
            secure=not settings.DEBUG,
            httponly=True,
            samesite="Lax",
        )
        return response

    @extend_schema(summary="Google Calendar connection status", responses=serializers.ConnectionStatusOutput)
    def get(self, request: Request) -> Response:
        return _status_response(_merchant(request))

    @extend_schema(
        summary="Change sync preferences",
        request=serializers.PreferencesPatchInput,
        responses=serializers.ConnectionStatusOutput,
    )
    def patch(self, request: Request) -> Response:
        merchant = _merchant(request)
        payload = serializers.PreferencesPatchInput(data=request.data)
        payload.is_valid(raise_exception=True)
        connection_preferences_update(merchant=merchant, **payload.validated_data["preferences"])
        return _status_response(merchant)

    @extend_schema(
        summary="Disconnect Google Calendar",
        parameters=[OpenApiParameter("delete_blocked_times", bool, description="Delete synced blocked times.")],
        responses={204: None},
    )
    def delete(self, request: Request) -> Response:
        merchant = _merchant(request)
        query = serializers.DisconnectQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        connection = selectors.connection_get(merchant=merchant)
        if connection is not None:
            connection_disconnect(
                connection=connection, delete_blocked_times=query.validated_data["delete_blocked_times"]
            )
        return Response(status=status.HTTP_204_NO_CONTENT)


class GoogleCalendarCallbackView(APIView):
    """Google's redirect after consent. Always answers 302 to the integrations page."""

    @extend_schema(
        summary="OAuth callback (Google redirects here)",
        parameters=[
            OpenApiParameter("code", str),
            OpenApiParameter("state", str),
            OpenApiParameter("error", str),
            OpenApiParameter("scope", str),
        ],
        request=None,
        responses={302: OpenApiResponse(description="To /app/integrations?google=connected or ?google=error&reason=")},
    )
    def get(self, request: Request):
        merchant = _merchant(request)
        params = request.query_params
        cookie = _read_state_cookie(request, merchant)
        try:
            oauth_state_spend(
                merchant=merchant,
                provider=GoogleProvider.key,
                state=params.get("state"),
                cookie_state=cookie.get("state") if cookie else None,
            )
            if params.get("error") or not params.get("code"):
                raise ConnectFailed("access_denied", f"Google answered {params.get('error') or 'without a code'}.")
            google_connection_complete(
                merchant=merchant,
                code=params["code"],
                code_verifier=cookie.get("verifier", ""),
                state=params["state"],
                callback_scopes=params.get("scope", "").split(),
            )
        except InvalidState as exc:
            logger.warning("Google callback for merchant %s refused: %s", merchant.pk, exc)
            # A callback whose state is not the cookie's (a forged or stray link) spent nothing:
            # keep the cookie, so the merchant's own flow in progress can still finish.
            spent_ours = bool(cookie) and params.get("state") == cookie.get("state")
            return self._redirect({"google": "error", "reason": "invalid_state"}, clear_cookie=spent_ours)
        except ConnectFailed as exc:
            logger.warning("Google callback for merchant %s failed (%s): %s", merchant.pk, exc.reason, exc.message)
            return self._redirect({"google": "error", "reason": exc.reason})
        return self._redirect({"google": "connected"})

    put = get

    @staticmethod
    def _redirect(query: dict[str, str], *, clear_cookie: bool = True) -> HttpResponseRedirect:
        response = HttpResponseRedirect(f"{INTEGRATIONS_PAGE}?{urlencode(query)}")
        if clear_cookie:
            # The state is spent either way; the cookie has nothing more to say.
            response.delete_cookie(STATE_COOKIE, path=GoogleProvider.callback_path, samesite="Lax")
        return response


class GoogleCalendarCalendarsView(APIView):
    @extend_schema(
        summary="Choose which calendars block time",
        request=serializers.CalendarSelectionItem(many=True),
        responses=serializers.ConnectionStatusOutput,
    )
    def patch(self, request: Request) -> Response:
        merchant = _merchant(request)
        payload = serializers.CalendarSelectionInput(data=request.data)
        payload.is_valid(raise_exception=True)
        selection = {item["id"]: item["selected"] for item in payload.validated_data["calendars"]}
        calendars_selection_update(connection=selectors.connection_get(merchant=merchant), selection=selection)
        return _status_response(merchant)


class GoogleCalendarSyncView(APIView):
    @extend_schema(
        summary="Sync all selected calendars now", request=None, responses={202: serializers.SyncQueuedOutput}
    )
    def post(self, request: Request) -> Response:
        merchant = _merchant(request)
        queued = connection_sync_request(connection=selectors.connection_get(merchant=merchant))
        return Response(
            serializers.SyncQueuedOutput({"queued_calendars": queued}).data, status=status.HTTP_202_ACCEPTED
        )
