"""The provider contract for CalDAV, against a real Radicale behind the fault proxy."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import icalendar
import pytest

from integrations.models import CalendarConnection
from integrations.providers.caldav import client as caldav_client
from integrations.services.clients import connection_client
from tests.integrations.contract.base import ProviderContract
from tests.integrations.contract.two_way import StoredEvent, TwoWayContract


def _stamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _ics(uid: str, start: dt.datetime, end: dt.datetime) -> str:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//contract//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:{_stamp(start)}\r\nDTEND:{_stamp(end)}\r\n"
        "SUMMARY:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )


@dataclass
class CalDAVHarness:
    user: object  # tests' CalDAVUser
    connection_pk: int
    calendar_id: str
    monkeypatch: object
    pushes: bool = False
    write_needs_consent: bool = False  # the password that reads also writes

    def client(self):
        return connection_client(CalendarConnection.objects.get(pk=self.connection_pk))

    def add_event(self, start, end) -> str:
        name = uuid.uuid4().hex
        self.user.put(name, _ics(name, start, end))
        return name

    def move_event(self, event_id, start, end) -> None:
        self.user.put(event_id, _ics(event_id, start, end))

    def remove_event(self, event_id) -> None:
        self.user.delete(event_id)

    def expire_cursor(self) -> None:
        self.user.proxy.expire_sync_tokens()

    def set_page_size(self, size: int) -> None:
        self.monkeypatch.setattr(caldav_client, "MULTIGET_BATCH", size)  # objects per calendar-multiget

    def fail_listing(self, status: int, *, retry_after: float | None = None) -> None:
        headers = {"Retry-After": str(int(retry_after))} if retry_after is not None else None
        self.user.proxy.fail(status, times=1000, headers=headers)

    def revoke_grant(self) -> None:
        # Apple: the merchant revoked the app-specific password.
        self.user.server.user_password_set(self.user.name, "revoked-" + uuid.uuid4().hex)

    def webhook_address(self) -> str:
        return "https://example.invalid/none"  # CalDAV has no push

    # --- two-way: read at Radicale itself, never through the product's client

    def grant_booking_writes(self) -> None:
        return None  # nothing to consent to

    def stored_events(self, calendar_id: str) -> list[StoredEvent]:
        events = []
        for path, text in self.user.objects(calendar_id).items():
            for vevent in icalendar.Calendar.from_ical(text).walk("VEVENT"):
                events.append(
                    StoredEvent(
                        id=path,
                        title=str(vevent.get("SUMMARY", "")),
                        description=str(vevent.get("DESCRIPTION", "")),
                        start=vevent["DTSTART"].dt.astimezone(dt.UTC),
                        end=vevent["DTEND"].dt.astimezone(dt.UTC),
                    )
                )
        return sorted(events, key=lambda e: e.id)

    def calendar_ids(self) -> set[str]:
        return self.user.calendars()


class TestCalDAVContract(ProviderContract, TwoWayContract):
    @pytest.fixture
    def harness(self, caldav_user, merchant, monkeypatch, settings, django_capture_on_commit_callbacks):
        from integrations.services.caldav import caldav_connection_create

        settings.CALDAV_ALLOW_PRIVATE_ADDRESSES = True
        settings.CALDAV_RETRY_BASE_SECONDS = 0.001
        settings.CALDAV_RETRY_MAX_WAIT_SECONDS = 1.0
        with django_capture_on_commit_callbacks(execute=True):
            connection = caldav_connection_create(
                merchant=merchant,
                server=caldav_user.base_url,
                username=caldav_user.name,
                password=caldav_user.password,
            )
        calendar = connection.calendars.get(selected=True)
        return CalDAVHarness(
            user=caldav_user, connection_pk=connection.pk, calendar_id=calendar.external_id, monkeypatch=monkeypatch
        )
