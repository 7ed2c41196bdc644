"""GET/POST /api/v1/merchant/blocked-times and DELETE /api/v1/merchant/blocked-times/{id}."""

import datetime as dt

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from scheduling.models import BlockedTime
from tests.factories import UserFactory
from tests.scheduling.helpers import at, manual_block, next_weekday, synced_block

URL = "/api/v1/merchant/blocked-times"
pytestmark = pytest.mark.django_db


def error_code(response) -> str:
    assert set(response.json()) == {"error"}, response.json()
    assert set(response.json()["error"]) == {"code", "message"}
    return response.json()["error"]["code"]


# --- list --------------------------------------------------------------------------------


def test_list_returns_overlapping_blocks_with_merchant_offsets(api, merchant):
    monday = next_weekday(0)
    manual = manual_block(merchant, at(monday, "10:00"), at(monday, "11:00"), note="Dentist")
    synced = synced_block(merchant, at(monday, "12:00"), at(monday, "13:00"), summary="Family")
    manual_block(merchant, at(monday + dt.timedelta(days=3), "10:00"), at(monday + dt.timedelta(days=3), "11:00"))

    response = api.get(URL, {"start": at(monday, "00:00").isoformat(), "end": at(monday, "23:59").isoformat()})

    assert response.status_code == 200
    assert response.json() == [
        {
            "id": manual.id,
            "start": at(monday, "10:00").isoformat(),
            "end": at(monday, "11:00").isoformat(),
            "all_day": False,
            "source": "manual",
            "source_name": None,
            "calendar": None,
            "reason": None,
            "note": "Dentist",
        },
        {
            "id": synced.id,
            "start": at(monday, "12:00").isoformat(),
            "end": at(monday, "13:00").isoformat(),
            "all_day": False,
            "source": "google",
            "source_name": "Google Calendar",
            "calendar": "Family",
            "reason": "busy",
            "note": None,
        },
    ]
    assert response.json()[0]["start"].endswith(("+01:00", "+02:00"))  # Europe/Berlin


@pytest.mark.parametrize("reason", ["busy", "tentative", "all_day"])
def test_list_says_why_a_synced_block_blocks_and_which_provider_it_came_from(api, merchant, reason):
    monday = next_weekday(0)
    synced_block(merchant, at(monday, "12:00"), at(monday, "13:00"), reason=reason)
    manual_block(merchant, at(monday, "14:00"), at(monday, "15:00"))

    response = api.get(URL, {"start": at(monday, "00:00").isoformat(), "end": at(monday, "23:59").isoformat()})

    assert response.status_code == 200
    assert [(b["source"], b["source_name"], b["reason"]) for b in response.json()] == [
        ("google", "Google Calendar", reason),
        ("manual", None, None),
    ]


def test_provider_names_come_from_the_source_labels(merchant):
    monday = next_weekday(0)
    block = synced_block(merchant, at(monday, "12:00"), at(monday, "13:00"))
    for source, label in BlockedTime.Source.choices:
        block.source = source
        assert block.provider_name == (None if source == "manual" else label)
    assert BlockedTime.Source.GOOGLE.label == "Google Calendar"


def test_list_includes_blocks_that_only_partly_overlap_and_excludes_touching_ones(api, merchant):
    monday = next_weekday(0)
    straddling = manual_block(merchant, at(monday, "08:00"), at(monday, "10:00"))
    manual_block(merchant, at(monday, "07:00"), at(monday, "09:00"))  # ends exactly at the range start

    response = api.get(URL, {"start": at(monday, "09:00").isoformat(), "end": at(monday, "12:00").isoformat()})

    assert [item["id"] for item in response.json()] == [straddling.id]


