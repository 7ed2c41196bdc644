"""The demo's data (merchants.demo) and ``manage.py demo --no-server``."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command

from merchants.demo import TEAM_CALENDAR_ID, bookings_seed, current_monday, demo_week, google_week_seed
from merchants.management.commands.demo import DEMO_EMAIL, DEMO_PASSWORD
from merchants.models import Merchant
from scheduling.models import BlockedTime, Booking


def test_the_google_week_has_every_rule_a_merchant_meets_first(google_emulator):
    monday = dt.date(2030, 1, 7)
    seeded = google_week_seed(google_emulator, email="ann@example.com", time_zone="Europe/Berlin", monday=monday)

    assert seeded["calendars"] == ["ann@example.com", TEAM_CALENDAR_ID]
    events = {e["summary"]: e for e in google_emulator.list_stored_events("ann@example.com")}
    assert set(events) == {"Team stand-up", *(e.summary for e in demo_week("ann@example.com"))}
    assert events["Team stand-up"]["recurrence"] == ["RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"]
    assert events["Company off-site"]["start"] == {"date": "2030-01-10"}
    assert events["Focus time"]["transparency"] == "transparent"
    assert [a["responseStatus"] for a in events["Quarterly review"]["attendees"] if a.get("self")] == ["declined"]
    assert [a["responseStatus"] for a in events["Lunch with Sam"]["attendees"] if a.get("self")] == ["tentative"]
    assert [e["summary"] for e in google_emulator.list_stored_events(TEAM_CALENDAR_ID)] == ["Inventory count"]


@pytest.mark.django_db
def test_bookings_are_seeded_once_per_week(merchant):
    monday = current_monday(merchant.time_zone)

    assert bookings_seed(merchant=merchant, monday=monday) == 5
    assert bookings_seed(merchant=merchant, monday=monday) == 0
    assert Booking.objects.filter(merchant=merchant).count() == 5
    assert list(BlockedTime.objects.values_list("note", flat=True)) == ["Lunch break"]


@pytest.mark.django_db
def test_demo_command_sets_up_the_merchant_and_prints_the_login():
    out = io.StringIO()
    call_command("demo", "--no-server", stdout=out)
    call_command("demo", "--no-server", stdout=out)

    merchant = Merchant.objects.get(slug="demo")
    assert merchant.user.email == DEMO_EMAIL and merchant.user.check_password(DEMO_PASSWORD)
    assert out.getvalue().count("Created the demo merchant.") == 1
    assert f"password:      {DEMO_PASSWORD}" in out.getvalue()
    assert Booking.objects.filter(merchant=merchant).count() == 5
