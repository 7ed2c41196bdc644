"""Sign-up, logout and login in a real browser."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from merchants.models import Merchant
from tests.browser.conftest import login

pytestmark = pytest.mark.browser


def test_sign_up_log_out_and_log_in_again(page):
    page.goto("/")
    page.wait_for_url("**/accounts/login/?next=/app/")
    page.get_by_role("link", name="Create an account").click()

    page.get_by_label("Email").fill("Ines@Example.com")
    page.get_by_label("Business name").fill("Ines Hair Studio")
    page.get_by_label("Time zone").select_option("Europe/Lisbon")
    page.get_by_role("button", name="Sign up").click()

    page.wait_for_url("**/accounts/signup/sent/")
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    (message,) = mail.outbox
    link = re.search(r"https?://\S+/accounts/signup/confirm/\?token=\S+", message.body).group(0)
    page.goto(link)  # PUBLIC_BASE_URL is the live server (the app fixture)
    page.get_by_label("Password").fill("a long enough secret 42")
    page.get_by_role("button", name="Create my account").click()

    page.wait_for_url("**/app/")
    expect(page.get_by_text("Ines Hair Studio · times in Europe/Lisbon")).to_be_visible()
    merchant = Merchant.objects.get(user__email="ines@example.com")
    assert (merchant.name, merchant.time_zone) == ("Ines Hair Studio", "Europe/Lisbon")
    expect(page.get_by_role("link", name="Booking page", exact=True)).to_have_attribute(
        "href", f"/book/{merchant.slug}"
    )

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/accounts/login/")
    page.goto("/app/")
    page.wait_for_url("**/accounts/login/?next=/app/")

    page.get_by_label("Email").fill("ines@example.com")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("Please enter a correct")

    login(page, "INES@example.com", "a long enough secret 42")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator(".day")).to_have_count(7)


def test_sign_up_explains_what_is_wrong(page, merchant):
    page.goto("/accounts/signup/")
    page.get_by_label("Email").fill("not an email")
    page.get_by_label("Business name").fill("Copycat")
    page.get_by_role("button", name="Sign up").click()
    expect(page.locator(".errors, .field .error").first).to_be_visible()
    assert page.url.endswith("/accounts/signup/")
