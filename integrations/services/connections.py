"""Writes on calendar connections: connect, tokens, reauth, preferences, selection, disconnect.

Every change is atomic and queues syncs and channels only once it has committed
(``calendar_sync_enqueue`` / ``calendar_watch_enqueue`` use ``transaction.on_commit``).
Calls to the provider (code exchange, calendar list, channel stops, revocation) happen
outside database transactions, so a slow provider never holds a row lock.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from config.api import ApplicationError
from integrations.models import CalendarConnection, ExternalCalendar
from integrations.providers.base import PermissionDenied, ProviderError, RemoteCalendar
from integrations.providers.google.oauth import GrantedTokens, TokenExchangeFailed, code_exchange
from integrations.providers.google.provider import GoogleProvider
from integrations.services.channels import calendar_channels_stop, calendar_watch_enqueue
from integrations.services.clients import connection_client
from integrations.services.sync import calendar_sync_enqueue
from merchants.models import Merchant
from scheduling.models import BlockedTime

logger = logging.getLogger(__name__)

TOKEN_FIELDS = ("access_token", "refresh_token")


class ConnectFailed(Exception):
    """The callback could not connect; ``reason`` is one of SPEC §3's redirect reasons."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


# --- connect -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Authorized:
    tokens: GrantedTokens
    calendars: list[RemoteCalendar]
    primary: RemoteCalendar


def _authorize(*, code: str, code_verifier: str, state: str, callback_scopes: Iterable[str]) -> _Authorized:
    try:
        tokens = code_exchange(code=code, code_verifier=code_verifier, state=state)
    except TokenExchangeFailed as exc:
        raise ConnectFailed("token_exchange_failed", f"Google did not issue tokens: {exc}") from exc
    # The token response is authoritative; the callback's ``scope`` is the fallback.
    granted = tokens.scopes if tokens.scopes is not None else frozenset(callback_scopes)
    if not GoogleProvider.grants_calendar_read(granted):
        raise ConnectFailed("missing_scope", "Calendar access was not granted on Google's consent screen.")
    # A throw-away, unsaved connection lets the ordinary client read the calendar list.
    probe = CalendarConnection(
        provider=GoogleProvider.key,
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        token_expires_at=tokens.expires_at,
    )
    try:
        calendars = connection_client(probe).list_calendars()
    except PermissionDenied as exc:
        raise ConnectFailed("missing_scope", "Google refused to list calendars with the granted access.") from exc
    except ProviderError as exc:
        raise ConnectFailed("token_exchange_failed", f"Google's calendar list could not be read: {exc}") from exc
    primary = next((c for c in calendars if c.primary), None)
    if primary is None:
        raise ConnectFailed("token_exchange_failed", "Google returned no primary calendar for this account.")
    return _Authorized(tokens=tokens, calendars=calendars, primary=primary)


def google_connection_complete(
    *, merchant: Merchant, code: str, code_verifier: str, state: str, callback_scopes: Iterable[str] = ()
) -> CalendarConnection:
    """Finish the OAuth callback: exchange, check scopes, read calendars, store it all at once.

    Raises :class:`ConnectFailed` with the reason to show the merchant; nothing is stored then.
    """
    authorized = _authorize(code=code, code_verifier=code_verifier, state=state, callback_scopes=callback_scopes)
    try:
        connection, selected = _connection_store(merchant=merchant, authorized=authorized)
    except Exception as exc:  # any failure here must become a visible reason, not a 500
        logger.exception("storing the Google connection of merchant %s failed", merchant.pk)
        raise ConnectFailed("storage_failed", "The connection could not be saved; please try again.") from exc
    # Queued after the store committed: a broker hiccup must not be reported as a failed
    # connect (it is saved; the periodic sync and channel check pick the calendars up).
    for calendar_id in selected:
        try:
            calendar_sync_enqueue(calendar_id=calendar_id, trigger="initial")
            calendar_watch_enqueue(calendar_id=calendar_id)
        except Exception:
            logger.exception("could not queue the initial sync of calendar %s", calendar_id)
    return connection


