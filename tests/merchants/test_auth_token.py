"""POST /api/v1/auth/token."""

import pytest
from knox.models import AuthToken

from tests.conftest import PASSWORD

URL = "/api/v1/auth/token"
pytestmark = pytest.mark.django_db


def test_token_for_email_and_password(anon, merchant):
    response = anon.post(URL, {"email": merchant.user.email, "password": PASSWORD}, format="json")

    assert response.status_code == 200
    assert list(response.json()) == ["token"] and len(response.json()["token"]) == 64
    assert AuthToken.objects.get(user=merchant.user).expiry is not None
    anon.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert anon.get("/api/v1/merchant/bookings").status_code == 200


def test_one_token_per_login_and_email_case_ignored(anon, merchant):
    """Each device logs in for a token of its own; both work (SPEC §12)."""
    first = anon.post(URL, {"email": merchant.user.email, "password": PASSWORD}, format="json")
    second = anon.post(URL, {"email": f"  {merchant.user.email.upper()} ", "password": PASSWORD}, format="json")

    assert second.status_code == 200 and first.json()["token"] != second.json()["token"]
    assert AuthToken.objects.filter(user=merchant.user).count() == 2
    for answer in (first, second):
        anon.credentials(HTTP_AUTHORIZATION=f"Token {answer.json()['token']}")
        assert anon.get("/api/v1/merchant/bookings").status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"email": "nobody@example.com", "password": PASSWORD},
        {"email": "MERCHANT", "password": "wrong"},
    ],
)
def test_bad_credentials_are_400(anon, merchant, body):
    body = {**body, "email": body["email"].replace("MERCHANT", merchant.user.email)}

    response = anon.post(URL, body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_credentials"
    assert not AuthToken.objects.exists()


def test_inactive_users_get_no_token(anon, merchant):
    merchant.user.is_active = False
    merchant.user.save()

    response = anon.post(URL, {"email": merchant.user.email, "password": PASSWORD}, format="json")

    assert response.status_code == 400


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"email": "a@example.com"}, "password"),
        ({"password": "x"}, "email"),
        ({"email": "a@example.com", "password": "x", "remember": True}, "Unknown field(s): remember"),
        ({"email": ["a@example.com"], "password": "x"}, "email"),
    ],
)
def test_bad_input_is_400(anon, body, fragment):
    response = anon.post(URL, body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert fragment in response.json()["error"]["message"]


def test_malformed_json_is_400(anon):
    response = anon.generic("POST", URL, "{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_no_csrf_needed_with_a_browser_session(merchant):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(merchant.user)

    response = client.post(URL, {"email": merchant.user.email, "password": PASSWORD}, format="json")

    assert response.status_code == 200
