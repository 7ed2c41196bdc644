"""Sign-up, login, logout and the /app/ page, through Django's test client."""

import datetime as dt
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from merchants.models import BusinessHours, Merchant
from tests.conftest import PASSWORD
from tests.factories import MerchantFactory, UserFactory
from tests.scheduling.helpers import at, booking, manual_block, next_weekday, synced_block

pytestmark = pytest.mark.django_db

SIGNUP = "/accounts/signup/"
LOGIN = "/accounts/login/"


def signup_data(**overrides):
    return {"email": "Anna@Example.com", "name": "Anna's Hair & Nails", "time_zone": "Europe/Berlin", **overrides}


def emailed_link(to: str) -> str:
    """The path + query of the sign-up link in the last email to ``to``."""
    message = [m for m in mail.outbox if m.to == [to]][-1]
    url = re.search(r"https?://\S+/accounts/signup/confirm/\?token=\S+", message.body).group(0)
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def signup(client, password="a-long-unusual-passphrase", **overrides):
    """Both steps: the form, then the emailed link with the password; returns the last response."""
    data = signup_data(**overrides)
    response = client.post(SIGNUP, data)
    assert response["Location"] == "/accounts/signup/sent/", response.content
    link = emailed_link(data["email"].lower())
    assert client.get(link).status_code == 200
    token = parse_qs(urlsplit(link).query)["token"][0]
    return client.post("/accounts/signup/confirm/", {"token": token, "password": password})


def test_signup_page_shows_the_form(client):
    response = client.get(SIGNUP)

    assert response.status_code == 200
    html = response.content.decode()
    for name in ("email", "name", "time_zone"):
        assert f'name="{name}"' in html
    assert 'name="password"' not in html  # chosen from the emailed link
    assert '<option value="America/New_York">' in html


def test_signup_creates_user_and_merchant_and_logs_in(client):
    response = signup(client)

    assert response.status_code == 302
    assert response["Location"] == "/app/"
    merchant = Merchant.objects.get()
    assert merchant.user.username == merchant.user.email == "anna@example.com"
    assert merchant.name == "Anna's Hair & Nails"
    assert merchant.slug == "annas-hair-nails"
    assert merchant.time_zone == "Europe/Berlin"
    assert list(BusinessHours.objects.filter(merchant=merchant).values_list("weekday", "start", "end")) == [
        (day, dt.time(9), dt.time(17)) for day in range(5)
    ]
    assert merchant.user.check_password("a-long-unusual-passphrase")
    assert client.get("/app/").status_code == 200


def test_same_business_name_gets_a_fresh_slug(client):
    signup(client)
    client.logout()
    signup(client, email="other@example.com")

    assert sorted(Merchant.objects.values_list("slug", flat=True)) == ["annas-hair-nails", "annas-hair-nails-2"]


def test_name_without_letters_still_gets_a_slug(client):
    signup(client, name="!!!")

    assert Merchant.objects.get().slug == "merchant"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"email": "not-an-email"}, "valid email"),
        ({"name": ""}, "required"),
        ({"time_zone": "Mars/Olympus_Mons"}, "valid choice"),
    ],
)
def test_signup_errors_are_shown_and_nothing_is_sent(client, overrides, message):
    response = client.post(SIGNUP, signup_data(**overrides))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not get_user_model().objects.exists() and not mail.outbox


@pytest.mark.parametrize(
    ("password", "message"),
    [("short", "too short"), ("password123", "too common"), ("anna@example.com", "email")],
)
def test_password_errors_are_shown_on_the_link_page_and_nothing_is_created(client, password, message):
    response = signup(client, password=password)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not get_user_model().objects.exists()


def test_signup_with_a_taken_email_creates_nothing_and_tells_the_owner(client, merchant):
    response = client.post(SIGNUP, signup_data(email=merchant.user.email.upper()))

    assert response["Location"] == "/accounts/signup/sent/"
    assert Merchant.objects.count() == 1
    (message,) = mail.outbox
    assert message.to == [merchant.user.email] and "You already have one" in message.body
    assert "/accounts/signup/confirm/" not in message.body


def test_login_with_email_and_password(client, merchant):
    assert client.get(LOGIN).status_code == 200

    response = client.post(LOGIN, {"username": merchant.user.email.upper(), "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/app/"
    assert client.get("/app/").status_code == 200


def test_login_with_a_wrong_password_shows_an_error(client, merchant):
    response = client.post(LOGIN, {"username": merchant.user.email, "password": "wrong"})

    assert response.status_code == 200
    assert "Please enter a correct" in response.content.decode()
    assert client.get("/app/").status_code == 302


def test_login_follows_next(client, merchant):
    response = client.post(
        f"{LOGIN}?next=/app/%3Fweek%3D2030-01-07", {"username": merchant.user.email, "password": PASSWORD}
    )

    assert response["Location"] == "/app/?week=2030-01-07"


def test_logout(client, merchant):
    client.force_login(merchant.user)

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert client.get("/app/").status_code == 302


def test_app_requires_login(client):
    response = client.get("/app/")

    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next=/app/"


def test_root_leads_to_the_app(client):
    assert client.get("/")["Location"] == "/app/"


def test_week_shows_bookings_and_blocks_of_this_merchant_only(client, merchant, other_merchant):
    monday = next_weekday(0)
    booking(merchant, at(monday, "10:00"), at(monday, "11:00"), name="Ada Lovelace")
    manual_block(merchant, at(monday, "12:00"), at(monday, "13:00"), note="Lunch")
    synced_block(merchant, at(monday, "14:00"), at(monday, "15:00"), summary="Family calendar")
    booking(other_merchant, at(monday, "10:00"), at(monday, "11:00"), name="Somebody Else")
    client.force_login(merchant.user)

    response = client.get("/app/", {"week": (monday + dt.timedelta(days=2)).isoformat()})

    assert response.status_code == 200
    html = response.content.decode()
    assert "Ada Lovelace" in html
    assert "Lunch" in html
    assert "Busy" in html and "Family calendar" in html
    assert "Somebody Else" not in html


def test_week_defaults_to_this_week_and_survives_bad_input(client, merchant):
    client.force_login(merchant.user)

    for week in ("", "garbage", "2030-02-30", "9999-12-31"):
        assert client.get("/app/", {"week": week}).status_code == 200


def test_a_user_without_merchant_is_sent_to_signup(client):
    client.force_login(UserFactory())

    assert client.get("/app/")["Location"] == SIGNUP


def test_signup_page_redirects_merchants_to_the_app(client):
    client.force_login(MerchantFactory().user)

    assert client.get(SIGNUP)["Location"] == "/app/"
