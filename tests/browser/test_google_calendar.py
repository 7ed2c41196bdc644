"""Google Calendar in a real browser: connect through the emulator's consent page, the week
view filling with the right blocks, a change in Google arriving by push, calendar selection,
disconnect (keep or delete), a denied consent, reconnecting after Google revoked access."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from merchants.demo import TEAM_CALENDAR_NAME, current_monday, google_week_seed
from tests.browser.conftest import connect_google, login
from tests.browser.week import demo_busy_blocks, demo_free_blocks, team_block, week_blocks

pytestmark = pytest.mark.browser


@pytest.fixture
def seeded(app, merchant):
    """The merchant's Google account in the emulator, with the demo week in the current week."""
    email = merchant.user.email
    google_week_seed(app.emulator, email=email, time_zone=merchant.time_zone)
    return email


@pytest.fixture
def connected(page, merchant, seeded):
    login(page, merchant.user.email)
    connect_google(page)
    return seeded


def synced(blocks, calendar: str) -> set:
    return {b for b in blocks if b.kind == "synced" and b.detail == calendar}


def test_connect_through_the_consent_page_fills_the_week(page, merchant, seeded, app):
    login(page, merchant.user.email)
    page.get_by_role("link", name="Integrations").click()
    expect(page.get_by_test_id("google-status")).to_have_text("Not connected")

    page.get_by_role("button", name="Connect Google Calendar").click()
    # The emulator's consent page: the account, the read-only calendar permission, Allow.
    expect(page.get_by_text("Choose an account")).to_be_visible()
    expect(page.get_by_label(seeded)).to_be_checked()
    page.get_by_role("button", name="Allow").click()

    page.wait_for_url("**/app/integrations?google=connected")
    expect(page.get_by_test_id("google-notice")).to_contain_text("Google Calendar is connected")
    expect(page.get_by_test_id("google-status")).to_have_text("Connected")
    expect(page.get_by_test_id("google-account")).to_have_text(seeded)
    expect(page.get_by_test_id("google-last-sync")).to_have_text("just now")
    expect(page.get_by_test_id("no-sync-errors")).to_be_visible()
    # Only the primary calendar is selected at first.
    expect(page.get_by_role("checkbox", name=seeded)).to_be_checked()
    expect(page.get_by_role("checkbox", name=TEAM_CALENDAR_NAME)).not_to_be_checked()

    page.get_by_role("link", name="Calendar", exact=True).click()
    monday = current_monday(merchant.time_zone)
    blocks = week_blocks(page)
    assert synced(blocks, seeded) == demo_busy_blocks(monday, seeded)
    assert not blocks & demo_free_blocks(monday, seeded)
    # Synced blocks say "Busy" and the calendar's name, never the event's title.
    expect(page.locator("#week")).not_to_contain_text("Dentist")
    expect(page.locator(".allday .entry.synced")).to_have_count(1)


def test_an_event_added_in_google_appears_after_the_push(page, merchant, connected, app):
    page.clock.install()
    page.goto("/app/")
    monday = current_monday(merchant.time_zone)
    before = week_blocks(page)

    # Another tab: the emulator's own page, as the merchant would use Google Calendar.
    google = page.context.new_page()
    google.goto(app.emulator.base_url + "_emulator/ui")
    add = google.get_by_role("form", name="Add an event")
    add.get_by_label("Title").fill("Haircut for my sister")
    add.get_by_label("Date").fill(monday.isoformat())
    add.get_by_label("From").fill("16:00")
    add.get_by_label("To").fill("16:45")
    add.get_by_role("button", name="Add event").click()
    expect(google.get_by_role("status")).to_contain_text("Push notification sent to 1 watch channel")
    assert app.emulator.wait_for_notifications(timeout=10)

    # The open week view notices by itself (it re-reads the page every 10 seconds).
    page.clock.run_for(11_000)
    new_block = ("synced", "16:00", "16:45", "Busy", connected)
    expect(page.locator(f'.day[data-date="{monday}"] .entry[data-kind="synced"][data-start$="T16:00"]')).to_be_visible()
    added = week_blocks(page) - before
    assert {(b.kind, b.start, b.end, b.title, b.detail) for b in added} == {new_block}

    # Moving it in Google moves it here.
    google.locator("tr", has_text="Haircut for my sister").get_by_label("New start").fill("08:00")
    google.locator("tr", has_text="Haircut for my sister").get_by_label("New end").fill("08:30")
    google.locator("tr", has_text="Haircut for my sister").get_by_role("button", name="Move").click()
    expect(google.get_by_role("status")).to_contain_text("Moved")
    assert app.emulator.wait_for_notifications(timeout=10)
    # This notification came moments after the last one's sync: the same burst, so its
    # trailing sync follows once notifications have been quiet for the settle time.
    deadline = time.monotonic() + 10
    while True:
        page.reload()
        moved = {(b.kind, b.start, b.end) for b in week_blocks(page) - before}
        if moved == {("synced", "08:00", "08:30")} or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert moved == {("synced", "08:00", "08:30")}


