"""What the calendar sees, in a real browser (SPEC §9): a card per provider, the incident
banner on every merchant page, problems grouped per calendar, and disconnect with "keep"
followed by a reconnect that shows each busy time once."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from merchants.demo import google_week_seed
from scheduling.models import BlockedTime
from tests.browser.conftest import connect_google, login

pytestmark = pytest.mark.browser


@pytest.fixture
def connected(page, merchant, app):
    google_week_seed(app.emulator, email=merchant.user.email, time_zone=merchant.time_zone)
    login(page, merchant.user.email)
    connect_google(page)
    return merchant.user.email


def test_every_provider_has_a_card_and_a_missing_setup_is_named(page, merchant, app):
    login(page, merchant.user.email)
    page.goto("/app/integrations")
    for key, name in [
        ("google", "Google Calendar"),
        ("microsoft", "Outlook / Microsoft 365"),
        ("icloud", "Apple iCloud"),
        ("caldav", "Other CalDAV"),
    ]:
        expect(page.locator(f"section#{key}").get_by_role("heading", name=name)).to_be_visible()
    microsoft = page.locator("section#microsoft")
    if microsoft.get_attribute("data-state") == "not_configured":
        expect(microsoft).to_contain_text("is not configured on this server")
        expect(microsoft).to_contain_text("MICROSOFT_OAUTH_CLIENT_ID")
    expect(page.locator("section#icloud").get_by_label("App-specific password")).to_be_visible()
    expect(page.locator("section#caldav").get_by_label("Server address")).to_be_visible()


def test_a_revoked_grant_puts_a_banner_on_every_merchant_page_until_reconnected(page, merchant, connected, app):
    app.emulator.revoke_grant(connected)
    page.get_by_role("button", name="Sync now").click()
    for path in ("/app/", "/app/integrations"):
        page.goto(path)
        banner = page.get_by_test_id("incident-banner")
        expect(banner).to_contain_text("Google Calendar needs to be reconnected")
    page.get_by_test_id("incident-banner").get_by_role("link", name="Reconnect").click()
    page.get_by_role("button", name="Reconnect Google Calendar").click()
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url("**/app/integrations?google=connected")
    expect(page.get_by_test_id("incident-banner")).to_have_count(0)
    page.goto("/app/")
    expect(page.get_by_test_id("incident-banner")).to_have_count(0)


def test_failing_syncs_show_one_problem_per_calendar_in_plain_words(page, merchant, connected, app, settings):
    settings.GOOGLE_API_MAX_ATTEMPTS = 1
    app.emulator.inject_fault("events.list", status=503, times=None)
    for _ in range(3):
        page.get_by_role("button", name="Sync now").click()
        page.wait_for_load_state()
    problems = page.get_by_test_id("sync-problem")
    expect(problems).to_have_count(1)
    expect(problems).to_contain_text("attempts, the latest")  # one entry for all the retries
    expect(problems).not_to_contain_text("TransientError")  # plain words, not class names

    app.emulator.clear_faults()
    page.get_by_role("button", name="Sync now").click()
    expect(page.get_by_test_id("no-sync-errors")).to_be_visible()
    page.get_by_text("Resolved problems").click()
    expect(page.get_by_test_id("google-history")).to_contain_text("fixed itself")


def test_disconnect_keep_then_reconnect_shows_each_busy_time_once(page, merchant, connected, app):
    before = sorted(BlockedTime.objects.filter(merchant=merchant).values_list("start", "end"))
    assert before
    page.get_by_text("Disconnect Google Calendar…").click()
    page.get_by_label("Keep them as my own blocks").check()
    page.get_by_role("button", name="Disconnect", exact=True).click()
    kept = page.get_by_test_id("kept-group")
    expect(kept).to_have_count(1)
    expect(kept).to_contain_text(f"Kept from {connected} (Google Calendar), {len(before)} block")

    connect_google(page)

    expect(page.get_by_test_id("kept-group")).to_have_count(0)
    after = sorted(BlockedTime.objects.filter(merchant=merchant).values_list("start", "end"))
    assert after == before  # adopted, not doubled
    assert set(BlockedTime.objects.filter(merchant=merchant).values_list("source", flat=True)) == {"google"}
    page.goto("/app/")
    entries = page.locator("#week .entry[data-kind=synced]")
    assert entries.count() > 0
    assert page.locator("#week .entry[data-kind=manual]").count() == 0


def test_kept_blocks_are_removed_in_one_click(page, merchant, connected, app):
    page.get_by_text("Disconnect Google Calendar…").click()
    page.get_by_role("button", name="Disconnect", exact=True).click()
    page.get_by_test_id("kept-group").get_by_role("button", name="Remove them").click()
    expect(page.get_by_role("status").first).to_contain_text("bookable again")
    assert not BlockedTime.objects.filter(merchant=merchant).exists()


def test_the_open_week_shows_a_pushed_change_within_two_seconds_of_its_sync(page, merchant, connected, app):
    """No reload, and the page's slow full refresh switched off: only the change counter's poll
    can bring the block in, within 2 s of the sync that wrote it."""
    import datetime as dt
    import re
    import time

    from integrations.models import SyncRun

    def slow_refresh(route):
        response = route.fetch()
        route.fulfill(
            response=response,
            body=response.text().replace('data-live-interval="10000"', 'data-live-interval="3600000"'),
        )

    page.route(re.compile(r".*/app/(\?.*)?$"), slow_refresh)
    page.goto("/app/")
    before = page.locator('#week .entry[data-kind="synced"]').count()
    runs = SyncRun.objects.filter(trigger="notification", status="succeeded").count()
    start = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    if start.astimezone(merchant.zone).date() != dt.datetime.now(merchant.zone).date():
        start -= dt.timedelta(hours=3)  # stay inside the week on screen
    app.emulator.insert_event(
        connected,
        {"start": {"dateTime": start.isoformat()}, "end": {"dateTime": (start + dt.timedelta(minutes=30)).isoformat()}},
    )
    deadline = time.monotonic() + 15
    while SyncRun.objects.filter(trigger="notification", status="succeeded").count() == runs:
        assert time.monotonic() < deadline, "the push never synced"
        time.sleep(0.05)
    expect(page.locator('#week .entry[data-kind="synced"]')).to_have_count(before + 1, timeout=2000)


def test_adding_bookings_to_the_calendar_goes_through_consent_and_names_the_calendar(page, merchant, connected, app):
    from scheduling import services
    from tests.scheduling.helpers import at, next_weekday

    panel = page.get_by_test_id("google-bookings")
    switch = panel.get_by_label(f"Add my bookings to “{merchant.name} bookings”")
    expect(switch).not_to_be_checked()
    switch.check()
    panel.get_by_role("button", name="Save").click()
    page.get_by_role("button", name="Allow").click()  # Google's consent screen, the narrow scope
    page.wait_for_url("**/app/integrations?google=connected")
    expect(page.get_by_test_id("google-bookings").get_by_role("checkbox")).to_be_checked()

    monday = next_weekday(0)
    services.booking_create(
        merchant=merchant,
        start=at(monday, "10:00"),
        end=at(monday, "10:30"),
        customer_name="Ada Lovelace",
        customer_email="ada@example.com",
        public=False,
    )
    page.goto("/app/integrations")
    expect(page.get_by_test_id("google-bookings-calendar")).to_contain_text(f"Bookings go to {merchant.name} bookings")
    expect(page.get_by_test_id("google-bookings-calendar")).to_contain_text("1 added")
