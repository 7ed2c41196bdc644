"""OAuth 2.0 web-server flow against the emulator, driven by google-auth-oauthlib, google-auth and requests."""

from __future__ import annotations

import base64
import hashlib
import json
from urllib.parse import parse_qs, urlsplit

import google.auth.transport.requests
import pytest
import requests
from google.auth.exceptions import RefreshError
from google.oauth2.credentials import Credentials
from google_auth_oauthlib.flow import Flow
from oauthlib.oauth2.rfc6749.errors import AccessDeniedError, InvalidGrantError

from tests.emulators.google.conftest import ANN
from tests.emulators.google.support import (
    CLIENT_ID,
    CLIENT_SECRET,
    EMAIL,
    EVENTS_READONLY,
    READONLY,
    REDIRECT,
    form_fields,
    parse_form,
)


def make_flow(emu, scopes=(READONLY,), **kwargs) -> Flow:
    config = {
        "web": {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "auth_uri": emu.auth_uri,
            "token_uri": emu.token_uri,
            "redirect_uris": [REDIRECT],
        }
    }
    return Flow.from_client_config(config, scopes=list(scopes), redirect_uri=REDIRECT, **kwargs)


def follow(url: str) -> requests.Response:
    return requests.get(url, allow_redirects=False, timeout=5)


def callback(response: requests.Response) -> dict:
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def consent_via_form(emu, url: str, *, untick=frozenset(), account=None, action="allow", new_email=None):
    page = follow(url)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    form = parse_form(page.text)
    fields = form_fields(form, untick=set(untick), account=account)
    if new_email:
        fields.append(("new_email", new_email))
    fields.append(("action", action))
    return requests.post(form.action, data=fields, allow_redirects=False, timeout=5)


def connect(emu, **auth_kwargs) -> Flow:
    """Auto-approve round trip; returns the flow with credentials fetched."""
    emu.set_auto_approve(True)
    flow = make_flow(emu)
    url, _ = flow.authorization_url(**auth_kwargs)
    flow.fetch_token(authorization_response=follow(url).headers["Location"])
    return flow


# --- authorization endpoint ------------------------------------------------------------


def test_auto_approve_pkce_round_trip_with_google_auth_oauthlib(emu):
    emu.set_auto_approve(True)
    flow = make_flow(emu)
    url, state = flow.authorization_url(prompt="consent")
    params = parse_qs(urlsplit(url).query)
    assert params["code_challenge_method"] == ["S256"] and params["access_type"] == ["offline"]
    response = follow(url)
    back = callback(response)
    assert back["state"] == state
    assert back["code"].startswith("4/0A") and "/" in back["code"]
    assert back["scope"] == READONLY
    assert back["authuser"] == "0"
    flow.fetch_token(authorization_response=response.headers["Location"])
    creds = flow.credentials
    assert creds.token.startswith("ya29.") and creds.refresh_token.startswith("1//")
    assert creds.granted_scopes == [READONLY]
    exchange = emu.calls("token")[-1]
    assert exchange["headers"]["authorization"].startswith("Basic ")  # requests-oauthlib uses Basic auth
    assert "client_secret" not in exchange["form"]
    assert exchange["form"]["code_verifier"] == flow.code_verifier


def test_auto_approve_consents_as_login_hint(emu):
    emu.add_account("bob@example.com", name="Bob")
    flow = connect(emu, login_hint="bob@example.com")
    grant = {g["email"] for g in emu.snapshot()["grants"]}
    assert grant == {"bob@example.com"}
    assert flow.credentials.token


def test_unknown_client_gets_an_error_page_not_a_redirect(emu):
    response = follow(
        emu.auth_uri + "?client_id=nope&redirect_uri=" + REDIRECT + "&response_type=code&scope=" + READONLY
    )
    assert response.status_code == 401
    assert "Location" not in response.headers
    assert "invalid_client" in response.text and "text/html" in response.headers["Content-Type"]


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "http://evil.example.com/callback",
        REDIRECT + "/",  # trailing slash differs
        REDIRECT.upper(),
    ],
)
def test_unregistered_redirect_uri_gets_an_error_page(emu, redirect_uri):
    url = f"{emu.auth_uri}?client_id={CLIENT_ID}&redirect_uri={redirect_uri}&response_type=code&scope={READONLY}"
    response = follow(url)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "redirect_uri_mismatch" in response.text


