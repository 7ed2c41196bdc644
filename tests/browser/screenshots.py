"""Screenshots of the main pages for README.md: ``.venv/bin/python -m tests.browser.screenshots``.

Runs ``manage.py demo`` (a fresh SQLite file, the Google emulator) and Debian's Chromium,
walks through what a newcomer does (log in, connect Google, look at the week, book as a
customer) and writes PNGs at desktop (1280 px) and phone (390 px) widths into
``docs/screenshots/``. Not a test: run it by hand after changing how pages look.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.browser import chromium
from tests.browser.demo_process import ROOT, DemoProcess

OUT = ROOT / "docs" / "screenshots"
# The demo merchant's zone: booking pages show times in the browser's zone.
ZONE = {"timezone_id": "Europe/Berlin"}
DESKTOP = {"viewport": {"width": 1280, "height": 860}, "device_scale_factor": 1, **ZONE}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    **ZONE,
}


def shoot(page, name: str, *, full_page: bool = True) -> None:
    path = OUT / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page, animations="disabled")
    print(f"  {path.relative_to(ROOT)}")


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as directory, DemoProcess(Path(directory)) as demo, sync_playwright() as pw:
        browser = chromium.launch(pw)
        desktop = browser.new_context(base_url=demo.base_url, locale="en-GB", **DESKTOP)
        page = desktop.new_page()
        page.goto("/accounts/login/")
        shoot(page, "login-desktop", full_page=False)
        page.get_by_label("Email").fill(demo.email)
        page.get_by_label("Password").fill(demo.password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/app/")

        page.goto("/app/integrations")
        shoot(page, "integrations-not-connected-desktop")
        page.get_by_role("button", name="Connect Google Calendar").click()
        page.get_by_role("button", name="Allow").wait_for()
        shoot(page, "google-consent-desktop")
        page.get_by_role("button", name="Allow").click()
        page.wait_for_url("**/app/integrations?google=connected")
        shoot(page, "integrations-connected-desktop")

        page.goto("/app/")
        shoot(page, "week-desktop")
        page.get_by_text("+ Block time").click()
        shoot(page, "week-block-time-desktop", full_page=False)
        page.keyboard.press("Escape")
        page.locator('#week .entry[data-kind="booking"] .entry-open').first.click()
        page.locator("#entry-panel:not([hidden])").wait_for()
        shoot(page, "week-entry-panel-desktop", full_page=False)
        page.locator('#week .entry[data-kind="synced"] .entry-open').first.click()
        page.get_by_test_id("entry-reason").wait_for()
        shoot(page, "week-synced-panel-desktop", full_page=False)
        page.goto("/app/settings")
        shoot(page, "settings-desktop")

        events = desktop.new_page()
        events.goto(demo.events_page)
        shoot(events, "google-emulator-events-desktop")

        customer = browser.new_context(base_url=demo.base_url, locale="en-GB", **DESKTOP).new_page()
        today = dt.date.today()
        next_monday = today + dt.timedelta(days=7 - today.weekday())
        customer.goto(f"/book/demo?from={next_monday}")
        customer.locator("label.slot").nth(3).click()
        customer.get_by_label("Your name").fill("Kim Customer")
        customer.get_by_label("Your email").fill("kim@example.com")
        shoot(customer, "booking-desktop")
        customer.get_by_role("button", name="Book this time").click()
        customer.wait_for_url("**/confirmed?b=*")
        shoot(customer, "booking-confirmed-desktop", full_page=False)
        customer.get_by_role("link", name="Change or cancel").click()
        customer.get_by_role("button", name="Cancel this booking").wait_for()
        shoot(customer, "booking-manage-desktop")

        phone = browser.new_context(base_url=demo.base_url, locale="en-GB", **PHONE)
        phone.add_cookies(desktop.cookies())
        mobile = phone.new_page()
        mobile.goto("/app/")
        shoot(mobile, "week-phone", full_page=False)
        mobile.goto("/app/integrations")
        shoot(mobile, "integrations-phone", full_page=False)
        mobile.goto(f"/book/demo?from={next_monday}")
        shoot(mobile, "booking-phone", full_page=False)

        # Google revokes the grant (as from myaccount.google.com): the card asks to reconnect.
        from integrations.emulators.google import EmulatorControl

        EmulatorControl(demo.emulator_url).revoke_grant(demo.email)
        page.goto("/app/integrations")
        page.get_by_role("button", name="Sync now").click()
        page.get_by_text("Reconnect needed").wait_for()
        shoot(page, "integrations-reconnect-desktop")
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
