"""Apple iCloud and any CalDAV server as a provider: a class-level description (SPEC §8.2).

Credentials, not OAuth: the merchant gives a server (``"icloud"`` or a URL), a user name
and a password (for iCloud an app-specific one). No push: calendars are polled every
``CALDAV_POLL_MINUTES``. Nothing here needs a setting to be configured.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.conf import settings

from integrations.providers.base import AuthKind

if TYPE_CHECKING:
    from integrations.models import CalendarConnection
    from integrations.providers.base import TokensSaved
    from integrations.providers.caldav.client import CalDAVCalendarClient


class CalDAVProvider:
    key = "caldav"
    name = "Apple iCloud / CalDAV"
    auth = AuthKind.CREDENTIALS
    push = False
    required_settings: tuple[str, ...] = ()

    @classmethod
    def missing_configuration(cls) -> list[str]:
        return []

    @classmethod
    def poll_interval(cls) -> dt.timedelta:
        return dt.timedelta(minutes=settings.CALDAV_POLL_MINUTES)

    @classmethod
    def grants_booking_writes(cls, granted: frozenset[str]) -> bool:
        """The password that reads the account also writes it (SPEC §10): no consent to ask."""
        return True

    @classmethod
    def client(cls, connection: CalendarConnection, *, on_tokens: TokensSaved | None = None) -> CalDAVCalendarClient:
        from integrations.providers.caldav.client import CalDAVCalendarClient

        return CalDAVCalendarClient(connection)