@transaction.atomic
def _connection_store(*, merchant: Merchant, authorized: _Authorized) -> tuple[CalendarConnection, list[int]]:
    tokens, primary = authorized.tokens, authorized.primary
    # Tokens stay deferred: an old row encrypted under a lost key must not block reconnecting.
    connection = (
        CalendarConnection.objects.select_for_update()
        .defer(*TOKEN_FIELDS)
        .filter(merchant=merchant, provider=GoogleProvider.key)
        .first()
    ) or CalendarConnection(merchant=merchant, provider=GoogleProvider.key)
    if connection.pk and connection.account_email and connection.account_email != primary.id:
        # Another Google account: the old account's calendars (and their blocks) go.
        connection.calendars.all().delete()
    connection.status = CalendarConnection.Status.ACTIVE
    connection.account_email = primary.id
    connection.access_token = tokens.access_token
    # prompt=consent always yields a refresh token; keep none rather than a stale one.
    connection.refresh_token = tokens.refresh_token
    connection.token_expires_at = tokens.expires_at
    connection.granted_scopes = " ".join(sorted(tokens.scopes or ()))
    connection.connected_at = timezone.now()
    connection.last_error = ""
    connection.save()

    remote_ids = {c.id for c in authorized.calendars}
    connection.calendars.exclude(external_id__in=remote_ids).delete()
    for remote in authorized.calendars:
        ExternalCalendar.objects.update_or_create(
            connection=connection,
            external_id=remote.id,
            defaults={"summary": remote.summary[:255], "primary": remote.primary, "time_zone": remote.time_zone},
        )
    if not connection.calendars.filter(selected=True).exists():
        connection.calendars.filter(external_id=primary.id).update(selected=True)
    selected = list(connection.calendars.filter(selected=True).values_list("pk", flat=True))
    logger.info("merchant %s connected Google Calendar (connection %s)", merchant.pk, connection.pk)
    return connection, selected


# --- preferences, selection, manual sync ---------------------------------------------------


def _require_usable(connection: CalendarConnection | None) -> CalendarConnection:
    if connection is None or not connection.is_connected:
        raise ApplicationError("Google Calendar is not connected.", code="not_connected", status_code=409)
    if connection.status == CalendarConnection.Status.REAUTH_REQUIRED:
        raise ApplicationError("Google Calendar needs to be reconnected.", code="reauth_required", status_code=409)
    return connection


def _resync_selected(connection: CalendarConnection, *, trigger: str, full: bool) -> list[int]:
    calendars = connection.calendars.filter(selected=True)
    if full:
        # No cursor means a full listing, which re-applies the rules to every event.
        calendars.update(sync_cursor="")
    ids = list(calendars.values_list("pk", flat=True))
    for calendar_id in ids:
        calendar_sync_enqueue(calendar_id=calendar_id, trigger=trigger)
    return ids


@transaction.atomic
def connection_preferences_update(
    *, merchant: Merchant, block_tentative: bool | None = None, block_all_day: bool | None = None
) -> CalendarConnection:
    """Change the busy rules; a change re-syncs every selected calendar in full."""
    connection, _ = CalendarConnection.objects.select_for_update().get_or_create(
        merchant=merchant,
        provider=GoogleProvider.key,
        defaults={"status": CalendarConnection.Status.DISCONNECTED},
    )
    changed = []
    for name, value in (("block_tentative", block_tentative), ("block_all_day", block_all_day)):
        if value is not None and getattr(connection, name) != value:
            setattr(connection, name, value)
            changed.append(name)
    if changed:
        connection.save(update_fields=[*changed, "updated_at"])
        if connection.is_connected and connection.status != CalendarConnection.Status.REAUTH_REQUIRED:
            _resync_selected(connection, trigger="manual", full=True)
    return connection


