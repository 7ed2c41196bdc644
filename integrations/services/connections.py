"""Writes on calendar connections: connect, tokens, reauth, preferences, selection, disconnect.

Every change is atomic and queues syncs and channels only once it has committed
(``calendar_sync_enqueue`` / ``calendar_watch_enqueue`` use ``transaction.on_commit``).
Calls to the provider (code exchange, calendar list, channel stops, revocation) happen
outside database transactions, so a slow provider never holds a row lock.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from config.api import ApplicationError
from integrations.models import CalDAVObject, CalendarConnection, ExternalCalendar, OAuthState, SyncRun
from integrations.providers import provider_for
from integrations.providers.base import (
    AuthKind,
    GrantedTokens,
    PermissionDenied,
    ProviderError,
    RemoteAccount,
    RemoteCalendar,
    TokenExchangeFailed,
)
from integrations.services.booking_copies import bookings_backfill
from integrations.services.channels import calendar_channels_stop, calendar_watch_enqueue
from integrations.services.clients import connection_client
from integrations.services.incidents import connection_incidents_resolve
from integrations.services.kept_blocks import kept_blocks_adopt, kept_blocks_keep
from integrations.services.oauth_states import oauth_state_issue, oauth_state_new
from integrations.services.sync import calendar_sync_enqueue
from merchants.models import Merchant
from scheduling.models import BlockedTime
from scheduling.services import merchant_changed

logger = logging.getLogger(__name__)

TOKEN_FIELDS = ("access_token", "refresh_token")


class ConnectFailed(Exception):
    """The callback could not connect; ``reason`` is one of SPEC §3's redirect reasons."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


# --- connect -------------------------------------------------------------------------------


class ConsentRequired(Exception):
    """Turning two-way on needs a scope the grant lacks (SPEC §10): send the merchant to
    ``authorization_url``; ``state`` goes into the callback's cookie as for a connect."""

    def __init__(self, *, provider: str, state: str, authorization_url: str):
        name = provider_for(provider).name
        super().__init__(f"{name} must allow adding your bookings to a calendar of their own; please confirm.")
        self.message = str(self)
        self.state = state
        self.authorization_url = authorization_url


def oauth_connect_start(*, merchant: Merchant, provider: str, write_bookings: bool = False) -> tuple[str, str]:
    """Begin an OAuth connect (or, ``write_bookings``, the consent that adds the write scope):
    returns ``(state, authorization_url)``; the flow's secret (PKCE verifier) stays
    server-side with the state."""
    description = provider_for(provider)
    missing = description.missing_configuration()
    if missing:
        raise ApplicationError(
            f"{description.name} is not configured on this server: set {' and '.join(missing)}.",
            code=f"{provider}_not_configured",
            status_code=503,
        )
    state = oauth_state_new()
    if write_bookings:
        request = description.authorization_request(state=state, write_bookings=True)
        purpose = OAuthState.Purpose.WRITE_BOOKINGS
    else:
        request = description.authorization_request(state=state)
        purpose = OAuthState.Purpose.CONNECT
    oauth_state_issue(merchant=merchant, provider=provider, state=state, secret=request.secret, purpose=purpose)
    return state, request.url


@dataclass(frozen=True)
class _Authorized:
    tokens: GrantedTokens
    account: RemoteAccount
    calendars: list[RemoteCalendar]


def _authorize(*, provider: str, code: str, secret: str, state: str, callback: Mapping[str, str]) -> _Authorized:
    description = provider_for(provider)
    try:
        tokens = description.authorization_complete(code=code, secret=secret, state=state, callback=callback)
    except TokenExchangeFailed as exc:
        raise ConnectFailed("token_exchange_failed", f"{description.name} did not issue tokens: {exc}") from exc
    if not description.grants_calendar_read(tokens.scopes or frozenset()):
        raise ConnectFailed("missing_scope", f"Calendar access was not granted on {description.name}'s consent screen.")
    # A throw-away, unsaved connection lets the ordinary client read the calendar list.
    probe = CalendarConnection(
        provider=provider,
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        token_expires_at=tokens.expires_at,
    )
    try:
        calendars = connection_client(probe).list_calendars()
    except PermissionDenied as exc:
        raise ConnectFailed("missing_scope", f"{description.name} refused to list calendars.") from exc
    except ProviderError as exc:
        raise ConnectFailed("token_exchange_failed", f"The calendar list could not be read: {exc}") from exc
    account = description.account_of(tokens=tokens, calendars=calendars)
    if account is None or not any(c.primary for c in calendars):
        raise ConnectFailed("token_exchange_failed", f"{description.name} returned no primary calendar.")
    return _Authorized(tokens=tokens, account=account, calendars=calendars)


