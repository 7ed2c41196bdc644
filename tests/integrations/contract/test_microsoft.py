"""The provider contract for Outlook / Microsoft 365, against the local Microsoft emulator
(HTTPS, msal for refreshes, Graph delta rounds and subscriptions)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from integrations.models import CalendarConnection
from integrations.services.clients import connection_client
from tests.emulators.microsoft.support import Receiver
from tests.integrations.contract.base import ProviderContract
from tests.integrations.microsoft.support import ANN, connection_for


def _local(value: dt.datetime) -> dict:
    return {"dateTime": value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(), "timeZone": "UTC"}


@dataclass
class MicrosoftHarness:
    emulator: object
    connection_pk: int
    calendar_id: str
    receiver: Receiver
    pushes: bool = True

    def client(self):
        return connection_client(CalendarConnection.objects.get(pk=self.connection_pk))

    def add_event(self, start, end) -> str:
        return self.emulator.insert_event(
            self.calendar_id, {"subject": "x", "start": _local(start), "end": _local(end)}
        )["id"]

    def move_event(self, event_id, start, end) -> None:
        self.emulator.update_event(self.calendar_id, event_id, {"start": _local(start), "end": _local(end)})

    def remove_event(self, event_id) -> None:
        self.emulator.delete_event(self.calendar_id, event_id)

    def expire_cursor(self) -> None:
        self.emulator.invalidate_delta_tokens(self.calendar_id)

    def set_page_size(self, size: int) -> None:
        # Graph caps ``Prefer: odata.maxpagesize``; the emulator's cap stands in for a small one.
        self.emulator.configure(max_page_size=size, delta_page_size=size)

    def fail_listing(self, status: int, *, retry_after: float | None = None) -> None:
        self.emulator.inject_fault("calendarView.delta", status=status, times=None, retry_after=retry_after)

    def revoke_grant(self) -> None:
        self.emulator.revoke_grant(ANN)
        CalendarConnection.objects.filter(pk=self.connection_pk).update(token_expires_at=None, access_token="")

    def webhook_address(self) -> str:
        return self.receiver.url


class TestMicrosoftContract(ProviderContract):
    @pytest.fixture
    def harness(self, microsoft_emulator, merchant, settings):
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
        settings.MICROSOFT_API_RETRY_BASE_SECONDS = 0.01
        settings.MICROSOFT_API_RETRY_MAX_WAIT_SECONDS = 0.2
        microsoft_emulator.add_account(ANN, time_zone="Europe/Berlin")
        connection = connection_for(merchant, microsoft_emulator)
        receiver = Receiver()
        yield MicrosoftHarness(
            emulator=microsoft_emulator,
            connection_pk=connection.pk,
            calendar_id=microsoft_emulator.default_calendar(ANN),
            receiver=receiver,
        )
        receiver.close()