def test_missing_scope_and_bad_response_type_are_error_pages(emu):
    base = f"{emu.auth_uri}?client_id={CLIENT_ID}&redirect_uri={REDIRECT}"
    assert follow(base + "&response_type=code").status_code == 400
    assert follow(base + f"&response_type=token&scope={READONLY}").status_code == 400
    assert "invalid_scope" in follow(base + "&response_type=code&scope=https://example.com/nope").text


def test_add_redirect_uri_registers_another_callback(emu):
    other = "http://127.0.0.1:5555/cb"
    url = f"{emu.auth_uri}?client_id={CLIENT_ID}&redirect_uri={other}&response_type=code&scope={READONLY}"
    assert follow(url).status_code == 400
    emu.add_redirect_uri(other)
    emu.set_auto_approve(True)
    assert follow(url).headers["Location"].startswith(other + "?code=")


def test_authorization_endpoint_accepts_a_form_post(emu):
    emu.set_auto_approve(True)
    response = requests.post(
        emu.auth_uri,
        data={
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT,
            "response_type": "code",
            "scope": READONLY,
            "state": "xyz",
        },
        allow_redirects=False,
        timeout=5,
    )
    assert callback(response)["state"] == "xyz"


def test_consent_page_allow(emu):
    emu.add_account("bob@example.com", name="Bob")
    flow = make_flow(emu, scopes=("openid", EMAIL, READONLY))
    url, state = flow.authorization_url(login_hint="bob@example.com")
    page = follow(url)
    form = parse_form(page.text)
    radios = {i["value"]: "checked" in i for i in form.inputs if i.get("type") == "radio"}
    assert radios == {ANN: False, "bob@example.com": True}  # login_hint preselects
    boxes = {i["value"]: ("checked" in i, "disabled" in i) for i in form.inputs if i.get("type") == "checkbox"}
    assert boxes[READONLY] == (True, False)
    assert boxes[EMAIL] == (True, True)  # identity scopes cannot be unticked
    assert {b["text"] for b in form.buttons} == {"Allow", "Deny"}
    back = callback(consent_via_form(emu, url))
    assert back["state"] == state and back["prompt"] == "consent"
    assert set(back["scope"].split()) == {"openid", EMAIL, READONLY}
    flow.fetch_token(code=back["code"])
    assert flow.credentials.id_token  # openid granted
    assert emu.snapshot()["grants"][0]["email"] == "bob@example.com"


def test_consent_page_user_unticks_calendar(emu, monkeypatch):
    monkeypatch.setenv("OAUTHLIB_RELAX_TOKEN_SCOPE", "1")
    flow = make_flow(emu, scopes=("openid", EMAIL, READONLY))
    url, _ = flow.authorization_url()
    back = callback(consent_via_form(emu, url, untick={READONLY}))
    assert READONLY not in back["scope"].split()
    flow.fetch_token(code=back["code"])
    assert READONLY not in flow.credentials.granted_scopes


def test_consent_page_deny(emu):
    flow = make_flow(emu)
    url, state = flow.authorization_url()
    response = consent_via_form(emu, url, action="deny")
    assert callback(response) == {"error": "access_denied", "state": state}
    with pytest.raises(AccessDeniedError):
        flow.fetch_token(authorization_response=response.headers["Location"])


def test_consent_page_other_account(emu):
    flow = make_flow(emu)
    url, _ = flow.authorization_url()
    back = callback(consent_via_form(emu, url, new_email="carol@example.com"))
    flow.fetch_token(code=back["code"])
    assert {a["email"] for a in emu.snapshot()["accounts"]} == {ANN, "carol@example.com"}


def test_deny_next_consent(emu):
    emu.deny_next_consent()
    flow = make_flow(emu)
    url, state = flow.authorization_url()
    assert callback(follow(url)) == {"error": "access_denied", "state": state}
    emu.set_auto_approve(True)
    assert "code" in callback(follow(url))  # only the next one


def test_grant_only_scopes_next(emu, monkeypatch):
    monkeypatch.setenv("OAUTHLIB_RELAX_TOKEN_SCOPE", "1")
    emu.set_auto_approve(True)
    emu.grant_only_scopes_next(["openid"])
    flow = make_flow(emu, scopes=("openid", READONLY))
    url, _ = flow.authorization_url()
    back = callback(follow(url))
    assert back["scope"] == "openid"
    flow.fetch_token(code=back["code"])
    assert flow.credentials.granted_scopes == ["openid"]


