"""Bookings in a real browser: settings (hours, rules), a customer in New York booking a Berlin
merchant and moving and cancelling from the email's link (read from the real SMTP server of
tests/mail.py), the merchant's cancel from the week view, the phone layout, and the open week
picking up a change through the change counter."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest
import requests
from icalendar import Calendar
from playwright.sync_api import expect

from merchants.demo import current_monday
from scheduling.models import Booking
from tests.browser.conftest import DESKTOP, PHONE, TIMEOUT_MS, login, new_page
from tests.scheduling.helpers import at, booking

pytestmark = pytest.mark.browser

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


def slot(page, day: dt.date, time: str):
    return page.locator(f'.slot-day[data-date="{day}"] label.slot', has_text=time)


def invitation(received):
    [part] = received.attachments("text/calendar")
    [event] = Calendar.from_ical(part.get_content()).walk("VEVENT")
    return Calendar.from_ical(part.get_content()), event


def test_settings_change_hours_and_rules_and_customers_see_them(page, merchant):
    login(page, merchant.user.email)
    page.get_by_role("link", name="Settings").click()
    page.wait_for_url("**/app/settings")
    expect(page.locator("#booking-link")).to_have_value(re.compile(rf"/book/{merchant.slug}$"))

    page.get_by_label("Monday").fill("08:00-12:00, 11:00-13:00")
    page.get_by_role("button", name="Save hours").click()
    expect(page.get_by_role("alert").first).to_contain_text("08:00-12:00 and 11:00-13:00 overlap")

    page.get_by_label("Monday").fill("08:00-12:00, 14:00-18:00")
    page.get_by_label("Saturday").fill("10:00-13:00")
    page.get_by_label("Friday").fill("")
    page.get_by_role("button", name="Save hours").click()
    expect(page.get_by_role("status")).to_contain_text("Saved your business hours")
    expect(page.get_by_label("Monday")).to_have_value("08:00-12:00, 14:00-18:00")

    page.get_by_label("30 min").uncheck()
    page.get_by_label("45 min").check()
    page.get_by_label("Buffer after each booking (minutes)").fill("15")
    page.get_by_role("button", name="Save rules").click()
    expect(page.get_by_role("status")).to_contain_text("Saved your booking rules")
    merchant.refresh_from_db()
    assert (merchant.slot_lengths, merchant.buffer_minutes) == ([45, 60], 15)

    monday = current_monday(merchant.time_zone) + dt.timedelta(days=7)
    page.goto(f"/book/{merchant.slug}?from={monday}")
    expect(page.get_by_role("link", name="45 min")).to_have_attribute("aria-current", "true")
    expect(page.get_by_role("link", name="30 min")).to_have_count(0)
    # 45 minutes step from 08:00 (11:45 would end past 12:00), then from 14:00.
    times = page.locator(f'.slot-day[data-date="{monday}"] label.slot').all_inner_texts()
    assert times[:7] == ["08:00", "08:45", "09:30", "10:15", "11:00", "14:00", "14:45"]
    saturday, friday = monday + dt.timedelta(days=5), monday + dt.timedelta(days=4)
    expect(slot(page, saturday, "10:00")).to_be_visible()
    expect(page.locator(f'.slot-day[data-date="{friday}"]')).to_contain_text("Closed")


def test_a_customer_in_new_york_books_a_berlin_merchant_then_moves_and_cancels_from_the_email(
    browser, app, merchant, smtp_server
):
    context = browser.new_context(base_url=app.url, viewport=DESKTOP, locale="en-US", timezone_id="America/New_York")
    context.set_default_timeout(TIMEOUT_MS)
    customer = context.new_page()
    errors: list[str] = []
    customer.on("pageerror", lambda exc: errors.append(str(exc)))
    monday = current_monday(merchant.time_zone) + dt.timedelta(days=7)
    berlin_ten = at(monday, "10:00")
    here = berlin_ten.astimezone(NEW_YORK)

    customer.goto(f"/book/{merchant.slug}?from={monday}")
    # The page reloads itself once in the browser's zone and names the merchant's.
    expect(customer.locator("[data-zone-note]")).to_contain_text("America/New_York")
    expect(customer.locator("[data-zone-note]")).to_contain_text("is in Europe/Berlin")
    assert "tz=America" in customer.url
    slot(customer, here.date(), f"{here:%H:%M}").click()
    expect(customer.locator("[data-selected-slot]")).to_contain_text(f"{here:%H:%M}")
    customer.get_by_label("Your name").fill("Kim Park")
    customer.get_by_label("Your email").fill("kim@example.com")
    customer.get_by_role("button", name="Book this time").click()
    customer.wait_for_url(f"**/book/{merchant.slug}/confirmed?**")
    expect(customer.locator(".lead")).to_contain_text(f"{here:%H:%M}")
    expect(customer.locator(".lead")).to_contain_text("America/New_York")
    expect(customer.locator(".confirmation")).to_contain_text("10:00\u201310:30 in Europe/Berlin")
    saved = Booking.objects.get()
    assert (saved.start, saved.customer_time_zone) == (berlin_ten, "America/New_York")

    mails = smtp_server.wait_for(2)
    [confirmation] = [m for m in mails if m.envelope_to == ["kim@example.com"]]
    assert [m.envelope_to for m in mails if m is not confirmation] == [[merchant.user.email]]
    assert f"{here:%H:%M}" in confirmation.text and "(America/New_York)" in confirmation.text
    calendar, event = invitation(confirmation)
    assert (calendar["METHOD"], event.decoded("DTSTART"), event["SEQUENCE"]) == ("REQUEST", berlin_ten, 0)
    uid = str(event["UID"])
    link = re.search(r"https?://\S+/manage/\S+", confirmation.text).group(0)
    assert link.startswith(app.url)

    # Move it from the email's link to 14:00 Berlin time.
    smtp_server.clear()
    customer.goto(link + f"?from={monday}")
    expect(customer.get_by_test_id("booking-when")).to_contain_text(f"{here:%H:%M}")
    later = at(monday, "14:00").astimezone(NEW_YORK)
    slot(customer, later.date(), f"{later:%H:%M}").click()
    customer.get_by_role("button", name="Move my booking").click()
    expect(customer.get_by_test_id("manage-notice")).to_contain_text("Your booking has moved")
    expect(customer.get_by_test_id("booking-when")).to_contain_text(f"{later:%H:%M}")
    moved = smtp_server.wait_for(2)
    [change] = [m for m in moved if m.envelope_to == ["kim@example.com"]]
    calendar, event = invitation(change)
    assert (str(event["UID"]), event["SEQUENCE"], event.decoded("DTSTART")) == (uid, 1, at(monday, "14:00"))

    # Cancel it.
    smtp_server.clear()
    customer.get_by_role("button", name="Cancel this booking").click()
    expect(customer.get_by_test_id("manage-notice")).to_contain_text("Your booking is cancelled")
    expect(customer.get_by_role("button", name="Cancel this booking")).to_have_count(0)
    saved.refresh_from_db()
    assert saved.status == "cancelled"
    cancelled = smtp_server.wait_for(2)
    [cancellation] = [m for m in cancelled if m.envelope_to == ["kim@example.com"]]
    calendar, event = invitation(cancellation)
    assert (calendar["METHOD"], event["STATUS"], str(event["UID"]), event["SEQUENCE"]) == (
        "CANCEL",
        "CANCELLED",
        uid,
        2,
    )
    assert any(m.envelope_to == [merchant.user.email] and "cancelled" in m["Subject"] for m in cancelled)
    # The time is free again for everybody.
    customer.goto(f"/book/{merchant.slug}?from={monday}")
    expect(slot(customer, here.date(), f"{here:%H:%M}")).to_be_visible()
    assert errors == []
    context.close()


def test_the_merchant_cancels_from_the_week_view(page, merchant, smtp_server):
    monday = current_monday(merchant.time_zone) + dt.timedelta(days=7)
    booked = booking(merchant, at(monday, "11:00"), at(monday, "11:15"), name="Ana Silva", email="ana@example.com")
    login(page, merchant.user.email)
    page.goto(f"/app/?week={monday}")

    page.get_by_role("link", name=re.compile(r"^Ana Silva, .*details$")).click()
    panel = page.locator("#entry-panel")
    expect(panel).to_be_visible()
    expect(panel.get_by_test_id("entry-customer")).to_have_text("Ana Silva")
    expect(panel.get_by_test_id("entry-email")).to_have_text("ana@example.com")
    expect(panel.get_by_test_id("entry-when")).to_contain_text("11:00\u201311:15")
    panel.get_by_role("button", name="Cancel booking").click()

    expect(page.get_by_role("status")).to_contain_text("Cancelled Ana Silva's booking")
    expect(page.locator('#week .entry[data-kind="booking"]')).to_have_count(0)
    booked.refresh_from_db()
    assert (booked.status, booked.cancelled_by) == ("cancelled", "merchant")
    [mail] = smtp_server.wait_for(1)
    assert mail.envelope_to == ["ana@example.com"]
    calendar, event = invitation(mail)
    assert (calendar["METHOD"], event["STATUS"]) == ("CANCEL", "CANCELLED")


def test_on_a_phone_choosing_a_slot_brings_the_details_form_into_view(browser, app, merchant):
    phone = new_page(browser, app.url, viewport=PHONE)
    monday = current_monday(merchant.time_zone) + dt.timedelta(days=7)
    phone.goto(f"/book/{merchant.slug}?from={monday}")
    details = phone.locator("#details")
    expect(details).not_to_be_in_viewport()
    slot(phone, monday, "09:00").click()
    expect(details).to_be_in_viewport()
    expect(phone.locator("[data-selected-slot]")).to_contain_text("09:00")
    assert phone.js_errors == []
    phone.context.close()


def test_the_open_week_shows_a_change_through_the_change_counter(page, app, merchant):
    """The page's slow full refresh is switched off here, so only the counter poll can bring the
    booking in; the request log shows the grid re-fetched only after the counter moved."""
    monday = current_monday(merchant.time_zone) + dt.timedelta(days=7)
    login(page, merchant.user.email)

    def slow_refresh(route):
        response = route.fetch()
        body = response.text().replace('data-live-interval="10000"', 'data-live-interval="3600000"')
        route.fulfill(response=response, body=body)

    page.route(re.compile(r".*/app/\?week=.*"), slow_refresh)
    polls: list[int] = []
    page.on("response", lambda r: polls.append(r.status) if "/app/live/" in r.url else None)
    page.goto(f"/app/?week={monday}")
    expect(page.locator('#week .entry[data-kind="booking"]')).to_have_count(0)
    with page.expect_response(lambda r: "/app/live/" in r.url and r.status == 304):
        pass  # the page polls and nothing has changed yet

    response = requests.post(
        f"{app.url}/api/v1/public/merchants/{merchant.slug}/bookings",
        json={
            "start": at(monday, "15:00").isoformat(),
            "end": at(monday, "15:30").isoformat(),
            "customer_name": "Lee Chen",
            "customer_email": "lee@example.com",
        },
        timeout=10,
    )
    assert response.status_code == 201, response.text

    expect(page.locator('#week .entry[data-kind="booking"]')).to_contain_text("Lee Chen")
    assert 200 in polls[1:], polls  # the counter moved: that is what re-fetched the grid
