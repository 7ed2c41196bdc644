"""Writes for CalDAV connections (SPEC §8.2): connect with a password, replace the password, poll.

- :func:`caldav_connection_create`: discovery first (outside any transaction: the server
  may be slow), then one atomic store of the connection, its password (encrypted by
  ``EncryptedTextField`` in ``access_token``), its calendars and the selection, and the
  initial sync queued on commit. Any failure raises :class:`ApplicationError` with a §8.2
  code and stores nothing.
- :func:`caldav_password_replace`: after a 401 (``reauth_required``), check the new password
  against the stored calendar home, then store it and sync again.
Polling is the neutral ``integrations.services.sync.calendars_due_for_poll``.
"""

from __future__ import annotations

import logging
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from config.api import ApplicationError
from integrations.models import CalendarConnection, SyncRun
from integrations.providers.base import ProviderError, ReauthRequired, RemoteAccount
from integrations.providers.caldav.discovery import (
    CONNECT_ERRORS,
    ICLOUD_PASSWORD_HELP,
    Account,
    calendars_list,
    discover,
)
from integrations.providers.caldav.provider import CalDAVProvider
from integrations.providers.caldav.session import DAVSession
from integrations.services.connections import ConnectFailed, connection_store, connection_syncs_start
from integrations.services.incidents import connection_incidents_resolve
from integrations.services.sync import calendar_sync_enqueue
from merchants.models import Merchant

logger = logging.getLogger(__name__)

KEY = CalDAVProvider.key


def _refused(exc: Exception) -> ApplicationError:
    return ApplicationError(str(exc) or "The CalDAV server could not be used.", code=exc.code, status_code=400)


def _account_id(account: Account) -> str:
    """The account's identity for §8's one-merchant rule: its calendar home, normalised."""
    parts = urlsplit(account.home_url)
    return f"{(parts.hostname or '').lower()}:{parts.port or ''}{unquote(parts.path).rstrip('/')}"


def caldav_connection_create(*, merchant: Merchant, server: str, username: str, password: str) -> CalendarConnection:
    """Connect the CalDAV account at ``server`` (``"icloud"`` or a URL); see the module docstring."""
    username = (username or "").strip()
    if not username or not password:
        raise ApplicationError("A user name and a password are needed.", code="invalid_credentials", status_code=400)
    try:
        account = discover(server=server, username=username, password=password)
    except CONNECT_ERRORS as exc:
        raise _refused(exc) from exc
    except ProviderError as exc:  # anything else the server did: it is not a usable CalDAV account
        raise ApplicationError(f"The CalDAV server could not be used: {exc}", code="not_caldav") from exc
    try:
        connection, selected = connection_store(
            merchant=merchant,
            provider=KEY,
            account=RemoteAccount(id=_account_id(account), email=username[:254]),
            calendars=account.calendars,  # the default calendar is the primary one
            credentials={
                "access_token": password,  # encrypted by the field, like OAuth tokens
                "refresh_token": None,
                "token_expires_at": None,
                "server_url": account.home_url,
                "calendar_user_addresses": "\n".join(account.addresses),
            },
        )
    except ConnectFailed as exc:
        raise ApplicationError(exc.message, code=exc.reason, status_code=400) from exc
    connection_syncs_start(calendar_ids=selected)
    logger.info(
        "merchant %s connected CalDAV at %s (connection %s)",
        merchant.pk,
        urlsplit(account.home_url).hostname,
        connection.pk,
    )
    return connection


def _is_icloud(connection: CalendarConnection) -> bool:
    host = (urlsplit(connection.server_url).hostname or "").lower()
    return host.endswith(".icloud.com") or host == urlsplit(settings.CALDAV_ICLOUD_URL).hostname


def caldav_password_replace(*, connection: CalendarConnection, password: str) -> CalendarConnection:
    """Check ``password`` against the stored calendar home, store it, reactivate and re-sync."""
    if connection.provider != KEY or not connection.is_connected:
        raise ApplicationError("CalDAV is not connected.", code="not_connected", status_code=409)
    if not password:
        raise ApplicationError("A password is needed.", code="invalid_credentials", status_code=400)
    session = DAVSession(connection.account_email, password, hosts={urlsplit(connection.server_url).hostname or ""})
    try:
        calendars_list(session, connection.server_url)
    except ReauthRequired as exc:
        message = ICLOUD_PASSWORD_HELP if _is_icloud(connection) else "The server refused the password."
        raise ApplicationError(message, code="invalid_credentials", status_code=400) from exc
    except CONNECT_ERRORS as exc:
        raise _refused(exc) from exc
    except ProviderError as exc:
        raise ApplicationError(f"The CalDAV server could not be used: {exc}", code="server_unreachable") from exc
    with transaction.atomic():
        CalendarConnection.objects.filter(pk=connection.pk).update(
            access_token=password,  # encrypted by the field, as in save()
            status=CalendarConnection.Status.ACTIVE,
            last_error="",
            updated_at=timezone.now(),
        )
        connection_incidents_resolve(connection_id=connection.pk)
        for calendar_id in connection.calendars.filter(selected=True).values_list("pk", flat=True):
            calendar_sync_enqueue(calendar_id=calendar_id, trigger=SyncRun.Trigger.MANUAL)
    connection.refresh_from_db()
    return connection
