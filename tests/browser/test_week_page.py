"""The merchant's week in a real browser: navigation, adding and removing manual blocks, phone layout,
and a basic accessibility pass over the main pages (labels, one h1, no JavaScript errors)."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from merchants.demo import current_monday
from tests.browser.conftest import PHONE, login, new_page
from tests.browser.week import week_blocks

pytestmark = pytest.mark.browser


def test_add_and_remove_a_manual_block(page, merchant):
    login(page, merchant.user.email)
    monday = current_monday(merchant.time_zone)
    page.get_by_role("link", name="Next week").click()
    page.wait_for_url(f"**/app/?week={monday + dt.timedelta(days=7)}")
    page.get_by_role("link", name="Previous week").click()
    page.get_by_role("link", name="Previous week").click()
    page.wait_for_url(f"**/app/?week={monday - dt.timedelta(days=7)}")
    page.get_by_role("link", name="This week").click()
    page.wait_for_url("**/app/")

    page.get_by_text("+ Block time").click()
    page.get_by_label("Date").fill(str(monday + dt.timedelta(days=2)))
    page.get_by_label("From", exact=True).fill("15:00")
    page.get_by_label("To", exact=True).fill("14:00")
    page.get_by_role("button", name="Add block").click()
    expect(page.get_by_role("alert")).to_contain_text("end time must be after the start time")

    page.get_by_label("To", exact=True).fill("16:30")
    page.get_by_label("Note (only you see it)").fill("Supplier visit")
    page.get_by_role("button", name="Add block").click()
    expect(page.get_by_role("status")).to_contain_text("Customers can no longer book that time")
    wednesday = str(monday + dt.timedelta(days=2))
    assert week_blocks(page) == {(wednesday, "manual", "15:00", "16:30", "Supplier visit", "Blocked by you")}

    page.get_by_role("button", name="Remove block “Supplier visit”").click()
    expect(page.get_by_role("status")).to_contain_text("Block removed")
    assert week_blocks(page) == set()


def test_week_on_a_phone_lists_days_one_under_another(browser, app, merchant):
    phone = new_page(browser, app.url, viewport=PHONE)
    login(phone, merchant.user.email)
    days = phone.locator("#week .day")
    expect(days).to_have_count(7)
    first, second = days.nth(0).bounding_box(), days.nth(1).bounding_box()
    assert second["y"] >= first["y"] + first["height"], "days stack vertically"
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.context.close()


_UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
  .map(el => el.outerHTML)"""


@pytest.mark.parametrize(
    "path", ["/accounts/login/", "/accounts/signup/", "/app/", "/app/integrations", "/app/settings", "/book/{slug}"]
)
def test_pages_have_labels_and_one_heading(browser, app, merchant, path):
    visitor = new_page(browser, app.url)
    if path.startswith("/app/"):
        login(visitor, merchant.user.email)
    visitor.goto(path.format(slug=merchant.slug))
    assert visitor.evaluate(_UNLABELLED) == []
    expect(visitor.locator("h1")).to_have_count(1)
    expect(visitor.locator("html")).to_have_attribute("lang", "en")
    # Keyboard users can skip straight to the content: the first focusable thing, shown on focus.
    first = "document.querySelector('a[href], button, input:not([type=hidden]), select, textarea').textContent"
    assert visitor.evaluate(first) == "Skip to content"
    skip = visitor.get_by_role("link", name="Skip to content")
    skip.focus()
    expect(skip).to_be_in_viewport()
    assert visitor.js_errors == []
    visitor.context.close()
