"""Sign-up does not tell whether an email has an account (SPEC §12), and refuses passwords that
are, contain or resemble the email.

The sign-up form answers the same redirect and the same page for a known and an unknown
address; what differs is only what arrives in that address's inbox (a link to choose a
password, or a note that an account exists), which only its owner reads. Emails go over
SMTP to a real server (aiosmtpd) started by the test.
"""

from __future__ import annotations

import email
import re
import socket
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller
from django.contrib.auth import get_user_model
from django.test import Client

from merchants.models import Merchant
from tests.factories import MerchantFactory
from tests.reliability import figures

pytestmark = pytest.mark.django_db
SIGNUP = "/accounts/signup/"


class Inbox:
    def __init__(self):
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def to(self, address: str) -> list[str]:
        return [m.get_payload(decode=True).decode() for m in self.messages if m["To"] == address]


@pytest.fixture
def inbox(settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    yield handler
    controller.stop()


def comparable(response) -> tuple:
    text = re.sub(r'(name="csrfmiddlewaretoken" value=")[^"]+', r"\1", response.content.decode())
    return response.status_code, response.get("Location"), text


def sign_up(address: str) -> list:
    """Step 1 as a visitor does it: the form, then the page it redirects to."""
    client = Client()
    figures.count("signup.requests")
    answer = client.post(SIGNUP, {"email": address, "name": "Probe", "time_zone": "UTC"})
    return [answer, client.get(answer["Location"])]


def link_in(body: str) -> str:
    url = re.search(r"https?://\S+/accounts/signup/confirm/\?token=\S+", body).group(0)
    return parse_qs(urlsplit(url).query)["token"][0]


def test_a_known_and_an_unknown_email_get_the_same_answer(inbox):
    MerchantFactory(user__email="owner@example.com", user__username="owner@example.com")

    known = sign_up("owner@example.com")
    unknown = sign_up("newcomer@example.com")

    assert [comparable(r) for r in known] == [comparable(r) for r in unknown]
    assert known[0]["Location"] == "/accounts/signup/sent/" and "Check your inbox" in known[1].content.decode()
    assert Merchant.objects.count() == 1 and get_user_model().objects.count() == 1
    # The owner learns that someone tried; nothing about the account changes.
    (note,) = inbox.to("owner@example.com")
    assert "You already have one" in note and "/accounts/login/" in note and "token=" not in note
    (invitation,) = inbox.to("newcomer@example.com")
    assert link_in(invitation)


def test_the_account_is_created_from_the_link_once_by_whoever_reads_the_inbox(inbox):
    sign_up("newcomer@example.com")
    token = link_in(inbox.to("newcomer@example.com")[0])
    client = Client()

    assert (
        client.post("/accounts/signup/confirm/", {"token": token + "x", "password": "a fine long secret"}).status_code
        == 400
    )
    created = client.post("/accounts/signup/confirm/", {"token": token, "password": "a fine long secret"})
    assert created["Location"] == "/app/"
    assert Merchant.objects.get().user.email == "newcomer@example.com"

    again = Client().post("/accounts/signup/confirm/", {"token": token, "password": "another long secret"})
    assert again.status_code == 400 and "has been used" in again.content.decode()
    assert Merchant.objects.get().user.check_password("a fine long secret")


def test_the_form_cannot_flood_an_inbox(inbox):
    MerchantFactory(user__email="owner@example.com", user__username="owner@example.com")
    answers = [sign_up(address)[0] for address in ["owner@example.com"] * 20 + ["victim@example.com"] * 20]

    assert {a["Location"] for a in answers} == {"/accounts/signup/sent/"}
    assert len(inbox.to("owner@example.com")) == 1 and len(inbox.to("victim@example.com")) == 1
    figures.count("signup.emails_sent", len(inbox.messages))


@pytest.mark.parametrize(
    "password",
    [
        "newcomer@example.com",
        "NEWCOMER@EXAMPLE.COM",
        "newcomer@example.com1",
        "my address newcomer@example.com is my long password",
        "newcomer.example.com",
    ],
)
def test_a_password_that_is_or_contains_the_email_is_refused(inbox, password):
    sign_up("newcomer@example.com")
    token = link_in(inbox.to("newcomer@example.com")[0])

    answer = Client().post("/accounts/signup/confirm/", {"token": token, "password": password})

    assert answer.status_code == 200 and not get_user_model().objects.exists()
    assert re.search(r"email|too similar", answer.content.decode())
    figures.count("signup.passwords_refused")
