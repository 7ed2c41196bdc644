"""The identity platform side, driven by msal.ConfidentialClientApplication and plain requests."""

from __future__ import annotations

import base64
import json
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import msal
import pytest
import requests

from integrations.emulators.microsoft.pytest_plugin import TEST_CLIENT_ID, TEST_CLIENT_SECRET, TEST_REDIRECT_URIS
from integrations.emulators.microsoft.state import CONSUMERS_TENANT
from tests.emulators.microsoft.conftest import ANN

REDIRECT = TEST_REDIRECT_URIS[0]
SCOPES = ["User.Read", "Calendars.Read"]


def app_for(emu, tenant: str = "common") -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        TEST_CLIENT_ID,
        client_credential=TEST_CLIENT_SECRET,
        authority=emu.authority(tenant),
        instance_discovery=emu.authority_host + "/common/discovery/instance",
    )


class _Form(HTMLParser):
    def __init__(self):
        super().__init__()
        self.action, self.fields, self.radios = None, {}, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.action = attrs.get("action")
        if tag == "input" and attrs.get("type") == "radio":
            self.radios.append(attrs.get("value"))
        elif tag == "input" and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value", "")


def redirect_params(response) -> dict:
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    assert location.startswith(REDIRECT)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def consent(emu, auth_uri: str, *, action: str = "accept", email: str = ANN) -> dict:
    page = requests.get(auth_uri, allow_redirects=False)
    assert page.status_code == 200 and "Permissions requested" in page.text
    form = _Form()
    form.feed(page.text)
    data = {**form.fields, "action": action, "email": email}
    return redirect_params(requests.post(form.action, data=data, allow_redirects=False))


def test_msal_discovers_the_emulator_and_exchanges_a_code_through_the_consent_page(emu):
    app = app_for(emu)
    flow = app.initiate_auth_code_flow(SCOPES, redirect_uri=REDIRECT)
    query = parse_qs(urlsplit(flow["auth_uri"]).query)
    assert query["code_challenge_method"] == ["S256"]
    params = consent(emu, flow["auth_uri"])
    assert params["state"] == flow["state"] and params["session_state"]

    result = app.acquire_token_by_auth_code_flow(flow, params)

    assert "error" not in result, result
    assert set(result["scope"].split()) >= {"User.Read", "Calendars.Read"}
    assert result["refresh_token"] and result["access_token"] and result["expires_in"] == 3599
    claims = result["id_token_claims"]
    account = emu.add_account(ANN)
    assert claims["oid"] == account["oid"] and claims["tid"] == account["tid"]
    assert claims["preferred_username"] == ANN and claims["aud"] == TEST_CLIENT_ID
    info = json.loads(base64.urlsafe_b64decode(result["client_info"] + "=="))
    assert info == {"uid": account["oid"], "utid": account["tid"]}
    endpoints = [c["endpoint"] for c in emu.calls()]
    assert endpoints[:2] == ["instance-discovery", "openid-configuration"]
    exchange = emu.calls("token")[0]["form"]
    assert exchange["grant_type"] == "authorization_code" and exchange["code_verifier"]


def test_discovery_documents_match_what_msal_reads(emu):
    config = requests.get(emu.authority("common") + "/v2.0/.well-known/openid-configuration").json()
    assert config["authorization_endpoint"] == emu.authority("common") + "/oauth2/v2.0/authorize"
    assert config["token_endpoint"] == emu.authority("common") + "/oauth2/v2.0/token"
    assert config["issuer"] == emu.base_url + "{tenantid}/v2.0"
    assert {"end_session_endpoint", "jwks_uri"} <= set(config)
    keys = requests.get(config["jwks_uri"]).json()["keys"]
    assert keys[0]["kty"] == "RSA"
    found = requests.get(
        emu.authority_host + "/common/discovery/instance",
        params={"api-version": "1.1", "authorization_endpoint": emu.authority("common") + "/oauth2/v2.0/authorize"},
    ).json()
    host = urlsplit(emu.base_url).netloc
    assert found["metadata"] == [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}]
    foreign = requests.get(
        emu.authority_host + "/common/discovery/instance",
        params={"authorization_endpoint": "https://login.example.org/common/oauth2/v2.0/authorize"},
    )
    assert foreign.status_code == 400 and foreign.json()["error"] == "invalid_instance"


def test_auto_approve_signs_in_the_login_hint_and_codes_are_single_use(emu):
    emu.set_auto_approve(True)
    app = app_for(emu)
    flow = app.initiate_auth_code_flow(SCOPES, redirect_uri=REDIRECT, login_hint="bob@contoso.com")
    params = redirect_params(requests.get(flow["auth_uri"], allow_redirects=False))
    assert "access_token" in app.acquire_token_by_auth_code_flow(dict(flow), params)
    assert emu.add_account("bob@contoso.com")["email"] == "bob@contoso.com"
    again = requests.post(
        emu.authority("common") + "/oauth2/v2.0/token",
        data={
            "client_id": TEST_CLIENT_ID,
            "client_secret": TEST_CLIENT_SECRET,
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": REDIRECT,
            "code_verifier": flow["code_verifier"],
        },
    )
    assert again.status_code == 400
    body = again.json()
    assert body["error"] == "invalid_grant" and body["error_codes"] == [54005]
    assert body["error_description"].startswith("AADSTS54005:")


