"""Attacks on the OAuth flow (SPEC §3): every forged, stale, replayed, cross-merchant or
cross-client callback is refused with the right ``reason`` and nothing is stored; no
parameter of any page or endpoint redirects anywhere but our own pages and Google's.

Each attack starts from a real flow against the emulator (connect -> consent -> callback)
and changes one thing. "Nothing stored" means no connection, calendar, channel or blocked
time for the merchant (or, for a merchant already connected, exactly the rows it had),
and, where the state is what is wrong, not even a call to Google's token endpoint.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import time
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests
from django.conf import settings
from django.core import signing
from django.db import connection as django_db_connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from integrations.api import state_cookie_name
from integrations.emulators.google.pytest_plugin import TEST_CLIENT_ID
from integrations.models import CalendarConnection, ExternalCalendar, OAuthState, WatchChannel
from integrations.providers.google.provider import GoogleProvider
from scheduling.models import BlockedTime
from tests.integrations.conftest import CONNECT_URL, connect_start, consent, session_client
from tests.reliability import figures

STATE_COOKIE = state_cookie_name("google")

pytestmark = pytest.mark.usefixtures("quiet_google")

REASONS = {"invalid_state", "access_denied", "missing_scope", "token_exchange_failed", "storage_failed"}
EVIL = "https://evil.example/steal"
EVIL_TARGETS = [
    EVIL,
    "//evil.example/steal",
    "/\\evil.example/steal",
    "\\\\evil.example/steal",
    "https:evil.example",
    "http://testserver@evil.example/",
    "javascript:alert(document.cookie)",
    "/%2F%2Fevil.example",
    "/app/integrations\r\nLocation: https://evil.example/",
]
REDIRECT_PARAMS = [
    "next",
    "redirect",
    "redirect_uri",
    "redirect_to",
    "return_to",
    "returnTo",
    "url",
    "continue",
    "callback",
    "target",
    "dest",
    "destination",
    "r",
    "u",
    "to",
    "goto",
]


# --- helpers ------------------------------------------------------------------------------


def reason_of(response) -> str:
    assert response.status_code == 302, response.content
    location = urlsplit(response["Location"])
    assert (location.scheme, location.netloc, location.path) == ("", "", "/app/integrations"), response["Location"]
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["google"] == "error", query
    assert set(query) == {"google", "reason"}, query
    assert query["reason"] in REASONS
    figures.count("oauth.attacks_refused")
    return query["reason"]


def with_query(address: str, /, **changes) -> str:
    parts = urlsplit(address)
    query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    return urlunsplit(("", "", parts.path, urlencode(query), ""))


def flip_last(value: str) -> str:
    return value[:-1] + ("A" if value[-1] != "A" else "B")


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def rows_of(merchant) -> dict:
    """Everything a connection stores for ``merchant`` (tokens included, so a swap shows)."""
    connection = CalendarConnection.objects.filter(merchant=merchant).first()
    return {
        "connection": None
        if connection is None
        else tuple(
            getattr(connection, name)
            for name in ("pk", "status", "account_email", "access_token", "refresh_token", "connected_at")
        ),
        "calendars": sorted(
            ExternalCalendar.objects.filter(connection__merchant=merchant).values_list("external_id", "selected")
        ),
        "channels": sorted(
            WatchChannel.objects.filter(calendar__connection__merchant=merchant).values_list("channel_id", "status")
        ),
        "synced_blocks": BlockedTime.objects.filter(merchant=merchant, calendar__isnull=False).count(),
    }


NOTHING = {"connection": None, "calendars": [], "channels": [], "synced_blocks": 0}


def token_calls(emulator) -> int:
    return len(emulator.calls("token"))


@pytest.fixture
def started(merchant, google_emulator, google_account):
    """The merchant's browser back from Google's consent screen, about to hit our callback."""
    client = session_client(merchant)
    return client, consent(connect_start(client))


@pytest.fixture
def intruder(other_merchant, google_emulator):
    google_emulator.add_account(other_merchant.user.email)
    return other_merchant


# --- the state ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda url, state: with_query(url, state=None), id="missing"),
        pytest.param(lambda url, state: with_query(url, state=""), id="empty"),
        pytest.param(lambda url, state: with_query(url, state=flip_last(state)), id="last-character-changed"),
        pytest.param(lambda url, state: with_query(url, state=state[:20]), id="truncated"),
        pytest.param(lambda url, state: with_query(url, state=state + "x"), id="extended"),
        pytest.param(lambda url, state: with_query(url, state="x" * 100_000), id="100-kB"),
        pytest.param(lambda url, state: with_query(url, state=sha256(state)), id="its-stored-hash"),
        pytest.param(lambda url, state: with_query(url, state="' OR 1=1 --"), id="sql"),
    ],
)
def test_a_forged_state_is_refused_before_any_call_to_google(merchant, started, google_emulator, forge):
    client, url = started
    state = parse_qs(urlsplit(url).query)["state"][0]
    assert reason_of(client.get(forge(url, state))) == "invalid_state"
    assert rows_of(merchant) == NOTHING
    assert token_calls(google_emulator) == 0
    # The genuine callback still works afterwards: forging did not burn the real state.
    assert client.get(url)["Location"] == "/app/integrations?google=connected"


def test_missing_cookie(merchant, started, google_emulator):
    client, url = started
    del client.cookies[STATE_COOKIE]
    assert reason_of(client.get(url)) == "invalid_state"
    assert rows_of(merchant) == NOTHING
    assert token_calls(google_emulator) == 0


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda value: value[:-2] + ("xx" if not value.endswith("xx") else "yy"), id="signature"),
        pytest.param(lambda value: "A" + value[1:], id="payload"),
        pytest.param(lambda value: "", id="empty"),
        pytest.param(lambda value: value.split(":")[0], id="unsigned-payload-only"),
    ],
)
def test_a_tampered_cookie_is_refused(merchant, started, google_emulator, tamper):
    client, url = started
    client.cookies[STATE_COOKIE] = tamper(client.cookies[STATE_COOKIE].value)
    assert reason_of(client.get(url)) == "invalid_state"
    assert rows_of(merchant) == NOTHING
    assert token_calls(google_emulator) == 0


def test_a_cookie_signed_with_our_salt_but_naming_another_state_is_refused(merchant, started, google_emulator):
    """Even a validly signed cookie must carry the very state of the callback."""
    client, url = started
    client.cookies[STATE_COOKIE] = signing.dumps("x" * 43, salt=f"integrations.oauth-state:google:{merchant.pk}")
    assert reason_of(client.get(url)) == "invalid_state"
    assert rows_of(merchant) == NOTHING


def test_state_of_an_earlier_attempt_with_the_cookie_of_a_later_one(merchant, google_emulator, google_account):
    client = session_client(merchant)
    first = consent(connect_start(client))
    connect_start(client)  # a second attempt replaces the cookie
    assert reason_of(client.get(first)) == "invalid_state"
    assert rows_of(merchant) == NOTHING
    assert token_calls(google_emulator) == 0


def test_expired_server_side_state(merchant, started, google_emulator):
    client, url = started
    OAuthState.objects.filter(merchant=merchant).update(created_at=timezone.now() - dt.timedelta(minutes=11))
    assert reason_of(client.get(url)) == "invalid_state"
    assert rows_of(merchant) == NOTHING
    assert token_calls(google_emulator) == 0


def test_expired_cookie(merchant, google_emulator, google_account, monkeypatch):
    """The cookie was signed eleven minutes ago (its max age is ten); the server record is fresh."""
    client = session_client(merchant)
    with monkeypatch.context() as patch:
        patch.setattr(signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(int(time.time()) - 660))
        url = consent(connect_start(client))
    assert reason_of(client.get(url)) == "invalid_state"
    assert rows_of(merchant) == NOTHING
    assert token_calls(google_emulator) == 0


def test_replayed_callback_after_success(merchant, started, google_emulator):
    client, url = started
    cookie = client.cookies[STATE_COOKIE].value
    assert client.get(url)["Location"] == "/app/integrations?google=connected"
    connected = rows_of(merchant)
    exchanges = token_calls(google_emulator)
    for _ in range(3):
        client.cookies[STATE_COOKIE] = cookie
        assert reason_of(client.get(url)) == "invalid_state"
    assert rows_of(merchant) == connected
    assert token_calls(google_emulator) == exchanges


def test_a_state_spent_by_a_failed_callback_cannot_be_reused(merchant, started, google_emulator):
    client, url = started
    cookie = client.cookies[STATE_COOKIE].value
    denied = with_query(url, code=None, error="access_denied")
    assert reason_of(client.get(denied)) == "access_denied"
    client.cookies[STATE_COOKIE] = cookie
    assert reason_of(client.get(url)) == "invalid_state"
    assert rows_of(merchant) == NOTHING
    assert token_calls(google_emulator) == 0


def test_replayed_callback_after_a_state_was_reissued(merchant, started, google_emulator):
    """PUT (the documented form) replays like GET."""
    client, url = started
    cookie = client.cookies[STATE_COOKIE].value
    assert client.put(url)["Location"] == "/app/integrations?google=connected"
    client.cookies[STATE_COOKIE] = cookie
    assert reason_of(client.put(url)) == "invalid_state"


# --- cross-merchant -----------------------------------------------------------------------


def test_the_victims_callback_in_the_intruders_session(merchant, started, intruder, google_emulator):
    client, url = started
    other = session_client(intruder)
    assert reason_of(other.get(url)) == "invalid_state"  # no cookie at all
    other.cookies[STATE_COOKIE] = client.cookies[STATE_COOKIE].value
    assert reason_of(other.get(url)) == "invalid_state"  # the victim's cookie, copied
    connect_start(other)
    assert reason_of(other.get(url)) == "invalid_state"  # the intruder's own fresh cookie
    assert rows_of(intruder) == NOTHING
    assert token_calls(google_emulator) == 0
    assert client.get(url)["Location"] == "/app/integrations?google=connected"  # the victim is unharmed


def test_login_csrf_the_intruders_callback_in_the_victims_browser(merchant, intruder, google_emulator):
    """The classic OAuth CSRF: the intruder starts a flow with *his* Google account and lures
    the victim's browser to the callback, to hook his calendar to her merchant account."""
    google_emulator.set_auto_approve(True)
    attacker = session_client(intruder)
    attacker_url = consent(connect_start(attacker) + "&login_hint=" + intruder.user.email)
    victim = session_client(merchant)
    assert reason_of(victim.get(attacker_url)) == "invalid_state"
    # With the attacker's cookie planted too (say, through a sibling subdomain).
    victim.cookies[STATE_COOKIE] = attacker.cookies[STATE_COOKIE].value
    assert reason_of(victim.get(attacker_url)) == "invalid_state"
    connect_start(victim)  # the victim's own flow in progress: her cookie, his state
    assert reason_of(victim.get(attacker_url)) == "invalid_state"
    assert rows_of(merchant) == NOTHING
    assert token_calls(google_emulator) == 0


