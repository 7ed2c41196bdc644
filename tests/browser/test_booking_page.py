"""The public booking page in a real browser: free slots only, a slot blocked in Google after the
page was loaded is refused in plain words, a free one is booked and lands in the merchant's week."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from merchants.demo import current_monday
from tests.browser.conftest import connect_google, login, new_page
from tests.browser.week import week_blocks

pytestmark = pytest.mark.browser


def slot(page, day: dt.date, time: str):
    return page.locator(f'.slot-day[data-date="{day}"] label.slot', has_text=time)


def test_booking_refuses_a_slot_blocked_meanwhile_and_accepts_a_free_one(browser, page, merchant, app):
    email = merchant.user.email
    app.emulator.add_account(email, time_zone=merchant.time_zone)
    login(page, email)
    connect_google(page)
    next_monday = current_monday(merchant.time_zone) + dt.timedelta(days=7)
    app.emulator.insert_event(
        email,
        {
            "summary": "Physio",
            "start": {"dateTime": f"{next_monday}T09:00:00", "timeZone": merchant.time_zone},
            "end": {"dateTime": f"{next_monday}T10:00:00", "timeZone": merchant.time_zone},
        },
    )
    assert app.emulator.wait_for_notifications(timeout=10)

    customer = new_page(browser, app.url)
    customer.goto(f"/book/{merchant.slug}?from={next_monday}")
    expect(customer.get_by_role("heading", name=f"Book a time with {merchant.name}")).to_be_visible()
    # Free slots only: the Google event at 09:00-10:00 already blocks two of them.
    expect(slot(customer, next_monday, "09:00")).to_have_count(0)
    expect(slot(customer, next_monday, "09:30")).to_have_count(0)
    expect(customer.locator("body")).not_to_contain_text("Physio")
    slot(customer, next_monday, "10:00").click()
    expect(customer.locator("[data-selected-slot]")).to_contain_text("10:00")
    customer.get_by_label("Your name").fill("Kim Customer")
    customer.get_by_label("Your email").fill("kim@example.com")

    # Meanwhile the merchant puts something at 10:00 in Google; the push blocks it here.
    app.emulator.insert_event(
        email,
        {
            "summary": "Bank",
            "start": {"dateTime": f"{next_monday}T10:00:00", "timeZone": merchant.time_zone},
            "end": {"dateTime": f"{next_monday}T10:30:00", "timeZone": merchant.time_zone},
        },
    )
    assert app.emulator.wait_for_notifications(timeout=10)

    customer.get_by_role("button", name="Book this time").click()
    expect(customer.get_by_test_id("booking-refused")).to_contain_text("was just taken")
    expect(slot(customer, next_monday, "10:00")).to_have_count(0)
    # What the customer typed is still there.
    expect(customer.get_by_label("Your name")).to_have_value("Kim Customer")

    slot(customer, next_monday, "10:30").click()
    customer.get_by_role("button", name="Book this time").click()
    customer.wait_for_url(f"**/book/{merchant.slug}/confirmed?b=*")
    expect(customer.get_by_role("heading", name="You're booked")).to_be_visible()
    expect(customer.locator(".lead")).to_contain_text("10:30\u201311:00")
    customer.context.close()

    page.goto(f"/app/?week={next_monday}")
    bookings = {(b.date, b.start, b.end, b.title) for b in week_blocks(page) if b.kind == "booking"}
    assert bookings == {(next_monday.isoformat(), "10:30", "11:00", "Kim Customer")}


def test_booking_page_on_a_phone(browser, app, merchant):
    customer = new_page(browser, app.url, viewport={"width": 390, "height": 844})
    next_monday = current_monday(merchant.time_zone) + dt.timedelta(days=7)
    customer.goto(f"/book/{merchant.slug}?from={next_monday}&duration=60")
    expect(customer.get_by_role("link", name="60 min")).to_have_attribute("aria-current", "true")
    expect(slot(customer, next_monday, "16:00")).to_be_visible()
    expect(slot(customer, next_monday, "16:30")).to_have_count(0)
    # Nothing is wider than the phone's screen.
    assert customer.evaluate("document.documentElement.scrollWidth") <= 390
    customer.context.close()