def connection_sync_request(*, connection: CalendarConnection | None) -> list[int]:
    """Queue a sync of every selected calendar (SPEC: manual re-sync)."""
    connection = _require_usable(connection)
    with transaction.atomic():
        return _resync_selected(connection, trigger="manual", full=False)


def calendars_selection_update(*, connection: CalendarConnection | None, selection: dict[int, bool]) -> None:
    """Select or deselect calendars by id; deselecting removes their blocks and channels."""
    connection = _require_usable(connection)
    calendars = {c.pk: c for c in connection.calendars.filter(pk__in=selection)}
    unknown = set(selection) - set(calendars)
    if unknown:
        raise ApplicationError(
            f"Unknown calendar id(s): {', '.join(map(str, sorted(unknown)))}.", code="not_found", status_code=404
        )
    deselect = [c for pk, c in calendars.items() if c.selected and not selection[pk]]
    select = [c for pk, c in calendars.items() if not c.selected and selection[pk]]
    if deselect:
        client = connection_client(connection)
        for calendar in deselect:
            calendar_channels_stop(calendar=calendar, client=client)
    with transaction.atomic():
        for calendar in deselect:
            BlockedTime.objects.filter(calendar=calendar).delete()
            ExternalCalendar.objects.filter(pk=calendar.pk).update(selected=False, sync_cursor="", window_end=None)
        for calendar in select:
            ExternalCalendar.objects.filter(pk=calendar.pk).update(selected=True, sync_cursor="", window_end=None)
            calendar_sync_enqueue(calendar_id=calendar.pk, trigger="selection")
            calendar_watch_enqueue(calendar_id=calendar.pk)


# --- disconnect ----------------------------------------------------------------------------


def _provider_cleanup(connection: CalendarConnection) -> None:
    """Best effort at the provider: stop channels, revoke the grant. Failures are logged."""
    usable = connection.status != CalendarConnection.Status.REAUTH_REQUIRED and bool(connection.refresh_token)
    client = connection_client(connection) if (connection.refresh_token or connection.access_token) else None
    for calendar in connection.calendars.all():
        try:
            calendar_channels_stop(calendar=calendar, client=client if usable else None)
        except ProviderError as exc:
            logger.warning("stopping the channels of calendar %s failed: %s", calendar.pk, exc)
    if client is None:
        return
    try:
        client.revoke()
    except ProviderError as exc:
        logger.warning("revoking the Google grant of connection %s failed: %s", connection.pk, exc)


def connection_disconnect(*, connection: CalendarConnection, delete_blocked_times: bool) -> None:
    """Disconnect: revoke and stop at the provider (best effort), then forget tokens and calendars.

    Synced blocked times are deleted when asked, otherwise kept as manual blocks. The row
    stays (status ``disconnected``, preferences kept) so reconnecting reuses it.
    """
    if not connection.is_connected:
        return
    from integrations.fields import DecryptionError

    try:
        _provider_cleanup(connection)
    except DecryptionError:
        logger.warning("tokens of connection %s cannot be decrypted; disconnecting locally only", connection.pk)
    with transaction.atomic():
        synced = BlockedTime.objects.filter(calendar__connection=connection)
        if delete_blocked_times:
            synced.delete()
        else:
            # Before the calendars go: their FK would cascade to these rows.
            synced.update(source=BlockedTime.Source.MANUAL, calendar=None, external_key=None)
        ExternalCalendar.objects.filter(connection=connection).delete()
        CalendarConnection.objects.filter(pk=connection.pk).update(
            status=CalendarConnection.Status.DISCONNECTED,
            access_token=None,
            refresh_token=None,
            token_expires_at=None,
            granted_scopes="",
            account_email="",
            connected_at=None,
            last_synced_at=None,
            last_error="",
            updated_at=timezone.now(),
        )
    logger.info(
        "calendar connection %s disconnected (blocked times %s)",
        connection.pk,
        "deleted" if delete_blocked_times else "kept",
    )
