"""``POST /api/v1/auth/token``: exchange email and password for an API token (SPEC §3).

Tokens are DRF's authtoken tokens, sent as ``Authorization: Token <key>``.
https://www.django-rest-framework.org/api-guide/authentication/#tokenauthentication
"""

from django.contrib.auth import authenticate
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import ApplicationError
from config.serializers import ErrorSerializer, StrictSerializer
from merchants.services import email_normalize


class AuthTokenView(APIView):
    # No session authentication here: a browser's session cookie must not make this
    # endpoint demand a CSRF token from API clients.
    authentication_classes = []
    permission_classes = [AllowAny]

    class AuthTokenInputSerializer(StrictSerializer):
        email = serializers.CharField(max_length=254)
        password = serializers.CharField(max_length=4096, trim_whitespace=False)

    class AuthTokenOutputSerializer(serializers.Serializer):
        token = serializers.CharField()

    @extend_schema(
        operation_id="auth_token_create",
        tags=["auth"],
        auth=[],
        request=AuthTokenInputSerializer,
        responses={
            200: AuthTokenOutputSerializer,
            400: OpenApiResponse(ErrorSerializer, description="Bad input or wrong email/password."),
        },
    )
    def post(self, request):
        serializer = self.AuthTokenInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(
            request,
            username=email_normalize(serializer.validated_data["email"]),
            password=serializer.validated_data["password"],
        )
        if user is None:
            raise ApplicationError("Unable to log in with the provided email and password.", code="invalid_credentials")
        token, _ = Token.objects.get_or_create(user=user)
        return Response(self.AuthTokenOutputSerializer({"token": token.key}).data)
