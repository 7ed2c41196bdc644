"""``/app/integrations`` (integrations.web): the Google card's states, the OAuth redirect messages,
and the form posts behind its buttons, against the emulator."""

from __future__ import annotations

import pytest

from integrations.models import CalendarConnection
from merchants.demo import TEAM_CALENDAR_ID
from scheduling.models import BlockedTime

pytestmark = pytest.mark.django_db
PAGE = "/app/integrations"


def card(client, **query) -> str:
    response = client.get(PAGE, query)
    assert response.status_code == 200
    return response.content.decode()


def test_not_configured_names_the_missing_settings(merchant_client, settings):
    settings.GOOGLE_OAUTH_CLIENT_ID = ""
    settings.GOOGLE_OAUTH_CLIENT_SECRET = ""
    html = card(merchant_client)
    assert 'data-state="not_configured"' in html
    assert "GOOGLE_OAUTH_CLIENT_ID" in html and "GOOGLE_OAUTH_CLIENT_SECRET" in html
    assert "data-connect" not in html


def test_not_connected_offers_the_connect_form(merchant_client, google_emulator):
    html = card(merchant_client)
    assert 'data-state="not_connected"' in html
    assert 'action="/api/v1/merchant/integrations/google/calendar"' in html and "data-connect" in html


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ({"google": "connected"}, "Google Calendar is connected."),
        ({"google": "error", "reason": "access_denied"}, "access was denied on the sign-in screen"),
        ({"google": "error", "reason": "missing_scope"}, "leave the calendar permission ticked"),
        ({"google": "error", "reason": "invalid_state"}, "had expired or came from another browser tab"),
        ({"google": "error", "reason": "token_exchange_failed"}, "Google Calendar did not finish the sign-in"),
        ({"google": "error", "reason": "storage_failed"}, "could not save the connection"),
        ({"google": "error", "reason": "<script>"}, "Connecting Google Calendar did not work."),
        ({"google": "error"}, "Connecting Google Calendar did not work."),
    ],
)
def test_the_oauth_redirect_is_explained(merchant_client, google_emulator, query, text):
    html = card(merchant_client, **query)
    assert text in html
    assert "<script>" not in html.split("</head>")[1]


def test_connected_card(merchant_client, connected, merchant):
    html = card(merchant_client)
    assert 'data-state="active"' in html
    assert merchant.user.email in html
    assert "On: Google tells us about changes" not in html  # no channel without a reachable watch URL
    assert "next check" in html  # no usable webhook URL here: polled
    assert html.count('name="calendar"') == 2
    assert 'data-testid="no-sync-errors"' in html


def test_selecting_calendars(merchant_client, connected, django_capture_on_commit_callbacks):
    team = connected.calendars.get(external_id=TEAM_CALENDAR_ID)
    primary = connected.calendars.get(primary=True)

    with django_capture_on_commit_callbacks(execute=True):
        response = merchant_client.post(f"{PAGE}/google/calendars", {"calendar": [str(team.pk)]})
    assert "Busy times now come from 1 calendar." in merchant_client.get(response["Location"]).content.decode()
    assert not BlockedTime.objects.filter(calendar=primary).exists()
    assert BlockedTime.objects.filter(calendar=team).count() == 1
    response = merchant_client.post(f"{PAGE}/google/calendars", {}, follow=True)
    assert "No calendar is selected" in response.content.decode()
    assert not BlockedTime.objects.exists()


def test_preferences_resync_with_the_new_rules(merchant_client, connected, django_capture_on_commit_callbacks):
    before = BlockedTime.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        response = merchant_client.post(
            f"{PAGE}/google/preferences", {"block_tentative": "on", "block_all_day": "on"}, follow=True
        )
    assert "Preferences saved." in response.content.decode()
    connected.refresh_from_db()
    assert connected.block_tentative and connected.block_all_day
    assert BlockedTime.objects.count() == before + 1  # the tentative lunch now blocks time


@pytest.mark.django_db(transaction=True)  # the sync runs on commit, before the view says how it went
def test_sync_now_says_how_it_went(merchant_client, connected, google_emulator):
    response = merchant_client.post(f"{PAGE}/google/sync", follow=True)
    assert "Sync started." in response.content.decode()

    google_emulator.revoke_grant(connected.account_email)
    response = merchant_client.post(f"{PAGE}/google/sync", follow=True)
    html = response.content.decode()
    assert "Google Calendar refused our access" in html
    assert 'data-state="reauth_required"' in html and "Reconnect Google Calendar" in html


@pytest.mark.parametrize(("choice", "kept"), [("keep", True), ("delete", False)])
def test_disconnect(merchant_client, connected, choice, kept):
    synced = BlockedTime.objects.count()
    response = merchant_client.post(f"{PAGE}/google/disconnect", {"blocked_times": choice}, follow=True)

    html = response.content.decode()
    assert "Google Calendar is disconnected" in html and 'data-state="not_connected"' in html
    connected.refresh_from_db()
    assert connected.status == CalendarConnection.Status.DISCONNECTED
    assert BlockedTime.objects.filter(source="manual").count() == (synced if kept else 0)
    assert not BlockedTime.objects.filter(source="google").exists()


def test_buttons_without_a_connection_say_so(merchant_client, google_emulator):
    for action in ("sync", "calendars", "disconnect"):
        response = merchant_client.post(f"{PAGE}/google/{action}", follow=True)
        assert response.status_code == 200
        assert "Google Calendar is not connected." in response.content.decode()


def test_the_page_needs_a_merchant(client):
    assert client.get(PAGE)["Location"].startswith("/accounts/login/")
    assert client.post(f"{PAGE}/google/sync")["Location"].startswith("/accounts/login/")
