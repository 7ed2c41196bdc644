"""Google's push notifications for watched calendars (SPEC §3, §5).

Google POSTs an empty body with ``X-Goog-*`` headers; the answer is always 200 with an
empty body, whatever happens (Google retries 5xx, and a forger learns nothing). A
notification counts only when its channel id is one we opened, its channel token equals
ours (constant-time comparison) and its resource id is the one the channel was opened
on. ``sync`` (the channel's first message) does nothing; ``exists``, ``not_exists`` and
``update`` request an incremental sync, coalesced so a burst costs at most two syncs;
a redelivered or late message (a number not above the channel's highest) requests nothing.
A notification on a channel we no longer hold gets that channel stopped at Google.
Anything else triggers nothing and is logged, at most one line per kind of forgery per
``FORGED_LOG_INTERVAL_SECONDS`` with a count of the ones held back (``config/throttled_log.py``:
a flood of forged notifications writes a bounded number of lines; repeats, which concurrent
deliveries produce in numbers, likewise). Cost: one indexed query (none while the channel's
row is in this process's memory, at most ``HELD_CHANNEL_CACHE_SECONDS`` old) and one Redis
round trip, or a few cache operations on other caches (plus queuing a task when the
notification starts a sync or a burst's trailing sync).

:class:`WebhookMiddleware` serves the notification POSTs of this module and of
``webhooks_microsoft`` before the session, CSRF, auth, messages, clickjacking, CSP and
lockout middleware and the URL resolver, none of which has anything to do with a machine's
POST that is answered with an empty body (the figures: docs/BENCHMARKS.md, section 3).
https://developers.google.com/calendar/api/guides/push#receiving-notifications
"""

from __future__ import annotations

import hmac
import logging
import time

from django.http import HttpResponse
from django.urls import NoReverseMatch, Resolver404, get_script_prefix, resolve, reverse
from django.views.decorators.csrf import csrf_exempt

from config.throttled_log import ThrottledLog
from integrations.models import CalendarConnection, SyncRun, WatchChannel

logger = logging.getLogger(__name__)
FORGED_LOG_INTERVAL_SECONDS = 60.0
forged_log = ThrottledLog(logger, interval=FORGED_LOG_INTERVAL_SECONDS)
# Not forgeries, but as many: concurrent deliveries reach us out of order.
repeat_log = ThrottledLog(logger, interval=FORGED_LOG_INTERVAL_SECONDS)

# A held channel's row is reused this long: a channel let go meanwhile (stopped, calendar
# deselected, connection lost) requests a sync, which re-checks the calendar and does nothing,
# and is stopped on the first notification after that.
HELD_CHANNEL_CACHE_SECONDS = 5.0
HELD_CHANNEL_CACHE_SIZE = 10_000  # rows of channels we opened only; emptied when full
_held_channels: dict[str, tuple[float, dict]] = {}
CHANGE_STATES = frozenset({"exists", "not_exists", "update"})
_HELD_CONNECTION_STATUSES = frozenset({CalendarConnection.Status.ACTIVE, CalendarConnection.Status.ERROR})
# Served by WebhookMiddleware: a POST to one of these, without a query string (Graph's
# validation handshake carries one and gets the whole stack, as every other request does).
WEBHOOK_URL_NAMES = (
    "integrations:google-calendar-watch",
    "integrations:microsoft-calendar-watch",
    "integrations:microsoft-calendar-lifecycle",
)