def test_a_state_recorded_for_another_merchant(merchant, started, other_merchant, google_emulator):
    """The server-side record alone decides whose state it is, whatever the cookie says."""
    client, url = started
    OAuthState.objects.filter(merchant=merchant).update(merchant=other_merchant)
    assert reason_of(client.get(url)) == "invalid_state"
    assert rows_of(merchant) == NOTHING and rows_of(other_merchant) == NOTHING
    assert token_calls(google_emulator) == 0


# --- the code ------------------------------------------------------------------------------


def _authorization_url(client: Client, **changes) -> str:
    url = connect_start(client)
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(changes)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def test_a_code_issued_to_another_oauth_client(merchant, google_emulator, google_account):
    """Google's consent for another app (another client id, same redirect URI) hands out a code
    bound to that client: our exchange with our own client is refused."""
    google_emulator.add_client(
        "another-app.apps.googleusercontent.com", "another-secret", [GoogleProvider.redirect_uri()]
    )
    client = session_client(merchant)
    url = consent(_authorization_url(client, client_id="another-app.apps.googleusercontent.com"))
    assert reason_of(client.get(url)) == "token_exchange_failed"
    assert rows_of(merchant) == NOTHING
    exchange = google_emulator.calls("token")[-1]
    assert exchange["status"] == 400


