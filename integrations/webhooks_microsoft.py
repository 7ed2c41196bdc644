"""Microsoft Graph change and lifecycle notifications (SPEC §8.1).

Both endpoints answer a ``?validationToken=`` with 200 ``text/plain`` echoing it (Graph's
handshake when a subscription is created or renewed, answered at once). Every other request
answers 202 with an empty body, whatever it holds: never a 5xx, or Graph retries and then
drops the subscription. An item counts only when its ``subscriptionId`` is one of our active
channels and its ``clientState`` equals that subscription's secret (constant-time); it then
requests an incremental sync, coalesced exactly like Google's pushes (a burst costs at most
two syncs). Lifecycle items: ``reauthorizationRequired`` renews the subscription,
``subscriptionRemoved`` opens a new one, ``missed`` requests a sync. Forgeries are logged
through the shared rate-limited log (one line per kind per minute). The notification POSTs
are served by ``webhooks.WebhookMiddleware``, and an active subscription's row comes from the
same per-process memory as Google's channels (``webhooks.channel_row``): a change notification
costs its JSON parse, no query while the row is remembered, and one Redis round trip per
calendar. Lifecycle notifications (rare, and they change the channel) read it afresh.
https://learn.microsoft.com/en-us/graph/change-notifications-delivery-webhooks
https://learn.microsoft.com/en-us/graph/change-notifications-lifecycle-events
"""

from __future__ import annotations

import hmac
import json
import logging

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from integrations.models import SyncRun, WatchChannel
from integrations.webhooks import channel_row, forged_log, held_channels_forget

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_000_000  # Graph batches at most a few hundred items; anything larger is not Graph
MAX_ITEMS = 1000


def _validation(request) -> HttpResponse | None:
    token = request.GET.get("validationToken")
    if token is None:
        return None
    return HttpResponse(token[:10_000], status=200, content_type="text/plain; charset=utf-8")


def _items(request) -> list[dict]:
    if len(request.body) > MAX_BODY_BYTES:
        forged_log.warning("ms_too_large", "Graph notification body over %s bytes ignored", MAX_BODY_BYTES)
        return []
    try:
        payload = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        forged_log.warning("ms_not_json", "Graph notification that is not JSON ignored")
        return []
    items = payload.get("value") if isinstance(payload, dict) else None
    if not isinstance(items, list):
        forged_log.warning("ms_no_value", "Graph notification without a value list ignored")
        return []
    return [item for item in items[:MAX_ITEMS] if isinstance(item, dict)]


def _channel_for(item: dict, *, fresh: bool = False) -> dict | None:
    """Our active subscription's row (``webhooks.channel_row``) named by ``item``, when its
    ``clientState`` is that subscription's."""
    subscription_id = item.get("subscriptionId")
    if not isinstance(subscription_id, str) or not subscription_id:
        forged_log.warning("ms_no_subscription", "Graph notification without a subscription id ignored")
        return None
    channel = channel_row(subscription_id[:64], fresh=fresh)
    if (
        channel is None
        or channel["status"] != WatchChannel.Status.ACTIVE
        or channel["calendar__connection__provider"] != "microsoft"
    ):
        forged_log.warning("ms_unknown_subscription", "Graph notification for an unknown subscription ignored")
        return None
    state = item.get("clientState")
    if not isinstance(state, str) or not hmac.compare_digest(state.encode(), (channel["token"] or "").encode()):
        forged_log.warning("ms_wrong_client_state", "Graph notification with a wrong clientState ignored")
        return None
    return channel


def _sync(channel: dict) -> None:
    from integrations.services.sync import calendar_sync_request

    calendar_sync_request(calendar_id=channel["calendar_id"], trigger=SyncRun.Trigger.NOTIFICATION)


@csrf_exempt
def microsoft_calendar_watch(request):
    validation = _validation(request)
    if validation is not None:
        return validation
    if request.method == "POST":
        try:
            synced = set()
            for item in _items(request):
                channel = _channel_for(item)
                if channel is not None and channel["calendar_id"] not in synced:
                    synced.add(channel["calendar_id"])  # one request per calendar per batch
                    _sync(channel)
        except Exception:
            logger.exception("Graph change notification handling failed")
    return HttpResponse(status=202)


@csrf_exempt
def microsoft_calendar_lifecycle(request):
    validation = _validation(request)
    if validation is not None:
        return validation
    if request.method == "POST":
        try:
            for item in _items(request):
                channel = _channel_for(item, fresh=True)
                if channel is not None:
                    _lifecycle(channel, str(item.get("lifecycleEvent", "")))
        except Exception:
            logger.exception("Graph lifecycle notification handling failed")
    return HttpResponse(status=202)


def _lifecycle(channel: dict, event: str) -> None:
    from integrations.tasks import calendar_watch_task, watch_channel_renew_task

    if event == "reauthorizationRequired":
        watch_channel_renew_task.delay(channel["pk"])
    elif event == "subscriptionRemoved":
        WatchChannel.objects.filter(pk=channel["pk"]).update(status=WatchChannel.Status.STOPPED)
        held_channels_forget(channel["channel_id"])
        calendar_watch_task.delay(channel["calendar_id"])
        _sync(channel)  # changes may have happened while it was gone
    elif event == "missed":
        _sync(channel)
    else:
        logger.info("Graph lifecycle event %r on subscription %s ignored", event[:40], channel["channel_id"])
