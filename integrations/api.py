"""Merchant-facing calendar integration endpoints, the same for every provider (SPEC §3, §8):
``/merchant/integrations`` (the providers) and ``/merchant/integrations/{provider}/calendar``
(connect, callback, status, preferences, calendars, sync, disconnect).

Thin views: they validate input, call one selector or service and render the result.
The OAuth state travels in a signed, HttpOnly, ``SameSite=Lax`` cookie scoped to the
provider's callback path and also lives server-side with the flow's secret (the PKCE
verifier never leaves the server: ``integrations.services.oauth_states``).
https://developers.google.com/identity/protocols/oauth2/web-server#creatingclient
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.http import HttpResponse, HttpResponseRedirect
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from config.api import ApplicationError
from integrations import selectors, serializers
from integrations.models import OAuthState
from integrations.providers import PROVIDERS, provider_for
from integrations.providers.base import AuthKind
from integrations.services.caldav import caldav_connection_create, caldav_password_replace
from integrations.services.connections import (
    ConnectFailed,
    ConsentRequired,
    calendars_selection_update,
    connection_disconnect,
    connection_preferences_update,
    connection_sync_request,
    oauth_connect_start,
    oauth_connection_complete,
    oauth_write_consent_complete,
)
from integrations.services.oauth_states import STATE_TTL, InvalidState, StateSecretUnreadable, oauth_state_spend
from merchants.models import Merchant

logger = logging.getLogger(__name__)

# Providers connected with a form: the service that connects, and the one that replaces the password.
CREDENTIALS_CONNECT = {"caldav": caldav_connection_create}
PASSWORD_REPLACE = {"caldav": caldav_password_replace}

_COOKIE_SALT = "integrations.oauth-state"
INTEGRATIONS_PAGE = "/app/integrations"
PROVIDER_PARAMETER = OpenApiParameter(
    "provider", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(PROVIDERS), description="Provider key."
)


def _merchant(request: Request) -> Merchant:
    merchant = getattr(request.user, "merchant", None)
    if merchant is None:
        raise ApplicationError(
            "Only merchant accounts have calendar integrations.", code="not_a_merchant", status_code=403
        )
    return merchant


def _status_response(merchant: Merchant, provider: str, *, http_status: int = status.HTTP_200_OK) -> Response:
    status_ = selectors.connection_status(merchant=merchant, provider=provider)
    data = serializers.ConnectionStatusOutput(status_, context={"zone": merchant.zone}).data
    return Response(data, status=http_status)


def state_cookie_name(provider: str) -> str:
    return f"{provider}_oauth_state"


def _salt(merchant: Merchant, provider: str) -> str:
    # Bound to the merchant and provider: a cookie lifted from another account does not verify.
    return f"{_COOKIE_SALT}:{provider}:{merchant.pk}"


def _read_state_cookie(request: Request, merchant: Merchant, provider: str) -> str | None:
    raw = request.COOKIES.get(state_cookie_name(provider))
    if not raw:
        return None
    try:
        state = signing.loads(raw, salt=_salt(merchant, provider), max_age=STATE_TTL)
    except signing.BadSignature:  # includes SignatureExpired
        return None
    return state if isinstance(state, str) else None


def with_state_cookie(response: HttpResponse, merchant: Merchant, provider: str, state: str) -> HttpResponse:
    """The signed state for the callback, in an HttpOnly cookie sent only to the callback path."""
    response.set_cookie(
        state_cookie_name(provider),
        signing.dumps(state, salt=_salt(merchant, provider)),
        max_age=int(STATE_TTL.total_seconds()),
        path=provider_for(provider).callback_path,
        secure=not settings.DEBUG,
        httponly=True,
        samesite="Lax",
    )
    return response


class IntegrationsView(APIView):
    @extend_schema(
        summary="Calendar providers: configured on this server, connected, status",
        responses=serializers.ProviderSummaryOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        summaries = selectors.provider_summaries(merchant=_merchant(request))
        return Response(serializers.ProviderSummaryOutput(summaries, many=True).data)


class CalendarConnectionView(APIView):
    """``/merchant/integrations/{provider}/calendar``: connect (POST), status (GET),
    preferences (PATCH), disconnect (DELETE)."""

    @extend_schema(
        summary="Connect a calendar provider",
        description=(
            "OAuth providers (google, microsoft): no body; answers 307 to the consent screen, or 200 "
            '`{"authorization_url"}` with `Accept: application/json`. CalDAV: `{"server", "username", '
            '"password"}` (`server` is `"icloud"` or an https URL); discovers the account, stores the password '
            "encrypted, selects the default calendar, starts the initial sync and answers 201 with the status; "
            "failures are 400 with code invalid_credentials, not_caldav, server_unreachable, invalid_url, "
            "address_not_allowed or account_in_use, and store nothing."
        ),
        parameters=[PROVIDER_PARAMETER],
        request=serializers.CredentialsConnectInput,
        responses={
            200: serializers.AuthorizationUrlOutput,
            201: serializers.ConnectionStatusOutput,
            307: OpenApiResponse(description="Redirect to the provider's consent screen (Location header)."),
            400: OpenApiResponse(description="CalDAV: the account could not be connected (see the codes)."),
            503: OpenApiResponse(description="The provider's OAuth client is not configured on this server."),
        },
    )
    def post(self, request: Request, provider: str) -> Response:
        merchant = _merchant(request)
        description = provider_for(provider)
        if description.auth == AuthKind.CREDENTIALS:
            payload = serializers.CredentialsConnectInput(data=request.data)
            payload.is_valid(raise_exception=True)
            CREDENTIALS_CONNECT[provider](merchant=merchant, **payload.validated_data)
            return _status_response(merchant, provider, http_status=status.HTTP_201_CREATED)
        state, url = oauth_connect_start(merchant=merchant, provider=provider)
        if "application/json" in request.headers.get("Accept", ""):
            response = Response(serializers.AuthorizationUrlOutput({"authorization_url": url}).data)
        else:
            response = Response(status=status.HTTP_307_TEMPORARY_REDIRECT, headers={"Location": url})
        return with_state_cookie(response, merchant, provider, state)

    @extend_schema(
        summary="Connection status", parameters=[PROVIDER_PARAMETER], responses=serializers.ConnectionStatusOutput
    )
    def get(self, request: Request, provider: str) -> Response:
        return _status_response(_merchant(request), provider)

    @extend_schema(
        summary="Change sync preferences and two-way (CalDAV: or replace the password)",
        description=(
            "`write_bookings: true` copies every booking into a calendar the product creates in this account "
            '(SPEC §10). When the grant lacks the write scope it answers 409 `{"error": {"code": '
            '"consent_required", "message"}, "authorization_url"}` and changes nothing: send the merchant '
            "there (Google asks only `calendar.app.created`, incrementally; Microsoft `Calendars.ReadWrite`); "
            "the callback turns it on. `bookings_calendar` (CalDAV, when the server cannot create calendars): "
            "the id of one of the connection's calendars to write bookings into instead. CalDAV also takes "
            '`{"password"}` alone: a new (app-specific) password after a 401.'
        ),
        parameters=[PROVIDER_PARAMETER],
        request=serializers.PreferencesPatchInput,
        responses={200: serializers.ConnectionStatusOutput, 409: serializers.ConsentRequiredOutput},
    )
    def patch(self, request: Request, provider: str) -> Response:
        merchant = _merchant(request)
        if provider in PASSWORD_REPLACE and isinstance(request.data, dict) and "password" in request.data:
            payload = serializers.PasswordReplaceInput(data=request.data)
            payload.is_valid(raise_exception=True)
            connection = selectors.connection_get(merchant=merchant, provider=provider)
            if connection is None:
                raise ApplicationError("CalDAV is not connected.", code="not_connected", status_code=409)
            PASSWORD_REPLACE[provider](connection=connection, password=payload.validated_data["password"])
            return _status_response(merchant, provider)
        payload = serializers.PreferencesPatchInput(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            connection_preferences_update(merchant=merchant, provider=provider, **payload.validated_data["preferences"])
        except ConsentRequired as exc:
            body = {
                "error": {"code": "consent_required", "message": exc.message},
                "authorization_url": exc.authorization_url,
            }
            return with_state_cookie(Response(body, status=status.HTTP_409_CONFLICT), merchant, provider, exc.state)
        return _status_response(merchant, provider)

    @extend_schema(
        summary="Disconnect",
        parameters=[
            PROVIDER_PARAMETER,
            OpenApiParameter("delete_blocked_times", bool, description="Delete synced blocked times."),
        ],
        responses={204: None},
    )
    def delete(self, request: Request, provider: str) -> Response:
        merchant = _merchant(request)
        query = serializers.DisconnectQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        connection = selectors.connection_get(merchant=merchant, provider=provider)
        if connection is not None:
            connection_disconnect(
                connection=connection, delete_blocked_times=query.validated_data["delete_blocked_times"]
            )
        return Response(status=status.HTTP_204_NO_CONTENT)


class OAuthCallbackView(APIView):
    """The provider's redirect after consent. Always answers 302 to the integrations page."""

    @extend_schema(
        summary="OAuth callback (the provider redirects here)",
        parameters=[
            PROVIDER_PARAMETER,
            OpenApiParameter("code", str),
            OpenApiParameter("state", str),
            OpenApiParameter("error", str),
            OpenApiParameter("scope", str),
        ],
        request=None,
        responses={
            302: OpenApiResponse(
                description="To /app/integrations?{provider}=connected or ?{provider}=error&reason=<code>"
            )
        },
    )
    def get(self, request: Request, provider: str):
        merchant = _merchant(request)
        params = request.query_params
        cookie_state = _read_state_cookie(request, merchant, provider)
        try:
            spent = oauth_state_spend(
                merchant=merchant, provider=provider, state=params.get("state"), cookie_state=cookie_state
            )
            if params.get("error") or not params.get("code"):
                raise ConnectFailed(
                    "access_denied", f"The provider answered {params.get('error') or 'without a code'}."
                )
            complete = (
                oauth_write_consent_complete
                if spent.purpose == OAuthState.Purpose.WRITE_BOOKINGS
                else oauth_connection_complete
            )
            complete(
                merchant=merchant,
                provider=provider,
                code=params["code"],
                secret=spent.secret,
                state=params["state"],
                callback={key: params[key] for key in params},
            )
        except InvalidState as exc:
            logger.warning("%s callback for merchant %s refused: %s", provider, merchant.pk, exc)
            # A callback whose state is not the cookie's (a forged or stray link) spent nothing:
            # keep the cookie, so the merchant's own flow in progress can still finish.
            spent_ours = bool(cookie_state) and params.get("state") == cookie_state
            return self._redirect(provider, {provider: "error", "reason": "invalid_state"}, clear_cookie=spent_ours)
        except StateSecretUnreadable:
            logger.exception("%s callback for merchant %s: the flow's secret is unreadable", provider, merchant.pk)
            return self._redirect(provider, {provider: "error", "reason": "storage_failed"})
        except ConnectFailed as exc:
            logger.warning(
                "%s callback for merchant %s failed (%s): %s", provider, merchant.pk, exc.reason, exc.message
            )
            return self._redirect(provider, {provider: "error", "reason": exc.reason})
        return self._redirect(provider, {provider: "connected"})

    put = get

    @staticmethod
    def _redirect(provider: str, query: dict[str, str], *, clear_cookie: bool = True) -> HttpResponseRedirect:
        response = HttpResponseRedirect(f"{INTEGRATIONS_PAGE}?{urlencode(query)}")
        if clear_cookie:
            # The state is spent either way; the cookie has nothing more to say.
            response.delete_cookie(
                state_cookie_name(provider), path=provider_for(provider).callback_path, samesite="Lax"
            )
        return response


