"""Calendar providers, registered explicitly by key (no import side effects).

``CalendarConnection.provider`` is a key of :data:`PROVIDERS`. Services talk to a provider
through ``integrations.services.clients.connection_client``, which asks :func:`client_for`
for a :class:`~integrations.providers.base.CalendarClient`; nothing outside this package
imports a provider package itself. Adding a provider is its package plus one line here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from integrations.providers.caldav.provider import CalDAVProvider
from integrations.providers.google.provider import GoogleProvider
from integrations.providers.microsoft.provider import MicrosoftProvider

if TYPE_CHECKING:
    from integrations.models import CalendarConnection
    from integrations.providers.base import CalendarClient, Provider, TokensSaved

PROVIDERS: dict[str, type[Provider]] = {
    GoogleProvider.key: GoogleProvider,
    MicrosoftProvider.key: MicrosoftProvider,
    CalDAVProvider.key: CalDAVProvider,
}


def provider_for(key: str) -> type[Provider]:
    try:
        return PROVIDERS[key]
    except KeyError:
        raise LookupError(f"unknown calendar provider {key!r}") from None


def client_for(connection: CalendarConnection, *, on_tokens: TokensSaved | None = None) -> CalendarClient:
    """A client speaking for ``connection`` (its tokens, its provider); ``on_tokens`` saves refreshes."""
    return provider_for(connection.provider).client(connection, on_tokens=on_tokens)
