"""Shared fixtures: merchants and authenticated API clients."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import MerchantFactory

pytest_plugins = ["integrations.google_emulator.pytest_plugin"]

PASSWORD = "correct horse battery staple"


@pytest.fixture
def merchant(db):
    return MerchantFactory()


@pytest.fixture
def other_merchant(db):
    return MerchantFactory()


def api_client_for(merchant) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=merchant.user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def api(merchant) -> APIClient:
    """An API client authenticated as ``merchant`` with a token."""
    return api_client_for(merchant)


@pytest.fixture
def anon() -> APIClient:
    return APIClient()