def _exchange(emu, params, verifier, **extra):
    return requests.post(
        emu.authority("common") + "/oauth2/v2.0/token",
        data={
            "client_id": TEST_CLIENT_ID,
            "client_secret": TEST_CLIENT_SECRET,
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
            "scope": "User.Read Calendars.Read offline_access openid profile",
            **extra,
        },
    )


def test_pkce_verifier_must_match_and_codes_expire(emu):
    emu.set_auto_approve(True)
    flow = app_for(emu).initiate_auth_code_flow(SCOPES, redirect_uri=REDIRECT, login_hint=ANN)
    params = redirect_params(requests.get(flow["auth_uri"], allow_redirects=False))
    wrong = _exchange(emu, params, "x" * 50)
    assert wrong.json()["error_codes"] == [501481]
    flow2 = app_for(emu).initiate_auth_code_flow(SCOPES, redirect_uri=REDIRECT, login_hint=ANN)
    params2 = redirect_params(requests.get(flow2["auth_uri"], allow_redirects=False))
    emu.expire_auth_codes()
    expired = _exchange(emu, params2, flow2["code_verifier"])
    assert expired.status_code == 400 and expired.json()["error_codes"] == [70008]


def test_bad_client_secret_is_invalid_client_401_and_basic_auth_works(emu):
    emu.set_auto_approve(True)
    flow = app_for(emu).initiate_auth_code_flow(SCOPES, redirect_uri=REDIRECT, login_hint=ANN)
    params = redirect_params(requests.get(flow["auth_uri"], allow_redirects=False))
    bad = _exchange(emu, params, flow["code_verifier"], client_secret="nope")
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
    assert bad.json()["error_codes"] == [7000215]
    good = requests.post(
        emu.authority("common") + "/oauth2/v2.0/token",
        auth=(TEST_CLIENT_ID, TEST_CLIENT_SECRET),
        data={
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": REDIRECT,
            "code_verifier": flow["code_verifier"],
        },
    )
    assert good.status_code == 200 and good.json()["token_type"] == "Bearer"


def test_cancel_on_the_consent_page_redirects_with_access_denied(emu):
    app = app_for(emu)
    flow = app.initiate_auth_code_flow(SCOPES, redirect_uri=REDIRECT)
    params = consent(emu, flow["auth_uri"], action="cancel")
    assert params["error"] == "access_denied" and params["error_description"].startswith("AADSTS65004")
    assert app.acquire_token_by_auth_code_flow(flow, params)["error"] == "access_denied"


def test_deny_next_consent_and_unknown_client_or_redirect(emu):
    emu.deny_next_consent()
    flow = app_for(emu).initiate_auth_code_flow(SCOPES, redirect_uri=REDIRECT)
    assert redirect_params(requests.get(flow["auth_uri"], allow_redirects=False))["error"] == "access_denied"
    wrong_redirect = app_for(emu).initiate_auth_code_flow(SCOPES, redirect_uri="https://evil.example/cb")
    page = requests.get(wrong_redirect["auth_uri"], allow_redirects=False)
    assert page.status_code == 400 and "AADSTS50011" in page.text and "Location" not in page.headers
    unknown = requests.get(
        emu.authority("common") + "/oauth2/v2.0/authorize",
        params={"client_id": "nobody", "redirect_uri": REDIRECT, "response_type": "code", "scope": "User.Read"},
        allow_redirects=False,
    )
    assert unknown.status_code == 400 and "AADSTS700016" in unknown.text


def test_narrowed_consent_grants_fewer_scopes(emu):
    emu.set_auto_approve(True)
    emu.grant_only_scopes_next(["User.Read"])
    app = app_for(emu)
    flow = app.initiate_auth_code_flow(SCOPES, redirect_uri=REDIRECT, login_hint=ANN)
    result = app.acquire_token_by_auth_code_flow(
        flow, redirect_params(requests.get(flow["auth_uri"], allow_redirects=False))
    )
    assert "Calendars.Read" not in result["scope"].split() and "User.Read" in result["scope"].split()
    calendars = requests.get(
        emu.graph_root + "me/calendars", headers={"Authorization": "Bearer " + result["access_token"]}
    )
    assert calendars.status_code == 403 and calendars.json()["error"]["code"] == "ErrorAccessDenied"


def test_form_post_response_mode_answers_an_auto_submitting_form(emu):
    emu.set_auto_approve(True)
    flow = app_for(emu).initiate_auth_code_flow(
        SCOPES, redirect_uri=REDIRECT, login_hint=ANN, response_mode="form_post"
    )
    page = requests.get(flow["auth_uri"], allow_redirects=False)
    form = _Form()
    form.feed(page.text)
    assert page.status_code == 200 and form.action == REDIRECT
    assert form.fields["state"] == flow["state"] and form.fields["code"].startswith("M.C")


