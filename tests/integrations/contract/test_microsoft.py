"""The provider contract for Outlook / Microsoft 365, against the local Microsoft emulator
(HTTPS, msal for refreshes, Graph delta rounds and subscriptions), and the two-way contract
with the real incremental-consent round trip for ``Calendars.ReadWrite``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import requests

from integrations.models import CalendarConnection
from integrations.providers.microsoft.provider import MicrosoftProvider
from integrations.services.clients import connection_client
from tests.emulators.microsoft.support import Receiver
from tests.integrations.contract.base import ProviderContract, slot
from tests.integrations.contract.two_way import StoredEvent, TwoWayContract, booking
from tests.integrations.microsoft.support import ANN, connection_for


def _local(value: dt.datetime) -> dict:
    return {"dateTime": value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(), "timeZone": "UTC"}


def _instant(value: dict) -> dt.datetime:
    """The emulator's stored view is in UTC: ``2030-01-05T09:00:00.0000000``."""
    head, _, fraction = value["dateTime"].partition(".")
    text = f"{head}.{fraction[:6]}" if fraction else head
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


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

    # -- two-way

    write_needs_consent: bool = True

    def grant_booking_writes(self) -> None:
        """The merchant turns two-way on: the consent URL asks ``Calendars.ReadWrite`` on top,
        the emulator's consent page approves (auto-approve), msal redeems the code, and the
        connection keeps what a service would save from the answer."""
        self.emulator.set_auto_approve(True)
        request = MicrosoftProvider.authorization_request(state="two-way", write_bookings=True)
        answer = requests.get(request.url, allow_redirects=False, timeout=10)
        assert answer.status_code == 302, answer.text
        params = {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["Location"]).query).items()}
        tokens = MicrosoftProvider.authorization_complete(
            code=params["code"], secret=request.secret, state=params["state"], callback=params
        )
        assert MicrosoftProvider.grants_booking_writes(tokens.scopes)
        assert MicrosoftProvider.grants_calendar_read(tokens.scopes)  # incremental: nothing lost
        CalendarConnection.objects.filter(pk=self.connection_pk).update(
            access_token=tokens.access_token,
            refresh_token=tokens.refresh_token,
            token_expires_at=tokens.expires_at,
            granted_scopes=" ".join(sorted(tokens.scopes)),
            write_bookings=True,
        )

    def stored_events(self, calendar_id: str) -> list[StoredEvent]:
        return [
            StoredEvent(
                id=event["id"],
                title=event["subject"],
                description=event["body"]["content"],
                start=_instant(event["start"]),
                end=_instant(event["end"]),
            )
            for event in self.emulator.stored_events(calendar_id)
        ]

    def calendar_ids(self) -> set[str]:
        return set(self.emulator.calendar_ids(ANN))


class TestMicrosoftContract(ProviderContract, TwoWayContract):
    @pytest.fixture
    def harness(self, microsoft_emulator, merchant, settings):
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
        settings.PUBLIC_BASE_URL = "http://testserver"  # a redirect URI the emulator's app registered
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

    # -- Graph specifics of two-way

    def test_every_write_goes_to_the_bookings_calendar(self, harness):
        harness.grant_booking_writes()
        client = harness.client()
        calendar = client.bookings_calendar_create("Studio bookings", time_zone="Europe/Berlin")
        copy = booking(*slot(3))
        client.booking_event_put(calendar.id, copy)
        client.booking_event_put(calendar.id, copy)
        client.booking_event_delete(calendar.id, copy.booking_uid)
        writes = [(w["method"], unquote(w["path"])) for w in harness.emulator.writes()]
        assert writes[0] == ("POST", "/v1.0/me/calendars")
        assert writes[1:] and all(f"/me/calendars/{calendar.id}/events" in path for _, path in writes[1:])
        assert [method for method, _ in writes[1:]] == ["POST", "PATCH", "DELETE"]

    def test_the_copy_carries_the_marker_and_is_busy_for_graph(self, harness):
        from integrations.providers.microsoft.bookings import MARKER_PROPERTY_ID

        harness.grant_booking_writes()
        client = harness.client()
        calendar = client.bookings_calendar_create("Studio bookings", time_zone="Europe/Berlin")
        copy = booking(*slot(3))
        client.booking_event_put(calendar.id, copy)
        [stored] = harness.emulator.stored_events(calendar.id)
        assert stored["singleValueExtendedProperties"] == [{"id": MARKER_PROPERTY_ID, "value": copy.booking_uid}]
        assert stored["showAs"] == "busy" and stored["transactionId"]
        assert stored["originalStartTimeZone"] == "Europe/Berlin"

    def test_creating_the_bookings_calendar_again_reuses_it(self, harness):
        harness.grant_booking_writes()
        client = harness.client()
        first = client.bookings_calendar_create("Studio bookings", time_zone="Europe/Berlin")
        again = client.bookings_calendar_create("Studio bookings", time_zone="Europe/Berlin")
        assert again.id == first.id
        assert len([c for c in harness.calendar_ids() if c == first.id]) == 1

    def test_the_live_check_sees_our_copy_as_ours_and_not_busy(self, harness):
        from tests.integrations.contract.two_way import busy

        harness.grant_booking_writes()
        client = harness.client()
        calendar = client.bookings_calendar_create("Studio bookings", time_zone="Europe/Berlin")
        start, end = slot(4)
        client.booking_event_put(calendar.id, booking(start, end))
        [event] = client.busy_between([calendar.id], start=start, end=end)
        assert event.ours
        assert not busy([event], start, end)

    def test_a_read_only_listing_asks_nothing_more(self, harness):
        harness.add_event(*slot(2))
        harness.emulator.clear_calls()
        [event for page in _listing(harness) for event in page.events]
        assert {c["endpoint"] for c in harness.emulator.calls()} == {"calendarView.delta"}


def _listing(harness):
    from tests.integrations.contract.base import listing

    return listing(harness.client(), harness.calendar_id)