def test_a_code_issued_for_another_redirect_uri(merchant, google_emulator, google_account):
    """A code Google sent to someone else's redirect URI, injected into our callback."""
    google_emulator.add_redirect_uri("http://evil.example/callback", TEST_CLIENT_ID)
    client = session_client(merchant)
    authorization = _authorization_url(client, redirect_uri="http://evil.example/callback")
    answer = requests.get(authorization, allow_redirects=False, timeout=10)
    stolen = urlsplit(answer.headers["Location"])
    assert stolen.netloc == "evil.example"
    url = f"{GoogleProvider.callback_path}?{stolen.query}"
    assert reason_of(client.get(url)) == "token_exchange_failed"
    assert rows_of(merchant) == NOTHING


def test_a_code_bound_to_another_pkce_verifier(merchant, google_emulator, google_account):
    """Code injection: the attacker's code (his own PKCE challenge) with our valid state and cookie."""
    verifier = "attacker-verifier-" + "a" * 60
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    client = session_client(merchant)
    url = consent(_authorization_url(client, code_challenge=challenge))
    assert reason_of(client.get(url)) == "token_exchange_failed"
    assert rows_of(merchant) == NOTHING


def test_a_used_code_with_a_fresh_state(merchant, started, google_emulator):
    client, url = started
    assert client.get(url)["Location"] == "/app/integrations?google=connected"
    connected = rows_of(merchant)
    code = parse_qs(urlsplit(url).query)["code"][0]
    fresh = consent(connect_start(client))
    assert reason_of(client.get(with_query(fresh, code=code))) == "token_exchange_failed"
    assert rows_of(merchant) == connected  # the existing connection is untouched


