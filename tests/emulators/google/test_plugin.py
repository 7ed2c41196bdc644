"""The pytest fixtures: a reset emulator per test, with Django settings pointing at it."""

import os

from django.conf import settings


def test_fixture_points_settings_at_the_emulator(google_emulator):
    assert google_emulator.auth_uri == settings.GOOGLE_OAUTH_AUTH_URI
    assert google_emulator.token_uri == settings.GOOGLE_OAUTH_TOKEN_URI
    assert google_emulator.revoke_uri == settings.GOOGLE_OAUTH_REVOKE_URI
    assert google_emulator.api_root == settings.GOOGLE_API_ROOT
    assert settings.GOOGLE_OAUTH_CLIENT_ID == "test-client-id"
    assert settings.GOOGLE_OAUTH_CLIENT_SECRET == "test-client-secret"
    assert os.environ["OAUTHLIB_INSECURE_TRANSPORT"] == "1"
    assert google_emulator.api_root.endswith("/")
    assert google_emulator.auth_uri == google_emulator.base_url + "o/oauth2/v2/auth"


def test_each_test_starts_from_a_clean_emulator(google_emulator):
    assert google_emulator.snapshot()["accounts"] == []
    google_emulator.add_account("leak@example.com")
    google_emulator.add_redirect_uri("http://127.0.0.1:9999/cb")


def test_reset_dropped_the_previous_tests_state(google_emulator):
    assert google_emulator.snapshot()["accounts"] == []
    uris = google_emulator.snapshot()["clients"][0]["redirect_uris"]
    assert "http://127.0.0.1:9999/cb" not in uris
    assert "http://testserver/api/v1/merchant/integrations/google/calendar/callback" in uris
    assert "http://127.0.0.1:8000/api/v1/merchant/integrations/google/calendar/callback" in uris


def test_reset_restores_the_constructor_knobs(google_emulator):
    google_emulator.horizon_days = 1
    google_emulator.set_access_token_lifetime(5)
    google_emulator.set_auto_approve(True)
    google_emulator.set_page_size(3)
    google_emulator.advance_time(3600)
    google_emulator.reset()
    assert google_emulator.horizon_days == 730
    assert google_emulator.access_token_lifetime == 3600
    assert google_emulator.auto_approve is False
    assert google_emulator.page_size is None
    assert google_emulator.clock.offset == 0


def test_bulk_insert_can_return_only_ids(google_emulator):
    google_emulator.add_account("ann@example.com")
    ids = google_emulator.insert_events(
        "ann@example.com", [{"start": {"date": "2030-01-01"}}, {"start": {"date": "2030-01-02"}}], return_events=False
    )
    assert len(ids) == 2 and all(isinstance(i, str) for i in ids)
    assert google_emulator.get_event("ann@example.com", ids[0])["end"] == {"date": "2030-01-02"}
