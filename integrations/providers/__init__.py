"""Calendar providers, registered explicitly by key (no import side effects).

``CalendarConnection.provider`` is a key of :data:`PROVIDERS`. Callers that need to talk
to a provider ask :func:`client_for` and get a :class:`~integrations.providers.base.CalendarClient`;
they never import a provider package themselves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from integrations.providers.caldav.provider import CalDAVProvider
from integrations.providers.google.provider import GoogleProvider

if TYPE_CHECKING:
    from integrations.models import CalendarConnection
    from integrations.providers.base import CalendarClient

PROVIDERS = {
    GoogleProvider.key: GoogleProvider,
    CalDAVProvider.key: CalDAVProvider,
}


def provider_for(key: str):
    try:
        return PROVIDERS[key]
    except KeyError:
        raise LookupError(f"unknown calendar provider {key!r}") from None


def client_for(connection: CalendarConnection) -> CalendarClient:
    """A client speaking for ``connection`` (its tokens, its provider)."""
    return provider_for(connection.provider).client(connection)
