"""The provider's authorization code flow through msal against the emulator: the request it
builds, the code exchange, and every failure reason it reports."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from integrations.providers.microsoft.oauth import AuthorizationFailed, authorization_request_build, code_exchange
from integrations.providers.microsoft.provider import MicrosoftProvider
from tests.integrations.microsoft.support import ANN


@pytest.fixture
def approving(ms, settings):
    settings.PUBLIC_BASE_URL = "http://testserver"
    ms.set_auto_approve(True)
    return ms


def browser(url: str) -> dict:
    """What the merchant's browser brings back to our callback (the redirect's query)."""
    answer = requests.get(url, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    location = urlsplit(answer.headers["Location"])
    assert (
        f"{location.scheme}://{location.netloc}{location.path}" == "http://testserver" + MicrosoftProvider.callback_path
    )
    return {k: v[0] for k, v in parse_qs(location.query).items()}


def test_the_request_asks_read_only_scopes_with_pkce_and_keeps_the_verifier_server_side(approving):
    request = authorization_request_build(state="state-123", login_hint=ANN)
    query = parse_qs(urlsplit(request.url).query)
    assert request.url.startswith(approving.authority("common") + "/oauth2/v2.0/authorize?")
    assert set(query["scope"][0].split()) == {"offline_access", "User.Read", "Calendars.Read", "openid", "profile"}
    assert query["code_challenge_method"] == ["S256"] and query["state"] == ["state-123"]
    assert query["redirect_uri"] == ["http://testserver" + MicrosoftProvider.callback_path]
    assert query["response_mode"] == ["query"]
    assert request.state == "state-123" and request.flow["code_verifier"]
    assert request.flow["code_verifier"] not in request.url
    assert [c["endpoint"] for c in approving.calls()] == ["instance-discovery", "openid-configuration"]


def test_extra_scopes_are_added_for_later(approving):
    request = authorization_request_build(state="s", extra_scopes=["Calendars.ReadWrite"])
    assert "Calendars.ReadWrite" in parse_qs(urlsplit(request.url).query)["scope"][0].split()


def test_code_exchange_returns_typed_tokens(approving):
    request = authorization_request_build(state="state-1", login_hint=ANN)
    granted = code_exchange(flow=request.flow, auth_response=browser(request.url))
    account = approving.add_account(ANN)
    assert granted.account_id == account["oid"]
    assert granted.account_email == ANN
    assert {"Calendars.Read", "User.Read"} <= granted.scopes
    assert granted.access_token and granted.refresh_token
    assert dt.timedelta(minutes=55) < granted.expires_at - dt.datetime.now(dt.UTC) <= dt.timedelta(minutes=60)
    exchange = approving.calls("token")[0]["form"]
    assert exchange["code_verifier"] == request.flow["code_verifier"]
    assert approving.calls("me"), "the account's address comes from GET /me"


def test_a_personal_account_without_mail_uses_the_user_principal_name(approving):
    approving.add_account("pat@outlook.com")
    request = authorization_request_build(state="s", login_hint="pat@outlook.com")
    granted = code_exchange(flow=request.flow, auth_response=browser(request.url))
    assert granted.account_email == "pat@outlook.com"


def test_declined_consent_is_access_denied(approving):
    approving.deny_next_consent()
    request = authorization_request_build(state="s", login_hint=ANN)
    with pytest.raises(AuthorizationFailed) as caught:
        code_exchange(flow=request.flow, auth_response=browser(request.url))
    assert caught.value.reason == "access_denied"


def test_a_grant_without_calendars_read_is_missing_scope(approving):
    approving.grant_only_scopes_next(["User.Read"])
    request = authorization_request_build(state="s", login_hint=ANN)
    with pytest.raises(AuthorizationFailed) as caught:
        code_exchange(flow=request.flow, auth_response=browser(request.url))
    assert caught.value.reason == "missing_scope"


def test_a_wrong_state_is_invalid_state(approving):
    request = authorization_request_build(state="ours", login_hint=ANN)
    params = {**browser(request.url), "state": "forged"}
    with pytest.raises(AuthorizationFailed) as caught:
        code_exchange(flow=request.flow, auth_response=params)
    assert caught.value.reason == "invalid_state"


@pytest.mark.parametrize("break_it", ["reuse", "expired", "verifier", "unavailable"])
def test_a_failed_exchange_is_token_exchange_failed(approving, break_it):
    request = authorization_request_build(state="s", login_hint=ANN)
    params = browser(request.url)
    flow = dict(request.flow)
    if break_it == "reuse":
        code_exchange(flow=request.flow, auth_response=params)
    elif break_it == "expired":
        approving.expire_auth_codes()
    elif break_it == "verifier":
        flow["code_verifier"] = "x" * 60
    else:
        approving.inject_fault("token", status=503)
    with pytest.raises(AuthorizationFailed) as caught:
        code_exchange(flow=flow, auth_response=params)
    assert caught.value.reason == "token_exchange_failed"


def test_an_unreachable_identity_platform_is_token_exchange_failed(approving, settings):
    request = authorization_request_build(state="s", login_hint=ANN)
    params = browser(request.url)
    approving.inject_fault("openid-configuration", status=500, times=None)
    with pytest.raises(AuthorizationFailed) as caught:
        code_exchange(flow=request.flow, auth_response=params)
    assert caught.value.reason == "token_exchange_failed"
