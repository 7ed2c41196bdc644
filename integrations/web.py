"""``/app/integrations``: a card per provider, and the small form posts behind its buttons.

Cards: Google Calendar, Outlook / Microsoft 365, Apple iCloud and Other CalDAV (the last
two are the ``caldav`` provider). Each reads ``integrations.selectors`` and every button
posts a form to a view here that calls one service and comes back (post/redirect/get) with
a message. "Connect" and "Reconnect" of OAuth providers are the exception: they POST to
the JSON API (``Accept: application/json``) from ``app.js`` and then navigate to the
returned authorization URL with GET; without JavaScript the form posts to the same API and
follows its 307 (SPEC §3). After the provider's redirect, ``?{provider}=connected`` and
``?{provider}=error&reason=...`` are explained in plain words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from config.api import ApplicationError
from integrations import selectors
from integrations.api import CREDENTIALS_CONNECT, PASSWORD_REPLACE, ManualSyncThrottle, with_state_cookie
from integrations.models import KeptBlockGroup
from integrations.providers import PROVIDERS, provider_for
from integrations.services.connections import (
    ConsentRequired,
    calendars_selection_update,
    connection_disconnect,
    connection_preferences_update,
    connection_sync_request,
)
from integrations.services.kept_blocks import kept_block_group_delete, kept_block_groups
from scheduling.web import merchant_required

PAGE = "/app/integrations"

# (card key, provider key, name, blurb, settings a server needs before the provider is there)
CARDS = (
    ("google", "google", "Google Calendar", "Your Google events block matching times on your booking page.",
     ("GOOGLE_OAUTH_CLIENT_ID", "GOOGLE_OAUTH_CLIENT_SECRET")),
    ("microsoft", "microsoft", "Outlook / Microsoft 365",
     "Outlook.com and work or school (Microsoft 365) calendars block matching times.",
     ("MICROSOFT_OAUTH_CLIENT_ID", "MICROSOFT_OAUTH_CLIENT_SECRET")),
    ("icloud", "caldav", "Apple iCloud", "Your iCloud calendars, with an app-specific password from Apple.",
     ("the CalDAV provider",)),
    ("caldav", "caldav", "Other CalDAV", "Fastmail, Nextcloud, Radicale or any CalDAV server.",
     ("the CalDAV provider",)),
)  # fmt: skip

CONNECT_ERRORS = {
    "access_denied": (
        "{name} was not connected: access was denied on the sign-in screen. Nothing was changed. "
        "You can try again whenever you like."
    ),
    "missing_scope": (
        "{name} was not connected: the permission to see your calendars was not granted. "
        "Please connect again and leave the calendar permission ticked."
    ),
    "invalid_state": (
        "That connection attempt had expired or came from another browser tab, so we ignored it for your "
        "safety. Please click “Connect {name}” again."
    ),
    "token_exchange_failed": (
        "{name} did not finish the sign-in (it may be briefly unavailable). Nothing was changed; please try again "
        "in a minute."
    ),
    "storage_failed": "We could not save the connection on our side. Nothing was changed; please try again.",
    "account_in_use": (
        "That {name} account is already connected to another merchant here. Each account can belong to one "
        "merchant only: disconnect it there first, or sign in with another account."
    ),
}
CONNECT_ERROR_FALLBACK = "Connecting {name} did not work. Nothing was changed; please try again."


@dataclass(frozen=True)
class Notice:
    level: str  # "success" or "error"
    text: str


@dataclass
class Card:
    key: str
    provider: str
    name: str
    blurb: str
    state: str
    missing: list[str] = field(default_factory=list)
    status: selectors.ConnectionStatus | None = None
    notice: Notice | None = None
    auth: str = ""
    problems: list = field(default_factory=list)
    history: list = field(default_factory=list)
    kept: list[KeptBlockGroup] = field(default_factory=list)

    @property
    def selected_count(self) -> int:
        return sum(1 for calendar in self.status.calendars if calendar.selected) if self.status else 0

    @property
    def connect_url(self) -> str:
        return f"/api/v1/merchant/integrations/{self.provider}/calendar"


def _redirect_notice(query, provider: str, name: str) -> Notice | None:
    outcome = query.get(provider)
    if outcome == "connected":
        return Notice(
            "success",
            f"{name} is connected. Busy times from your selected calendars now block your booking page, "
            "and changes show up here automatically.",
        )
    if outcome == "error":
        return Notice("error", CONNECT_ERRORS.get(query.get("reason", ""), CONNECT_ERROR_FALLBACK).format(name=name))
    return None


def _home_card(merchant, provider: str) -> str | None:
    """Which card shows a connection when two cards share a provider (iCloud or other CalDAV)."""
    if provider != "caldav":
        return provider
    connection = selectors.connection_get(merchant=merchant, provider=provider)
    if connection is None or not connection.is_connected:
        return None
    host = (urlsplit(connection.server_url).hostname or "").lower()
    return "icloud" if host == "icloud.com" or host.endswith(".icloud.com") else "caldav"


def _cards(request, merchant) -> list[Card]:
    kept = kept_block_groups(merchant=merchant)
    homes = {provider: _home_card(merchant, provider) for provider in PROVIDERS}
    cards, seen = [], set()
    for key, provider, name, blurb, needed in CARDS:
        if provider not in PROVIDERS:
            cards.append(Card(key, provider, name, blurb, state="not_configured", missing=list(needed)))
            continue
        description = provider_for(provider)
        status = selectors.connection_status(merchant=merchant, provider=provider)
        missing = description.missing_configuration()
        state = "not_configured" if missing and not status.connected else status.status
        card = Card(
            key,
            provider,
            name,
            blurb,
            state=state,
            missing=missing,
            status=status,
            notice=None if provider in seen else _redirect_notice(request.GET, provider, name),
            auth=description.auth,
            kept=[group for group in kept if group.provider == provider and provider not in seen],
        )
        if status.connected and provider not in seen:
            card.problems, card.history = selectors.calendar_problems(merchant=merchant, provider=provider)
        home = homes.get(provider)
        if status.connected and home not in (None, key):
            card.state = "elsewhere"  # one CalDAV connection: shown on the card it was made from
            card.problems, card.history = [], []
        if home in (None, key):
            seen.add(provider)
        cards.append(card)
    return cards


@require_GET
@merchant_required
def integrations_page(request, merchant):
    cards = _cards(request, merchant)
    context = {"merchant": merchant, "cards": cards, "live": any(c.state == "syncing" for c in cards)}
    return render(request, "integrations/integrations.html", context)


def _provider(provider: str) -> str:
    if provider not in PROVIDERS:
        raise Http404
    return provider


def _name(provider: str) -> str:
    return provider_for(provider).name


@require_POST
@merchant_required
def calendars_update(request, merchant, provider):
    provider = _provider(provider)
    status = selectors.connection_status(merchant=merchant, provider=provider)
    chosen = set(request.POST.getlist("calendar"))
    selection = {calendar.pk: str(calendar.pk) in chosen for calendar in status.calendars}
    if not selection:
        messages.error(request, f"{_name(provider)} is not connected.")
        return redirect(PAGE)
    try:
        calendars_selection_update(
            connection=selectors.connection_get(merchant=merchant, provider=provider),
            provider=provider,
            selection=selection,
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        count = sum(selection.values())
        if count:
            messages.success(request, f"Saved. Busy times now come from {count} calendar{'s' if count > 1 else ''}.")
        else:
            messages.warning(
                request, f"Saved. No calendar is selected, so {_name(provider)} no longer blocks any time."
            )
    return redirect(PAGE)


@require_POST
@merchant_required
def preferences_update(request, merchant, provider):
    provider = _provider(provider)
    try:
        connection_preferences_update(
            merchant=merchant,
            provider=provider,
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
def bookings_update(request, merchant, provider):
    """The two-way switch (SPEC §10); turning it on may first need the provider's consent."""
    provider = _provider(provider)
    chosen = request.POST.get("bookings_calendar", "")
    turn_on = request.POST.get("write_bookings") == "on"
    try:
        connection_preferences_update(
            merchant=merchant,
            provider=provider,
            write_bookings=turn_on,
            bookings_calendar=int(chosen) if chosen.isdigit() else None,
        )
    except ConsentRequired as exc:
        return with_state_cookie(HttpResponseRedirect(exc.authorization_url), merchant, provider, exc.state)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        if turn_on:
            messages.success(request, "Your bookings are now added to your calendar, upcoming ones included.")
        else:
            messages.success(
                request, "Bookings are no longer added. The bookings calendar stays yours to keep or delete."
            )
    return redirect(PAGE)


