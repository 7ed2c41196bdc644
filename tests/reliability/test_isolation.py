"""Isolation between merchants (SPEC §3: "Another merchant's object: 404"): every merchant
endpoint and page, called with another merchant's credentials (token and session) and the
victim's ids, answers 404 or 403 or shows only the caller's own data, and changes nothing
of the victim's.

The victim has everything a merchant can have: a Google connection with two calendars
(one selected and synced, one not), a channel, sync runs (one failed), synced and manual
blocked times, bookings. The intruder is connected to a Google account of his own. Every
response is searched for the victim's markers (email, calendar name, note, customer), and
the victim's rows are compared before and after. ``test_every_merchant_route_is_covered``
fails when a route is added without being added here.
"""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import urlencode

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from integrations.models import CalendarConnection, ExternalCalendar, KeptBlockGroup, OAuthState, SyncRun, WatchChannel
from scheduling.live import live_token
from scheduling.models import BlockedTime, Booking
from tests.conftest import api_client_for, api_token_for
from tests.integrations.conftest import session_client
from tests.integrations.sync.conftest import at, rfc3339, timed_event
from tests.reliability import figures
from tests.reliability.conftest import connect_as

pytestmark = pytest.mark.usefixtures("quiet_google")

API = "/api/v1/merchant"
GOOGLE = f"{API}/integrations/google/calendar"
MARKERS = ("VICTIM-NOTE", "VICTIM-CAL", "VICTIM-CUSTOMER", "victim-customer@example.com", "VICTIM-EVENT")
RANGE = {"start": rfc3339(at(-40)), "end": rfc3339(at(300))}


def snapshot(merchant) -> dict:
    """Everything of ``merchant``'s that an intruder could try to read or change."""
    connection = CalendarConnection.objects.get(merchant=merchant)
    return {
        "connection": (
            connection.status,
            connection.account_email,
            connection.access_token,
            connection.refresh_token,
            connection.block_tentative,
            connection.block_all_day,
            connection.last_error,
        ),
        "calendars": list(
            ExternalCalendar.objects.filter(connection=connection)
            .order_by("pk")
            .values_list("pk", "summary", "selected", "sync_cursor")
        ),
        "channels": list(
            WatchChannel.objects.filter(calendar__connection=connection).order_by("pk").values_list("pk", "status")
        ),
        "blocks": list(
            BlockedTime.objects.filter(merchant=merchant)
            .order_by("pk")
            .values_list("pk", "start", "end", "source", "note", "calendar_id", "external_key")
        ),
        "bookings": list(
            Booking.objects.filter(merchant=merchant).order_by("pk").values_list("pk", "start", "end", "status")
        ),
        "hours": list(merchant.business_hours.values_list("weekday", "start", "end")),
        "rules": type(merchant)
        .objects.filter(pk=merchant.pk)
        .values_list("name", "time_zone", "slot_lengths", "buffer_minutes", "checklist_dismissed")[0],
        "sync_runs": SyncRun.objects.filter(calendar__connection=connection).count(),
        "oauth_states": OAuthState.objects.filter(merchant=merchant).count(),
    }


class Victim:
    def __init__(self, merchant, emulator, capture):
        self.merchant = merchant
        email = merchant.user.email
        emulator.add_account(email)
        emulator.set_auto_approve(True)
        emulator.add_calendar(email, summary="VICTIM-CAL physio room")
        for day in range(2, 6):
            emulator.insert_event(email, timed_event(at(day, 9), summary="VICTIM-EVENT private title"))
        response = connect_as(session_client(merchant), email, capture)
        assert response["Location"] == "/app/integrations?google=connected"
        self.connection = CalendarConnection.objects.get(merchant=merchant)
        self.calendar_ids = list(self.connection.calendars.values_list("pk", flat=True))
        assert len(self.calendar_ids) == 2
        self.manual = BlockedTime.objects.create(
            merchant=merchant, start=at(7, 9), end=at(7, 10), note="VICTIM-NOTE private"
        )
        self.synced = list(BlockedTime.objects.filter(merchant=merchant, calendar__isnull=False))
        assert len(self.synced) == 4
        self.booking = Booking.objects.create(
            merchant=merchant,
            start=at(8, 10),
            end=at(8, 11),
            customer_name="VICTIM-CUSTOMER",
            customer_email="victim-customer@example.com",
        )
        SyncRun.objects.create(
            calendar_id=self.calendar_ids[0], trigger="periodic", kind="incremental", status="failed", error="boom"
        )
        self.block_ids = {self.manual.pk, *(b.pk for b in self.synced)}


