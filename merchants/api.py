"""``/api/v1/auth/token``: exchange email and password for an API token, revoke it (SPEC §3, §12).

Tokens are django-rest-knox tokens: only a digest is stored, each login (device) gets a token
of its own, each expires ``API_TOKEN_TTL_DAYS`` after it was issued, ``DELETE`` revokes the
one in use. Sent as ``Authorization: Token <key>`` (``config/auth.py``).
Failed logins count towards the lockout (django-axes, ``config/lockout.py``).
https://jazzband.github.io/django-rest-knox/
"""

from django.contrib.auth import authenticate
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import ApplicationError
from config.auth import TokenAuthentication
from config.lockout import TOO_MANY_ATTEMPTS, lockout_message, retry_after_seconds
from config.serializers import ErrorSerializer, StrictSerializer
from merchants.services import api_token_create, api_token_revoke, email_normalize


class TooManyAttempts(ApplicationError):
    def __init__(self):
        super().__init__(
            lockout_message(),
            code=TOO_MANY_ATTEMPTS,
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
            headers={"Retry-After": str(retry_after_seconds())},
        )


class AuthTokenView(APIView):
    class AuthTokenInputSerializer(StrictSerializer):
        email = serializers.CharField(max_length=254)
        password = serializers.CharField(max_length=4096, trim_whitespace=False)

    class AuthTokenOutputSerializer(serializers.Serializer):
        token = serializers.CharField()

    def _method(self) -> str | None:
        # Schema generation asks before any request is attached.
        return getattr(getattr(self, "request", None), "method", None)

    def get_authenticators(self):
        # POST takes no credentials but the body: a browser's session cookie must not make it
        # demand a CSRF token, nor a stale token header make it fail. DELETE needs the token.
        if self._method() == "POST":
            return []
        return [TokenAuthentication()]

    def get_permissions(self):
        return [AllowAny()] if self._method() == "POST" else [IsAuthenticated()]

    @extend_schema(
        operation_id="auth_token_create",
        tags=["auth"],
        auth=[],
        request=AuthTokenInputSerializer,
        responses={
            200: AuthTokenOutputSerializer,
            400: OpenApiResponse(ErrorSerializer, description="Bad input or wrong email/password."),
            429: OpenApiResponse(
                ErrorSerializer,
                description="`too_many_attempts`: after LOGIN_FAILURE_LIMIT failures for this account or from this "
                "address, every attempt (the right password too) is refused for LOGIN_LOCKOUT_MINUTES.",
            ),
        },
    )
    def post(self, request):
        serializer = self.AuthTokenInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # The HttpRequest, not DRF's wrapper: django-axes marks a locked-out attempt on it.
        http_request = request._request
        user = authenticate(
            http_request,
            username=email_normalize(serializer.validated_data["email"]),
            password=serializer.validated_data["password"],
        )
        if getattr(http_request, "axes_locked_out", False):
            raise TooManyAttempts()
        if user is None:
            raise ApplicationError("Unable to log in with the provided email and password.", code="invalid_credentials")
        _, token = api_token_create(user=user)
        return Response(self.AuthTokenOutputSerializer({"token": token}).data)

    @extend_schema(
        operation_id="auth_token_revoke",
        tags=["auth"],
        request=None,
        responses={
            204: OpenApiResponse(description="The token of this request is revoked."),
            401: OpenApiResponse(ErrorSerializer, description="No valid token."),
        },
    )
    def delete(self, request):
        api_token_revoke(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)
