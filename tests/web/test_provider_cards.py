"""``/app/integrations``: a card per provider in each state (SPEC §9), kept groups, grouped problems."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from integrations.models import ExternalCalendar, KeptBlockGroup, SyncRun
from scheduling.models import BlockedTime

pytestmark = pytest.mark.django_db
PAGE = "/app/integrations"


@pytest.fixture
def local_caldav(settings):
    settings.CALDAV_ALLOW_PRIVATE_ADDRESSES = True  # the test Radicale is on loopback


def test_every_provider_has_a_card(merchant_client, google_emulator):
    html = merchant_client.get(PAGE).content.decode()
    for key, name in [
        ("google", "Google Calendar"),
        ("microsoft", "Outlook / Microsoft 365"),
        ("icloud", "Apple iCloud"),
        ("caldav", "Other CalDAV"),
    ]:
        assert f'id="{key}"' in html and name in html


def test_a_provider_without_its_settings_says_what_is_missing(merchant_client, settings):
    settings.GOOGLE_OAUTH_CLIENT_ID = ""
    html = merchant_client.get(PAGE).content.decode()
    assert 'data-testid="google-not-configured"' in html
    assert "Google Calendar is not configured on this server" in html and "<code>GOOGLE_OAUTH_CLIENT_ID</code>" in html


def test_the_caldav_cards_offer_their_forms(merchant_client, google_emulator):
    html = merchant_client.get(PAGE).content.decode()
    assert 'data-testid="icloud-connect-form"' in html and 'name="server" value="icloud"' in html
    assert 'data-testid="caldav-connect-form"' in html and 'type="url" name="server"' in html
    assert "App-Specific Passwords" in html


def test_a_caldav_account_connected_from_the_web_form(
    merchant_client, merchant, caldav_user, local_caldav, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = merchant_client.post(
            f"{PAGE}/caldav/connect",
            {"server": caldav_user.base_url, "username": caldav_user.name, "password": caldav_user.password},
        )
    assert response.status_code == 302
    html = merchant_client.get(PAGE).content.decode()
    assert 'id="caldav" data-state="active"' in html
    assert 'id="icloud" data-state="elsewhere"' in html  # one CalDAV connection, shown where it was made


def test_a_failed_caldav_form_says_why_in_plain_words(merchant_client, caldav_user, local_caldav):
    response = merchant_client.post(
        f"{PAGE}/caldav/connect",
        {"server": caldav_user.base_url, "username": caldav_user.name, "password": "no"},
        follow=True,
    )
    assert "Not connected:" in response.content.decode()


def test_problems_are_grouped_per_calendar_and_resolved_ones_are_history(merchant_client, connected):
    calendar = ExternalCalendar.objects.get(connection=connected, primary=True)
    now = timezone.now() + dt.timedelta(hours=1)  # after the connection's own initial sync
    for minutes, status in [(50, "failed"), (40, "failed"), (30, "succeeded"), (20, "failed"), (10, "failed")]:
        SyncRun.objects.create(
            calendar=calendar,
            trigger="notification",
            kind="incremental",
            status=status,
            started_at=now - dt.timedelta(minutes=minutes),
            finished_at=now - dt.timedelta(minutes=minutes),
            error="" if status == "succeeded" else f"TransientError: Google answered 503 ({minutes})",
        )
    ExternalCalendar.objects.filter(pk=calendar.pk).update(
        last_error="TransientError: Google answered 503 (10)", failing_since=now - dt.timedelta(minutes=20)
    )
    html = merchant_client.get(PAGE).content.decode()
    assert html.count('data-testid="sync-problem"') == 1  # one per calendar, not one per retry
    assert "Google answered 503 (10)" in html and "2 attempts" in html
    assert 'data-testid="google-history"' in html and "fixed itself" in html


def test_kept_blocks_are_one_group_per_calendar_removable_at_once(merchant_client, merchant, connected):
    calendar = ExternalCalendar.objects.get(connection=connected, primary=True)
    synced = BlockedTime.objects.filter(calendar=calendar).count()
    assert synced
    merchant_client.post(f"{PAGE}/google/disconnect", {"blocked_times": "keep"})
    [group] = KeptBlockGroup.objects.filter(merchant=merchant)
    html = merchant_client.get(PAGE).content.decode()
    assert f"Kept from {calendar.summary} (Google Calendar), {synced} block" in html

    merchant_client.post(f"{PAGE}/kept/{group.pk}/delete")

    assert not KeptBlockGroup.objects.exists()
    assert not BlockedTime.objects.filter(merchant=merchant, kept_group__isnull=False).exists()
    assert BlockedTime.objects.filter(merchant=merchant).count() == 0 or all(
        b.note for b in BlockedTime.objects.filter(merchant=merchant)
    )


def test_another_merchants_kept_group_cannot_be_removed(merchant_client, other_merchant):
    group = KeptBlockGroup.objects.create(merchant=other_merchant, provider="google", calendar_external_id="x")
    merchant_client.post(f"{PAGE}/kept/{group.pk}/delete")
    assert KeptBlockGroup.objects.filter(pk=group.pk).exists()