@pytest.fixture
def victim(merchant, google_emulator, django_capture_on_commit_callbacks) -> Victim:
    return Victim(merchant, google_emulator, django_capture_on_commit_callbacks)


@pytest.fixture
def intruder(other_connected):
    merchant = other_connected.connection.merchant
    BlockedTime.objects.create(merchant=merchant, start=at(9, 9), end=at(9, 10), note="INTRUDER-NOTE")
    return merchant


class Probe:
    """Sends requests as the intruder and checks each answer."""

    def __init__(self, victim: Victim, intruder):
        self.victim = victim
        self.intruder = intruder
        self.api = api_client_for(intruder)
        self.web = session_client(intruder)
        self.routes: set[str] = set()

    def check(self, response, *, route: str, allowed: tuple[int, ...]) -> None:
        # Generic per-provider routes are probed through Google (the watch endpoint is Google's own).
        if route.startswith("api/") and not route.endswith("/watch"):
            route = route.replace("integrations/google/calendar", "integrations/<provider:provider>/calendar")
        elif route.startswith("app/integrations/google/"):
            route = route.replace("app/integrations/google/", "app/integrations/<str:provider>/")
        self.routes.add(route)
        figures.count("isolation.requests")
        assert response.status_code in allowed, (route, response.status_code, response.content[:300])
        body = b"" if getattr(response, "streaming", False) else response.content
        text = body.decode("utf-8", errors="replace") + response.get("Location", "")
        for marker in (*MARKERS, self.victim.merchant.user.email, self.victim.merchant.name):
            assert marker not in text, (route, marker)
        if response.get("Content-Type", "").startswith("application/json") and body:
            leaked = self.victims_ids_in(route, json.loads(body))
            assert not leaked, (route, leaked)

    def victims_ids_in(self, route: str, body) -> set[int]:
        """The victim's ids among those of the kind this route returns (ids are per table)."""
        victim = self.victim
        if route.startswith("api/v1/merchant/blocked-times"):
            rows = body if isinstance(body, list) else [body]
            return {row.get("id") for row in rows if isinstance(row, dict)} & victim.block_ids
        if route.startswith("api/v1/merchant/bookings"):
            rows = body if isinstance(body, list) else [body]
            return {row.get("id") for row in rows if isinstance(row, dict)} & {victim.booking.pk}
        if route.startswith("api/v1/merchant/integrations/google/calendar") and isinstance(body, dict):
            calendars = {c["id"] for c in body.get("calendars", [])}
            calendars |= {r["calendar"] for r in body.get("recent_sync_runs", [])}
            calendars |= set(body.get("queued_calendars", []))
            return calendars & set(victim.calendar_ids)
        return set()

    def api_call(self, method: str, path: str, route: str, allowed: tuple[int, ...], data=None, **extra):
        for client in (self.api, self.web):  # a token and a session
            kwargs = {"format": "json"} if client is self.api else {"content_type": "application/json"}
            if data is not None:
                kwargs["data"] = data if client is self.api else json.dumps(data)
            response = getattr(client, method)(path, **kwargs, **extra)
            self.check(response, route=route, allowed=allowed)

    def page(self, method: str, path: str, route: str, allowed: tuple[int, ...], data=None):
        response = getattr(self.web, method)(path, data=data or {})
        self.check(response, route=route, allowed=allowed)
        if response.status_code == 302:  # the page the form redirects to
            self.check(self.web.get(response["Location"]), route=route, allowed=(200, 302))


