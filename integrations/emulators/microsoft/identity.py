"""The Microsoft identity platform's v2.0 endpoints: discovery, authorize (consent page),
token (authorization code with PKCE, refresh with rotation), keys, logout.

https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow
https://learn.microsoft.com/en-us/entra/identity-platform/v2-protocols-oidc
https://learn.microsoft.com/en-us/entra/identity-platform/refresh-tokens
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import json
import secrets
import uuid
from string import Template
from urllib.parse import urlencode, urlsplit

from . import scopes as scope_names
from .errors import AADSTS, aadsts_error
from .state import CONSUMERS_TENANT, AccessToken, AuthCode, Grant, RefreshToken
from .wire import NO_STORE, Request, Response

SPECIAL_TENANTS = {"common", "organizations", "consumers"}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@functools.cache
def signing_key():
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


KEY_ID = "emulator-key-1"


def jwt(claims: dict) -> str:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    header = _b64(json.dumps({"typ": "JWT", "alg": "RS256", "kid": KEY_ID}).encode())
    payload = _b64(json.dumps(claims).encode())
    signature = signing_key().sign(f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{header}.{payload}.{_b64(signature)}"


def tenant_ok(emu, tenant: str) -> bool:
    return tenant in SPECIAL_TENANTS or tenant == CONSUMERS_TENANT or tenant in emu.known_tenants()


# --- discovery ---------------------------------------------------------------------------------


def openid_configuration(emu, req: Request, tenant: str) -> Response:
    if not tenant_ok(emu, tenant):
        return Response.plain_json(
            400,
            {
                "error": "invalid_tenant",
                "error_description": f"AADSTS90002: Tenant '{tenant}' not found.",
                "error_codes": [90002],
            },
        )
    base = emu.base_url
    issuer_tenant = "{tenantid}" if tenant in ("common", "organizations") else emu.tenant_id_for(tenant)
    return Response.plain_json(
        200,
        {
            "token_endpoint": f"{base}{tenant}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": f"{base}{tenant}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{base}{issuer_tenant}/v2.0",
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": f"{base}oidc/userinfo",
            "authorization_endpoint": f"{base}{tenant}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}{tenant}/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{base}{tenant}/oauth2/v2.0/logout",
            "claims_supported": [
                "sub",
                "iss",
                "cloud_instance_name",
                "cloud_instance_host_name",
                "cloud_graph_host_name",
                "msgraph_host",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "acr",
                "nonce",
                "preferred_username",
                "name",
                "tid",
                "ver",
                "at_hash",
                "c_hash",
                "email",
            ],
            "kerberos_endpoint": f"{base}{tenant}/kerberos",
            "tenant_region_scope": None,
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": urlsplit(base).netloc,
            "rbac_url": "https://pas.windows.net",
        },
    )


def instance_discovery(emu, req: Request) -> Response:
    """What msal asks when validating an authority: is this host a known instance?"""
    endpoint = req.arg("authorization_endpoint") or ""
    parts = urlsplit(endpoint)
    ours = urlsplit(emu.base_url)
    segments = [s for s in parts.path.split("/") if s]
    # msal drops the port when it builds this URL (it keeps only the host name).
    if parts.scheme != "https" or parts.hostname != ours.hostname or not segments:
        return Response.plain_json(
            400,
            {
                "error": "invalid_instance",
                "error_description": "AADSTS50049: Unknown or invalid instance.",
                "error_codes": [50049],
            },
        )
    tenant = segments[0]
    return Response.plain_json(
        200,
        {
            "tenant_discovery_endpoint": f"{emu.base_url}{tenant}/v2.0/.well-known/openid-configuration",
            "api-version": req.arg("api-version") or "1.1",
            "metadata": [
                {"preferred_network": ours.netloc, "preferred_cache": ours.netloc, "aliases": [ours.netloc]},
            ],
        },
    )


def keys(emu, req: Request, tenant: str) -> Response:
    numbers = signing_key().public_key().public_numbers()

    def as_b64(value: int) -> str:
        return _b64(value.to_bytes((value.bit_length() + 7) // 8, "big"))

    key = {"kty": "RSA", "use": "sig", "kid": KEY_ID, "n": as_b64(numbers.n), "e": as_b64(numbers.e)}
    return Response.plain_json(200, {"keys": [key]})


# --- authorize ---------------------------------------------------------------------------------


def _error_page(code: int, detail: str = "") -> Response:
    text = html.escape(f"AADSTS{code}: {AADSTS.get(code, 'Error.')} {detail}".strip())
    return Response.html(
        400,
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Sign in to your account</title></head>"
        f"<body><main><h1>Sorry, but we're having trouble signing you in.</h1><p id='error'>{text}</p></main>"
        "</body></html>",
    )


def _with_query(uri: str, params: dict[str, str]) -> str:
    return uri + ("&" if "?" in uri else "?") + urlencode(params)


def _respond(request: dict, params: dict[str, str]) -> Response:
    """Send the browser back to the app: query redirect or an auto-submitting form_post."""
    if request.get("state") is not None:
        params = {**params, "state": request["state"]}
    if request.get("response_mode") == "form_post":
        fields = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in params.items()
        )
        return Response.html(
            200,
            "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Working...</title></head>"
            "<body onload='document.forms[0].submit()'>"
            f"<form method='POST' action='{html.escape(request['redirect_uri'])}'>"
            f"{fields}<noscript><button type='submit'>Continue</button></noscript></form></body></html>",
        )
    if request.get("response_mode") == "fragment":
        return Response.redirect(request["redirect_uri"] + "#" + urlencode(params))
    return Response.redirect(_with_query(request["redirect_uri"], params))


def _error_redirect(request: dict, error: str, code: int, detail: str | None = None) -> Response:
    text = AADSTS.get(code, "Error.")
    if detail is not None and "{}" in text:
        text = text.format(detail)
    trace = str(uuid.uuid4())
    return _respond(
        request,
        {
            "error": error,
            "error_description": f"AADSTS{code}: {text} Trace ID: {trace} Correlation ID: {uuid.uuid4()}",
            "error_uri": f"https://login.microsoftonline.com/error?code={code}",
        },
    )


def authorize(emu, req: Request, tenant: str) -> Response:
    params = {k: v[0] for k, v in req.query.items() if v}
    if req.method == "POST":
        params.update(req.form())
    client = emu.state.clients.get(params.get("client_id", ""))
    if client is None:
        return _error_page(700016, f"Application with identifier '{params.get('client_id', '')}' was not found.")
    redirect_uri = params.get("redirect_uri", "")
    if redirect_uri not in client.redirect_uris:
        return _error_page(50011, f"Redirect URI: '{redirect_uri}'.")
    request = {
        "tenant": tenant,
        "client_id": client.client_id,
        "redirect_uri": redirect_uri,
        "state": params.get("state"),
        "response_mode": params.get("response_mode") or "query",
        "nonce": params.get("nonce"),
        "client_info": params.get("client_info") == "1",
        "login_hint": params.get("login_hint"),
        "prompt": params.get("prompt"),
        "code_challenge": params.get("code_challenge"),
        "code_challenge_method": params.get("code_challenge_method"),
    }
    if not tenant_ok(emu, tenant):
        return _error_page(90002, f"Tenant '{tenant}' not found.")
    if params.get("response_type") != "code":
        return _error_redirect(request, "unsupported_response_type", 70011)
    if not params.get("scope"):
        return _error_redirect(request, "invalid_request", 900144, "scope")
    try:
        graph, identity = scope_names.parse(params["scope"])
    except scope_names.ScopeError as exc:
        return _error_redirect(request, "invalid_scope", 70011, str(exc))
    if request["code_challenge"] and (request["code_challenge_method"] or "plain") not in ("S256", "plain"):
        return _error_redirect(request, "invalid_request", 9002313)
    request["graph_scopes"], request["identity_scopes"] = graph, identity
    with emu.lock:
        if emu.state.deny_next_consent:
            emu.state.deny_next_consent = False
            return _error_redirect(request, "access_denied", 65004)
        if request["prompt"] == "none":
            account = emu.state.account(request["login_hint"] or "")
            grant = emu.state.grants.get((account.email, client.client_id)) if account else None
            if grant is None or grant.revoked or not set(graph) <= grant.scopes:
                return _error_redirect(request, "interaction_required", 65001)
            return _approve(emu, request, account.email)
        if emu.auto_approve:
            email = request["login_hint"] or (
                next(iter(emu.state.accounts.values())).email if emu.state.accounts else ""
            )
            if not email:
                return _error_page(50034, "No account exists in the emulator yet.")
            return _approve(emu, request, email)
        request_id = secrets.token_urlsafe(16)
        emu.state.pending_consents[request_id] = request
    return _consent_page(emu, request_id, request, client.name)


_PAGE = Template((__import__("pathlib").Path(__file__).with_name("consent.html")).read_text())
_SCOPE_TEXT = {
    "User.Read": "Sign you in and read your profile",
    "Calendars.Read": "Read your calendars",
    "Calendars.ReadBasic": "Read basic details of your calendars",
    "Calendars.ReadWrite": "Have full access to your calendars",
    "offline_access": "Maintain access to data you have given it access to",
    "openid": "Sign you in",
    "profile": "View your basic profile",
    "email": "View your email address",
}


def _consent_page(emu, request_id: str, request: dict, client_name: str) -> Response:
    esc = html.escape
    hint = (request.get("login_hint") or "").lower()
    accounts = []
    for index, account in enumerate(emu.state.accounts.values()):
        checked = "checked" if (hint and account.email == hint) or (not hint and index == 0) else ""
        accounts.append(
            f'<label><input type="radio" name="email" value="{esc(account.email)}" {checked}>'
            f"<span>{esc(account.name)}<small>{esc(account.email)}</small></span></label>"
        )
    known_hint = bool(hint) and emu.state.account(hint) is not None
    permissions = "".join(
        f"<li>{esc(_SCOPE_TEXT.get(s, s))}<small>{esc(s)}</small></li>"
        for s in [*request["graph_scopes"], *request["identity_scopes"]]
    )
    text = _PAGE.substitute(
        action=esc(f"{emu.base_url}{request['tenant']}/oauth2/v2.0/consent"),
        request_id=esc(request_id),
        client_name=esc(client_name),
        accounts="".join(accounts),
        new_email=esc(hint if hint and not known_hint else ""),
        permissions=permissions,
    )
    return Response.html(200, text, NO_STORE)


def consent(emu, req: Request, tenant: str) -> Response:
    form = req.form()
    with emu.lock:
        request = emu.state.pending_consents.pop(form.get("request_id", ""), None)
        if request is None:
            return _error_page(9002313, "The sign-in request expired or was already used.")
        if form.get("action") != "accept":
            return _error_redirect(request, "access_denied", 65004)
        email = (form.get("new_email") or form.get("email") or "").strip()
        if "@" not in email:
            return _error_page(50034, "Enter a valid email address.")
        return _approve(emu, request, email)


def _approve(emu, request: dict, email: str) -> Response:
    account = emu.ensure_account(email)
    if account.disabled:
        return _error_redirect(request, "access_denied", 50057)
    personal = account.tid == CONSUMERS_TENANT
    tenant = request["tenant"]
    if (tenant == "consumers" and not personal) or (tenant == "organizations" and personal):
        return _error_redirect(request, "access_denied", 50020)
    if tenant not in SPECIAL_TENANTS and emu.tenant_id_for(tenant) != account.tid:
        return _error_redirect(request, "access_denied", 50020)
    graph = list(request["graph_scopes"])
    if emu.state.grant_only_scopes_next is not None:
        narrowed, _ = scope_names.parse(" ".join(emu.state.grant_only_scopes_next))
        graph = [s for s in graph if s in narrowed]
        emu.state.grant_only_scopes_next = None
    key = (account.email, request["client_id"])
    grant = emu.state.grants.get(key)
    if grant is None or grant.revoked:
        grant = Grant(email=account.email, client_id=request["client_id"])
        emu.state.grants[key] = grant
    grant.scopes |= set(graph)
    code = "M.C" + secrets.token_urlsafe(4) + "_BAY." + secrets.token_urlsafe(48)
    emu.state.codes[code] = AuthCode(
        code=code,
        client_id=request["client_id"],
        email=account.email,
        redirect_uri=request["redirect_uri"],
        scopes=[*graph, *request["identity_scopes"]],
        challenge=request["code_challenge"],
        method=(request["code_challenge_method"] or "plain") if request["code_challenge"] else None,
        nonce=request["nonce"],
        expires_at=emu.clock.now() + emu.code_lifetime,
        tenant=request["tenant"],
    )
    params = {"code": code}
    if request["client_info"]:
        params["client_info"] = client_info(account)
    params["session_state"] = str(uuid.uuid4())
    return _respond(request, params)


def client_info(account) -> str:
    return _b64(json.dumps({"uid": account.oid, "utid": account.tid}).encode())


# --- token -------------------------------------------------------------------------------------


def _client_credentials(req: Request, form: dict[str, str]) -> tuple[str | None, str | None]:
    auth = req.header("authorization") or ""
    if auth.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(auth[6:]).decode()
        except (ValueError, UnicodeDecodeError):
            return None, None
        client_id, _, secret = decoded.partition(":")
        from urllib.parse import unquote_plus

        return unquote_plus(client_id), unquote_plus(secret)
    return form.get("client_id"), form.get("client_secret")


def token(emu, req: Request, tenant: str) -> Response:
    form = req.form()
    client_id, secret = _client_credentials(req, form)
    if not client_id:
        return aadsts_error(400, "invalid_request", 900144, detail="client_id")
    with emu.lock:
        client = emu.state.clients.get(client_id)
        if client is None:
            return aadsts_error(400, "unauthorized_client", 700016)
        if not secret:
            return aadsts_error(401, "invalid_client", 7000215)
        if not secrets.compare_digest(secret, client.client_secret):
            return aadsts_error(401, "invalid_client", 7000215)
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            return _exchange(emu, client_id, form, tenant)
        if grant_type == "refresh_token":
            return _refresh(emu, client_id, form)
        if not grant_type:
            return aadsts_error(400, "invalid_request", 900144, detail="grant_type")
        return Response.plain_json(
            400,
            {"error": "unsupported_grant_type", "error_description": f"AADSTS70003: grant type {grant_type!r}"},
            NO_STORE,
        )


def _pkce_ok(code: AuthCode, verifier: str | None) -> bool:
    if code.challenge is None:
        return True
    if not verifier:
        return False
    if code.method == "S256":
        return secrets.compare_digest(_b64(hashlib.sha256(verifier.encode()).digest()), code.challenge)
    return secrets.compare_digest(verifier, code.challenge)


def _exchange(emu, client_id: str, form: dict[str, str], tenant: str) -> Response:
    value = form.get("code")
    if not value:
        return aadsts_error(400, "invalid_request", 900144, detail="code")
    code = emu.state.codes.get(value)
    if code is None or code.client_id != client_id:
        return aadsts_error(400, "invalid_grant", 9002313)
    if code.used:
        return aadsts_error(400, "invalid_grant", 54005)
    if code.expires_at <= emu.clock.now():
        return aadsts_error(400, "invalid_grant", 70008)
    if form.get("redirect_uri") != code.redirect_uri:
        return aadsts_error(400, "invalid_grant", 9002313)
    if tenant != code.tenant and code.tenant not in ("common",) and tenant not in ("common",):
        return aadsts_error(400, "invalid_grant", 700005)
    if not _pkce_ok(code, form.get("code_verifier")):
        return aadsts_error(400, "invalid_grant", 501481)
    code.used = True
    grant = emu.state.grants.get((code.email, client_id))
    if grant is None or grant.revoked:
        return aadsts_error(400, "invalid_grant", 65001)
    graph, identity = scope_names.parse(" ".join(code.scopes))
    if emu.token_lists_granted_scopes:
        # Incremental consent: the token covers what this request asked and everything the
        # user granted the app before (its ``scope`` says so).
        graph = [*graph, *sorted(grant.scopes - set(graph))]
    return Response.plain_json(
        200, issue(emu, code.email, client_id, graph, identity, form, nonce=code.nonce), NO_STORE
    )


def _refresh(emu, client_id: str, form: dict[str, str]) -> Response:
    value = form.get("refresh_token")
    if not value:
        return aadsts_error(400, "invalid_request", 900144, detail="refresh_token")
    stored = emu.state.refresh_tokens.get(value)
    if stored is None or stored.client_id != client_id:
        return aadsts_error(400, "invalid_grant", 9002313)
    now = emu.clock.now()
    if stored.replaced_by is not None and not emu.old_refresh_tokens_valid:
        return aadsts_error(400, "invalid_grant", 70008)
    if now - stored.last_used > emu.refresh_token_lifetime:
        return aadsts_error(400, "invalid_grant", 700082)
    grant = emu.state.grants.get((stored.email, client_id))
    if grant is None:
        return aadsts_error(400, "invalid_grant", 65001)
    if grant.revoked:
        return aadsts_error(400, "invalid_grant", grant.revoked)
    account = emu.state.account(stored.email)
    if account is None or account.disabled:
        return aadsts_error(400, "invalid_grant", 50057)
    try:
        graph, identity = scope_names.parse(form.get("scope") or " ".join(stored.scopes))
    except scope_names.ScopeError:
        return aadsts_error(400, "invalid_scope", 70011)
    if not set(graph) <= grant.scopes:
        return aadsts_error(400, "invalid_grant", 65001)
    if not graph:
        graph = sorted(grant.scopes)
    stored.last_used = now
    payload = issue(emu, stored.email, client_id, graph, identity or ["offline_access"], form, nonce=None)
    if "refresh_token" in payload:
        stored.replaced_by = payload["refresh_token"]
    return Response.plain_json(200, payload, NO_STORE)


def issue(emu, email: str, client_id: str, graph, identity, form: dict[str, str], *, nonce: str | None) -> dict:
    """Mint an access token (+ refresh token with offline_access, ID token with openid)."""
    account = emu.state.account(email)
    now = emu.clock.now()
    lifetime = emu.access_token_lifetime
    access = "EwB" + secrets.token_urlsafe(96)
    emu.state.access_tokens[access] = AccessToken(access, account.email, client_id, frozenset(graph), now + lifetime)
    granted_identity = list(identity)
    payload = {
        "token_type": "Bearer",
        "scope": scope_names.render(graph, granted_identity, qualified=emu.scope_format == "qualified"),
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": access,
    }
    if "offline_access" in identity:
        refresh = "M.C5" + secrets.token_urlsafe(4) + "_BL2." + secrets.token_urlsafe(120)
        scope_set = frozenset([*graph, *identity])
        emu.state.refresh_tokens[refresh] = RefreshToken(refresh, account.email, client_id, scope_set, now, now)
        payload["refresh_token"] = refresh
    if "openid" in identity:
        payload["id_token"] = id_token(emu, account, client_id, identity, nonce)
    if form.get("client_info") == "1":
        payload["client_info"] = client_info(account)
    return payload


def id_token(emu, account, client_id: str, identity, nonce: str | None) -> str:
    now = int(emu.clock.now())
    claims = {
        "ver": "2.0",
        "iss": f"{emu.base_url}{account.tid}/v2.0",
        "sub": _b64(hashlib.sha256(f"{account.oid}:{client_id}".encode()).digest())[:43],
        "aud": client_id,
        "exp": now + 3600,
        "iat": now,
        "nbf": now,
        "name": account.name,
        "preferred_username": account.email,
        "oid": account.oid,
        "tid": account.tid,
        "aio": secrets.token_urlsafe(24),
        "uti": secrets.token_urlsafe(16),
    }
    if "email" in identity and account.mail:
        claims["email"] = account.mail
    if nonce is not None:
        claims["nonce"] = nonce  # verbatim: msal compares it with the hash it sent
    return jwt(claims)


def logout(emu, req: Request, tenant: str) -> Response:
    target = req.arg("post_logout_redirect_uri")
    if target:
        return Response.redirect(target)
    return Response.html(200, "<!doctype html><title>Signed out</title><p>You signed out of your account.</p>")
