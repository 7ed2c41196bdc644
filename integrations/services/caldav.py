"""Writes for CalDAV connections (SPEC §8.2): connect with a password, replace the password, poll.

- :func:`caldav_connection_create`: discovery first (outside any transaction: the server
  may be slow), then one atomic store of the connection, its password (encrypted by
  ``EncryptedTextField`` in ``access_token``), its calendars and the selection, and the
  initial sync queued on commit. Any failure raises :class:`ApplicationError` with a §8.2
  code and stores nothing.
- :func:`caldav_password_replace`: after a 401 (``reauth_required``), check the new password
  against the stored calendar home, then store it and sync again.
- :func:`caldav_calendars_due_for_poll`: the calendars whose poll slot has come
  (``integrations.selectors.caldav_next_sync_at``: every ``CALDAV_POLL_MINUTES``, each
  calendar at its own stable offset inside the interval, so polls spread evenly).
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from config.api import ApplicationError
from integrations.models import CalendarConnection, ExternalCalendar, SyncRun
from integrations.providers.base import ProviderError, ReauthRequired
from integrations.providers.caldav.discovery import (
    CONNECT_ERRORS,
    ICLOUD_PASSWORD_HELP,
    Account,
    calendars_list,
    discover,
    same_url,
)
from integrations.providers.caldav.provider import CalDAVProvider
from integrations.providers.caldav.session import DAVSession
from integrations.selectors import caldav_next_sync_at
from integrations.services.sync import SYNCABLE_STATUSES, calendar_sync_enqueue
from merchants.models import Merchant

logger = logging.getLogger(__name__)

KEY = CalDAVProvider.key


def _refused(exc: Exception) -> ApplicationError:
    return ApplicationError(str(exc) or "The CalDAV server could not be used.", code=exc.code, status_code=400)


def _in_use_elsewhere(*, merchant: Merchant, account: Account) -> bool:
    others = (
        CalendarConnection.objects.filter(provider=KEY)
        .exclude(merchant=merchant)
        .exclude(status=CalendarConnection.Status.DISCONNECTED)
        .values_list("server_url", flat=True)
    )
    return any(same_url(url, account.home_url) for url in others if url)


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
    if _in_use_elsewhere(merchant=merchant, account=account):
        raise ApplicationError(
            "This calendar account is already connected by another merchant.", code="account_in_use", status_code=400
        )
    connection, selected = _connection_store(merchant=merchant, username=username, password=password, account=account)
    for calendar_id in selected:
        calendar_sync_enqueue(calendar_id=calendar_id, trigger=SyncRun.Trigger.INITIAL)
    logger.info(
        "merchant %s connected CalDAV at %s (connection %s)",
        merchant.pk,
        urlsplit(account.home_url).hostname,
        connection.pk,
    )
    return connection


@transaction.atomic
def _connection_store(*, merchant: Merchant, username: str, password: str, account: Account):
    connection = (
        CalendarConnection.objects.select_for_update()
        .defer("access_token", "refresh_token")
        .filter(merchant=merchant, provider=KEY)
        .first()
    ) or CalendarConnection(merchant=merchant, provider=KEY)
    if connection.pk and connection.server_url and not same_url(connection.server_url, account.home_url):
        connection.calendars.all().delete()  # another account: its calendars and blocks go
    connection.status = CalendarConnection.Status.ACTIVE
    connection.account_email = username[:254]
    connection.access_token = password
    connection.refresh_token = None
    connection.token_expires_at = None
    connection.server_url = account.home_url
    connection.calendar_user_addresses = "\n".join(account.addresses)
    connection.connected_at = timezone.now()
    connection.last_error = ""
    connection.save()
    remote_ids = [c.id for c in account.calendars]
    connection.calendars.exclude(external_id__in=remote_ids).delete()
    for remote in account.calendars:
        ExternalCalendar.objects.update_or_create(
            connection=connection,
            external_id=remote.id,
            defaults={"summary": remote.summary[:255], "primary": remote.primary},
        )
    if not connection.calendars.filter(selected=True).exists():
        default = next((c for c in account.calendars if c.primary), account.calendars[0])
        connection.calendars.filter(external_id=default.id).update(selected=True)
    return connection, list(connection.calendars.filter(selected=True).values_list("pk", flat=True))


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
        for calendar_id in connection.calendars.filter(selected=True).values_list("pk", flat=True):
            calendar_sync_enqueue(calendar_id=calendar_id, trigger=SyncRun.Trigger.MANUAL)
    connection.refresh_from_db()
    return connection


def caldav_calendars_due_for_poll(*, now=None) -> list[int]:
    """Selected CalDAV calendars of usable connections whose poll slot has come."""
    now = now or timezone.now()
    calendars = (
        ExternalCalendar.objects.filter(
            selected=True, connection__provider=KEY, connection__status__in=SYNCABLE_STATUSES
        )
        .annotate(last_run_at=Max("sync_runs__started_at"))
        .only("pk", "last_synced_at")
    )
    return [c.pk for c in calendars if caldav_next_sync_at(calendar=c, last_run_at=c.last_run_at) <= now]
