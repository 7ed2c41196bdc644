"""Graph ``/subscriptions``: create (with the validation handshake), list, get, renew, delete,
reauthorize; and the notifications they cause.

https://learn.microsoft.com/en-us/graph/api/subscription-post-subscriptions
https://learn.microsoft.com/en-us/graph/change-notifications-delivery-webhooks
https://learn.microsoft.com/en-us/graph/change-notifications-lifecycle-events
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from urllib.parse import urlsplit

from .errors import GraphError, bad_request
from .notify import validate_endpoint
from .state import Account, Subscription, new_guid
from .timeutil import parse_instant
from .wire import Request, Response

CHANGE_TYPES = {"created", "updated", "deleted"}
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "testserver"}
VALIDATION_FAILED = (
    "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request."
)
_RESOURCE = re.compile(r"^/?(?:me|users/[^/]+)(?:/calendars/(?P<cal>[^/]+)|/calendar)?/events/?$", re.IGNORECASE)


def _not_found() -> GraphError:
    return GraphError(404, "ResourceNotFound", "The object was not found.")


def _check_url(emu, url, name: str) -> None:
    parts = urlsplit(url or "")
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and emu.allow_http_loopback and (parts.hostname or "") in LOOPBACK_HOSTS:
        return
    raise bad_request(f"The {name} must be an HTTPS URL.", "InvalidRequest")


def _expiration(emu, value) -> dt.datetime:
    if not value:
        raise bad_request("expirationDateTime is required.", "InvalidRequest")
    try:
        when = parse_instant(str(value))
    except ValueError:
        raise bad_request(f"Invalid expirationDateTime {value!r}.", "InvalidRequest") from None
    now = emu.clock.now_dt()
    if when <= now:
        raise bad_request("Subscription expiration time must be in the future.", "InvalidRequest")
    if when > now + dt.timedelta(minutes=emu.max_subscription_minutes):
        raise bad_request(
            f"Subscription expiration can only be {emu.max_subscription_minutes} minutes in the future.",
            "ExtensionError",
        )
    return when


def _calendar_for(emu, account: Account, resource: str) -> str:
    match = _RESOURCE.match(resource or "")
    if not match:
        raise bad_request(f"Resource '{resource}' is not supported for change notifications.", "ExtensionError")
    calendar_id = match.group("cal")
    if calendar_id is None:
        default = next((c for c in account.calendar_ids if emu.state.calendars[c].is_default), None)
        if default is None:
            raise _not_found()
        return default
    if calendar_id not in account.calendar_ids:
        raise GraphError(404, "ExtensionError", f"Resource '{resource}' was not found.")
    return calendar_id


def _live(emu, subscription_id: str, account: Account, client_id: str) -> Subscription:
    sub = emu.state.subscriptions.get(subscription_id)
    if sub is not None and sub.expiration <= emu.clock.now_dt():
        emu.state.subscriptions.pop(subscription_id, None)  # Graph deletes expired subscriptions
        sub = None
    if sub is None or sub.email != account.email or sub.client_id != client_id:
        raise _not_found()
    return sub


def _validate(emu, url: str) -> None:
    """The handshake, outside the emulator's lock; raises the 400 Graph answers on failure."""
    problem = validate_endpoint(
        url,
        secrets.token_urlsafe(48),
        sender=emu.dispatcher.sender,
        timeout=emu.validation_timeout,
        require_text_plain=emu.validation_requires_text_plain,
    )
    with emu.lock:
        emu.record_validation(url, problem)
    if problem is not None:
        raise bad_request(VALIDATION_FAILED, "ValidationError")