class WebhookMiddleware:
    """Answer the providers' notification POSTs at once (after the security headers); every
    other request goes down the stack.

    The webhooks need no session, user, CSRF token (they are ``csrf_exempt``), messages or
    lockout, and their empty answers no CSP or frame options; they check what they receive
    themselves. The host is still validated against ``ALLOWED_HOSTS`` (as ``CommonMiddleware``
    does for every request). Listed right after ``SecurityMiddleware`` in ``MIDDLEWARE``.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self._views: dict[str, object] | None = None

    def __call__(self, request):
        if request.method == "POST" and not request.META.get("QUERY_STRING"):
            view = self._webhook_views().get(request.path_info)
            if view is not None:
                request.get_host()  # DisallowedHost (400) for a host not in ALLOWED_HOSTS
                return view(request)
        return self.get_response(request)

    def _webhook_views(self) -> dict[str, object]:
        """``path_info -> view`` of the webhook routes, resolved once per process (a URLconf
        without them leaves the rest of the stack to answer)."""
        if self._views is None:
            prefix, views = get_script_prefix(), {}
            for name in WEBHOOK_URL_NAMES:
                try:
                    path = "/" + reverse(name).removeprefix(prefix).lstrip("/")
                    views[path] = resolve(path).func
                except (NoReverseMatch, Resolver404):
                    continue
            self._views = views
        return self._views


@csrf_exempt
def google_calendar_watch(request):
    if request.method == "POST":
        try:
            _notification_handle(request.META)  # the raw headers: request.headers copies them all
        except Exception:
            logger.exception("push notification handling failed")
    return HttpResponse(status=200)


def _notification_handle(meta) -> None:
    channel_id = meta.get("HTTP_X_GOOG_CHANNEL_ID", "")[:64]
    state = meta.get("HTTP_X_GOOG_RESOURCE_STATE", "")
    if not channel_id:
        forged_log.warning("no_channel_id", "push notification without a channel id ignored")
        return
    channel = channel_row(channel_id)
    if channel is None:
        forged_log.warning(
            "unknown_channel", "push notification for unknown channel %r (state %r) ignored", channel_id, state[:32]
        )
        return
    token = meta.get("HTTP_X_GOOG_CHANNEL_TOKEN", "")
    if not hmac.compare_digest(token.encode(), (channel["token"] or "").encode()):
        forged_log.warning("wrong_token", "push notification for channel %s with a wrong token ignored", channel["pk"])
        return
    if meta.get("HTTP_X_GOOG_RESOURCE_ID", "") != channel["resource_id"]:
        forged_log.warning(
            "wrong_resource", "push notification for channel %s with a mismatched resource id ignored", channel["pk"]
        )
        return
    if not _held(channel):
        from integrations.tasks import watch_channel_stop_stale_task

        logger.info("push notification on channel %s we no longer hold: stopping it", channel["pk"])
        watch_channel_stop_stale_task.delay(channel["pk"])
        return
    if state == "sync":
        return
    if state not in CHANGE_STATES:
        forged_log.warning(
            "unknown_state", "push notification for channel %s with unknown state %r ignored", channel["pk"], state[:32]
        )
        return
    from integrations.services.sync import calendar_sync_request

    number = _message_number(meta.get("HTTP_X_GOOG_MESSAGE_NUMBER", ""))
    message = (f"integrations:push-seen:{channel['pk']}", number) if number is not None else None
    queued = calendar_sync_request(
        calendar_id=channel["calendar_id"], trigger=SyncRun.Trigger.NOTIFICATION, message=message
    )
    if queued is None:
        repeat_log.log(logging.INFO, "repeated", "repeated push notification on channel %s ignored", channel["pk"])


def channel_row(channel_id: str, *, fresh: bool = False) -> dict | None:
    """The channel's row (with its calendar's and connection's fields the webhooks check),
    from this process's memory when it was held less than ``HELD_CHANNEL_CACHE_SECONDS`` ago
    (channels let go are read afresh every time; so is every row when ``fresh``)."""
    now = time.monotonic()
    cached = None if fresh else _held_channels.get(channel_id)
    if cached is not None and cached[0] > now:
        return cached[1]
    channel = (
        WatchChannel.objects.filter(channel_id=channel_id)
        .values(
            "pk",
            "channel_id",
            "calendar_id",
            "token",
            "resource_id",
            "status",
            "calendar__selected",
            "calendar__connection__status",
            "calendar__connection__provider",
        )
        .first()
    )
    if channel is not None and _held(channel):
        if len(_held_channels) >= HELD_CHANNEL_CACHE_SIZE:
            _held_channels.clear()
        _held_channels[channel_id] = (now + HELD_CHANNEL_CACHE_SECONDS, channel)
    else:
        _held_channels.pop(channel_id, None)
    return channel


def held_channels_forget(channel_id: str | None = None) -> None:
    """Forget one channel's row (or all: tests, where rows change under the same ids) in this
    process's memory of held channels."""
    if channel_id is None:
        _held_channels.clear()
    else:
        _held_channels.pop(channel_id, None)


def _held(channel: dict) -> bool:
    return (
        channel["status"] == WatchChannel.Status.ACTIVE
        and channel["calendar__selected"]
        and channel["calendar__connection__status"] in _HELD_CONNECTION_STATUSES
    )


def _message_number(header: str) -> int | None:
    """The message number when it is a number Google could send (not negative), else None
    (then the notification is not checked for repeats)."""
    try:
        number = int(header)
    except ValueError:
        return None
    return number if number >= 0 else None
