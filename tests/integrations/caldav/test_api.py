"""CalDAV through the generic integration endpoints (SPEC §8, §8.2), against the real Radicale."""

from __future__ import annotations

import pytest

from integrations.models import CalendarConnection
from tests.conftest import api_client_for

pytestmark = pytest.mark.django_db

URL = "/api/v1/merchant/integrations/caldav/calendar"


def _body(user, **overrides):
    return {"server": user.base_url, "username": user.name, "password": user.password, **overrides}


def test_connect_answers_201_with_a_polled_status(merchant, caldav_user, django_capture_on_commit_callbacks):
    api = api_client_for(merchant)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(URL, _body(caldav_user), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["provider"], body["push"], body["connected"], body["status"]) == ("caldav", False, True, "active")
    [calendar] = [c for c in body["calendars"] if c["selected"]]
    assert calendar["external_id"].startswith("http") and calendar["id"] > 0
    assert body["next_sync_at"] is not None  # polled: when the next cheap check runs
    assert body["channel_expires_at"] is None


def test_a_wrong_password_is_400_invalid_credentials_and_stores_nothing(merchant, caldav_user):
    response = api_client_for(merchant).post(URL, _body(caldav_user, password="wrong"), format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_credentials"
    assert not CalendarConnection.objects.filter(merchant=merchant, provider="caldav").exists()


def test_unknown_fields_and_missing_ones_are_400(merchant, caldav_user):
    api = api_client_for(merchant)
    assert api.post(URL, {**_body(caldav_user), "extra": 1}, format="json").status_code == 400
    assert api.post(URL, {"server": caldav_user.base_url}, format="json").status_code == 400


def test_another_merchant_cannot_connect_the_same_account(
    merchant, other_merchant, caldav_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert api_client_for(merchant).post(URL, _body(caldav_user), format="json").status_code == 201
    response = api_client_for(other_merchant).post(URL, _body(caldav_user), format="json")
    assert (response.status_code, response.json()["error"]["code"]) == (400, "account_in_use")
    assert not CalendarConnection.objects.filter(merchant=other_merchant, provider="caldav").exists()


def test_patch_password_replaces_it_after_a_401(merchant, caldav_user, django_capture_on_commit_callbacks):
    api = api_client_for(merchant)
    with django_capture_on_commit_callbacks(execute=True):
        api.post(URL, _body(caldav_user), format="json")
    assert api.patch(URL, {"password": "wrong"}, format="json").json()["error"]["code"] == "invalid_credentials"
    with django_capture_on_commit_callbacks(execute=True):
        response = api.patch(URL, {"password": caldav_user.password}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "active"


def test_the_provider_list_names_every_provider(merchant):
    body = api_client_for(merchant).get("/api/v1/merchant/integrations").json()
    by_key = {entry["provider"]: entry for entry in body}
    assert {"google", "caldav"} <= set(by_key)
    assert by_key["caldav"] == {
        "provider": "caldav",
        "name": "Apple iCloud / CalDAV",
        "configured": True,
        "missing_settings": [],
        "connected": False,
        "status": "not_connected",
    }
