"""The real MicrosoftCalendarClient against the emulator over HTTPS: calendars, delta rounds,
subscriptions, token refresh and rotation, and Graph's failures as typed errors."""

from __future__ import annotations

import datetime as dt

import pytest

from integrations.providers import PROVIDERS, provider_for
from integrations.providers.base import (
    GROUP_SEPARATOR,
    CursorExpired,
    EventStatus,
    NotFound,
    PermissionDenied,
    RateLimited,
    ReauthRequired,
    TransientError,
)
from integrations.providers.microsoft.provider import MicrosoftProvider
from tests.emulators.microsoft.support import timed, when
from tests.integrations.microsoft.support import ANN, connection_for

WINDOW_START = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
WINDOW_END = dt.datetime(2030, 3, 1, tzinfo=dt.UTC)


def full(client, calendar_id, cursor=None):
    return list(client.list_events(calendar_id, cursor=cursor, window_start=WINDOW_START, window_end=WINDOW_END))


def weekly(count=4, day="2030-01-07"):
    return {
        **timed("Stand-up", day, 9, 10),
        "recurrence": {
            "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
            "range": {"type": "numbered", "startDate": day, "numberOfOccurrences": count},
        },
    }


def test_registered_and_described():
    assert PROVIDERS["microsoft"] is MicrosoftProvider is provider_for("microsoft")
    assert MicrosoftProvider.name == "Outlook / Microsoft 365" and MicrosoftProvider.push is True
    assert MicrosoftProvider.auth == "oauth"


def test_missing_configuration_names_the_settings(settings):
    settings.MICROSOFT_OAUTH_CLIENT_ID = ""
    settings.MICROSOFT_OAUTH_CLIENT_SECRET = ""
    assert MicrosoftProvider.missing_configuration() == ["MICROSOFT_OAUTH_CLIENT_ID", "MICROSOFT_OAUTH_CLIENT_SECRET"]
    settings.MICROSOFT_OAUTH_CLIENT_ID = "id"
    assert MicrosoftProvider.missing_configuration() == ["MICROSOFT_OAUTH_CLIENT_SECRET"]


def test_webhook_and_lifecycle_urls():
    watch = "https://shop.example/api/v1/merchant/integrations/microsoft/calendar/watch"
    assert MicrosoftProvider.lifecycle_url_for(watch).endswith("/microsoft/calendar/lifecycle")
    assert MicrosoftProvider.webhook_usable(watch)
    assert not MicrosoftProvider.webhook_usable("http://shop.example/watch")
    assert not MicrosoftProvider.webhook_usable("http://testserver/watch")
    assert MicrosoftProvider.webhook_usable("http://127.0.0.1:8000/watch")  # the emulator reaches loopback
    assert MicrosoftProvider.notification_path == "/api/v1/merchant/integrations/microsoft/calendar/watch"
    assert MicrosoftProvider.lifecycle_path == "/api/v1/merchant/integrations/microsoft/calendar/lifecycle"


def test_list_calendars_follows_pages(ms, client, settings):
    settings.MICROSOFT_GRAPH_PAGE_SIZE = 2
    for name in ("Work", "Family", "Holidays"):
        ms.add_calendar(ANN, name)
    calendars = client.list_calendars()
    assert [c.summary for c in calendars] == ["Calendar", "Work", "Family", "Holidays"]
    assert [c.primary for c in calendars] == [True, False, False, False]
    assert len(ms.calls("calendars.list")) == 2


def test_full_listing_over_pages_with_deliberate_prefer_headers(ms, client, calendar_id, settings):
    settings.MICROSOFT_GRAPH_PAGE_SIZE = 3
    ms.insert_events(calendar_id, [timed(f"E{n}", f"2030-01-{n + 1:02d}", 9, 10) for n in range(7)])
    pages = full(client, calendar_id)
    assert len(pages) == 3 and [len(p.events) for p in pages] == [3, 3, 1]
    assert all(p.next_cursor is None for p in pages[:-1]) and "$deltatoken=" in pages[-1].next_cursor
    first = pages[0].events[0]
    assert first.start == dt.datetime(2030, 1, 1, 9, tzinfo=dt.UTC) and first.end == dt.datetime(
        2030, 1, 1, 10, tzinfo=dt.UTC
    )
    calls = ms.calls("calendarView.delta")
    assert all(c["headers"]["prefer"] == 'odata.maxpagesize=3, outlook.timezone="UTC"' for c in calls)
    assert calls[0]["query"]["startDateTime"] == ["2030-01-01T00:00:00Z"]
    assert calls[0]["path"].endswith(f"/calendars/{calendar_id}/calendarView/delta".replace("=", "%3D"))