@require_POST
@merchant_required
def sync_now(request, merchant, provider):
    provider = _provider(provider)
    if not ManualSyncThrottle().allow_request(request, None):
        messages.error(request, "You have synced by hand many times this hour; please try again later.")
        return redirect(PAGE)
    try:
        queued = connection_sync_request(
            connection=selectors.connection_get(merchant=merchant, provider=provider), provider=provider
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(PAGE)
    if not queued:
        messages.warning(request, "No calendar is selected, so there is nothing to sync.")
        return redirect(PAGE)
    # Without a worker the sync has already run; say how it went rather than "started".
    outcome = selectors.connection_status(merchant=merchant, provider=provider).status
    if outcome == "reauth_required":
        messages.error(
            request, f"{_name(provider)} refused our access, so nothing could be synced. Please reconnect below."
        )
    elif outcome == "error":
        messages.warning(request, "The sync did not complete; the details are below. We retry automatically.")
    else:
        messages.success(request, "Sync started. Busy times are brought up to date within moments.")
    return redirect(PAGE)


@require_POST
@merchant_required
def disconnect(request, merchant, provider):
    provider = _provider(provider)
    connection = selectors.connection_get(merchant=merchant, provider=provider)
    name = _name(provider)
    if connection is None or not connection.is_connected:
        messages.error(request, f"{name} is not connected.")
        return redirect(PAGE)
    delete = request.POST.get("blocked_times") == "delete"
    connection_disconnect(connection=connection, delete_blocked_times=delete)
    if delete:
        messages.success(request, f"{name} is disconnected and the busy times it had added were removed.")
    else:
        messages.success(
            request,
            f"{name} is disconnected. The busy times it had added stay on your calendar as your own blocks, "
            "grouped by calendar below; reconnecting the same account takes them back.",
        )
    return redirect(PAGE)


@require_POST
@merchant_required
def kept_group_delete(request, merchant, group_id: int):
    if kept_block_group_delete(merchant=merchant, group_id=group_id):
        messages.success(request, "Removed. Those times are bookable again (within business hours).")
    else:
        messages.error(request, "Those kept busy times were already removed.")
    return redirect(PAGE)


@require_POST
@merchant_required
def credentials_connect(request, merchant, provider):
    """The CalDAV cards' form: the same service as ``POST /api/v1/merchant/integrations/caldav/calendar``."""
    provider = _provider(provider)
    if provider not in CREDENTIALS_CONNECT:
        raise Http404
    try:
        CREDENTIALS_CONNECT[provider](
            merchant=merchant,
            server=request.POST.get("server", ""),
            username=request.POST.get("username", ""),
            password=request.POST.get("password", ""),
        )
    except ApplicationError as exc:
        messages.error(request, f"Not connected: {exc.message}")
        return redirect(PAGE)
    messages.success(
        request, f"{_name(provider)} is connected. Busy times from the chosen calendar now block your page."
    )
    return redirect(PAGE)


@require_POST
@merchant_required
def password_replace(request, merchant, provider):
    provider = _provider(provider)
    connection = selectors.connection_get(merchant=merchant, provider=provider)
    if provider not in PASSWORD_REPLACE or connection is None:
        raise Http404
    try:
        PASSWORD_REPLACE[provider](connection=connection, password=request.POST.get("password", ""))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "The new password works. Your calendars are syncing again.")
    return redirect(PAGE)