def test_every_merchant_endpoint_with_another_merchants_credentials_and_ids(victim, intruder, google_emulator):
    before = snapshot(victim.merchant)
    probe = Probe(victim, intruder)
    victim_block, victim_synced = victim.manual.pk, victim.synced[0].pk
    calendar_ids = victim.calendar_ids
    own_calendar = ExternalCalendar.objects.filter(connection__merchant=intruder).first().pk

    # --- API -------------------------------------------------------------------------------
    probe.api_call("get", f"{API}/blocked-times", "api/v1/merchant/blocked-times", (200,), QUERY_STRING=_q(RANGE))
    probe.api_call(
        "post",
        f"{API}/blocked-times",
        "api/v1/merchant/blocked-times",
        (201,),
        data={"start": rfc3339(at(20, 9)), "end": rfc3339(at(20, 10))},
    )
    for pk in (victim_block, victim_synced):
        probe.api_call("delete", f"{API}/blocked-times/{pk}", "api/v1/merchant/blocked-times/<str:pk>", (404,))
    probe.api_call("get", f"{API}/bookings", "api/v1/merchant/bookings", (200,), QUERY_STRING=_q(RANGE))
    probe.api_call(
        "post",
        f"{API}/bookings",
        "api/v1/merchant/bookings",
        (201, 409),
        data={
            "start": rfc3339(at(22, 19)),
            "end": rfc3339(at(22, 20)),
            "customer_name": "Intruder's customer",
            "customer_email": "c@example.com",
        },
    )
    probe.api_call("delete", f"{API}/bookings/{victim.booking.pk}", "api/v1/merchant/bookings/<str:pk>", (404,))
    probe.api_call("get", f"{API}/business-hours", "api/v1/merchant/business-hours", (200,))
    probe.api_call(
        "put",
        f"{API}/business-hours",
        "api/v1/merchant/business-hours",
        (200,),
        data={"intervals": [{"weekday": 0, "start": "10:00", "end": "11:00"}]},
    )
    probe.api_call("get", f"{API}/booking-rules", "api/v1/merchant/booking-rules", (200,))
    probe.api_call("patch", f"{API}/booking-rules", "api/v1/merchant/booking-rules", (200,), data={"buffer_minutes": 5})
    status = probe.api.get(GOOGLE).json()
    assert status["account_email"] == intruder.user.email
    probe.api_call("get", "/api/v1/merchant/integrations", "api/v1/merchant/integrations", (200,))
    probe.api_call("get", GOOGLE, "api/v1/merchant/integrations/google/calendar", (200,))
    probe.api_call(
        "patch", GOOGLE, "api/v1/merchant/integrations/google/calendar", (200,), data={"block_tentative": True}
    )
    for selection in (
        [{"id": calendar_ids[0], "selected": False}],
        [{"id": calendar_ids[1], "selected": True}],
        [{"id": own_calendar, "selected": True}, {"id": calendar_ids[0], "selected": False}],
    ):
        probe.api_call(
            "patch", f"{GOOGLE}/calendars", "api/v1/merchant/integrations/google/calendar/calendars", (404,), selection
        )
    probe.api_call("post", f"{GOOGLE}/sync", "api/v1/merchant/integrations/google/calendar/sync", (202,))
    queued = probe.api.post(f"{GOOGLE}/sync").json()["queued_calendars"]
    assert not set(queued) & set(calendar_ids)
    probe.api_call("post", GOOGLE, "api/v1/merchant/integrations/google/calendar", (307,))  # his own state
    victim_state_callback = f"{GOOGLE}/callback?state=victim-state&code=victim-code"
    for method in ("get", "put"):
        response = getattr(probe.web, method)(victim_state_callback)
        probe.check(response, route="api/v1/merchant/integrations/google/calendar/callback", allowed=(302,))
        assert "reason=invalid_state" in response["Location"]
    probe.routes.add("api/v1/merchant/integrations/google/calendar/watch")  # no credentials at all: webhook suite
    # Graph's endpoints take no credentials either: tests/integrations/microsoft/test_notifications.py.
    probe.routes.add("api/v1/merchant/integrations/microsoft/calendar/watch")
    probe.routes.add("api/v1/merchant/integrations/microsoft/calendar/lifecycle")

    # --- web pages -------------------------------------------------------------------------
    week = (at(2).date() - dt.timedelta(days=at(2).weekday())).isoformat()
    probe.page("get", f"/app/?week={week}", "app/", (200,))
    probe.page("post", "/app/blocked-times", "app/blocked-times", (302, 400), {"date": week, "all_day": "on"})
    for pk in (victim_block, victim_synced):
        probe.page("post", f"/app/blocked-times/{pk}/remove", "app/blocked-times/<int:pk>/remove", (404,))
    probe.page("post", f"/app/bookings/{victim.booking.pk}/cancel", "app/bookings/<int:pk>/cancel", (404,))
    probe.page("get", "/app/settings", "app/settings", (200,))
    probe.page(
        "post",
        "/app/settings",
        "app/settings",
        (302,),
        {
            "section": "rules",
            "slot_lengths": ["45"],
            "buffer_minutes": "1",
            "minimum_notice_minutes": "0",
            "max_days_ahead": "9",
        },
    )
    probe.page("post", "/app/checklist/dismiss", "app/checklist/dismiss", (302,))
    own_feed = f"/app/live/{live_token(intruder.pk)}"
    probe.page("get", own_feed, "app/live/<str:token>", (200,))
    for forged in (str(victim.merchant.pk), f"{victim.merchant.pk}.forged", live_token(intruder.pk)[:-1] + "x"):
        probe.page("get", f"/app/live/{forged}", "app/live/<str:token>", (404,))
    probe.page("get", "/app/integrations", "app/integrations", (200,))
    probe.page(
        "post",
        "/app/integrations/google/calendars",
        "app/integrations/google/calendars",
        (302,),
        {"calendar": [str(pk) for pk in calendar_ids]},
    )
    probe.page(
        "post", "/app/integrations/google/preferences", "app/integrations/google/preferences", (302,), {"x": "1"}
    )
    probe.page("post", "/app/integrations/google/sync", "app/integrations/google/sync", (302,))
    probe.page(
        "post",
        "/app/integrations/google/bookings",
        "app/integrations/<str:provider>/bookings",
        (302,),
        {"bookings_calendar": str(calendar_ids[0])},  # the victim's calendar as the intruder's bookings calendar
    )
    assert not CalendarConnection.objects.filter(merchant=victim.merchant, write_bookings=True).exists()

    kept = KeptBlockGroup.objects.create(merchant=victim.merchant, provider="google", calendar_external_id="x")
    probe.page(
        "post", f"/app/integrations/kept/{kept.pk}/delete", "app/integrations/kept/<int:group_id>/delete", (302,)
    )
    assert KeptBlockGroup.objects.filter(pk=kept.pk).exists()  # someone else's group stays
    probe.page(
        "post", "/app/integrations/caldav/connect", "app/integrations/<str:provider>/connect", (302,), {"server": ""}
    )
    probe.page("post", "/app/integrations/caldav/password", "app/integrations/<str:provider>/password", (404,))

    # --- disconnect last: it only ever disconnects the caller -------------------------------
    disconnect = f"{GOOGLE}?delete_blocked_times=true"
    probe.api_call("delete", disconnect, "api/v1/merchant/integrations/google/calendar", (204,))
    probe.page(
        "post",
        "/app/integrations/google/disconnect",
        "app/integrations/google/disconnect",
        (302,),
        {"blocked_times": "delete"},
    )
    assert CalendarConnection.objects.get(merchant=intruder).status == "disconnected"

    after = snapshot(victim.merchant)
    assert after == before
    assert victim.connection.refresh_token not in google_emulator.revoked_tokens()
    stopped = {c["id"] for c in google_emulator.channels() if c["stopped"]}
    victim_channels = WatchChannel.objects.filter(calendar__connection=victim.connection)
    assert not stopped & set(victim_channels.values_list("channel_id", flat=True))
    figures.count("isolation.routes", len(probe.routes))
    # A route added later must be added here too.
    merchant_routes = {r for r in _routes() if r.startswith(("api/v1/merchant/", "app/"))}
    assert merchant_routes - probe.routes == set()