def test_incremental_changes_and_removed_events(ms, client, calendar_id):
    keep = ms.insert_event(calendar_id, timed("Keep", "2030-01-02", 9, 10))
    move = ms.insert_event(calendar_id, timed("Move", "2030-01-03", 9, 10))
    drop = ms.insert_event(calendar_id, timed("Drop", "2030-01-04", 9, 10))
    cursor = full(client, calendar_id)[-1].next_cursor
    added = ms.insert_event(calendar_id, timed("Added", "2030-01-05", 9, 10))
    ms.update_event(calendar_id, move["id"], {"start": when("2030-01-03", 14), "end": when("2030-01-03", 15)})
    ms.delete_event(calendar_id, drop["id"])
    pages = full(client, calendar_id, cursor)
    events = {e.id: e for p in pages for e in p.events}
    assert set(events) == {added["id"], move["id"], drop["id"]} and keep["id"] not in events
    assert events[move["id"]].start == dt.datetime(2030, 1, 3, 14, tzinfo=dt.UTC)
    assert events[drop["id"]].status == EventStatus.CANCELLED and events[drop["id"]].start is None
    assert pages[-1].next_cursor and pages[-1].next_cursor != cursor
    assert full(client, calendar_id, pages[-1].next_cursor)[0].events == []


def test_expired_delta_link_raises_cursor_expired(ms, client, calendar_id):
    ms.insert_event(calendar_id, timed("E", "2030-01-02", 9, 10))
    cursor = full(client, calendar_id)[-1].next_cursor
    for mode in ("SyncStateNotFound", "resyncRequired", "location"):
        ms.configure(expired_delta_mode=mode)
        ms.invalidate_delta_tokens(calendar_id)
        with pytest.raises(CursorExpired):
            full(client, calendar_id, cursor)


def test_series_occurrences_take_the_masters_fields_and_masters_yield_nothing(ms, client, calendar_id):
    master = ms.insert_event(calendar_id, {**weekly(count=3), "showAs": "oof"})
    events = [e for p in full(client, calendar_id) for e in p.events]
    assert len(events) == 3 and all(e.id.startswith(master["id"] + GROUP_SEPARATOR) for e in events)
    assert all(e.kind == "out_of_office" for e in events)
    assert [e.start.day for e in events] == [7, 14, 21]


def test_an_incremental_series_change_replaces_the_series_group(ms, client, calendar_id):
    master = ms.insert_event(calendar_id, weekly(count=4))
    cursor = full(client, calendar_id)[-1].next_cursor
    occurrences = ms.instances(calendar_id, master["id"], "2030-01-01T00:00:00Z", "2030-03-01T00:00:00Z")
    ms.update_event(calendar_id, occurrences[0]["id"], {"start": when("2030-01-07", 15), "end": when("2030-01-07", 16)})
    ms.delete_event(calendar_id, occurrences[1]["id"])
    ms.clear_calls()
    pages = full(client, calendar_id, cursor)
    assert master["id"] in [g for p in pages for g in p.replaced_groups]
    live = [e for p in pages for e in p.events if e.status != EventStatus.CANCELLED]
    assert sorted((e.start.day, e.start.hour) for e in live) == [(7, 15), (21, 9), (28, 9)]
    assert len(ms.calls("events.instances")) == 1


def test_occurrences_without_their_master_in_the_round_fetch_it_once(ms, client, calendar_id):
    ms.configure(delta_includes_masters=False)
    master = ms.insert_event(calendar_id, {**weekly(count=3), "showAs": "free"})
    gone = ms.insert_event(calendar_id, weekly(count=2, day="2030-02-04"))
    cursor_pages = full(client, calendar_id)
    events = [e for p in cursor_pages for e in p.events]
    assert len(events) == 5
    assert [e.transparent for e in events if e.id.startswith(master["id"])] == [True, True, True]
    assert [c["path"].rsplit("/", 1)[-1] for c in ms.calls("events.get")] == [master["id"], gone["id"]]
    ms.delete_event(calendar_id, gone["id"])
    ms.update_event(calendar_id, master["id"], {"showAs": "busy"})
    ms.clear_calls()
    later = [e for p in full(client, calendar_id, cursor_pages[-1].next_cursor) for e in p.events]
    live = [e for e in later if e.status != EventStatus.CANCELLED]
    assert len(live) == 3 and not any(e.transparent for e in live)
    assert len(ms.calls("events.get")) == 1


