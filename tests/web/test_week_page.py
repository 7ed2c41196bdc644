"""``/app/`` and its manual-block form posts (scheduling.web)."""

from __future__ import annotations

import datetime as dt

import pytest

from scheduling.models import BlockedTime
from tests.factories import MerchantFactory
from tests.scheduling.helpers import at, manual_block, next_weekday, synced_block

pytestmark = pytest.mark.django_db


def test_the_week_page_renders_the_chosen_week(merchant_client, merchant):
    monday = next_weekday(0)
    synced_block(merchant, at(monday, "10:00"), at(monday, "11:00"), summary="Family")
    response = merchant_client.get("/app/", {"week": str(monday + dt.timedelta(days=3))})

    html = response.content.decode()
    assert response.status_code == 200
    assert f'data-date="{monday}"' in html
    assert 'data-kind="synced"' in html and "Family" in html
    assert f'href="/app/?week={monday + dt.timedelta(days=7)}"' in html


def test_adding_a_block(merchant_client, merchant):
    day = next_weekday(2)
    response = merchant_client.post(
        "/app/blocked-times", {"date": day, "start_time": "12:00", "end_time": "13:30", "note": "Lunch"}
    )

    assert response.status_code == 302 and response["Location"] == f"/app/?week={day - dt.timedelta(days=2)}"
    [blocked] = BlockedTime.objects.filter(merchant=merchant)
    assert (blocked.start, blocked.end, blocked.note, blocked.source) == (
        at(day, "12:00"),
        at(day, "13:30"),
        "Lunch",
        "manual",
    )


def test_adding_a_whole_day(merchant_client, merchant):
    day = next_weekday(4)
    merchant_client.post("/app/blocked-times", {"date": day, "all_day": "on"})

    [blocked] = BlockedTime.objects.filter(merchant=merchant)
    assert (blocked.start, blocked.end) == (at(day, "00:00"), at(day + dt.timedelta(days=1), "00:00"))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"start_time": "14:00", "end_time": "13:00"}, "The end time must be after the start time."),
        ({"start_time": "14:00"}, "Give a start and an end time"),
        ({"date": "", "start_time": "14:00", "end_time": "15:00"}, "This field is required."),
        ({"date": "1900-01-01", "start_time": "14:00", "end_time": "15:00"}, "between 1970 and 2199"),
    ],
)
def test_a_bad_block_is_explained_and_nothing_is_stored(merchant_client, merchant, data, message):
    response = merchant_client.post("/app/blocked-times", {"date": next_weekday(1), **data})

    assert response.status_code == 400
    assert message in response.content.decode()
    assert 'id="add-block" open' in response.content.decode()
    assert not BlockedTime.objects.exists()


def test_removing_a_block(merchant_client, merchant):
    day = next_weekday(1)
    blocked = manual_block(merchant, at(day, "10:00"), at(day, "11:00"))
    response = merchant_client.post(f"/app/blocked-times/{blocked.pk}/remove")

    assert response["Location"] == f"/app/?week={day - dt.timedelta(days=1)}"
    assert not BlockedTime.objects.exists()


def test_synced_blocks_and_other_merchants_blocks_cannot_be_removed(merchant_client, merchant):
    day = next_weekday(1)
    synced = synced_block(merchant, at(day, "10:00"), at(day, "11:00"))
    theirs = manual_block(MerchantFactory(), at(day, "10:00"), at(day, "11:00"))

    response = merchant_client.post(f"/app/blocked-times/{synced.pk}/remove", follow=True)
    assert "change the event in that calendar instead" in response.content.decode()
    assert merchant_client.post(f"/app/blocked-times/{theirs.pk}/remove").status_code == 404
    assert BlockedTime.objects.count() == 2


def test_the_forms_need_a_merchant_login(client):
    assert client.post("/app/blocked-times", {})["Location"].startswith("/accounts/login/")
    assert client.get("/app/blocked-times").status_code in (302, 405)
