"""API tokens (SPEC §12): stored hashed, expiring after ``API_TOKEN_TTL_DAYS``, revocable with
``DELETE /api/v1/auth/token``, one per device, never shown in the admin. Everything over the
real endpoints with ``Authorization: Token <key>``; storage read back with raw SQL.
"""

from __future__ import annotations

import datetime as dt
import importlib
import secrets

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.conftest import PASSWORD
from tests.factories import MerchantFactory, UserFactory
from tests.reliability import figures

pytestmark = pytest.mark.django_db
TOKEN_URL = "/api/v1/auth/token"
PROTECTED = "/api/v1/merchant/bookings"


def log_in(merchant) -> str:
    response = APIClient().post(TOKEN_URL, {"email": merchant.user.email, "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["token"]


def status_with(token: str, method: str = "get", url: str = PROTECTED) -> int:
    figures.count("api_tokens.requests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return getattr(client, method)(url).status_code


def every_stored_text() -> str:
    table = AuthToken._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")
        return "\n".join(str(value) for row in cursor.fetchall() for value in row)


def test_tokens_are_stored_as_digests_only(merchant):
    token = log_in(merchant)

    stored = every_stored_text()
    assert token not in stored and token[15:] not in stored
    assert status_with(token) == 200


def test_each_login_is_a_device_with_its_own_token_and_revoking_one_leaves_the_others(merchant):
    phone, laptop = log_in(merchant), log_in(merchant)
    assert phone != laptop and AuthToken.objects.filter(user=merchant.user).count() == 2

    assert status_with(phone, "delete", TOKEN_URL) == 204
    figures.count("api_tokens.revoked")

    assert status_with(phone) == 401
    assert status_with(phone, "delete", TOKEN_URL) == 401  # revoked once, gone
    assert status_with(laptop) == 200
    assert AuthToken.objects.filter(user=merchant.user).count() == 1


def test_revoking_needs_a_token_and_a_session_is_not_enough(merchant):
    client = APIClient()
    client.force_login(merchant.user)

    assert client.delete(TOKEN_URL).status_code == 401
    assert APIClient().delete(TOKEN_URL).json()["error"]["code"] == "not_authenticated"


def test_tokens_expire_after_the_ttl(merchant):
    token = log_in(merchant)
    row = AuthToken.objects.get(user=merchant.user)
    ttl = dt.timedelta(days=settings.API_TOKEN_TTL_DAYS)
    assert timezone.now() + ttl - dt.timedelta(minutes=1) < row.expiry <= timezone.now() + ttl

    AuthToken.objects.filter(pk=row.pk).update(expiry=timezone.now() + dt.timedelta(seconds=30))
    assert status_with(token) == 200
    AuthToken.objects.filter(pk=row.pk).update(expiry=timezone.now() - dt.timedelta(seconds=1))
    assert status_with(token) == 401
    figures.count("api_tokens.expired_refused")
    assert not AuthToken.objects.filter(pk=row.pk).exists()  # and it is deleted


@pytest.mark.parametrize(
    "header",
    [
        "Token " + "0" * 64,
        "Token " + secrets.token_hex(20),
        "Token abc\x00def",
        "Token " + "é" * 64,
        "Token " + "A" * 64,
        "Token",
        "Token a b",
    ],
)
def test_malformed_or_unknown_tokens_are_a_plain_401(merchant, header):
    log_in(merchant)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get(PROTECTED)

    assert response.status_code == 401 and response.json()["error"]["code"] == "not_authenticated"


def test_the_admin_never_shows_a_token(merchant):
    """Only its first 6 characters, to tell tokens apart. (The SHA-512 digest is the row's
    primary key, so it is in the admin's URLs: it cannot be turned back into the token.)"""
    token = log_in(merchant)
    row = AuthToken.objects.get(user=merchant.user)
    staff = UserFactory(email="staff@example.com", username="staff@example.com", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)

    pages = [
        client.get("/admin/knox/authtoken/"),
        client.get(f"/admin/knox/authtoken/{row.pk}/change/"),
        client.get("/admin/knox/authtoken/add/"),
    ]

    assert [p.status_code for p in pages] == [200, 200, 403]
    for page in pages[:2]:
        text = page.content.decode()
        assert token[:6] in text
        assert token[:7] not in text and token[6:] not in text
        assert merchant.user.email in text
    # Staff revoke a token by deleting it.
    answer = client.post(f"/admin/knox/authtoken/{row.pk}/delete/", {"post": "yes"})
    assert answer.status_code == 302 and status_with(token) == 401


@pytest.mark.django_db(transaction=True)  # the schema editor needs its own transactions (SQLite)
def test_drf_authtoken_keys_are_migrated_to_digests_and_keep_working_until_the_ttl():
    """merchants/migrations/0002 on a database that still has DRF's plain-text token table."""
    migration = importlib.import_module("merchants.migrations.0002_api_tokens_from_drf_authtoken")
    merchant = MerchantFactory()
    old_key = secrets.token_hex(20)  # DRF's keys: 40 hex characters
    with connection.schema_editor() as editor:
        editor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamp NULL, user_id integer)"
        )
        editor.execute("INSERT INTO authtoken_token (key, user_id) VALUES (%s, %s)", [old_key, merchant.user.pk])
        editor.execute(
            "INSERT INTO django_migrations (app, name, applied) VALUES ('authtoken', '0001_initial', %s)",
            [timezone.now()],
        )

    with connection.schema_editor() as editor:
        migration.move_tokens(django_apps, editor)

    assert "authtoken_token" not in connection.introspection.table_names()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM django_migrations WHERE app = 'authtoken'")
        assert cursor.fetchone()[0] == 0
    assert old_key not in every_stored_text()
    assert status_with(old_key) == 200
    row = AuthToken.objects.get(user=merchant.user)
    assert row.expiry > timezone.now() + dt.timedelta(days=settings.API_TOKEN_TTL_DAYS - 1)