def test_subscription_create_renew_delete_with_the_validation_handshake(ms, client, calendar_id, receiver):
    channel = client.watch(calendar_id, address=receiver.url, channel_id="ours", token="per-subscription-secret")
    (sub,) = ms.subscriptions()
    assert channel.channel_id == channel.resource_id == sub["id"]
    assert sub["resource"] == f"me/calendars/{calendar_id}/events" and sub["changeType"] == "created,updated,deleted"
    assert sub["clientState"] == "per-subscription-secret" and sub["notificationUrl"] == receiver.url
    assert sub["lifecycleNotificationUrl"] == receiver.url  # no /watch suffix: the same URL
    assert len(receiver.validations) == 2 and all("validationToken=" in v for v in receiver.validations)
    lifetime = channel.expires_at - dt.datetime.now(dt.UTC)
    assert dt.timedelta(minutes=4190) < lifetime <= dt.timedelta(minutes=4200)

    ms.insert_event(calendar_id, timed("E", "2030-01-02", 9, 10))
    assert ms.wait_for_notifications(5)
    assert [i["clientState"] for i in receiver.items()] == ["per-subscription-secret"]

    ms.advance_time(3600)
    renewed = client.renew_channel(channel_id=channel.channel_id, resource_id=channel.resource_id)
    assert renewed.channel_id == channel.channel_id and renewed.expires_at > channel.expires_at - dt.timedelta(
        minutes=1
    )
    assert ms.calls("subscriptions.update")[0]["body"].keys() == {"expirationDateTime"}
    client.stop_channel(channel_id=channel.channel_id, resource_id=channel.resource_id)
    assert ms.subscriptions() == []
    client.stop_channel(channel_id=channel.channel_id, resource_id=channel.resource_id)  # 404: already gone
    with pytest.raises(NotFound):
        client.renew_channel(channel_id=channel.channel_id, resource_id=channel.resource_id)


def test_watch_uses_the_lifecycle_url_beside_watch(ms, client, calendar_id, receiver):
    address = receiver.url.replace("/notify", "/api/v1/merchant/integrations/microsoft/calendar/watch")
    client.watch(calendar_id, address=address, channel_id="x", token="t")
    assert ms.subscriptions()[0]["lifecycleNotificationUrl"].endswith("/microsoft/calendar/lifecycle")


def test_a_shorter_subscription_limit_is_retried_shorter(ms, client, calendar_id, receiver):
    ms.configure(max_subscription_minutes=1440)
    channel = client.watch(calendar_id, address=receiver.url, channel_id="x", token="t")
    assert channel.expires_at - dt.datetime.now(dt.UTC) <= dt.timedelta(minutes=1440)
    assert [c["status"] for c in ms.calls("subscriptions.create")] == [400, 201]


def test_a_failed_validation_is_an_invalid_request(ms, client, calendar_id, receiver):
    from integrations.providers.base import InvalidRequest

    receiver.mode = "wrong"
    with pytest.raises(InvalidRequest):
        client.watch(calendar_id, address=receiver.url, channel_id="x", token="t")


def test_revoke_calls_nothing(ms, client):
    ms.clear_calls()
    assert client.revoke() is None
    assert ms.calls() == []


# --- tokens --------------------------------------------------------------------------------------


def test_an_expiring_token_is_refreshed_first_and_the_rotated_pair_reaches_the_callback(ms, merchant, saved):
    connection = connection_for(merchant, ms, expires_in=60)  # inside the 5-minute margin
    client = MicrosoftProvider.client(connection, on_tokens=saved)
    client.list_calendars()
    client.list_calendars()
    (update,) = saved
    assert update.refresh_token and update.refresh_token != connection.refresh_token
    assert update.access_token != connection.access_token and update.expires_at > dt.datetime.now(dt.UTC)
    (refresh,) = ms.calls("token")
    assert (
        refresh["form"]["grant_type"] == "refresh_token"
        and refresh["form"]["refresh_token"] == connection.refresh_token
    )


