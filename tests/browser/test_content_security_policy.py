"""The Content-Security-Policy (SPEC §12) breaks no page: Chromium reports every blocked script,
style or resource as a console error, which ``new_page`` turns into a test failure."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login, new_page

pytestmark = pytest.mark.browser


def test_the_swagger_ui_renders_under_its_policy(page):
    page.goto("/api/v1/docs/")

    expect(page.get_by_text("Merchant calendar API").first).to_be_visible()
    expect(page.locator(".opblock").first).to_be_visible()  # the operations, from the schema
    assert not page.js_errors, page.js_errors


def test_an_inline_script_is_blocked_and_reported(page):
    """The detector works: a script injected into one of our pages does not run."""
    page.goto("/accounts/login/")
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.ran = 1';"
        " document.body.appendChild(s); }"
    )
    assert page.evaluate("() => window.ran") is None
    assert any("Content Security Policy" in error for error in page.js_errors)
    page.js_errors.clear()


def test_the_week_view_keeps_its_layout(browser, app, merchant):
    visitor = new_page(browser, app.url)
    login(visitor, merchant.user.email)

    week = visitor.locator("#week")
    expect(week).to_be_visible()
    # The grid's geometry comes from style attributes (allowed by style-src-attr).
    assert visitor.evaluate("() => getComputedStyle(document.getElementById('week')).cssText !== undefined")
    assert visitor.evaluate("() => document.getElementById('week').style.length") > 0
    assert not visitor.js_errors, visitor.js_errors
    visitor.context.close()


def test_the_admin_works_under_the_policy(browser, app, merchant):
    from tests.factories import UserFactory

    staff = UserFactory(email="staff@example.com", username="staff@example.com", is_staff=True, is_superuser=True)
    visitor = new_page(browser, app.url)
    visitor.goto("/admin/login/")
    visitor.get_by_label("Username").fill(staff.email)
    visitor.get_by_label("Password").fill("correct horse battery staple")
    visitor.get_by_role("button", name="Log in").click()
    visitor.wait_for_url("**/admin/")
    for path in ("/admin/merchants/merchant/", f"/admin/merchants/merchant/{merchant.pk}/change/", "/admin/axes/"):
        visitor.goto(path)
        expect(visitor.locator("#content")).to_be_visible()
    assert not visitor.js_errors, visitor.js_errors
    visitor.context.close()