class CalendarsView(APIView):
    @extend_schema(
        summary="Choose which calendars block time",
        parameters=[PROVIDER_PARAMETER],
        request=serializers.CalendarSelectionItem(many=True),
        responses=serializers.ConnectionStatusOutput,
    )
    def patch(self, request: Request, provider: str) -> Response:
        merchant = _merchant(request)
        payload = serializers.CalendarSelectionInput(data=request.data)
        payload.is_valid(raise_exception=True)
        selection = {item["id"]: item["selected"] for item in payload.validated_data["calendars"]}
        calendars_selection_update(
            connection=selectors.connection_get(merchant=merchant, provider=provider),
            provider=provider,
            selection=selection,
        )
        return _status_response(merchant, provider)


class ManualSyncThrottle(UserRateThrottle):
    """SPEC §12: ``SYNC_MANUAL_PER_HOUR`` manual syncs per merchant (all providers together)."""

    scope = "manual_sync"

    def get_rate(self) -> str:
        return f"{settings.SYNC_MANUAL_PER_HOUR}/hour"


class SyncView(APIView):
    throttle_classes = [ManualSyncThrottle]

    @extend_schema(
        summary="Sync all selected calendars now",
        parameters=[PROVIDER_PARAMETER],
        request=None,
        responses={
            202: serializers.SyncQueuedOutput,
            429: OpenApiResponse(description="More than SYNC_MANUAL_PER_HOUR manual syncs this hour (rate_limited)."),
        },
    )
    def post(self, request: Request, provider: str) -> Response:
        merchant = _merchant(request)
        queued = connection_sync_request(
            connection=selectors.connection_get(merchant=merchant, provider=provider), provider=provider
        )
        return Response(
            serializers.SyncQueuedOutput({"queued_calendars": queued}).data, status=status.HTTP_202_ACCEPTED
        )
