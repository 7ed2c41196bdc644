"""The provider contract for Google Calendar, against the local Google emulator."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.conf import settings as django_settings

from integrations.models import CalendarConnection
from integrations.services.clients import connection_client
from tests.integrations.contract.base import ProviderContract


def _rfc3339(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class GoogleHarness:
    emulator: object
    connection_pk: int
    calendar_id: str
    pushes: bool = True

    def client(self):
        return connection_client(CalendarConnection.objects.get(pk=self.connection_pk))

    def _times(self, start, end) -> dict:
        return {"start": {"dateTime": _rfc3339(start)}, "end": {"dateTime": _rfc3339(end)}}

    def add_event(self, start, end) -> str:
        return self.emulator.insert_event(self.calendar_id, {"summary": "x", **self._times(start, end)})["id"]

    def move_event(self, event_id, start, end) -> None:
        self.emulator.update_event(self.calendar_id, event_id, self._times(start, end))

    def remove_event(self, event_id) -> None:
        self.emulator.delete_event(self.calendar_id, event_id)

    def expire_cursor(self) -> None:
        self.emulator.invalidate_sync_tokens(self.calendar_id)

    def set_page_size(self, size: int) -> None:
        self.emulator.set_page_size(size)

    def fail_listing(self, status: int, *, retry_after: float | None = None) -> None:
        self.emulator.inject_fault("events.list", status=status, times=None, retry_after=retry_after)

    def revoke_grant(self) -> None:
        self.emulator.revoke_grant(self.calendar_id)
        CalendarConnection.objects.filter(pk=self.connection_pk).update(token_expires_at=None, access_token="")

    def webhook_address(self) -> str:
        return django_settings.GOOGLE_WEBHOOK_URL


class TestGoogleContract(ProviderContract):
    @pytest.fixture
    def harness(self, google_connected, quiet_google, settings):
        settings.GOOGLE_API_RETRY_BASE_SECONDS = 0.01
        return GoogleHarness(
            emulator=quiet_google, connection_pk=google_connected.connection.pk, calendar_id=google_connected.email
        )
