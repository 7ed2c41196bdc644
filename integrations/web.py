"""``/app/integrations``: the Google Calendar card, and the small form posts behind its buttons.

The page reads ``integrations.selectors.connection_status``; every button posts a form to
a view here that calls one service of ``integrations.services.connections`` and comes back
(post/redirect/get) with a message. "Connect" and "Reconnect" are the exception: they POST
to the JSON API (``Accept: application/json``) from ``app.js`` and then navigate to the
returned authorization URL with GET; without JavaScript the form posts to the same API
and follows its 307 (SPEC §3).

After Google's redirect the page explains ``?google=connected`` and
``?google=error&reason=...`` in plain words.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from config.api import ApplicationError
from integrations import selectors
from integrations.api import ManualSyncThrottle
from integrations.models import SyncRun
from integrations.providers.google.provider import GoogleProvider
from integrations.services.connections import (
    calendars_selection_update,
    connection_disconnect,
    connection_preferences_update,
    connection_sync_request,
)
from scheduling.web import merchant_required

GOOGLE = GoogleProvider.key
PAGE = "/app/integrations"
CONNECT_API = "/api/v1/merchant/integrations/google/calendar"
RECENT_ERRORS = 5

CONNECT_ERRORS = {
    "access_denied": (
        "Google Calendar was not connected: access was denied on Google's screen. Nothing was changed. "
        "You can try again whenever you like."
    ),
    "missing_scope": (
        "Google Calendar was not connected: the permission to see your calendars was not granted. "
        "Please connect again and leave the calendar box ticked on Google's screen."
    ),
    "invalid_state": (
        "That connection attempt had expired or came from another browser tab, so we ignored it for your "
        "safety. Please click “Connect Google Calendar” again."
    ),
    "token_exchange_failed": (
        "Google did not finish the sign-in (it may be briefly unavailable). Nothing was changed; please try again "
        "in a minute."
    ),
    "storage_failed": "We could not save the connection on our side. Nothing was changed; please try again.",
}
CONNECT_ERROR_FALLBACK = "Connecting Google Calendar did not work. Nothing was changed; please try again."


@dataclass(frozen=True)
class Notice:
    level: str  # "success" or "error"
    text: str


def _redirect_notice(query) -> Notice | None:
    outcome = query.get("google")
    if outcome == "connected":
        return Notice(
            "success",
            "Google Calendar is connected. Busy times from your selected calendars now block your booking page, "
            "and changes in Google show up here automatically.",
        )
    if outcome == "error":
        return Notice("error", CONNECT_ERRORS.get(query.get("reason", ""), CONNECT_ERROR_FALLBACK))
    return None


@require_GET
@merchant_required
def integrations_page(request, merchant):
    status = selectors.connection_status(merchant=merchant, provider=GOOGLE)
    missing = GoogleProvider.missing_configuration()
    state = "not_configured" if missing and not status.connected else status.status
    errors = [run for run in status.recent_sync_runs if run.status == SyncRun.Status.FAILED][:RECENT_ERRORS]
    context = {
        "merchant": merchant,
        "google": status,
        "state": state,
        "missing": missing,
        "notice": _redirect_notice(request.GET),
        "connect_url": CONNECT_API,
        "sync_errors": errors,
        "selected_count": sum(1 for calendar in status.calendars if calendar.selected),
        "live": state == "syncing",
    }
    return render(request, "integrations/integrations.html", context)


def _connection_or_message(request, merchant):
    connection = selectors.connection_get(merchant=merchant, provider=GOOGLE)
    if connection is None or not connection.is_connected:
        messages.error(request, "Google Calendar is not connected.")
        return None
    return connection


@require_POST
@merchant_required
def google_calendars_update(request, merchant):
    status = selectors.connection_status(merchant=merchant, provider=GOOGLE)
    chosen = set(request.POST.getlist("calendar"))
    selection = {calendar.pk: str(calendar.pk) in chosen for calendar in status.calendars}
    if not selection:
        messages.error(request, "Google Calendar is not connected.")
        return redirect(PAGE)
    try:
        calendars_selection_update(
            connection=selectors.connection_get(merchant=merchant, provider=GOOGLE),
            provider=GOOGLE,
            selection=selection,
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        count = sum(selection.values())
        if count:
            messages.success(request, f"Saved. Busy times now come from {count} calendar{'s' if count > 1 else ''}.")
        else:
            messages.warning(request, "Saved. No calendar is selected, so Google no longer blocks any time.")
    return redirect(PAGE)


@require_POST
@merchant_required
def google_preferences_update(request, merchant):
    try:
        connection_preferences_update(
            merchant=merchant,
            provider=GOOGLE,
            block_tentative=request.POST.get("block_tentative") == "on",
            block_all_day=request.POST.get("block_all_day") == "on",
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Preferences saved. Your calendars are re-synced with the new rules.")
    return redirect(PAGE)


@require_POST
@merchant_required
def google_sync_now(request, merchant):
    try:
        if not ManualSyncThrottle().allow_request(request, None):
            messages.error(request, "You have synced by hand many times this hour; please try again later.")
            return redirect(PAGE)
        queued = connection_sync_request(
            connection=selectors.connection_get(merchant=merchant, provider=GOOGLE), provider=GOOGLE
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(PAGE)
    if not queued:
        messages.warning(request, "No calendar is selected, so there is nothing to sync.")
        return redirect(PAGE)
    # Without a worker the sync has already run; say how it went rather than "started".
    outcome = selectors.connection_status(merchant=merchant, provider=GOOGLE).status
    if outcome == "reauth_required":
        messages.error(request, "Google refused our access, so nothing could be synced. Please reconnect below.")
    elif outcome == "error":
        messages.warning(request, "The sync did not complete; the details are below. We retry automatically.")
    else:
        messages.success(request, "Sync started. Busy times are brought up to date within moments.")
    return redirect(PAGE)


@require_POST
@merchant_required
def google_disconnect(request, merchant):
    connection = _connection_or_message(request, merchant)
    if connection is None:
        return redirect(PAGE)
    delete = request.POST.get("blocked_times") == "delete"
    connection_disconnect(connection=connection, delete_blocked_times=delete)
    if delete:
        messages.success(request, "Google Calendar is disconnected and the busy times it had added were removed.")
    else:
        messages.success(
            request,
            "Google Calendar is disconnected. The busy times it had added stay on your calendar as your own blocks.",
        )
    return redirect(PAGE)