@pytest.mark.parametrize("code", ["", "4/0Abogus", "x" * 100_000, "' OR 1=1 --", "\u2603"])
def test_bogus_codes(merchant, started, code):
    client, url = started
    reason = reason_of(client.get(with_query(url, code=code)))
    assert reason == ("access_denied" if code == "" else "token_exchange_failed")
    assert rows_of(merchant) == NOTHING


@pytest.mark.parametrize("error", ["access_denied", "server_error", "<script>alert(1)</script>", EVIL])
def test_an_error_from_google_is_access_denied_and_reflects_nothing(merchant, started, error):
    client, url = started
    response = client.get(with_query(url, code=None, error=error))
    assert reason_of(response) == "access_denied"
    assert "evil" not in response["Location"] and "script" not in response["Location"]
    assert rows_of(merchant) == NOTHING


def test_an_already_connected_merchant_loses_nothing_to_a_failed_reconnect(merchant, google_connected, google_emulator):
    before = rows_of(merchant)
    client = google_connected.client
    url = consent(connect_start(client))
    for forged in (with_query(url, state="x" * 43), with_query(url, code="4/0Abogus"), with_query(url, code=None)):
        reason_of(client.get(forged))
    assert rows_of(merchant) == before


# --- open redirects -------------------------------------------------------------------------


def _on_site(url: str) -> bool:
    return url_has_allowed_host_and_scheme(url, allowed_hosts={"testserver"}) and "evil" not in urlsplit(url).netloc


def assert_safe_redirect(response, *, also_allowed: tuple[str, ...] = ()) -> None:
    """A redirect, if any, goes to our own site (or an allowed prefix such as Google's consent
    page), and so does the ``next`` it carries (the login page follows that one later)."""
    figures.count("oauth.redirect_probes")
    if response.status_code not in (301, 302, 303, 307, 308):
        return
    location = response["Location"]
    if any(location.startswith(prefix) for prefix in also_allowed):
        return
    assert _on_site(location), location
    for carried in parse_qs(urlsplit(location).query).get("next", []):
        assert _on_site(carried), location


@pytest.mark.parametrize("param", REDIRECT_PARAMS)
def test_the_callback_redirects_only_to_the_integrations_page(merchant, google_emulator, google_account, param):
    for target in EVIL_TARGETS:
        client = session_client(merchant)
        url = consent(connect_start(client))
        # A failing callback and a succeeding one, each with the extra parameter.
        failed = client.get(with_query(url, state="x" * 43, **{param: target}))
        assert_safe_redirect(failed)
        assert reason_of(failed) == "invalid_state"
        ok = client.get(with_query(url, **{param: target}))
        assert_safe_redirect(ok)
        assert ok["Location"] == "/app/integrations?google=connected"