def _routes(resolver=None, prefix: str = "") -> list[str]:
    resolver = resolver or get_resolver()
    found = []
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            found += _routes(pattern, route)
        elif isinstance(pattern, URLPattern):
            found.append(route)
    return found


def _q(params: dict) -> str:
    return urlencode(params)


def test_the_admin_is_closed_to_merchants(victim, intruder):
    web = session_client(intruder)
    connection = victim.connection
    for path in (
        "/admin/",
        "/admin/integrations/calendarconnection/",
        f"/admin/integrations/calendarconnection/{connection.pk}/change/",
        f"/admin/scheduling/blockedtime/{victim.manual.pk}/change/",
        "/admin/scheduling/booking/",
    ):
        response = web.get(path)
        figures.count("isolation.requests")
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/"), path
    before = snapshot(victim.merchant)
    response = web.post(
        "/admin/integrations/calendarconnection/",
        {"action": "delete_selected", "_selected_action": [connection.pk], "post": "yes"},
    )
    figures.count("isolation.requests")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert snapshot(victim.merchant) == before


def test_an_account_without_a_merchant_gets_403_and_no_data(victim, db):
    user = get_user_model().objects.create_user(username="staff@example.com", email="staff@example.com")
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(user)}")
    for method, path in (
        ("get", f"{API}/blocked-times"),
        ("get", f"{API}/bookings"),
        ("get", GOOGLE),
        ("post", f"{GOOGLE}/sync"),
        ("delete", f"{API}/blocked-times/{victim.manual.pk}"),
    ):
        response = getattr(client, method)(path)
        figures.count("isolation.requests")
        assert response.status_code == 403, (path, response.status_code)
        assert response.json()["error"]["code"]
        for marker in MARKERS:
            assert marker not in response.content.decode()


