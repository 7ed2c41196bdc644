"""axe-core inside Chromium on every page: zero serious or critical violations (SPEC §11).

Pages are checked as people see them: the merchant's week with bookings, synced and manual
blocks and an open detail panel, settings, integrations, sign-up and login, and the public
booking, confirmation and manage pages, on a desktop and on a phone."""

from __future__ import annotations

import datetime as dt

import pytest

from merchants.demo import current_monday
from scheduling.tokens import booking_token
from tests.browser.axe import assert_accessible
from tests.browser.conftest import PHONE, login, new_page
from tests.scheduling.helpers import at, booking, manual_block, synced_block

pytestmark = pytest.mark.browser


@pytest.fixture
def busy_week(merchant):
    monday = current_monday(merchant.time_zone) + dt.timedelta(days=7)
    booked = booking(merchant, at(monday, "10:00"), at(monday, "10:30"), name="Kim Park", email="kim@example.com")
    synced_block(merchant, at(monday, "12:00"), at(monday, "13:00"), summary="Work")
    manual_block(
        merchant, at(monday + dt.timedelta(days=1), "09:00"), at(monday + dt.timedelta(days=1), "10:00"), "Gym"
    )
    return monday, booked


PUBLIC = ["/accounts/login/", "/accounts/signup/", "/book/{slug}", "/book/{slug}?tz=America/New_York", "{manage}"]
MERCHANT = ["/app/?week={monday}", "/app/?week={monday}&entry=booking-{booking}", "/app/settings", "/app/integrations"]


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["desktop", "phone"])
def test_every_page_has_no_serious_or_critical_violation(browser, app, merchant, busy_week, viewport):
    monday, booked = busy_week
    values = {
        "slug": merchant.slug,
        "monday": monday,
        "booking": booked.pk,
        "manage": f"/book/{merchant.slug}/manage/{booking_token(booked.uid)}",
    }
    visitor = new_page(browser, app.url, **({"viewport": viewport} if viewport else {}))
    for path in PUBLIC:
        visitor.goto(path.format(**values))
        assert_accessible(visitor, path)
    # A refused form and the confirmation page.
    visitor.goto("/accounts/signup/")
    visitor.get_by_role("button", name="Sign up").click()
    assert_accessible(visitor, "sign-up with errors")
    visitor.goto(f"/book/{merchant.slug}?from={monday}")
    visitor.locator("label.slot").first.click()
    visitor.get_by_label("Your name").fill("Lee")
    visitor.get_by_label("Your email").fill("lee@example.com")
    visitor.get_by_role("button", name="Book this time").click()
    visitor.wait_for_url("**/confirmed?**")
    assert_accessible(visitor, "confirmation")

    login(visitor, merchant.user.email)
    assert_accessible(visitor, "/app/ with the checklist")
    for path in MERCHANT:
        visitor.goto(path.format(**values))
        assert_accessible(visitor, path)
    visitor.goto("/app/settings")
    visitor.get_by_label("Monday").fill("12:00-11:00")
    visitor.get_by_role("button", name="Save hours").click()
    assert_accessible(visitor, "settings with errors")
    assert visitor.js_errors == []
    visitor.context.close()


def test_the_check_catches_what_it_should(page):
    """The check itself can fail: low-contrast text and an unlabelled field are reported."""
    page.goto("/accounts/login/")
    page.evaluate(
        """() => {
          const main = document.querySelector("main");
          main.insertAdjacentHTML("beforeend",
            '<p style="color:#c8c8c8;background:#fff">faint text</p><input type="text" id="nameless">');
        }"""
    )
    from tests.browser.axe import axe_violations

    assert {v["id"] for v in axe_violations(page)} >= {"color-contrast", "label"}
