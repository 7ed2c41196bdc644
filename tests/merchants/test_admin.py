"""Django admin pages for merchants, blocked times and bookings."""

import pytest
from django.contrib.auth import get_user_model

from tests.scheduling.helpers import at, booking, manual_block, next_weekday, synced_block

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    admin = get_user_model().objects.create_superuser("admin@example.com", "admin@example.com", "admin-password-1")
    client.force_login(admin)
    return client


def test_merchant_pages_show_business_hours_inline(staff_client, merchant):
    assert staff_client.get("/admin/merchants/merchant/").status_code == 200

    response = staff_client.get(f"/admin/merchants/merchant/{merchant.pk}/change/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "business_hours-TOTAL_FORMS" in html
    assert 'value="09:00:00"' in html


def test_merchant_search(staff_client, merchant):
    response = staff_client.get("/admin/merchants/merchant/", {"q": merchant.user.email})

    assert merchant.name in response.content.decode()


def test_synced_blocked_time_is_read_only(staff_client, merchant):
    monday = next_weekday(0)
    synced = synced_block(merchant, at(monday, "10:00"), at(monday, "11:00"), summary="Team", key="secret-event-key")
    manual = manual_block(merchant, at(monday, "12:00"), at(monday, "13:00"), note="Lunch")

    listing = staff_client.get("/admin/scheduling/blockedtime/")
    synced_page = staff_client.get(f"/admin/scheduling/blockedtime/{synced.pk}/change/").content.decode()
    manual_page = staff_client.get(f"/admin/scheduling/blockedtime/{manual.pk}/change/").content.decode()

    assert listing.status_code == 200
    assert 'name="start_0"' not in synced_page  # no editable timing for synced blocks
    assert 'name="external_key"' not in synced_page
    assert "Team" in synced_page
    assert 'name="start_0"' in manual_page
    assert 'name="note"' in manual_page


def test_booking_pages(staff_client, merchant):
    monday = next_weekday(0)
    item = booking(merchant, at(monday, "10:00"), at(monday, "11:00"), name="Ada Lovelace")

    assert "Ada Lovelace" in staff_client.get("/admin/scheduling/booking/").content.decode()
    assert staff_client.get(f"/admin/scheduling/booking/{item.pk}/change/").status_code == 200