def test_list_accepts_local_dates_and_utc_z(api, merchant):
    monday = next_weekday(0)
    block = manual_block(merchant, at(monday, "00:30"), at(monday, "01:00"))

    by_date = api.get(URL, {"start": monday.isoformat(), "end": (monday + dt.timedelta(days=1)).isoformat()})
    by_z = api.get(
        URL,
        {
            "start": at(monday, "00:00").astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "end": at(monday, "02:00").astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    )

    assert [item["id"] for item in by_date.json()] == [block.id]
    assert [item["id"] for item in by_z.json()] == [block.id]


def test_list_defaults_to_the_coming_year(api, merchant):
    soon = manual_block(merchant, at(next_weekday(0), "10:00"), at(next_weekday(0), "11:00"))
    manual_block(merchant, at(next_weekday(0, weeks_ahead=60), "10:00"), at(next_weekday(0, weeks_ahead=60), "11:00"))
    manual_block(merchant, at(next_weekday(0, weeks_ahead=-3), "10:00"), at(next_weekday(0, weeks_ahead=-3), "11:00"))

    response = api.get(URL)

    assert response.status_code == 200
    assert [item["id"] for item in response.json()] == [soon.id]


def test_list_never_shows_another_merchants_blocks(api, merchant, other_merchant):
    monday = next_weekday(0)
    manual_block(other_merchant, at(monday, "10:00"), at(monday, "11:00"))

    response = api.get(URL, {"start": monday.isoformat(), "end": (monday + dt.timedelta(days=1)).isoformat()})

    assert response.json() == []


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ({"start": "2030-01-02", "end": "2030-01-01"}, "after start"),
        ({"start": "2030-01-01", "end": "2030-01-01"}, "after start"),
        ({"start": "2030-01-01", "end": "2031-01-03"}, "366 days"),
        ({"start": "tomorrow", "end": "2030-01-01"}, "ISO 8601"),
        ({"start": "2030-02-30", "end": "2030-03-01"}, "ISO 8601"),
        ({"start": "2030-01-01T25:00:00Z"}, "ISO 8601"),
        ({"start": "9999-12-31T00:00:00Z"}, "1970"),
    ],
)
def test_list_rejects_bad_ranges(api, query, fragment):
    response = api.get(URL, query)

    assert response.status_code == 400
    assert error_code(response) == "invalid"
    assert fragment in response.json()["error"]["message"]


def test_list_needs_authentication(anon):
    response = anon.get(URL)

    assert response.status_code == 401
    assert error_code(response) == "not_authenticated"


def test_a_bad_token_is_401(anon):
    anon.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    response = anon.get(URL)

    assert response.status_code == 401


def test_a_user_without_merchant_is_403(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=UserFactory()).key}")

    response = client.get(URL)

    assert response.status_code == 403
    assert error_code(response) == "permission_denied"


def test_session_authentication_works_for_the_web_ui(client, merchant):
    client.force_login(merchant.user)

    response = client.get(URL)

    assert response.status_code == 200


# --- create ------------------------------------------------------------------------------


def test_create_manual_block(api, merchant):
    body = {"start": "2030-01-07T10:00:00+01:00", "end": "2030-01-07T09:30:00Z", "note": "Lunch with Sam"}

    response = api.post(URL, body, format="json")

    assert response.status_code == 201
    data = response.json()
    assert data["start"] == "2030-01-07T10:00:00+01:00"
    assert data["end"] == "2030-01-07T10:30:00+01:00"  # rendered in the merchant's zone
    assert data["source"] == "manual"
    assert data["calendar"] is None
    assert data["note"] == "Lunch with Sam"
    assert data["all_day"] is False
    block = BlockedTime.objects.get(id=data["id"])
    assert block.merchant == merchant
    assert block.start == dt.datetime(2030, 1, 7, 9, tzinfo=dt.UTC)
    assert block.source == BlockedTime.Source.MANUAL