def test_without_credentials_every_merchant_endpoint_is_401(victim, db):
    anon = Client()
    for method, path in (
        ("get", f"{API}/blocked-times"),
        ("post", f"{API}/blocked-times"),
        ("delete", f"{API}/blocked-times/{victim.manual.pk}"),
        ("get", f"{API}/bookings"),
        ("post", f"{API}/bookings"),
        ("delete", f"{API}/bookings/{victim.booking.pk}"),
        ("get", f"{API}/business-hours"),
        ("put", f"{API}/business-hours"),
        ("get", f"{API}/booking-rules"),
        ("patch", f"{API}/booking-rules"),
        ("get", GOOGLE),
        ("post", GOOGLE),
        ("patch", GOOGLE),
        ("delete", GOOGLE),
        ("patch", f"{GOOGLE}/calendars"),
        ("post", f"{GOOGLE}/sync"),
        ("get", f"{GOOGLE}/callback"),
        ("put", f"{GOOGLE}/callback"),
    ):
        response = getattr(anon, method)(path)
        figures.count("isolation.requests")
        assert response.status_code == 401, (method, path, response.status_code)
        assert response.json()["error"]["code"] == "not_authenticated"
    assert BlockedTime.objects.filter(pk=victim.manual.pk).exists()


def test_public_pages_show_no_detail_of_the_merchants_calendars(victim, db):
    """Customers see the victim's free slots and nothing else."""
    anon = Client()
    slug = victim.merchant.slug
    for path in (
        f"/api/v1/public/merchants/{slug}/availability?{_q(RANGE | {'end': rfc3339(at(30))})}",
        f"/book/{slug}",
        f"/book/{slug}?from={at(2).date().isoformat()}",
    ):
        response = anon.get(path)
        figures.count("isolation.requests")
        assert response.status_code == 200, path
        text = response.content.decode()
        for marker in (*MARKERS, victim.merchant.user.email, "google", "Google"):
            assert marker not in text, (path, marker)
