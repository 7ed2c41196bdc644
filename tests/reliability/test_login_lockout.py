"""Password guessing on the three logins (SPEC §12): ``/accounts/login/``, ``/admin/login/`` and
``POST /api/v1/auth/token``.

After ``LOGIN_FAILURE_LIMIT`` failures for one account, or from one address, every further
attempt, the right password included, is refused for ``LOGIN_LOCKOUT_MINUTES``: the API with
429 ``too_many_attempts`` in the error shape, the pages with a 429 page saying so in plain
words. An account that does not exist is answered exactly like one that does. Addresses are
the test client's ``REMOTE_ADDR``; the lockout lives in the database (django-axes).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.utils import timezone

from tests.conftest import PASSWORD
from tests.factories import MerchantFactory, UserFactory
from tests.reliability import figures

pytestmark = pytest.mark.django_db

ATTACKER, OTHER, THIRD = "203.0.113.7", "198.51.100.20", "192.0.2.55"
WRONG = "Tr0ub4dor&3-wrong"


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class Login:
    name: str
    url: str

    def attempt(self, email: str, password: str, address: str):
        figures.count("login_lockout.attempts")
        client = Client(REMOTE_ADDR=address)
        if self.name == "api":
            response = client.post(self.url, {"email": email, "password": password}, content_type="application/json")
        else:
            response = client.post(self.url, {"username": email, "password": password})
        outcome = "locked" if self.locked(response) else "accepted" if self.succeeded(response) else "refused"
        figures.count(f"login_lockout.{outcome}")
        return response

    def succeeded(self, response) -> bool:
        if self.name == "api":
            return response.status_code == 200 and "token" in response.json()
        return response.status_code == 302

    def locked(self, response) -> bool:
        if response.status_code != 429:
            return False
        if self.name == "api":
            body = response.json()
            return (
                body["error"]["code"] == "too_many_attempts"
                and "Too many failed login attempts" in (body["error"]["message"])
            )
        text = response.content.decode()
        return "Too many failed login attempts" in text and f"{settings.LOGIN_LOCKOUT_MINUTES} minutes" in text

    def refused(self, response) -> bool:
        """A plain wrong-password answer (not a lockout)."""
        if self.name == "api":
            return response.status_code == 400 and response.json()["error"]["code"] == "invalid_credentials"
        return response.status_code == 200 and "correct" in response.content.decode()


LOGINS = [
    Login("accounts", "/accounts/login/"),
    Login("admin", "/admin/login/"),
    Login("api", "/api/v1/auth/token"),
]


def account(email: str):
    """A merchant whose user is staff too, so the admin login accepts the right password."""
    user = UserFactory(email=email, username=email, is_staff=True, is_superuser=True)
    return MerchantFactory(user=user)


def guess(login: Login, email: str, address: str, times: int) -> list:
    return [login.attempt(email, f"{WRONG}{i}", address) for i in range(times)]


def comparable(response) -> tuple:
    """Status and body without what differs per request (CSRF tokens, the email typed)."""
    text = re.sub(r'(name="csrfmiddlewaretoken" value=")[^"]+', r"\1", response.content.decode())
    text = re.sub(r"[\w.+-]+@example\.com", "EMAIL", text)
    return response.status_code, text


@pytest.mark.parametrize("login", LOGINS, ids=lambda login: login.name)
def test_guessing_one_accounts_password_locks_it_from_every_address(login):
    account("owner@example.com")
    limit = settings.LOGIN_FAILURE_LIMIT
    assert login.succeeded(login.attempt("owner@example.com", PASSWORD, THIRD))  # the right password works

    answers = guess(login, "owner@example.com", ATTACKER, limit + 3)

    assert all(login.refused(a) for a in answers[: limit - 1]), [a.status_code for a in answers]
    assert all(login.locked(a) for a in answers[limit - 1 :]), [a.status_code for a in answers]
    # The right password, from another address and with another spelling of the email: refused.
    for address in (OTHER, ATTACKER):
        answer = login.attempt("Owner@Example.com", PASSWORD, address)
        assert login.locked(answer), answer.status_code
        figures.count("login_lockout.right_password_refused")
    assert answer["Retry-After"] == str(settings.LOGIN_LOCKOUT_MINUTES * 60)


@pytest.mark.parametrize("login", LOGINS, ids=lambda login: login.name)
def test_guessing_from_one_address_locks_that_address_for_every_account(login):
    account("victim@example.com")
    limit = settings.LOGIN_FAILURE_LIMIT

    # One wrong password each for many accounts (password spraying), all from one address.
    answers = [login.attempt(f"user{i}@example.com", WRONG, ATTACKER) for i in range(limit)]

    assert login.locked(answers[-1]) and not any(login.locked(a) for a in answers[:-1])
    refused = login.attempt("victim@example.com", PASSWORD, ATTACKER)
    assert login.locked(refused), refused.status_code
    figures.count("login_lockout.right_password_refused")
    # Only that address: the victim logs in from elsewhere.
    assert login.succeeded(login.attempt("victim@example.com", PASSWORD, OTHER))


@pytest.mark.parametrize("login", LOGINS, ids=lambda login: login.name)
def test_an_unknown_account_is_answered_exactly_like_a_real_one(login):
    account("real@example.com")
    limit = settings.LOGIN_FAILURE_LIMIT

    real = guess(login, "real@example.com", ATTACKER, limit + 1)
    unknown = guess(login, "ghost@example.com", OTHER, limit + 1)

    assert [comparable(a) for a in real] == [comparable(a) for a in unknown]
    assert login.locked(real[-1]) and login.locked(unknown[-1])


@pytest.mark.parametrize("login", LOGINS, ids=lambda login: login.name)
def test_the_lockout_ends_after_login_lockout_minutes(login):
    account("owner@example.com")
    guess(login, "owner@example.com", ATTACKER, settings.LOGIN_FAILURE_LIMIT + 2)
    assert login.locked(login.attempt("owner@example.com", PASSWORD, ATTACKER))

    # Just inside the lockout: still refused. (The attempts move back in time; nobody waits.)
    minutes = settings.LOGIN_LOCKOUT_MINUTES
    AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=minutes - 1))
    assert login.locked(login.attempt("owner@example.com", PASSWORD, ATTACKER))

    AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=minutes, seconds=1))
    assert login.succeeded(login.attempt("owner@example.com", PASSWORD, ATTACKER))
