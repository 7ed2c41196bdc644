"""Google's push notifications for watched calendars (SPEC §3, §5).

Google POSTs an empty body with ``X-Goog-*`` headers; the answer is always 200 with an
empty body, whatever happens (Google retries 5xx, and a forger learns nothing). A
notification counts only when its channel id is one we opened, its channel token equals
ours (constant-time comparison) and its resource id is the one the channel was opened
on. ``sync`` (the channel's first message) does nothing; ``exists``, ``not_exists`` and
``update`` request an incremental sync, coalesced so a burst costs at most two syncs;
a redelivered or late message (a number not above the channel's highest) requests nothing.
A notification on a channel we no longer hold gets that channel stopped at Google.
Anything else triggers nothing and is logged. Cost: one indexed query and four small
cache operations (plus queuing a task when none is pending).
https://developers.google.com/calendar/api/guides/push#receiving-notifications
"""

from __future__ import annotations

import hmac
import logging

from django.core.cache import cache
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from integrations.models import CalendarConnection, SyncRun, WatchChannel

logger = logging.getLogger(__name__)

SEEN_TTL_SECONDS = 32 * 24 * 3600  # longer than any channel lives
CHANGE_STATES = frozenset({"exists", "not_exists", "update"})
_HELD_CONNECTION_STATUSES = frozenset({CalendarConnection.Status.ACTIVE, CalendarConnection.Status.ERROR})


@csrf_exempt
def google_calendar_watch(request):
    if request.method == "POST":
        try:
            _notification_handle(request.headers)
        except Exception:
            logger.exception("push notification handling failed")
    return HttpResponse(status=200)


def _notification_handle(headers) -> None:
    channel_id = headers.get("X-Goog-Channel-Id", "")
    state = headers.get("X-Goog-Resource-State", "")
    if not channel_id:
        logger.warning("push notification without a channel id ignored")
        return
    channel = (
        WatchChannel.objects.filter(channel_id=channel_id[:64])
        .values(
            "pk",
            "calendar_id",
            "token",
            "resource_id",
            "status",
            "calendar__selected",
            "calendar__connection__status",
        )
        .first()
    )
    if channel is None:
        logger.warning("push notification for unknown channel %r (state %r) ignored", channel_id[:64], state[:32])
        return
    token = headers.get("X-Goog-Channel-Token", "")
    if not hmac.compare_digest(token.encode(), (channel["token"] or "").encode()):
        logger.warning("push notification for channel %s with a wrong token ignored", channel["pk"])
        return
    if headers.get("X-Goog-Resource-Id", "") != channel["resource_id"]:
        logger.warning("push notification for channel %s with a mismatched resource id ignored", channel["pk"])
        return
    held = (
        channel["status"] == WatchChannel.Status.ACTIVE
        and channel["calendar__selected"]
        and channel["calendar__connection__status"] in _HELD_CONNECTION_STATUSES
    )
    if not held:
        from integrations.tasks import watch_channel_stop_stale_task

        logger.info("push notification on channel %s we no longer hold: stopping it", channel["pk"])
        watch_channel_stop_stale_task.delay(channel["pk"])
        return
    if state == "sync":
        return
    if state not in CHANGE_STATES:
        logger.warning("push notification for channel %s with unknown state %r ignored", channel["pk"], state[:32])
        return
    if _already_seen(channel["pk"], headers.get("X-Goog-Message-Number", "")):
        logger.info("repeated push notification on channel %s ignored", channel["pk"])
        return
    from integrations.services.sync import calendar_sync_request

    calendar_sync_request(calendar_id=channel["calendar_id"], trigger=SyncRun.Trigger.NOTIFICATION)


def _already_seen(channel_pk: int, number_header: str) -> bool:
    """Whether a message numbered this or higher already came on the channel.

    Numbers only grow on a channel, and a sync requested for a later message also covers
    every earlier change, so a redelivered or late message needs nothing. One key per
    channel (not per message); two messages racing here may both pass, which costs at
    most one coalesced sync request.
    """
    try:
        number = int(number_header)
    except ValueError:
        return False
    key = f"integrations:push-seen:{channel_pk}"
    last = cache.get(key)
    if last is not None and number <= last:
        return True
    cache.set(key, number, timeout=SEEN_TTL_SECONDS)
    return False
