"""The week view's detail panel (``?entry=``), the merchant's cancel and the live change counter."""

from __future__ import annotations

import pytest
from django.test import Client

from scheduling.live import live_token
from scheduling.models import BlockedTime, Booking
from scheduling.services import merchant_changed
from tests.scheduling.helpers import at, booking, manual_block, next_weekday, synced_block

pytestmark = pytest.mark.django_db


def panel(response) -> str:
    html = response.content.decode()
    start = html.index('id="entry-panel"')
    return html[start : html.index("</aside>", start)]


def test_a_booking_opens_its_panel(merchant_client, merchant):
    monday = next_weekday(0)
    mine = booking(merchant, at(monday, "10:00"), at(monday, "10:15"), name="Kim Park", email="kim@example.com")
    response = merchant_client.get("/app/", {"week": monday, "entry": f"booking-{mine.pk}"})

    text = panel(response)
    assert "Booking: Kim Park" in text and "kim@example.com" in text and "10:00\u201310:15" in text
    assert f'action="/app/bookings/{mine.pk}/cancel"' in text
    assert f"entry=booking-{mine.pk}" in response.content.decode()  # the entry links to its panel


@pytest.mark.parametrize(
    ("reason", "words"),
    [
        ("busy", "a busy event in this calendar"),
        ("tentative", "a tentative event, because you chose to block tentative events"),
        ("all_day", "an all-day event, because you chose to block all-day events"),
        ("", "an event this calendar shows as busy"),
    ],
)
def test_a_synced_block_says_why_it_blocks_and_nothing_else(merchant_client, merchant, reason, words):
    monday = next_weekday(0)
    blocked = synced_block(merchant, at(monday, "10:00"), at(monday, "11:00"), summary="Work")
    BlockedTime.objects.filter(pk=blocked.pk).update(reason=reason, note="never shown")
    response = merchant_client.get("/app/", {"week": monday, "entry": f"block-{blocked.pk}"})

    text = panel(response)
    assert "Busy · Work · Google" in text and words in text
    assert "never shown" not in response.content.decode()
    assert "cancel" not in text.lower().replace("cancelled", "")


def test_a_manual_block_shows_its_note_and_can_be_removed(merchant_client, merchant):
    monday = next_weekday(0)
    blocked = manual_block(merchant, at(monday, "10:00"), at(monday, "11:00"), note="Dentist")
    text = panel(merchant_client.get("/app/", {"week": monday, "entry": f"block-{blocked.pk}"}))
    assert "Dentist" in text and f'action="/app/blocked-times/{blocked.pk}/remove"' in text


def test_unknown_entries_open_no_panel(merchant_client, merchant, other_merchant):
    monday = next_weekday(0)
    theirs = booking(other_merchant, at(monday, "10:00"), at(monday, "11:00"), name="Secret Customer")
    response = merchant_client.get("/app/", {"week": monday, "entry": f"booking-{theirs.pk}"})
    assert response.status_code == 200 and "Secret Customer" not in response.content.decode()
    assert "hidden" in panel(merchant_client.get("/app/", {"week": monday, "entry": "nonsense"}))


def test_the_merchant_cancels_from_the_week(
    merchant_client, merchant, other_merchant, django_capture_on_commit_callbacks
):
    monday = next_weekday(0)
    mine = booking(merchant, at(monday, "10:00"), at(monday, "11:00"), name="Kim Park")
    theirs = booking(other_merchant, at(monday, "10:00"), at(monday, "11:00"))

    with django_capture_on_commit_callbacks(execute=True):
        response = merchant_client.post(f"/app/bookings/{mine.pk}/cancel")
    assert response.status_code == 302 and response["Location"] == f"/app/?week={monday}"
    mine.refresh_from_db()
    assert (mine.status, mine.cancelled_by) == ("cancelled", "merchant")
    page = merchant_client.get(response["Location"]).content.decode()
    assert "Cancelled Kim Park" in page and 'data-kind="booking"' not in page
    assert merchant_client.post(f"/app/bookings/{theirs.pk}/cancel").status_code == 404
    assert Booking.objects.get(pk=theirs.pk).status == "confirmed"


def test_the_change_counter_answers_304_until_something_changes(merchant, django_capture_on_commit_callbacks):
    client = Client()  # no session: the token is the credential
    url = f"/app/live/{live_token(merchant.pk)}"
    first = client.get(url)
    assert first.status_code == 200 and first.json() == {"version": 0}
    etag = first["ETag"]
    assert client.get(url, headers={"if-none-match": etag}).status_code == 304

    merchant_changed(merchant.pk)
    changed = client.get(url, headers={"if-none-match": etag})
    assert changed.status_code == 200 and changed.json() == {"version": 1} and changed["ETag"] != etag

    monday = next_weekday(0)
    with django_capture_on_commit_callbacks(execute=True):
        client_merchant = Client()
        client_merchant.force_login(merchant.user)
        client_merchant.post("/app/blocked-times", {"date": monday, "start_time": "12:00", "end_time": "13:00"})
    assert client.get(url, headers={"if-none-match": changed["ETag"]}).status_code == 200


def test_the_counter_costs_no_database_query(merchant, django_assert_num_queries):
    url = f"/app/live/{live_token(merchant.pk)}"
    client = Client()
    with django_assert_num_queries(0):
        assert client.get(url, headers={"if-none-match": '"0"'}).status_code == 304


@pytest.mark.parametrize("token", ["1", "1.xxx", "abc"])
def test_forged_counter_tokens_are_404(db, token):
    assert Client().get(f"/app/live/{token}").status_code == 404
