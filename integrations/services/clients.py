"""The one way services talk to a provider: a client wired to storage and to the reauth rule.

Providers raise, services decide (STYLE 13). :func:`connection_client` hands out the
provider's client for a connection with two decisions attached in one place:

- tokens the provider refreshed (or rotated, as Microsoft does) mid-call are saved to the
  connection row at once, through the ``on_tokens`` callback, encrypted by the field;
- a :class:`~integrations.providers.base.ReauthRequired` from any call marks the connection
  ``reauth_required`` and stops its channels locally before it propagates.
"""

from __future__ import annotations

import functools
import logging

from django.db import transaction
from django.utils import timezone

from integrations.models import CalendarConnection, ConnectionIncident, WatchChannel
from integrations.providers import provider_for
from integrations.providers.base import CalendarClient, ReauthRequired, TokenUpdate
from integrations.services.incidents import connection_incident_open
from integrations.sync.engine import error_text
from integrations.sync.readahead import on_caller_thread

logger = logging.getLogger(__name__)


def connection_tokens_save(*, connection: CalendarConnection, update: TokenUpdate) -> None:
    """Persist refreshed tokens; the stored refresh token changes only when the provider rotated it."""
    values = {"access_token": update.access_token, "token_expires_at": update.expires_at}
    if update.refresh_token:
        values["refresh_token"] = update.refresh_token
    if connection.pk is not None:
        CalendarConnection.objects.filter(pk=connection.pk).update(**values)
    for name, value in values.items():
        setattr(connection, name, value)


def connection_reauth_required_mark(*, connection: CalendarConnection, message: str) -> None:
    """The grant is dead: flag the connection for reconnection and stop its channels locally
    (the provider would refuse a stop with these credentials)."""
    connection.status = CalendarConnection.Status.REAUTH_REQUIRED
    connection.last_error = message
    if connection.pk is None:
        return
    with transaction.atomic():
        CalendarConnection.objects.filter(pk=connection.pk).exclude(
            status=CalendarConnection.Status.DISCONNECTED
        ).update(status=CalendarConnection.Status.REAUTH_REQUIRED, last_error=message)
        WatchChannel.objects.filter(calendar__connection_id=connection.pk, status=WatchChannel.Status.ACTIVE).update(
            status=WatchChannel.Status.STOPPED, stopped_at=timezone.now()
        )
    connection_incident_open(connection_id=connection.pk, kind=ConnectionIncident.Kind.REAUTH_REQUIRED)
    logger.warning("calendar connection %s needs re-authorisation: %s", connection.pk, message)


class _DecidingClient:
    """Delegates to the provider's client; a ReauthRequired marks the connection on its way out."""

    def __init__(self, connection: CalendarConnection, client: CalendarClient):
        self.connection = connection
        self._client = client

    @property
    def provider_client(self) -> CalendarClient:
        """The provider's own client, unguarded: the poll check hands its errors to the run,
        which marks and records them (``integrations.services.sync``)."""
        return self._client

    def __getattr__(self, name: str):
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute

        @functools.wraps(attribute)
        def call(*args, **kwargs):
            try:
                result = attribute(*args, **kwargs)
                if name == "list_events":  # a generator: errors surface while iterating
                    return self._guard_iteration(result)
                return result
            except ReauthRequired as exc:
                connection_reauth_required_mark(connection=self.connection, message=error_text(exc))
                raise

        return call

    def _guard_iteration(self, pages):
        # A listing may run on the sync's read-ahead thread: the marking runs on the sync's own.
        try:
            yield from pages
        except ReauthRequired as exc:
            on_caller_thread(connection_reauth_required_mark, connection=self.connection, message=error_text(exc))
            raise


def connection_client(connection: CalendarConnection) -> CalendarClient:
    """The provider's client for ``connection``, saving refreshed tokens and marking dead grants."""

    def on_tokens(update: TokenUpdate) -> None:
        # A refresh mid-listing may happen on the sync's read-ahead thread: saved on the sync's own.
        on_caller_thread(connection_tokens_save, connection=connection, update=update)
        logger.info("saved refreshed tokens of calendar connection %s", connection.pk)

    client = provider_for(connection.provider).client(connection, on_tokens=on_tokens)
    return _DecidingClient(connection, client)  # type: ignore[return-value]