def test_prompt_none(emu):
    flow = make_flow(emu)
    url, state = flow.authorization_url(prompt="none")
    assert callback(follow(url)) == {"error": "consent_required", "state": state}
    connect(emu)
    emu.set_auto_approve(False)
    url, _ = flow.authorization_url(prompt="none")
    assert "code" in callback(follow(url))


# --- token endpoint --------------------------------------------------------------------


def _code(emu, **kwargs) -> tuple[Flow, str]:
    emu.set_auto_approve(True)
    flow = make_flow(emu, **kwargs)
    url, _ = flow.authorization_url()
    return flow, callback(follow(url))["code"]


def _token(emu, data, auth=None) -> requests.Response:
    return requests.post(emu.token_uri, data=data, auth=auth, timeout=5)


def test_client_authentication_in_the_body_and_by_basic(emu):
    _flow, code = _code(emu, autogenerate_code_verifier=False)
    body = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    answer = _token(emu, body)
    assert answer.status_code == 200 and answer.json()["token_type"] == "Bearer"
    assert answer.headers["Content-Type"].startswith("application/json")
    _, code = _code(emu, autogenerate_code_verifier=False)
    basic = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    assert _token(emu, basic, auth=(CLIENT_ID, CLIENT_SECRET)).status_code == 200


@pytest.mark.parametrize(
    ("change", "status", "error", "description"),
    [
        ({"client_id": "nope"}, 401, "invalid_client", "The OAuth client was not found."),
        ({"client_secret": "wrong"}, 401, "invalid_client", "Unauthorized"),
        ({"client_secret": None}, 400, "invalid_request", "client_secret is missing."),
        ({"client_id": None}, 400, "invalid_request", "Could not determine client ID from request."),
        ({"grant_type": "password"}, 400, "unsupported_grant_type", "Invalid grant_type: password"),
        (
            {"redirect_uri": "http://127.0.0.1:8000/api/v1/merchant/integrations/google/calendar/callback"},
            400,
            "redirect_uri_mismatch",
            "Bad Request",
        ),
        ({"code": "4/0Anot-a-real-code"}, 400, "invalid_grant", "Bad Request"),
        ({"code": "4%2F0Aencoded"}, 400, "invalid_grant", "Malformed auth code."),
    ],
)
def test_token_errors(emu, change, status, error, description):
    _, code = _code(emu, autogenerate_code_verifier=False)
    body = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    body.update(change)
    answer = _token(emu, {k: v for k, v in body.items() if v is not None})
    assert answer.status_code == status
    assert answer.json() == {"error": error, "error_description": description}


def test_codes_are_single_use_and_expire(emu):
    flow, code = _code(emu)
    flow.fetch_token(code=code)
    with pytest.raises(InvalidGrantError):
        flow.fetch_token(code=code)
    flow, code = _code(emu)
    emu.expire_auth_codes()
    with pytest.raises(InvalidGrantError):
        flow.fetch_token(code=code)


def test_pkce_errors(emu):
    flow, code = _code(emu)  # S256 challenge sent
    body = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    missing = _token(emu, body, auth=(CLIENT_ID, CLIENT_SECRET)).json()
    assert missing == {"error": "invalid_grant", "error_description": "Missing code verifier."}
    wrong = _token(emu, {**body, "code_verifier": "x" * 64}, auth=(CLIENT_ID, CLIENT_SECRET)).json()
    assert wrong == {"error": "invalid_grant", "error_description": "Invalid code verifier."}
    right = _token(emu, {**body, "code_verifier": flow.code_verifier}, auth=(CLIENT_ID, CLIENT_SECRET))
    assert right.status_code == 200
    _, code = _code(emu, autogenerate_code_verifier=False)
    unneeded = _token(emu, {**body, "code": code, "code_verifier": "y" * 64}, auth=(CLIENT_ID, CLIENT_SECRET))
    assert unneeded.json()["error_description"] == "code_verifier or verifier is not needed"