def test_a_401_refreshes_once_and_every_refresh_rotates(ms, client, saved, connection):
    ms.expire_access_tokens()
    client.list_calendars()
    ms.expire_access_tokens()
    client.list_calendars()
    assert len(saved) == 2 and len({connection.refresh_token, *(u.refresh_token for u in saved)}) == 3
    second = ms.calls("token")[1]["form"]["refresh_token"]
    assert second == saved[0].refresh_token  # the rotated token is the one used next


def test_a_second_401_is_reauth_required(ms, client):
    ms.inject_fault("calendars.list", status=401, times=2)
    with pytest.raises(ReauthRequired):
        client.list_calendars()
    assert len(ms.calls("token")) == 1


@pytest.mark.parametrize("revoke", ["revoke_grant", "revoke_sessions", "expire_refresh_tokens"])
def test_invalid_grant_is_reauth_required(ms, client, revoke):
    getattr(ms, revoke)(ANN)
    ms.expire_access_tokens()
    with pytest.raises(ReauthRequired, match="invalid_grant"):
        client.list_calendars()


def test_an_unavailable_token_endpoint_is_transient(ms, client):
    ms.expire_access_tokens()
    ms.inject_fault("token", status=503)
    with pytest.raises(TransientError):
        client.list_calendars()


# --- typed errors --------------------------------------------------------------------------------


def test_403_is_permission_denied(ms, merchant):
    connection = connection_for(merchant, ms, scopes=("User.Read",))
    with pytest.raises(PermissionDenied, match="ErrorAccessDenied"):
        MicrosoftProvider.client(connection).list_calendars()


def test_404_is_not_found(ms, client):
    with pytest.raises(NotFound, match="ErrorItemNotFound"):
        full(client, "AAMkNoSuchCalendar")


def test_410_fault_is_cursor_expired(ms, client, calendar_id):
    ms.inject_fault("calendarView.delta", status=410)
    with pytest.raises(CursorExpired):
        full(client, calendar_id)


def test_429_with_a_long_retry_after_is_handed_back(ms, client):
    ms.inject_fault("calendars.list", status=429, retry_after=120)
    with pytest.raises(RateLimited) as caught:
        client.list_calendars()
    assert caught.value.retry_after == 120 and len(ms.calls("calendars.list")) == 1


def test_429_and_503_with_short_retry_after_are_retried_in_the_call(ms, client):
    ms.inject_fault("calendars.list", status=429, retry_after=0)
    ms.inject_fault("calendars.list", status=503, retry_after=0)
    assert [c.summary for c in client.list_calendars()] == ["Calendar"]
    assert [c["status"] for c in ms.calls("calendars.list")] == [429, 503, 200]


def test_5xx_that_persists_is_transient_after_the_attempts(ms, client, settings):
    ms.inject_fault("calendars.list", status=500, times=None)
    with pytest.raises(TransientError, match="generalException"):
        client.list_calendars()
    assert len(ms.calls("calendars.list")) == settings.MICROSOFT_API_MAX_ATTEMPTS


def test_network_failures_and_garbage_are_transient(ms, client):
    ms.inject_fault("calendars.list", kind="disconnect", times=None)
    with pytest.raises(TransientError, match="Could not reach"):
        client.list_calendars()
    ms.clear_faults()
    ms.inject_fault("calendars.list", kind="malformed_json", times=None)
    with pytest.raises(TransientError, match="not JSON"):
        client.list_calendars()


def test_an_empty_page_with_a_next_link_is_followed(ms, client, calendar_id):
    ms.insert_event(calendar_id, timed("E", "2030-01-02", 9, 10))
    ms.inject_fault("calendarView.delta", kind="empty_page")
    pages = full(client, calendar_id)
    assert [len(p.events) for p in pages] == [0, 1] and pages[-1].next_cursor


def test_a_cursor_that_is_not_a_delta_link_of_our_graph_root_is_expired(ms, client, calendar_id):
    ms.clear_calls()
    for cursor in ("not-a-url", "https://attacker.example/v1.0/me/calendarView/delta?$deltatoken=x"):
        with pytest.raises(CursorExpired):
            full(client, calendar_id, cursor)
    assert ms.calls() == []  # the token never left for a foreign host