def create(emu, req: Request, account: Account, client_id: str) -> Response:
    body = req.json()
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.", "InvalidRequest")
    with emu.lock:
        change_types = [c.strip() for c in str(body.get("changeType") or "").split(",") if c.strip()]
        if not change_types or set(change_types) - CHANGE_TYPES:
            raise bad_request(
                "changeType must be a comma-separated list of created, updated, deleted.", "InvalidRequest"
            )
        _check_url(emu, body.get("notificationUrl"), "notificationUrl")
        if body.get("lifecycleNotificationUrl"):
            _check_url(emu, body["lifecycleNotificationUrl"], "lifecycleNotificationUrl")
        client_state = body.get("clientState")
        if client_state is not None and len(str(client_state)) > 128:
            raise bad_request("clientState must be at most 128 characters.", "InvalidRequest")
        calendar_id = _calendar_for(emu, account, str(body.get("resource") or ""))
        expiration = _expiration(emu, body.get("expirationDateTime"))
        mine = [s for s in emu.state.subscriptions.values() if s.email == account.email]
        if len(mine) >= emu.max_subscriptions_per_mailbox:
            raise GraphError(
                403,
                "ExtensionError",
                "Operation: Create; Exception: [Status Code: Forbidden; Reason: The number of subscriptions for "
                "this mailbox has reached its limit.]",
            )
    for url in filter(None, (body["notificationUrl"], body.get("lifecycleNotificationUrl"))):
        _validate(emu, url)
    sub = Subscription(
        id=new_guid(),
        resource=str(body["resource"]),
        calendar_id=calendar_id,
        email=account.email,
        client_id=client_id,
        change_types=change_types,
        notification_url=body["notificationUrl"],
        lifecycle_url=body.get("lifecycleNotificationUrl") or None,
        client_state=client_state,
        expiration=expiration,
        created=emu.clock.now(),
        tls_version=body.get("latestSupportedTlsVersion") or "v1_2",
        email_oid=account.oid,
    )
    with emu.lock:
        emu.state.subscriptions[sub.id] = sub
        return Response.json(201, sub.as_json())


def list_(emu, req: Request, account: Account, client_id: str) -> Response:
    now = emu.clock.now_dt()
    value = [
        s.as_json()
        for s in emu.state.subscriptions.values()
        if s.email == account.email and s.client_id == client_id and s.expiration > now
    ]
    for item in value:
        item.pop("@odata.context", None)
    return Response.json(200, {"@odata.context": f"{emu.graph_root}$metadata#subscriptions", "value": value})


def get(emu, req: Request, account: Account, client_id: str, subscription_id: str) -> Response:
    return Response.json(200, _live(emu, subscription_id, account, client_id).as_json())


def update(emu, req: Request, account: Account, client_id: str, subscription_id: str) -> Response:
    body = req.json()
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.", "InvalidRequest")
    with emu.lock:
        sub = _live(emu, subscription_id, account, client_id)
        if "notificationUrl" in body:
            _check_url(emu, body["notificationUrl"], "notificationUrl")
        expiration = (
            _expiration(emu, body.get("expirationDateTime")) if "expirationDateTime" in body else sub.expiration
        )
        url = body.get("notificationUrl", sub.notification_url)
    if emu.revalidate_on_renew:
        _validate(emu, url)
    with emu.lock:
        sub = _live(emu, subscription_id, account, client_id)
        sub.expiration, sub.notification_url = expiration, url
        return Response.json(200, sub.as_json())


def delete(emu, req: Request, account: Account, client_id: str, subscription_id: str) -> Response:
    sub = _live(emu, subscription_id, account, client_id)
    emu.state.subscriptions.pop(sub.id, None)
    return Response(204)


def reauthorize(emu, req: Request, account: Account, client_id: str, subscription_id: str) -> Response:
    _live(emu, subscription_id, account, client_id)
    return Response(204)


def change_item(sub: Subscription, tenant_id: str, change_type: str, event_id: str, etag: str) -> dict:
    resource = f"Users/{sub.email_oid}/Events/{event_id}"
    from .timeutil import subscription_instant

    return {
        "subscriptionId": sub.id,
        "subscriptionExpirationDateTime": subscription_instant(sub.expiration),
        "changeType": change_type,
        "resource": resource,
        "resourceData": {
            "@odata.type": "#Microsoft.Graph.Event",
            "@odata.id": resource,
            "@odata.etag": etag,
            "id": event_id,
        },
        "clientState": sub.client_state,
        "tenantId": tenant_id,
    }


def lifecycle_item(sub: Subscription, tenant_id: str, event: str) -> dict:
    from .timeutil import subscription_instant

    return {
        "subscriptionId": sub.id,
        "subscriptionExpirationDateTime": subscription_instant(sub.expiration),
        "tenantId": tenant_id,
        "clientState": sub.client_state,
        "lifecycleEvent": event,
    }
