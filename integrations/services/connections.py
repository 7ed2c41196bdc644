"""Writes on calendar connections: connect, tokens, reauth, preferences, selection, disconnect."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction

from integrations.models import CalendarConnection

logger = logging.getLogger(__name__)


def connection_tokens_refreshed(*, connection: CalendarConnection, access_token: str, expires_at: dt.datetime | None):
    """Persist a refreshed access token (encrypted by the field); the refresh token stays."""
    CalendarConnection.objects.filter(pk=connection.pk).update(access_token=access_token, token_expires_at=expires_at)
    connection.access_token = access_token
    connection.token_expires_at = expires_at


def connection_reauth_required_mark(*, connection: CalendarConnection, message: str) -> None:
    """The grant is dead: flag the connection for reconnection and stop its channels locally."""
    from integrations.services.channels import calendar_channels_stop

    with transaction.atomic():
        CalendarConnection.objects.filter(pk=connection.pk).exclude(
            status=CalendarConnection.Status.DISCONNECTED
        ).update(status=CalendarConnection.Status.REAUTH_REQUIRED, last_error=message)
        # Google would refuse a stop with these credentials; local bookkeeping is what is left.
        for calendar in connection.calendars.all():
            calendar_channels_stop(calendar=calendar, client=None)
    connection.status = CalendarConnection.Status.REAUTH_REQUIRED
    connection.last_error = message
    logger.warning("calendar connection %s needs re-authorisation: %s", connection.pk, message)