def test_choosing_calendars(page, merchant, connected):
    monday = current_monday(merchant.time_zone)
    page.goto("/app/integrations")
    page.get_by_role("checkbox", name=TEAM_CALENDAR_NAME).check()
    page.get_by_role("button", name="Save calendars").click()
    expect(page.get_by_role("status").first).to_contain_text("Busy times now come from 2 calendars")
    page.goto("/app/")
    assert team_block(monday, TEAM_CALENDAR_NAME) in week_blocks(page)

    page.goto("/app/integrations")
    page.get_by_role("checkbox", name=connected).uncheck()
    page.get_by_role("button", name="Save calendars").click()
    expect(page.get_by_role("status").first).to_contain_text("Busy times now come from 1 calendar")
    expect(page.get_by_role("checkbox", name=connected)).not_to_be_checked()
    page.goto("/app/")
    blocks = week_blocks(page)
    assert synced(blocks, connected) == set()
    assert synced(blocks, TEAM_CALENDAR_NAME) == {team_block(monday, TEAM_CALENDAR_NAME)}


@pytest.mark.parametrize("choice", ["keep", "delete"])
def test_disconnect(page, merchant, connected, app, choice):
    monday = current_monday(merchant.time_zone)
    page.goto("/app/integrations")
    page.get_by_text("Disconnect Google Calendar…").click()
    page.get_by_label("Keep them as my own blocks" if choice == "keep" else "Delete them").check()
    page.get_by_role("button", name="Disconnect", exact=True).click()

    expect(page.get_by_role("status").first).to_contain_text("Google Calendar is disconnected")
    expect(page.get_by_test_id("google-status")).to_have_text("Not connected")
    expect(page.get_by_role("button", name="Connect Google Calendar")).to_be_visible()
    assert app.emulator.revoked_tokens(), "the grant is revoked at Google"

    page.goto("/app/")
    blocks = week_blocks(page)
    assert not {b for b in blocks if b.kind == "synced"}
    if choice == "keep":
        kept = demo_busy_blocks(monday, "Blocked by you", kind="manual", title="Blocked")
        assert {b for b in blocks if b.kind == "manual"} == kept
    else:
        assert not blocks


def test_denying_consent_says_so(page, merchant, seeded):
    login(page, merchant.user.email)
    page.goto("/app/integrations")
    page.get_by_role("button", name="Connect Google Calendar").click()
    page.get_by_role("button", name="Deny").click()
    page.wait_for_url("**/app/integrations?google=error&reason=access_denied")
    expect(page.get_by_role("alert")).to_contain_text("access was denied on the sign-in screen")
    expect(page.get_by_test_id("google-status")).to_have_text("Not connected")


def test_reconnect_after_google_revoked_access(page, merchant, connected, app):
    app.emulator.revoke_grant(connected)
    page.goto("/app/integrations")
    page.get_by_role("button", name="Sync now").click()
    expect(page.get_by_test_id("google-status")).to_have_text("Reconnect needed")
    expect(page.get_by_role("alert")).to_contain_text("Google Calendar stopped accepting our access")

    page.get_by_role("button", name="Reconnect Google Calendar").click()
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url("**/app/integrations?google=connected")
    expect(page.get_by_test_id("google-status")).to_have_text("Connected")


def test_without_an_oauth_client_the_card_says_what_is_missing(page, merchant, app, settings):
    settings.GOOGLE_OAUTH_CLIENT_ID = ""
    login(page, merchant.user.email)
    page.goto("/app/integrations")
    expect(page.get_by_test_id("google-status")).to_have_text("Not set up")
    expect(page.locator("#google")).to_contain_text("GOOGLE_OAUTH_CLIENT_ID")
    expect(page.get_by_role("button", name="Connect Google Calendar")).to_be_disabled()
