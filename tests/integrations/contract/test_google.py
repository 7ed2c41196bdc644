"""The provider contract for Google Calendar, against the local Google emulator."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.conf import settings as django_settings

from integrations.models import CalendarConnection
from integrations.providers.google.provider import GoogleProvider
from integrations.services.clients import connection_client
from tests.integrations.contract.base import ProviderContract, slot
from tests.integrations.contract.two_way import StoredEvent, TwoWayContract, booking
from tests.integrations.google_support import booking_writes_consent


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

    # -- two-way

    write_needs_consent: bool = True

    def grant_booking_writes(self) -> None:
        tokens = booking_writes_consent(self.connection_pk)
        assert GoogleProvider.grants_booking_writes(tokens.scopes)
        assert GoogleProvider.grants_calendar_read(tokens.scopes)  # incremental: the read grant stays

    def stored_events(self, calendar_id: str) -> list[StoredEvent]:
        out = []
        for event in self.emulator.list_stored_events(calendar_id):
            if event["status"] == "cancelled":
                continue  # a deleted event is a tombstone at Google, not an event
            out.append(
                StoredEvent(
                    id=event["id"],
                    title=event.get("summary", ""),
                    description=event.get("description", ""),
                    start=dt.datetime.fromisoformat(event["start"]["dateTime"]),
                    end=dt.datetime.fromisoformat(event["end"]["dateTime"]),
                )
            )
        return out

    def calendar_ids(self) -> set[str]:
        return set(self.emulator.calendar_ids(self.calendar_id))


class TestGoogleContract(ProviderContract, TwoWayContract):
    @pytest.fixture
    def harness(self, google_connected, quiet_google, settings):
        settings.GOOGLE_API_RETRY_BASE_SECONDS = 0.01
        return GoogleHarness(
            emulator=quiet_google, connection_pk=google_connected.connection.pk, calendar_id=google_connected.email
        )

    def test_two_way_writes_go_to_the_bookings_calendar_only(self, harness):
        """Asserted on the emulator's call log: not one write names another calendar."""
        harness.grant_booking_writes()
        client = harness.client()
        calendar = client.bookings_calendar_create("Studio bookings", time_zone="Europe/Berlin")
        copy = booking(*slot(3))
        client.booking_event_put(calendar.id, copy)
        client.booking_event_put(calendar.id, copy)
        client.booking_event_delete(calendar.id, copy.booking_uid)
        writes = harness.emulator.calendar_writes()
        assert [w["endpoint"] for w in writes] == [
            "calendars.insert",
            "events.insert",
            "events.insert",  # 409 duplicate: the retry becomes an update
            "events.update",
            "events.delete",
        ]
        assert {w["calendar_id"] for w in writes[1:]} == {calendar.id}
        assert harness.emulator.calendar_creator(calendar.id) == django_settings.GOOGLE_OAUTH_CLIENT_ID