def oauth_connection_complete(
    *, merchant: Merchant, provider: str, code: str, secret: str, state: str, callback: Mapping[str, str]
) -> CalendarConnection:
    """Finish the OAuth callback: exchange, check scopes, read calendars, store it all at once.

    Raises :class:`ConnectFailed` with the reason to show the merchant; nothing is stored then.
    """
    authorized = _authorize(provider=provider, code=code, secret=secret, state=state, callback=callback)
    connection, selected = connection_store(
        merchant=merchant,
        provider=provider,
        account=authorized.account,
        calendars=authorized.calendars,
        credentials={
            "access_token": authorized.tokens.access_token,
            # prompt=consent always yields a refresh token; keep none rather than a stale one.
            "refresh_token": authorized.tokens.refresh_token,
            "token_expires_at": authorized.tokens.expires_at,
            "granted_scopes": " ".join(sorted(authorized.tokens.scopes or ())),
        },
    )
    connection_syncs_start(calendar_ids=selected)
    return connection


def oauth_write_consent_complete(
    *, merchant: Merchant, provider: str, code: str, secret: str, state: str, callback: Mapping[str, str]
) -> CalendarConnection:
    """Finish the consent that turns two-way on (SPEC §10): the same account, now with the
    write scope; the new tokens replace the old and ``write_bookings`` goes on."""
    description = provider_for(provider)
    connection = CalendarConnection.objects.filter(merchant=merchant, provider=provider).first()
    if connection is None or not connection.is_connected:
        raise ConnectFailed("not_connected", f"{description.name} is not connected.")
    authorized = _authorize(provider=provider, code=code, secret=secret, state=state, callback=callback)
    if authorized.account.id != connection.account_id:
        raise ConnectFailed("account_mismatch", "That is another account than the one connected; nothing changed.")
    if not description.grants_booking_writes(authorized.tokens.scopes or frozenset()):
        raise ConnectFailed("missing_scope", f"Adding bookings was not allowed on {description.name}'s consent screen.")
    with transaction.atomic():
        connection = CalendarConnection.objects.select_for_update().get(pk=connection.pk)
        connection.access_token = authorized.tokens.access_token
        if authorized.tokens.refresh_token:
            connection.refresh_token = authorized.tokens.refresh_token
        connection.token_expires_at = authorized.tokens.expires_at
        connection.granted_scopes = " ".join(sorted(authorized.tokens.scopes or ()))
        connection.write_bookings = True
        if connection.status == CalendarConnection.Status.REAUTH_REQUIRED:
            connection.status = CalendarConnection.Status.ACTIVE
        connection.save()
        transaction.on_commit(lambda: bookings_backfill(connection=connection))
    logger.info("merchant %s turned on writing bookings to %s", merchant.pk, provider)
    return connection


def connection_syncs_start(*, calendar_ids: Iterable[int]) -> None:
    """Queue the initial sync (and channel) of freshly selected calendars. Called after the
    store committed: a broker hiccup must not be reported as a failed connect (it is saved;
    the periodic sync and channel check pick the calendars up)."""
    for calendar_id in calendar_ids:
        try:
            calendar_sync_enqueue(calendar_id=calendar_id, trigger="initial")
            calendar_watch_enqueue(calendar_id=calendar_id)
        except Exception:
            logger.exception("could not queue the initial sync of calendar %s", calendar_id)