def test_refresh_rotates_the_refresh_token_every_time(emu):
    app = app_for(emu)
    first = emu.issue_tokens(ANN)
    second = app.acquire_token_by_refresh_token(first["refresh_token"], SCOPES)
    third = app.acquire_token_by_refresh_token(second["refresh_token"], SCOPES)
    tokens = {first["refresh_token"], second["refresh_token"], third["refresh_token"]}
    assert len(tokens) == 3 and third["access_token"] != second["access_token"]
    emu.configure(old_refresh_tokens_valid=False)
    stale = app.acquire_token_by_refresh_token(first["refresh_token"], SCOPES)
    assert stale["error"] == "invalid_grant"


@pytest.mark.parametrize(
    ("revoke", "code"),
    [
        (lambda emu: emu.revoke_grant(ANN), 65001),
        (lambda emu: emu.revoke_sessions(ANN), 50173),
        (lambda emu: emu.expire_refresh_tokens(ANN), 700082),
        (lambda emu: emu.disable_account(ANN), 50057),
    ],
    ids=["consent-removed", "sessions-revoked", "inactive", "disabled"],
)
def test_a_dead_grant_answers_invalid_grant_with_its_aadsts_code(emu, revoke, code):
    tokens = emu.issue_tokens(ANN)
    revoke(emu)
    result = app_for(emu).acquire_token_by_refresh_token(tokens["refresh_token"], SCOPES)
    assert result["error"] == "invalid_grant"
    assert result["error_codes"] == [code] and result["error_description"].startswith(f"AADSTS{code}:")
    if code == 65001:
        assert result["suberror"] == "consent_required"
    # Already issued access tokens keep working until they expire (Microsoft's behaviour).
    me = requests.get(emu.graph_root + "me", headers={"Authorization": "Bearer " + tokens["access_token"]})
    assert me.status_code == (401 if code == 50057 else 200)


def test_refresh_asking_for_more_than_was_granted_is_refused(emu):
    tokens = emu.issue_tokens(ANN, scopes=["User.Read", "Calendars.Read"])
    result = app_for(emu).acquire_token_by_refresh_token(tokens["refresh_token"], ["Calendars.ReadWrite"])
    assert result["error"] == "invalid_grant" and result["error_codes"] == [65001]


def test_personal_accounts_live_in_the_consumers_tenant_without_mail(emu):
    account = emu.add_account("pat@outlook.com")
    assert account["tid"] == CONSUMERS_TENANT and account["mail"] is None
    tokens = emu.issue_tokens("pat@outlook.com")
    me = requests.get(emu.graph_root + "me", headers={"Authorization": "Bearer " + tokens["access_token"]}).json()
    assert me["mail"] is None and me["userPrincipalName"] == "pat@outlook.com" and me["id"] == account["oid"]
    config = requests.get(emu.authority("consumers") + "/v2.0/.well-known/openid-configuration").json()
    assert config["issuer"] == f"{emu.base_url}{CONSUMERS_TENANT}/v2.0"


def test_qualified_scope_format(emu):
    emu.configure(scope_format="qualified")
    tokens = emu.issue_tokens(ANN)
    assert "https://graph.microsoft.com/Calendars.Read" in tokens["scope"].split()


def test_tenant_paths_admit_only_their_accounts(emu):
    emu.set_auto_approve(True)
    emu.add_account("pat@outlook.com")
    cases = [
        ("consumers", ANN, "access_denied"),
        ("organizations", "pat@outlook.com", "access_denied"),
        ("consumers", "pat@outlook.com", None),
        ("contoso.com", ANN, None),
        ("common", "pat@outlook.com", None),
    ]
    for tenant, email, error in cases:
        flow = app_for(emu, tenant).initiate_auth_code_flow(SCOPES, redirect_uri=REDIRECT, login_hint=email)
        params = redirect_params(requests.get(flow["auth_uri"], allow_redirects=False))
        assert params.get("error") == error, (tenant, email)
        if error:
            assert params["error_description"].startswith("AADSTS50020")


def test_prompt_none_needs_an_existing_grant(emu):
    app = app_for(emu)
    flow = app.initiate_auth_code_flow(SCOPES, redirect_uri=REDIRECT, login_hint=ANN, prompt="none")
    assert redirect_params(requests.get(flow["auth_uri"], allow_redirects=False))["error"] == "interaction_required"
    emu.issue_tokens(ANN, scopes=SCOPES)
    flow = app.initiate_auth_code_flow(SCOPES, redirect_uri=REDIRECT, login_hint=ANN, prompt="none")
    params = redirect_params(requests.get(flow["auth_uri"], allow_redirects=False))
    assert "access_token" in app.acquire_token_by_auth_code_flow(flow, params)


def test_logout_only_ends_the_browser_session(emu):
    tokens = emu.issue_tokens(ANN)
    out = requests.get(
        emu.authority() + "/oauth2/v2.0/logout",
        params={"post_logout_redirect_uri": "https://app.test/bye"},
        allow_redirects=False,
    )
    assert out.status_code == 302 and out.headers["Location"] == "https://app.test/bye"
    refreshed = app_for(emu).acquire_token_by_refresh_token(tokens["refresh_token"], SCOPES)
    assert "access_token" in refreshed
