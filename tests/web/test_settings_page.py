"""``/app/settings`` (merchants.settings_page) and the sign-up checklist on ``/app/``."""

from __future__ import annotations

import pytest

from merchants.models import BusinessHours, Merchant
from tests.merchants.test_accounts_pages import signup

pytestmark = pytest.mark.django_db


def hours(merchant) -> list[tuple]:
    return [(h.weekday, f"{h.start:%H:%M}", f"{h.end:%H:%M}") for h in BusinessHours.objects.filter(merchant=merchant)]


def test_the_page_shows_everything(merchant_client, merchant, settings):
    settings.PUBLIC_BASE_URL = "https://app.example.com"
    response = merchant_client.get("/app/settings")

    html = response.content.decode()
    assert response.status_code == 200
    assert f'value="https://app.example.com/book/{merchant.slug}"' in html and "Copy link" in html
    assert f'value="{merchant.name}"' in html and 'value="Europe/Berlin" selected' in html
    assert 'name="monday" value="09:00-17:00"' in html and 'name="saturday"' in html
    assert 'name="slot_lengths" value="30"' in html


def test_saving_hours_with_several_intervals(merchant_client, merchant):
    response = merchant_client.post(
        "/app/settings",
        {"section": "hours", "monday": "09:00-12:00, 13:00-17:30", "wednesday": "10:00 - 14:00", "sunday": "8:00-9:00"},
    )

    assert response.status_code == 302 and response["Location"] == "/app/settings#hours"
    assert hours(merchant) == [
        (0, "09:00", "12:00"),
        (0, "13:00", "17:30"),
        (2, "10:00", "14:00"),
        (6, "08:00", "09:00"),
    ]


@pytest.mark.parametrize(
    ("monday", "fragment"),
    [
        ("09:00-12:00, 11:00-13:00", "overlap"),
        ("12:00-11:00", "end must be after the start"),
        ("nine to five", "write times like 09:00-12:00"),
        ("24:00-25:00", "00:00 to 23:59"),
    ],
)
def test_bad_hours_are_explained_and_nothing_changes(merchant_client, merchant, monday, fragment):
    response = merchant_client.post("/app/settings", {"section": "hours", "monday": monday, "tuesday": "09:00-17:00"})

    assert response.status_code == 400
    assert fragment in response.content.decode()
    assert hours(merchant) == [(d, "09:00", "17:00") for d in range(5)]


def test_saving_rules_and_profile(merchant_client, merchant):
    rules = merchant_client.post(
        "/app/settings",
        {
            "section": "rules",
            "slot_lengths": ["45", "90"],
            "buffer_minutes": "15",
            "minimum_notice_minutes": "60",
            "max_days_ahead": "30",
        },
    )
    profile = merchant_client.post(
        "/app/settings", {"section": "profile", "name": "  Ines Studio ", "time_zone": "America/New_York"}
    )
    none = merchant_client.post(
        "/app/settings",
        {"section": "rules", "buffer_minutes": "0", "minimum_notice_minutes": "0", "max_days_ahead": "30"},
    )

    assert (rules.status_code, profile.status_code) == (302, 302)
    merchant = Merchant.objects.get(pk=merchant.pk)
    assert (merchant.slot_lengths, merchant.buffer_minutes, merchant.minimum_notice_minutes) == ([45, 90], 15, 60)
    assert (merchant.max_days_ahead, merchant.name, merchant.time_zone) == (30, "Ines Studio", "America/New_York")
    assert none.status_code == 400 and "Offer at least one appointment length" in none.content.decode()


def test_settings_need_a_login(client):
    assert client.get("/app/settings")["Location"].startswith("/accounts/login/")


def test_the_checklist_after_sign_up(client):
    signup(client, email="new@example.com", name="New", time_zone="UTC")
    week = client.get("/app/").content.decode()
    assert 'data-testid="checklist"' in week
    assert "Set your business hours" in week and "Connect a calendar" in week and "Copy link" in week
    assert week.count('class="done"') == 0

    client.post("/app/settings", {"section": "hours", "monday": "09:00-17:00"})
    assert client.get("/app/").content.decode().count('class="done"') == 1

    client.post("/app/checklist/dismiss")
    assert 'data-testid="checklist"' not in client.get("/app/").content.decode()