def connection_store(
    *,
    merchant: Merchant,
    provider: str,
    account: RemoteAccount,
    calendars: list[RemoteCalendar],
    credentials: dict,
) -> tuple[CalendarConnection, list[int]]:
    """Store a working connection and its calendars; returns it with the selected calendar ids.

    Refuses an account another merchant holds (``account_in_use``, §8); any other failure is
    ``storage_failed``. Nothing is stored on failure.
    """
    if (
        CalendarConnection.objects.filter(provider=provider, account_id=account.id)
        .exclude(merchant=merchant)
        .exclude(status=CalendarConnection.Status.DISCONNECTED)
        .exists()
    ):
        raise ConnectFailed("account_in_use", "This account is already connected to another merchant.")
    try:
        return _connection_store(
            merchant=merchant, provider=provider, account=account, calendars=calendars, credentials=credentials
        )
    except IntegrityError as exc:
        if CalendarConnection.objects.filter(provider=provider, account_id=account.id).exclude(merchant=merchant):
            # Another merchant connected the same account at the same moment: the constraint decided.
            raise ConnectFailed("account_in_use", "This account is already connected to another merchant.") from exc
        logger.exception("storing the %s connection of merchant %s failed", provider, merchant.pk)
        raise ConnectFailed("storage_failed", "The connection could not be saved; please try again.") from exc
    except Exception as exc:  # any failure here must become a visible reason, not a 500
        logger.exception("storing the %s connection of merchant %s failed", provider, merchant.pk)
        raise ConnectFailed("storage_failed", "The connection could not be saved; please try again.") from exc


@transaction.atomic
def _connection_store(
    *, merchant: Merchant, provider: str, account: RemoteAccount, calendars: list[RemoteCalendar], credentials: dict
) -> tuple[CalendarConnection, list[int]]:
    # Tokens stay deferred: an old row encrypted under a lost key must not block reconnecting.
    connection = (
        CalendarConnection.objects.select_for_update()
        .defer(*TOKEN_FIELDS)
        .filter(merchant=merchant, provider=provider)
        .first()
    ) or CalendarConnection(merchant=merchant, provider=provider)
    previous = connection.account_id or connection.account_email
    if connection.pk and previous and previous != account.id:
        # Another account: the old account's calendars (and their blocks) go, and so does
        # the bookings calendar we made there (it stays in that account, ours no more).
        connection.calendars.all().delete()
        connection.write_bookings = False
        connection.bookings_calendar_id = connection.bookings_calendar_name = ""
    connection.status = CalendarConnection.Status.ACTIVE
    connection.account_id = account.id
    connection.account_email = account.email
    for name, value in credentials.items():
        setattr(connection, name, value)
    connection.connected_at = timezone.now()
    connection.last_error = ""
    connection.save()

    # The bookings calendar (SPEC §10) is never one to sync from.
    calendars = [c for c in calendars if c.id != connection.bookings_calendar_id]
    remote_ids = {c.id for c in calendars}
    connection.calendars.exclude(external_id__in=remote_ids).delete()
    for remote in calendars:
        ExternalCalendar.objects.update_or_create(
            connection=connection,
            external_id=remote.id,
            defaults={"summary": remote.summary[:255], "primary": remote.primary, "time_zone": remote.time_zone},
        )
    if not connection.calendars.filter(selected=True).exists():
        default = next((c for c in calendars if c.primary), calendars[0] if calendars else None)
        if default is not None:
            connection.calendars.filter(external_id=default.id).update(selected=True)
    kept_blocks_adopt(connection=connection)
    connection_incidents_resolve(connection_id=connection.pk)
    selected = list(connection.calendars.filter(selected=True).values_list("pk", flat=True))
    logger.info("merchant %s connected %s (connection %s)", merchant.pk, provider, connection.pk)
    return connection, selected


# --- preferences, selection, manual sync ---------------------------------------------------


def _require_usable(connection: CalendarConnection | None, provider: str) -> CalendarConnection:
    name = provider_for(provider).name
    if connection is None or not connection.is_connected:
        raise ApplicationError(f"{name} is not connected.", code="not_connected", status_code=409)
    if connection.status == CalendarConnection.Status.REAUTH_REQUIRED:
        raise ApplicationError(f"{name} needs to be reconnected.", code="reauth_required", status_code=409)
    return connection


