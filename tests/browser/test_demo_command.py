"""The README's run command, as a newcomer uses it: ``manage.py demo`` on a fresh SQLite file with no
services, log in with the printed credentials, connect through the emulator's consent page, see
the week fill, change an event on the emulator's page and see the week follow."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from merchants.demo import current_monday
from merchants.management.commands.demo import DEMO_TIME_ZONE
from tests.browser.conftest import new_page
from tests.browser.demo_process import DemoFailed, DemoProcess
from tests.browser.week import demo_busy_blocks, week_blocks

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(tmp_path):
    try:
        with DemoProcess(tmp_path) as demo:
            yield demo
    except DemoFailed as exc:
        pytest.fail(str(exc))


def test_demo_command_runs_the_app_and_the_emulator_together(browser, demo):
    email = demo.email
    page = new_page(browser, demo.base_url)
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(demo.password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/app/")
    # The demo merchant has customers this week already.
    expect(page.locator('.entry[data-kind="booking"]').first).to_be_visible()

    page.get_by_role("link", name="Integrations").click()
    page.get_by_role("button", name="Connect Google Calendar").click()
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url("**/app/integrations?google=connected")
    expect(page.get_by_test_id("google-account")).to_have_text(email)

    page.clock.install()
    page.get_by_role("link", name="Calendar", exact=True).click()
    monday = current_monday(DEMO_TIME_ZONE)
    synced = {b for b in week_blocks(page) if b.kind == "synced"}
    assert synced == demo_busy_blocks(monday, email)

    google = page.context.new_page()
    google.goto(demo.events_page)
    add = google.get_by_role("form", name="Add an event")
    add.get_by_label("Title").fill("Walk-in rush")
    add.get_by_label("Date").fill(str(monday))
    add.get_by_label("From").fill("07:00")
    add.get_by_label("To").fill("07:45")
    add.get_by_role("button", name="Add event").click()
    expect(google.get_by_role("status")).to_contain_text("Push notification sent to 1 watch channel")

    # The push reaches the app, which syncs; the open week view picks it up on its next refresh.
    new_block = page.locator(f'.day[data-date="{monday}"] .entry[data-kind="synced"][data-start$="T07:00"]')
    for _ in range(20):
        page.clock.run_for(11_000)
        if new_block.count():
            break
        time.sleep(0.25)
    expect(new_block).to_be_visible()
    assert page.js_errors == []
    page.context.close()


def test_the_demo_connects_its_caldav_server_from_the_other_caldav_card(browser, demo):
    page = new_page(browser, demo.base_url)
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(demo.email)
    page.get_by_label("Password").fill(demo.password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/app/")

    page.goto("/app/integrations")
    card = page.locator("section#caldav")
    card.get_by_label("Server address").fill(demo.caldav_url)
    card.get_by_label("User name").fill(demo.caldav_user)
    card.get_by_label("Password").fill(demo.caldav_password)
    card.get_by_role("button", name="Connect Other CalDAV").click()

    expect(page.get_by_test_id("caldav-status")).to_have_text("Connected")
    expect(page.get_by_test_id("caldav-account")).to_have_text(demo.caldav_user)
    expect(page.locator("section#icloud")).to_have_attribute("data-state", "elsewhere")
    page.get_by_role("link", name="Calendar", exact=True).click()
    expect(page.locator('#week .entry[data-kind="synced"]').first).to_be_visible()


def test_the_demo_connects_outlook_through_the_microsoft_emulators_consent_page(browser, demo):
    # The emulator serves https with its own test authority: the newcomer accepts it once.
    context = browser.new_context(base_url=demo.base_url, ignore_https_errors=True, locale="en-GB")
    page = context.new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(demo.email)
    page.get_by_label("Password").fill(demo.password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/app/")

    page.goto("/app/integrations")
    page.get_by_role("button", name="Connect Outlook / Microsoft 365").click()
    expect(page.get_by_role("heading", name="Permissions requested")).to_be_visible()
    page.get_by_role("button", name="Accept").click()

    page.wait_for_url("**/app/integrations?microsoft=connected")
    expect(page.get_by_test_id("microsoft-status")).to_have_text("Connected")
    expect(page.get_by_test_id("microsoft-account")).to_have_text("demo.merchant@outlook.com")
    page.get_by_role("link", name="Calendar", exact=True).click()
    expect(page.locator('#week .entry[data-kind="synced"]').first).to_be_visible()
    context.close()