def _redirect_uri_of(authorization_url: str) -> str:
    return parse_qs(urlsplit(authorization_url).query)["redirect_uri"][0]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Host": "evil.example"},
        {"X-Forwarded-Host": "evil.example"},
        {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"},
        {"Referer": EVIL, "Origin": "https://evil.example"},
    ],
    ids=["plain", "host", "forwarded-host", "forwarded-host-and-proto", "referer-origin"],
)
def test_connect_sends_google_our_fixed_callback_whatever_the_request_says(merchant, google_emulator, headers):
    client = session_client(merchant)
    query = urlencode({param: EVIL for param in REDIRECT_PARAMS})
    body = {param: EVIL for param in REDIRECT_PARAMS}
    extra = {"HTTP_HOST": headers["Host"]} if "Host" in headers else {}
    rest = {k: v for k, v in headers.items() if k != "Host"}
    for accept in ("*/*", "application/json"):
        response = client.post(
            f"{CONNECT_URL}?{query}",
            data=body,
            content_type="application/json",
            headers={**rest, "Accept": accept},
            **extra,
        )
        figures.count("oauth.redirect_probes")
        if response.status_code == 400:  # Django refused the Host header: nothing redirected
            assert "evil" not in response.content.decode()
            continue
        if accept == "application/json":
            assert response.status_code == 200, response.content
            authorization = response.json()["authorization_url"]
        else:
            assert response.status_code == 307, response.content
            authorization = response["Location"]
        assert authorization.startswith(settings.GOOGLE_OAUTH_AUTH_URI + "?")
        assert _redirect_uri_of(authorization) == settings.PUBLIC_BASE_URL + GoogleProvider.callback_path
        assert "evil" not in authorization


def _routes(resolver: URLResolver | None = None, prefix: str = "") -> list[str]:
    resolver = resolver or get_resolver()
    found = []
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            found += _routes(pattern, route)
        elif isinstance(pattern, URLPattern):
            found.append(route)
    return found


def _concrete(route: str) -> str:
    """A requestable path for a route: converters filled in with harmless values."""
    import re

    path = route.lstrip("^").rstrip("$").replace("\\Z", "")
    path = re.sub(r"<int:\w+>", "1", path)
    path = re.sub(r"<(?:str|slug):\w+>", "salon-0", path)
    path = re.sub(r"<path:\w+>", "x", path)
    path = re.sub(r"\(\?P<\w+>[^)]*\)", "x", path)
    return "/" + path


def test_no_page_or_endpoint_redirects_off_site_through_any_parameter(merchant, google_emulator, db):
    """Every route of the site, anonymous and logged in, GET and POST, with every usual redirect
    parameter pointing off-site: each redirect stays on the site (or goes to Google's consent)."""
    routes = sorted({_concrete(r) for r in _routes() if "admin/" not in r or r.endswith("admin/")})
    assert len(routes) > 20
    clients = {"anonymous": Client(), "merchant": session_client(merchant)}
    for target in (EVIL, "//evil.example/x", "/\\evil.example"):
        query = urlencode({param: target for param in REDIRECT_PARAMS})
        for client in clients.values():
            for path in routes:
                if path.endswith("/watch"):
                    continue  # Google's endpoint: covered by the webhook suite
                for method in ("get", "post"):
                    response = getattr(client, method)(f"{path}?{query}", data={p: target for p in REDIRECT_PARAMS})
                    assert response.status_code < 500, (method, path, response.status_code)
                    assert_safe_redirect(response, also_allowed=(settings.GOOGLE_OAUTH_AUTH_URI + "?",))
    figures.count("oauth.routes_swept", len(routes))


@pytest.mark.parametrize("target", EVIL_TARGETS)
def test_login_and_logout_ignore_off_site_next(merchant, target):
    client = Client()
    page = client.get("/accounts/login/", {"next": target})
    assert page.status_code == 200
    response = client.post(
        f"/accounts/login/?{urlencode({'next': target})}",
        {"username": merchant.user.email, "password": "correct horse battery staple", "next": target},
    )
    assert response.status_code == 302
    assert_safe_redirect(response)
    response = client.post(f"/accounts/logout/?{urlencode({'next': target})}", {"next": target})
    assert_safe_redirect(response)


def test_the_pkce_verifier_never_leaves_the_server(merchant, google_emulator, google_account):
    """SPEC §12: the cookie carries the signed state only; the verifier stays encrypted in
    the state's row and is wiped when the state is spent."""
    client = session_client(merchant)
    authorization_url = connect_start(client)
    raw = client.cookies[STATE_COOKIE].value
    payload = base64.urlsafe_b64decode(raw.split(":")[0] + "==").decode()
    [record] = OAuthState.objects.filter(merchant=merchant, used_at__isnull=True)
    verifier = record.secret
    assert len(verifier) >= 43
    assert verifier not in raw and verifier not in payload
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert parse_qs(urlsplit(authorization_url).query)["code_challenge"] == [challenge]
    with django_db_connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM integrations_oauthstate WHERE id = %s", [record.pk])
        assert verifier not in cursor.fetchone()[0]  # encrypted at rest

    client.get(consent(authorization_url))

    assert OAuthState.objects.get(pk=record.pk).secret == ""
