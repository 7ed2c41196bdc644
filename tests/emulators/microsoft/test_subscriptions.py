"""Subscriptions: creation with the validation handshake, limits, renewal, deletion, change and
lifecycle notifications delivered to a webhook the test serves, with retries."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.emulators.microsoft.conftest import ANN, graph_session
from tests.emulators.microsoft.support import SUBSCRIPTION, shape_errors, timed


def expiry(emu, minutes: int = 4200) -> str:
    return (emu.clock.now_dt() + dt.timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")


def subscribe(graph, emu, receiver, calendar_id, **overrides):
    body = {
        "changeType": "created,updated,deleted",
        "notificationUrl": receiver.url,
        "lifecycleNotificationUrl": receiver.lifecycle_url,
        "resource": f"me/calendars/{calendar_id}/events",
        "expirationDateTime": expiry(emu),
        "clientState": "secret-state-1",
        "latestSupportedTlsVersion": "v1_2",
        **overrides,
    }
    return graph.post(emu.graph_root + "subscriptions", json=body)


def test_create_validates_both_urls_and_answers_201_with_the_documented_shape(emu, graph, receiver, calendar_id):
    created = subscribe(graph, emu, receiver, calendar_id)
    assert created.status_code == 201, created.text
    sub = created.json()
    assert shape_errors(sub, SUBSCRIPTION) == []
    assert sub["clientState"] == "secret-state-1" and sub["resource"] == f"me/calendars/{calendar_id}/events"
    assert [v.split("?")[0] for v in receiver.validations] == ["/notify", "/lifecycle"]
    assert all("validationToken=" in v for v in receiver.validations)
    assert [v["ok"] for v in emu.validations()] == [True, True]


@pytest.mark.parametrize("mode", ["wrong", "json", "error"])
def test_a_wrong_validation_answer_fails_creation_with_400(emu, graph, receiver, calendar_id, mode):
    receiver.mode = mode
    created = subscribe(graph, emu, receiver, calendar_id)
    assert created.status_code == 400
    assert created.json()["error"]["message"].startswith("Subscription validation request failed.")
    assert emu.subscriptions() == []


def test_an_unreachable_endpoint_fails_validation(emu, graph, calendar_id):
    created = graph.post(
        emu.graph_root + "subscriptions",
        json={
            "changeType": "updated",
            "notificationUrl": "http://127.0.0.1:9/notify",
            "resource": f"me/calendars/{calendar_id}/events",
            "expirationDateTime": expiry(emu),
        },
    )
    assert created.status_code == 400 and "validation" in created.json()["error"]["message"]


def test_limits_on_expiration_urls_resource_and_client_state(emu, graph, receiver, calendar_id):
    too_long = subscribe(graph, emu, receiver, calendar_id, expirationDateTime=expiry(emu, 10081))
    assert too_long.status_code == 400 and too_long.json()["error"]["code"] == "ExtensionError"
    assert "10080 minutes" in too_long.json()["error"]["message"]
    emu.configure(max_subscription_minutes=4230)
    assert subscribe(graph, emu, receiver, calendar_id, expirationDateTime=expiry(emu, 4300)).status_code == 400
    assert subscribe(graph, emu, receiver, calendar_id, expirationDateTime=expiry(emu, -5)).status_code == 400
    plain = subscribe(graph, emu, receiver, calendar_id, notificationUrl="http://example.com/notify")
    assert plain.status_code == 400 and "HTTPS" in plain.json()["error"]["message"]
    single = subscribe(graph, emu, receiver, calendar_id, resource=f"me/calendars/{calendar_id}/events/AAMkx")
    assert single.status_code == 400
    assert subscribe(graph, emu, receiver, calendar_id, clientState="x" * 129).status_code == 400
    assert subscribe(graph, emu, receiver, calendar_id, changeType="moved").status_code == 400
    assert subscribe(graph, emu, receiver, calendar_id, resource="me/events").status_code == 201


def test_subscriptions_need_calendars_read(emu, receiver, calendar_id):
    basic = graph_session(emu, scopes=["Calendars.ReadBasic"])
    assert subscribe(basic, emu, receiver, calendar_id).status_code == 403
    emu.configure(readbasic_allows_subscriptions=True)
    assert subscribe(basic, emu, receiver, calendar_id).status_code == 201


def test_changes_notify_with_client_state_and_resource(emu, graph, receiver, calendar_id):
    sub = subscribe(graph, emu, receiver, calendar_id).json()
    event = emu.insert_event(calendar_id, timed("New", "2030-01-02", 9, 10))
    emu.update_event(calendar_id, event["id"], {"showAs": "free"})
    emu.delete_event(calendar_id, event["id"])
    assert emu.wait_for_notifications(5)
    items = receiver.items("/notify")
    assert [i["changeType"] for i in items] == ["created", "updated", "deleted"]
    oid = emu.add_account(ANN)["oid"]
    first = items[0]
    assert first["subscriptionId"] == sub["id"] and first["clientState"] == "secret-state-1"
    assert first["resource"] == f"Users/{oid}/Events/{event['id']}"
    assert (
        first["resourceData"]["id"] == event["id"] and first["resourceData"]["@odata.type"] == "#Microsoft.Graph.Event"
    )
    assert first["tenantId"] == emu.add_account(ANN)["tid"]


def test_bulk_inserts_batch_notifications_and_other_calendars_stay_quiet(emu, graph, receiver, calendar_id):
    subscribe(graph, emu, receiver, calendar_id)
    other = emu.add_calendar(ANN, "Other")["id"]
    emu.insert_events(calendar_id, [timed(f"E{n}", "2030-01-02", 9, 10) for n in range(3)])
    emu.insert_event(other, timed("Elsewhere", "2030-01-02", 9, 10))
    assert emu.wait_for_notifications(5)
    assert len(receiver.notifications) == 1 and len(receiver.items()) == 3


def test_failed_deliveries_are_retried(emu, graph, receiver, calendar_id):
    subscribe(graph, emu, receiver, calendar_id)
    receiver.fail_next = 2
    emu.insert_event(calendar_id, timed("E", "2030-01-02", 9, 10))
    assert emu.wait_for_notifications(5)
    assert receiver.statuses == [500, 500, 202]
    assert [n["outcome"] for n in emu.notifications()] == ["retrying", "retrying", "delivered"]


def test_renew_reauthorize_list_and_delete(emu, graph, receiver, calendar_id):
    sub = subscribe(graph, emu, receiver, calendar_id).json()
    later = expiry(emu, 6000)
    renewed = graph.patch(emu.graph_root + f"subscriptions/{sub['id']}", json={"expirationDateTime": later})
    assert renewed.status_code == 200 and renewed.json()["expirationDateTime"].startswith(later[:19])
    assert len(receiver.validations) == 2  # renewal does not re-validate by default
    emu.configure(revalidate_on_renew=True)
    receiver.mode = "wrong"
    assert (
        graph.patch(emu.graph_root + f"subscriptions/{sub['id']}", json={"expirationDateTime": later}).status_code
        == 400
    )
    assert graph.post(emu.graph_root + f"subscriptions/{sub['id']}/reauthorize").status_code == 204
    listed = graph.get(emu.graph_root + "subscriptions").json()["value"]
    assert [s["id"] for s in listed] == [sub["id"]]
    assert graph.delete(emu.graph_root + f"subscriptions/{sub['id']}").status_code == 204
    again = graph.delete(emu.graph_root + f"subscriptions/{sub['id']}")
    assert again.status_code == 404 and again.json()["error"]["code"] == "ResourceNotFound"


def test_expired_subscriptions_stop_notifying_and_are_gone(emu, graph, receiver, calendar_id):
    sub = subscribe(graph, emu, receiver, calendar_id, expirationDateTime=expiry(emu, 60)).json()
    emu.advance_time(3601)
    emu.insert_event(calendar_id, timed("E", "2030-01-02", 9, 10))
    assert emu.wait_for_notifications(5)
    assert receiver.items() == []
    tokens = graph_session(emu)
    assert tokens.get(emu.graph_root + f"subscriptions/{sub['id']}").status_code == 404


@pytest.mark.parametrize("event", ["reauthorizationRequired", "subscriptionRemoved", "missed"])
def test_lifecycle_notifications_on_demand(emu, graph, receiver, calendar_id, event):
    sub = subscribe(graph, emu, receiver, calendar_id).json()
    assert emu.send_lifecycle_notification(sub["id"], event)
    assert emu.wait_for_notifications(5)
    (item,) = receiver.items("/lifecycle")
    assert item["lifecycleEvent"] == event and item["subscriptionId"] == sub["id"]
    assert item["clientState"] == "secret-state-1" and "changeType" not in item
    assert (graph.get(emu.graph_root + f"subscriptions/{sub['id']}").status_code == 404) == (
        event == "subscriptionRemoved"
    )


def test_revoked_consent_sends_reauthorization_required(emu, graph, receiver, calendar_id):
    subscribe(graph, emu, receiver, calendar_id)
    emu.revoke_grant(ANN)
    assert emu.wait_for_notifications(5)
    assert [i["lifecycleEvent"] for i in receiver.items("/lifecycle")] == ["reauthorizationRequired"]


def test_notifications_can_be_switched_off_and_delivered_through_a_sender(emu, graph, receiver, calendar_id):
    subscribe(graph, emu, receiver, calendar_id)
    emu.set_notifications_enabled(False)
    emu.insert_event(calendar_id, timed("Dropped", "2030-01-02", 9, 10))
    emu.set_notifications_enabled(True)
    emu.pause_notifications()
    emu.insert_event(calendar_id, timed("Held", "2030-01-02", 9, 10))
    seen = []
    entries = emu.deliver_notifications(lambda url, headers, body: seen.append((url, body)) or (202, "", ""))
    assert [e["outcome"] for e in entries] == ["delivered"] and len(seen) == 1 and receiver.items() == []


def test_a_slow_handshake_does_not_hold_up_other_requests(emu, graph, receiver, calendar_id):
    import threading

    receiver.mode = "hold"
    results = {}
    creating = threading.Thread(target=lambda: results.update(created=subscribe(graph, emu, receiver, calendar_id)))
    creating.start()
    try:
        assert receiver.validation_started.wait(5)
        other = graph_session(emu)
        assert other.get(emu.graph_root + "me", timeout=5).status_code == 200  # served while validating
    finally:
        receiver.release.set()
        creating.join(10)
    assert results["created"].status_code == 201


def test_testserver_urls_validate_and_deliver_through_a_sender(emu, graph, calendar_id):
    from urllib.parse import parse_qs, urlsplit

    seen = []

    def sender(url, headers, body):
        seen.append((url, headers["Content-Type"]))
        token = parse_qs(urlsplit(url).query).get("validationToken")
        return (200, "text/plain", token[0]) if token else 202

    plain = {
        "changeType": "created",
        "notificationUrl": "http://testserver/api/v1/merchant/integrations/microsoft/calendar/watch",
        "resource": f"me/calendars/{calendar_id}/events",
        "expirationDateTime": expiry(emu),
    }
    assert graph.post(emu.graph_root + "subscriptions", json=plain).status_code == 400  # no sender: unreachable
    emu.set_notification_sender(sender)
    assert graph.post(emu.graph_root + "subscriptions", json=plain).status_code == 201
    emu.insert_event(calendar_id, timed("E", "2030-01-02", 9, 10))
    assert emu.wait_for_notifications(5)
    assert [kind for _, kind in seen] == ["text/plain; charset=utf-8", "application/json; charset=utf-8"]
    assert emu.notifications()[-1]["outcome"] == "delivered"