def test_create_without_note(api):
    response = api.post(URL, {"start": "2030-01-07T10:00:00Z", "end": "2030-01-07T11:00:00Z"}, format="json")

    assert response.status_code == 201
    assert response.json()["note"] == ""


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"start": "2030-01-07T10:00:00", "end": "2030-01-07T11:00:00Z"}, "offset"),
        ({"start": "2030-01-07T11:00:00Z", "end": "2030-01-07T11:00:00Z"}, "after start"),
        ({"start": "2030-01-07T12:00:00Z", "end": "2030-01-07T11:00:00Z"}, "after start"),
        ({"start": "2030-01-07T12:00:00Z", "end": "2031-01-09T11:00:00Z"}, "366 days"),
        ({"start": "next monday", "end": "2030-01-07T11:00:00Z"}, "ISO 8601"),
        ({"start": 1893924000, "end": "2030-01-07T11:00:00Z"}, "ISO 8601"),
        ({"start": ["2030-01-07T10:00:00Z"], "end": "2030-01-07T11:00:00Z"}, "ISO 8601"),
        ({"start": None, "end": "2030-01-07T11:00:00Z"}, "null"),
        ({"end": "2030-01-07T11:00:00Z"}, "required"),
        ({"start": "2030-01-07T10:00:00Z", "end": "2030-01-07T11:00:00Z", "note": "x" * 201}, "200"),
        ({"start": "2030-01-07T10:00:00Z", "end": "2030-01-07T11:00:00Z", "note": 5.5}, None),
        (
            {"start": "2030-01-07T10:00:00Z", "end": "2030-01-07T11:00:00Z", "all_day": True},
            "Unknown field(s): all_day",
        ),
        ({"start": "2030-01-07T10:00:00Z", "end": "2030-01-07T11:00:00Z", "source": "google"}, "Unknown field"),
    ],
)
def test_create_rejects_bad_input(api, body, fragment):
    response = api.post(URL, body, format="json")

    if fragment is None:  # DRF coerces numbers to strings for CharField: acceptable, but never a 500
        assert response.status_code in (201, 400)
        return
    assert response.status_code == 400, response.json()
    assert error_code(response) == "invalid"
    assert fragment in response.json()["error"]["message"]
    assert not BlockedTime.objects.exists()


@pytest.mark.parametrize("raw", ["not json", "[]", '"text"', "{"])
def test_create_rejects_bodies_that_are_not_a_json_object(api, raw):
    response = api.generic("POST", URL, raw, content_type="application/json")

    assert response.status_code == 400
    assert "error" in response.json()


def test_create_needs_authentication(anon):
    response = anon.post(URL, {"start": "2030-01-07T10:00:00Z", "end": "2030-01-07T11:00:00Z"}, format="json")

    assert response.status_code == 401


# --- delete ------------------------------------------------------------------------------


def test_delete_manual_block(api, merchant):
    block = manual_block(merchant, at(next_weekday(0), "10:00"), at(next_weekday(0), "11:00"))

    response = api.delete(f"{URL}/{block.id}")

    assert response.status_code == 204
    assert not BlockedTime.objects.filter(id=block.id).exists()


def test_delete_synced_block_is_409_and_keeps_it(api, merchant):
    block = synced_block(merchant, at(next_weekday(0), "10:00"), at(next_weekday(0), "11:00"))

    response = api.delete(f"{URL}/{block.id}")

    assert response.status_code == 409
    assert error_code(response) == "read_only"
    assert BlockedTime.objects.filter(id=block.id).exists()


def test_delete_another_merchants_block_is_404(api, other_merchant):
    block = manual_block(other_merchant, at(next_weekday(0), "10:00"), at(next_weekday(0), "11:00"))

    response = api.delete(f"{URL}/{block.id}")

    assert response.status_code == 404
    assert error_code(response) == "not_found"
    assert BlockedTime.objects.filter(id=block.id).exists()


@pytest.mark.parametrize("pk", ["999999", "abc", "-1", "99999999999999999999999"])
def test_delete_unknown_block_is_json_404(api, pk):
    response = api.delete(f"{URL}/{pk}")

    assert response.status_code == 404
    assert error_code(response) == "not_found"


def test_delete_needs_authentication(anon, merchant):
    block = manual_block(merchant, at(next_weekday(0), "10:00"), at(next_weekday(0), "11:00"))

    response = anon.delete(f"{URL}/{block.id}")

    assert response.status_code == 401
    assert BlockedTime.objects.filter(id=block.id).exists()