def _selected_ids(connection: CalendarConnection) -> list[int]:
    return list(connection.calendars.filter(selected=True).values_list("pk", flat=True))


def connection_preferences_update(
    *,
    merchant: Merchant,
    provider: str,
    block_tentative: bool | None = None,
    block_all_day: bool | None = None,
    write_bookings: bool | None = None,
    bookings_calendar: int | None = None,
) -> CalendarConnection:
    """Change the busy rules and two-way (SPEC §10).

    Turning ``write_bookings`` on when the grant lacks the write scope changes nothing and
    raises :class:`ConsentRequired` (its callback turns it on). ``bookings_calendar``: a
    credentials provider whose server cannot make calendars writes into one the merchant picks.
    """
    if write_bookings:
        connection = _require_usable(
            CalendarConnection.objects.filter(merchant=merchant, provider=provider).first(), provider
        )
        description = provider_for(provider)
        if not connection.write_bookings and not description.grants_booking_writes(
            frozenset(connection.granted_scopes.split())
        ):
            state, url = oauth_connect_start(merchant=merchant, provider=provider, write_bookings=True)
            raise ConsentRequired(provider=provider, state=state, authorization_url=url)
    if bookings_calendar is not None:
        _bookings_calendar_choose(merchant=merchant, provider=provider, calendar_pk=bookings_calendar)
    connection = _busy_rules_update(
        merchant=merchant, provider=provider, block_tentative=block_tentative, block_all_day=block_all_day
    )
    if write_bookings is not None and connection.write_bookings != write_bookings:
        _require_usable(connection, provider)
        with transaction.atomic():
            CalendarConnection.objects.filter(pk=connection.pk).update(
                write_bookings=write_bookings, updated_at=timezone.now()
            )
            connection.write_bookings = write_bookings
            if write_bookings:
                transaction.on_commit(lambda: bookings_backfill(connection=connection))
        logger.info(
            "merchant %s turned %s writing bookings to %s", merchant.pk, "on" if write_bookings else "off", provider
        )
    return connection


@transaction.atomic
def _bookings_calendar_choose(*, merchant: Merchant, provider: str, calendar_pk: int) -> None:
    """The merchant's pick for the bookings calendar (CalDAV without ``MKCALENDAR``): it stops
    being a calendar we sync from (its blocks go), and failed copies are tried again there."""
    connection = _require_usable(
        CalendarConnection.objects.select_for_update().filter(merchant=merchant, provider=provider).first(), provider
    )
    if provider_for(provider).auth != AuthKind.CREDENTIALS:
        raise ApplicationError(
            "This provider's bookings calendar is made by us; it cannot be chosen.", code="invalid", status_code=400
        )
    calendar = connection.calendars.filter(pk=calendar_pk).first()
    if calendar is None:
        raise ApplicationError(f"Unknown calendar id {calendar_pk}.", code="not_found", status_code=404)
    BlockedTime.objects.filter(calendar=calendar).delete()
    connection.bookings_calendar_id = calendar.external_id
    connection.bookings_calendar_name = calendar.summary
    connection.save(update_fields=["bookings_calendar_id", "bookings_calendar_name", "updated_at"])
    calendar.delete()
    transaction.on_commit(lambda: merchant_changed(merchant.pk))
    if connection.write_bookings:
        transaction.on_commit(lambda: bookings_backfill(connection=connection))