def test_pkce_s256_and_plain_challenges(emu):
    emu.set_auto_approve(True)
    verifier = "v" * 50
    challenges = {
        "S256": base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("="),
        "plain": verifier,
    }
    for method, challenge in challenges.items():
        url = (
            f"{emu.auth_uri}?client_id={CLIENT_ID}&redirect_uri={REDIRECT}&response_type=code&scope={READONLY}"
            f"&code_challenge={challenge}&code_challenge_method={method}"
        )
        code = callback(follow(url))["code"]
        body = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier}
        assert _token(emu, body, auth=(CLIENT_ID, CLIENT_SECRET)).status_code == 200, method


def test_refresh_token_only_for_offline_first_grant_or_prompt_consent(emu):
    first = connect(emu)
    assert first.credentials.refresh_token
    again = connect(emu)
    assert again.credentials.refresh_token is None
    forced = connect(emu, prompt="consent")
    assert forced.credentials.refresh_token and forced.credentials.refresh_token != first.credentials.refresh_token
    online = make_flow(emu)
    url, _ = online.authorization_url(access_type="online", prompt="consent")
    online.fetch_token(authorization_response=follow(url).headers["Location"])
    assert online.credentials.refresh_token is None


def test_refresh_does_not_rotate_and_honours_the_lifetime(emu):
    emu.set_access_token_lifetime(1234)
    creds = connect(emu).credentials
    old_refresh, old_access = creds.refresh_token, creds.token
    creds.refresh(google.auth.transport.requests.Request())
    assert creds.token != old_access
    assert creds.refresh_token == old_refresh
    answer = _token(
        emu,
        {
            "grant_type": "refresh_token",
            "refresh_token": old_refresh,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
    )
    payload = answer.json()
    assert "refresh_token" not in payload
    assert payload["expires_in"] == 1234
    assert payload["scope"] == READONLY
    refreshes = [c for c in emu.calls("token") if c["form"].get("grant_type") == "refresh_token"]
    assert refreshes[0]["form"]["client_secret"] == CLIENT_SECRET  # google-auth posts the secret in the body
    assert refreshes[0]["form"]["scope"] == READONLY


def test_refresh_scope_must_be_granted(emu):
    creds = connect(emu).credentials
    body = {
        "grant_type": "refresh_token",
        "refresh_token": creds.refresh_token,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "scope": READONLY + " " + EVENTS_READONLY,
    }
    assert _token(emu, body).json()["error"] == "invalid_scope"


def test_revoked_grant_refresh_fails_with_invalid_grant(emu):
    creds = connect(emu).credentials
    emu.revoke_grant(ANN)
    with pytest.raises(RefreshError) as caught:
        creds.refresh(google.auth.transport.requests.Request())
    assert caught.value.args[1]["error"] == "invalid_grant"
    assert caught.value.args[1]["error_description"] == "Token has been expired or revoked."
    assert creds.refresh_token in emu.revoked_tokens()


def test_include_granted_scopes(emu, monkeypatch):
    monkeypatch.setenv("OAUTHLIB_RELAX_TOKEN_SCOPE", "1")
    emu.set_auto_approve(True)
    connect(emu)
    flow = make_flow(emu, scopes=(EVENTS_READONLY,))
    url, _ = flow.authorization_url(include_granted_scopes="true")
    flow.fetch_token(authorization_response=follow(url).headers["Location"])
    assert set(flow.credentials.granted_scopes) == {READONLY, EVENTS_READONLY}


def test_incremental_write_consent_covers_the_earlier_grant_too(emu, monkeypatch):
    """Two-way's consent: ask only ``calendar.app.created``; the new tokens read and write."""
    monkeypatch.setenv("OAUTHLIB_RELAX_TOKEN_SCOPE", "1")
    app_created = "https://www.googleapis.com/auth/calendar.app.created"
    connect(emu)
    flow = make_flow(emu, scopes=(app_created,))
    url, _ = flow.authorization_url(include_granted_scopes="true", prompt="consent")
    back = callback(follow(url))
    assert set(back["scope"].split()) == {READONLY, app_created}
    token = flow.fetch_token(code=back["code"])
    assert set(token["scope"]) == {READONLY, app_created}
    assert token["refresh_token"]
    assert set(emu.granted_scopes(ANN)) == {READONLY, app_created}
    headers = {"Authorization": "Bearer " + token["access_token"]}
    api = emu.api_root + "calendar/v3/"
    made = requests.post(api + "calendars", json={"summary": "Bookings"}, headers=headers, timeout=5)
    assert made.status_code == 200
    assert requests.get(api + "calendars/primary/events", headers=headers, timeout=5).status_code == 200
    # The refreshed token covers the union as well.
    refreshed = requests.post(
        emu.token_uri,
        data={
            "grant_type": "refresh_token",
            "refresh_token": token["refresh_token"],
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
        timeout=5,
    ).json()
    assert set(refreshed["scope"].split()) == {READONLY, app_created}


def test_without_include_granted_scopes_the_token_covers_only_what_was_asked(emu, monkeypatch):
    monkeypatch.setenv("OAUTHLIB_RELAX_TOKEN_SCOPE", "1")
    app_created = "https://www.googleapis.com/auth/calendar.app.created"
    connect(emu)
    flow = make_flow(emu, scopes=(app_created,))
    url, _ = flow.authorization_url(include_granted_scopes="false")
    token = flow.fetch_token(authorization_response=follow(url).headers["Location"])
    assert token["scope"] == [app_created]
    headers = {"Authorization": "Bearer " + token["access_token"]}
    listing = requests.get(emu.api_root + "calendar/v3/calendars/primary/events", headers=headers, timeout=5)
    assert listing.status_code == 404  # app.created alone sees no calendar it did not create
    assert set(emu.granted_scopes(ANN)) == {READONLY, app_created}  # the account remembers both


def test_id_token_is_a_signed_jwt_with_the_email(emu):
    emu.set_auto_approve(True)
    flow = make_flow(emu, scopes=("openid", EMAIL))
    url, _ = flow.authorization_url(nonce="n-1")
    flow.fetch_token(authorization_response=follow(url).headers["Location"])
    from google.auth import jwt

    certs = requests.get(emu.base_url + "oauth2/v3/certs", timeout=5).json()
    assert certs["keys"][0]["kty"] == "RSA"
    claims = jwt.decode(flow.credentials.id_token, verify=False)
    assert claims["email"] == ANN and claims["aud"] == CLIENT_ID and claims["nonce"] == "n-1"
    userinfo = requests.get(
        emu.base_url + "v1/userinfo", headers={"Authorization": "Bearer " + flow.credentials.token}, timeout=5
    ).json()
    assert userinfo["email"] == ANN and userinfo["email_verified"] is True


# --- revoke ----------------------------------------------------------------------------


def test_revoke_refresh_token_kills_the_grant(emu):
    creds = connect(emu).credentials
    answer = requests.post(emu.revoke_uri, data={"token": creds.refresh_token}, timeout=5)
    assert answer.status_code == 200
    assert emu.revoked_tokens()[0] == creds.refresh_token
    assert creds.token in emu.revoked_tokens()  # the access token went with the grant
    again = requests.post(emu.revoke_uri, params={"token": creds.refresh_token}, timeout=5)
    assert again.status_code == 400
    assert again.json() == {"error": "invalid_token", "error_description": "Token expired or revoked"}


def test_revoke_access_token_in_the_query_string(emu):
    creds = connect(emu).credentials
    answer = requests.post(
        emu.revoke_uri,
        params={"token": creds.token},
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=5,
    )
    assert answer.status_code == 200
    assert creds.refresh_token in emu.revoked_tokens()
    refreshed = Credentials(
        None,
        refresh_token=creds.refresh_token,
        token_uri=emu.token_uri,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
    )
    with pytest.raises(RefreshError):
        refreshed.refresh(google.auth.transport.requests.Request())


def test_revoke_requires_post_and_a_known_token(emu):
    assert requests.get(emu.revoke_uri, params={"token": "x"}, timeout=5).status_code == 404
    unknown = requests.post(emu.revoke_uri, data={"token": "never-issued"}, timeout=5)
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_token"
    assert [c["status"] for c in emu.calls("revoke")] == [404, 400]
    assert json.loads(json.dumps(emu.calls("revoke")))  # the call log is plain JSON


def test_login_hint_for_a_new_account_prefills_another_account(emu):
    flow = make_flow(emu)
    url, _ = flow.authorization_url(login_hint="dave@example.com")
    page = follow(url)
    new_email = next(i for i in parse_form(page.text).inputs if i.get("name") == "new_email")
    assert new_email["value"] == "dave@example.com"
    back = callback(consent_via_form(emu, url, new_email="dave@example.com"))
    flow.fetch_token(code=back["code"])
    assert emu.snapshot()["grants"][0]["email"] == "dave@example.com"
