"""events.watch / channels.stop and push delivery to a real HTTP receiver."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import time

import pytest
from googleapiclient.errors import HttpError

from tests.emulators.google.conftest import ANN
from tests.emulators.google.support import assert_error_body, assert_schema


def event(day: int = 5) -> dict:
    return {"start": {"dateTime": f"2030-01-{day:02d}T10:00:00Z"}, "end": {"dateTime": f"2030-01-{day:02d}T11:00:00Z"}}


def watch(service, address, channel_id="chan-1", calendar_id="primary", **body):
    return (
        service.events()
        .watch(calendarId=calendar_id, body={"id": channel_id, "type": "web_hook", "address": address, **body})
        .execute()
    )


def test_watch_answer(emu, service, receiver):
    before = int(time.time() * 1000)
    channel = watch(service, receiver.url, token="route=merchant-7")
    assert_schema(channel, "Channel")
    assert channel["kind"] == "api#channel" and channel["id"] == "chan-1"
    assert channel["token"] == "route=merchant-7"
    assert isinstance(channel["expiration"], str)
    assert abs(int(channel["expiration"]) - before - 604800 * 1000) < 60_000  # default ttl: 7 days
    assert channel["resourceUri"].startswith(emu.api_root + "calendar/v3/calendars/primary/events?alt=json")
    second = watch(service, receiver.url, channel_id="chan-2", calendar_id=ANN, params={"ttl": "3600"})
    assert second["resourceId"] == channel["resourceId"]  # one resource id per calendar
    assert abs(int(second["expiration"]) - before - 3600 * 1000) < 60_000
    emu.add_calendar(ANN, calendar_id="team@group.calendar.google.com")
    other = watch(service, receiver.url, channel_id="chan-3", calendar_id="team@group.calendar.google.com")
    assert other["resourceId"] != channel["resourceId"]
    assert {c["id"] for c in emu.channels()} == {"chan-1", "chan-2", "chan-3"}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"type": "web_hook", "address": "https://example.com/hook"}, "required"),  # no id
        ({"id": "c", "address": "https://example.com/hook"}, "required"),  # no type
        ({"id": "c", "type": "email", "address": "https://example.com/hook"}, "invalid"),
        ({"id": "c", "type": "web_hook"}, "required"),  # no address
        ({"id": "c", "type": "web_hook", "address": "http://example.com/hook"}, "push.webhookUrlNotHttps"),
        ({"id": "c" * 65, "type": "web_hook", "address": "https://example.com/hook"}, "invalid"),
        ({"id": "c", "type": "webhook", "address": "https://example.com/hook", "params": {"ttl": "soon"}}, "invalid"),
    ],
)
def test_watch_validation(emu, service, body, reason):
    with pytest.raises(HttpError) as caught:
        service.events().watch(calendarId="primary", body=body).execute()
    assert_error_body(caught.value.content, 400, reason)


def test_http_is_accepted_on_loopback_hosts_only(emu, service):
    # Deviation from Google (https only): tests and the demo run on plain http.
    emu.set_notifications_enabled(False)  # nobody listens at these addresses
    for number, address in enumerate(["http://127.0.0.1:1/x", "http://localhost:1/x", "http://testserver/x"]):
        assert watch(service, address, channel_id=f"c{number}")["id"] == f"c{number}"
    assert watch(service, "https://hooks.example.com/x", channel_id="tls")["id"] == "tls"


def test_channel_ids_must_be_unique(emu, service, receiver):
    watch(service, receiver.url)
    with pytest.raises(HttpError) as caught:
        watch(service, receiver.url)
    assert_error_body(caught.value.content, 400, "channelIdNotUnique")


def test_sync_then_exists_with_google_headers(emu, service, receiver):
    channel = watch(service, receiver.url, token="t-1")
    assert emu.wait_for_notifications(5)
    emu.insert_event(ANN, event())
    emu.insert_event(ANN, event(6))
    assert emu.wait_for_notifications(5)
    assert receiver.states() == ["sync", "exists", "exists"]
    numbers = receiver.numbers()
    assert numbers[0] == 1 and numbers == sorted(numbers) and len(set(numbers)) == 3
    headers = receiver.requests[1]["headers"]
    assert headers["X-Goog-Channel-ID"] == "chan-1"
    assert headers["X-Goog-Channel-Token"] == "t-1"
    assert headers["X-Goog-Resource-ID"] == channel["resourceId"]
    assert headers["X-Goog-Resource-URI"] == channel["resourceUri"]
    assert headers["User-Agent"].startswith("APIs-Google")
    expires = email.utils.parsedate_to_datetime(headers["X-Goog-Channel-Expiration"])
    assert expires == dt.datetime.fromtimestamp(int(channel["expiration"]) // 1000, dt.UTC)
    assert headers["X-Goog-Channel-Expiration"].endswith(" GMT")
    assert receiver.requests[1]["body"] == b"" and receiver.requests[1]["path"] == "/hook"


def test_no_token_header_without_a_channel_token(emu, service, receiver):
    watch(service, receiver.url)
    assert emu.wait_for_notifications(5)
    assert "X-Goog-Channel-Token" not in receiver.requests[0]["headers"]


def test_other_calendars_do_not_notify(emu, service, receiver):
    emu.add_calendar(ANN, calendar_id="team@group.calendar.google.com")
    watch(service, receiver.url)
    emu.insert_event("team@group.calendar.google.com", event())
    assert emu.wait_for_notifications(5)
    assert receiver.states() == ["sync"]


def test_bulk_insert_notifies_once(emu, service, receiver):
    watch(service, receiver.url)
    emu.insert_events(ANN, [event(day) for day in range(1, 20)])
    assert emu.wait_for_notifications(5)
    assert receiver.states() == ["sync", "exists"]


def test_delivery_does_not_block_the_change(emu, service, receiver):
    watch(service, receiver.url)
    assert emu.wait_for_notifications(5)
    receiver.gate.clear()  # the receiver now hangs until released
    receiver.entered.clear()
    emu.insert_event(ANN, event())
    assert receiver.entered.wait(5)  # delivery started in the background...
    assert service.events().list(calendarId="primary").execute()["items"]  # ...while the API keeps answering
    receiver.gate.set()
    assert emu.wait_for_notifications(5)
    assert receiver.states() == ["sync", "exists"]


def test_retries_on_5xx_and_drops_on_other_errors(emu, service, receiver):
    watch(service, receiver.url)
    assert emu.wait_for_notifications(5)
    receiver.statuses[:] = [503, 500, 200]
    emu.insert_event(ANN, event())
    assert emu.wait_for_notifications(5)
    assert [r["status"] for r in receiver.requests[1:]] == [503, 500, 200]
    assert len({r["headers"]["X-Goog-Message-Number"] for r in receiver.requests[1:]}) == 1  # the same message
    receiver.statuses[:] = [404]
    emu.insert_event(ANN, event(6))
    assert emu.wait_for_notifications(5)
    assert [r["status"] for r in receiver.requests[4:]] == [404]  # not retried
    outcomes = [n["outcome"] for n in emu.notifications()]
    assert outcomes == ["delivered", "retrying", "retrying", "delivered", "dropped"]


def test_notifications_can_be_switched_off(emu, service, receiver):
    watch(service, receiver.url)
    assert emu.wait_for_notifications(5)
    emu.set_notifications_enabled(False)
    emu.insert_event(ANN, event())
    emu.set_notifications_enabled(True)
    emu.insert_event(ANN, event(6))
    assert emu.wait_for_notifications(5)
    assert receiver.states() == ["sync", "exists"]
    assert receiver.numbers()[1] > 2  # the dropped message still used a number


def test_stop(emu, service, receiver):
    channel = watch(service, receiver.url)
    assert emu.wait_for_notifications(5)
    assert service.channels().stop(body={"id": channel["id"], "resourceId": channel["resourceId"]}).execute() == ""
    assert emu.calls("channels.stop")[0]["status"] == 204
    emu.insert_event(ANN, event())
    assert emu.wait_for_notifications(5)
    assert receiver.states() == ["sync"]
    assert emu.channels()[0]["stopped"] is True
    with pytest.raises(HttpError) as caught:
        service.channels().stop(body={"id": channel["id"], "resourceId": channel["resourceId"]}).execute()
    error = assert_error_body(caught.value.content, 404, "notFound")
    assert error["message"] == f"Channel '{channel['id']}' not found for project '{emu.project_number}'"


def test_expired_channels_stop_notifying(emu, service, receiver):
    watch(service, receiver.url, params={"ttl": "60"})
    assert emu.wait_for_notifications(5)
    emu.advance_time(120)
    emu.insert_event(ANN, event())
    assert emu.wait_for_notifications(5)
    assert receiver.states() == ["sync"]
    assert emu.channels()[0]["expired"] is True


def test_unroutable_test_client_host_can_use_a_sender(emu, service):
    emu.pause_notifications()
    watch(service, "http://testserver/api/v1/merchant/integrations/google/calendar/watch")
    emu.insert_event(ANN, event())
    seen = []
    entries = emu.deliver_notifications(lambda address, headers: seen.append((address, headers)) or 200)
    assert [e["outcome"] for e in entries] == ["delivered", "delivered"]
    assert [h["X-Goog-Resource-State"] for _, h in seen] == ["sync", "exists"]
    assert json.loads(json.dumps(emu.notifications()))


def test_unreachable_address_is_dropped_without_retries(emu, service):
    emu.pause_notifications()
    watch(service, "http://127.0.0.1:9/unreachable")
    entries = emu.deliver_notifications()
    assert [(e["outcome"], e["status"]) for e in entries] == [("dropped", None)]
    assert entries[0]["error"]