@transaction.atomic
def _busy_rules_update(
    *, merchant: Merchant, provider: str, block_tentative: bool | None = None, block_all_day: bool | None = None
) -> CalendarConnection:
    """Change the busy rules (SPEC §12: without asking the provider where it need not be).

    Turning a rule off only removes what it let in: stored blocks say whether they are
    all-day and why they block, so that is a local delete. Turning one on needs events we
    never stored (privacy): one full sync per selected calendar, coalesced with any queued.
    """
    connection, _ = CalendarConnection.objects.select_for_update().get_or_create(
        merchant=merchant, provider=provider, defaults={"status": CalendarConnection.Status.DISCONNECTED}
    )
    changed = {}
    for name, value in (("block_tentative", block_tentative), ("block_all_day", block_all_day)):
        if value is not None and getattr(connection, name) != value:
            setattr(connection, name, value)
            changed[name] = value
    if not changed:
        return connection
    connection.save(update_fields=[*changed, "updated_at"])
    if not connection.is_connected or connection.status == CalendarConnection.Status.REAUTH_REQUIRED:
        return connection
    synced = BlockedTime.objects.filter(calendar__connection=connection)
    if changed.get("block_tentative") is False:
        synced.filter(reason=BlockedTime.Reason.TENTATIVE).delete()
    if changed.get("block_all_day") is False:
        synced.filter(all_day=True).delete()
    transaction.on_commit(lambda: merchant_changed(merchant.pk))
    if any(changed.values()):
        calendars = connection.calendars.filter(selected=True)
        calendars.update(sync_cursor="")  # no cursor: a full listing re-applies the rules
        for calendar_id in calendars.values_list("pk", flat=True):
            calendar_sync_enqueue(calendar_id=calendar_id, trigger=SyncRun.Trigger.PREFERENCES)
    return connection


def connection_sync_request(*, connection: CalendarConnection | None, provider: str) -> list[int]:
    """Queue a manual sync of every selected calendar; a calendar whose sync is queued or
    running absorbs the request (SPEC §12). Returns the selected calendars' ids."""
    connection = _require_usable(connection, provider)
    ids = _selected_ids(connection)
    with transaction.atomic():
        for calendar_id in ids:
            calendar_sync_enqueue(calendar_id=calendar_id, trigger=SyncRun.Trigger.MANUAL)
    return ids


def calendars_selection_update(
    *, connection: CalendarConnection | None, provider: str, selection: dict[int, bool]
) -> None:
    """Select or deselect calendars by id; deselecting removes their blocks and channels."""
    connection = _require_usable(connection, provider)
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
        if deselect:
            transaction.on_commit(lambda: merchant_changed(connection.merchant_id))
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
        logger.warning("revoking the grant of connection %s failed: %s", connection.pk, exc)


def connection_disconnect(*, connection: CalendarConnection, delete_blocked_times: bool) -> None:
    """Disconnect: revoke and stop at the provider (best effort), then forget the tokens.

    Synced blocked times are deleted when asked, otherwise kept as the merchant's own, one
    group per calendar. The row and its calendars stay (status ``disconnected``, preferences
    and sync history kept) so reconnecting reuses them.
    """
    if not connection.is_connected:
        return
    from integrations.fields import DecryptionError

    try:
        _provider_cleanup(connection)
    except DecryptionError:
        logger.warning("tokens of connection %s cannot be decrypted; disconnecting locally only", connection.pk)
    with transaction.atomic():
        if delete_blocked_times:
            BlockedTime.objects.filter(calendar__connection=connection).delete()
        else:
            kept_blocks_keep(connection=connection)
        # The calendars stay, unselected, with their sync history (SPEC §9); so does the
        # account's identity, so the same account reconnecting picks both up again.
        ExternalCalendar.objects.filter(connection=connection).update(
            selected=False, sync_cursor="", window_end=None, last_error="", failing_since=None
        )
        # What a provider stored to sync without asking (CalDAV's timing-only objects) goes.
        CalDAVObject.objects.filter(calendar__connection=connection).delete()
        connection_incidents_resolve(connection_id=connection.pk)
        CalendarConnection.objects.filter(pk=connection.pk).update(
            status=CalendarConnection.Status.DISCONNECTED,
            access_token=None,
            refresh_token=None,
            token_expires_at=None,
            granted_scopes="",
            write_bookings=False,  # stops writing; the bookings calendar stays the merchant's (§10)
            connected_at=None,
            last_synced_at=None,
            last_error="",
            updated_at=timezone.now(),
        )
    merchant_changed(connection.merchant_id)
    logger.info(
        "calendar connection %s disconnected (blocked times %s)",
        connection.pk,
        "deleted" if delete_blocked_times else "kept",
    )
