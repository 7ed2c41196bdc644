"""OAuth 2.0 web-server flow: authorization (consent page), token and revoke endpoints.

Mirrors accounts.google.com / oauth2.googleapis.com as described in
https://developers.google.com/identity/protocols/oauth2/web-server : HTML error pages (no
redirect) for an untrusted client or redirect URI, ``4/0A...`` single-use codes, PKCE
(S256 and plain), client authentication by Basic header or form body, refresh tokens only
for offline access on a first grant or ``prompt=consent``, no refresh-token rotation, and
revocation that takes the whole grant with it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from urllib.parse import quote, unquote, urlencode

from . import pages
from .errors import Response, oauth_error
from .state import AccessToken, AuthCode, Grant, RefreshToken, State
from .wire import Request

SCOPE_ALIASES = {
    "email": "https://www.googleapis.com/auth/userinfo.email",
    "profile": "https://www.googleapis.com/auth/userinfo.profile",
}
_CAL = "https://www.googleapis.com/auth/calendar"
KNOWN_SCOPES = {
    "openid",
    "https://www.googleapis.com/auth/userinfo.email",
    "https://www.googleapis.com/auth/userinfo.profile",
    _CAL,
    *(
        f"{_CAL}.{suffix}"
        for suffix in (
            "readonly",
            "events",
            "events.readonly",
            "events.owned",
            "events.owned.readonly",
            "events.freebusy",
            "events.public.readonly",
            "freebusy",
            "calendarlist",
            "calendarlist.readonly",
            "calendars",
            "calendars.readonly",
            "acls",
            "acls.readonly",
            "settings.readonly",
            "app.created",
        )
    ),
}
_NO_STORE = {"Cache-Control": "no-cache, no-store, max-age=0, must-revalidate", "Pragma": "no-cache"}


def normalize_scopes(text: str) -> list[str]:
    out: list[str] = []
    for scope in text.replace(",", " ").split():
        scope = SCOPE_ALIASES.get(scope, scope)
        if scope not in out:
            out.append(scope)
    return out


def _single(params: dict[str, list[str]]) -> dict[str, str]:
    return {k: v[0] for k, v in params.items() if v}


def _with_query(uri: str, params: dict[str, str]) -> str:
    query = urlencode(params, quote_via=quote, safe=":/")
    return uri + ("&" if "?" in uri else "?") + query


# --- authorization ---------------------------------------------------------------------


def authorize(emu, req: Request) -> Response:
    params = _single(req.params())
    state: State = emu.state
    client = state.clients.get(params.get("client_id", ""))
    if not params.get("client_id"):
        return pages.error_page(400, "invalid_request", "Missing required parameter: client_id")
    if client is None:
        return pages.error_page(401, "invalid_client", "The OAuth client was not found.")
    redirect_uri = params.get("redirect_uri")
    if not redirect_uri:
        return pages.error_page(400, "invalid_request", "Missing required parameter: redirect_uri")
    if redirect_uri not in client.redirect_uris:
        return pages.error_page(
            400,
            "redirect_uri_mismatch",
            f"You can't sign in to this app because it doesn't comply with Google's OAuth 2.0 policy. "
            f"If you're the app developer, register the redirect URI in the Google Cloud Console. "
            f"Request details: redirect_uri={redirect_uri}",
        )
    response_type = params.get("response_type")
    if not response_type:
        return pages.error_page(400, "invalid_request", "Required parameter is missing: response_type")
    if response_type != "code":
        return pages.error_page(400, "invalid_request", f"Invalid response_type: {response_type}")
    if not params.get("scope"):
        return pages.error_page(400, "invalid_request", "Missing required parameter: scope")
    scopes = normalize_scopes(params["scope"])
    unknown = [s for s in scopes if s not in KNOWN_SCOPES]
    if unknown:
        return pages.error_page(400, "invalid_scope", f"Some requested scopes were invalid. {{invalid={unknown}}}")
    method = params.get("code_challenge_method")
    if params.get("code_challenge") and (method or "plain") not in ("S256", "plain"):
        return pages.error_page(400, "invalid_request", f"Invalid code_challenge_method: {method}")
    if method and not params.get("code_challenge"):
        return pages.error_page(400, "invalid_request", "Missing code_challenge.")
    access_type = params.get("access_type", "online")
    if access_type not in ("online", "offline"):
        return pages.error_page(400, "invalid_request", f"Invalid access_type: {access_type}")
    prompt = params.get("prompt", "").split()
    if any(p not in ("none", "consent", "select_account") for p in prompt) or ("none" in prompt and len(prompt) > 1):
        return pages.error_page(400, "invalid_request", f"Invalid prompt: {params.get('prompt')}")
    request = {**params, "scopes": scopes, "access_type": access_type, "prompt": prompt}

    with emu.lock:
        if state.deny_next_consent:
            state.deny_next_consent = False
            return _deny(request)
        hint = params.get("login_hint")
        if "none" in prompt:
            account = state.account(hint) if hint else next(iter(state.accounts.values()), None)
            if account is None:
                return Response.redirect(_error_redirect(request, "login_required"))
            grant = state.grants.get((account.email, client.client_id))
            if grant is None or not set(scopes) <= grant.scopes:
                return Response.redirect(_error_redirect(request, "consent_required"))
            return Response.redirect(_approve(emu, request, account.email, scopes, shown=False))
        if emu.auto_approve:
            if hint:
                email = emu.ensure_account(hint).email
            elif state.accounts:
                email = next(iter(state.accounts.values())).email
            else:
                return pages.error_page(
                    400, "invalid_request", "The emulator has no Google account yet: add one with add_account()."
                )
            return Response.redirect(_approve(emu, request, email, scopes, shown=False))
        request_id = secrets.token_urlsafe(16)
        state.pending_auth[request_id] = {**request, "expires_at": emu.clock.now() + 3600}
        accounts = [(a.email, a.name) for a in state.accounts.values()]
        chosen = state.account(hint).email if hint and state.account(hint) else None
    return pages.consent_page(
        action=emu.base_url + "o/oauth2/v2/consent",
        request_id=request_id,
        client_name=client.client_id,
        accounts=accounts,
        chosen=chosen,
        scopes=scopes,
        hint=hint,
    )


def consent(emu, req: Request) -> Response:
    """The consent form's POST: Allow (with the ticked scopes and chosen account) or Deny."""
    form = req.form()
    request_id = (form.get("request_id") or [""])[0]
    with emu.lock:
        request = emu.state.pending_auth.pop(request_id, None)
        if request is None or request["expires_at"] < emu.clock.now():
            return pages.error_page(400, "invalid_request", "This sign-in request expired or was already used.")
        if (form.get("action") or ["deny"])[0] != "allow":
            return _deny(request)
        new_email = (form.get("new_email") or [""])[0].strip()
        email = new_email or (form.get("account") or [""])[0]
        if not email:
            emu.state.pending_auth[request_id] = request
            return pages.error_page(400, "invalid_request", "Choose an account.")
        account = emu.ensure_account(email)
        ticked = [s for s in request["scopes"] if s in set(form.get("scope", []))]
        return Response.redirect(_approve(emu, request, account.email, ticked, shown=True))


def _error_redirect(request: dict, error: str) -> str:
    params = {"error": error}
    if request.get("state") is not None:
        params["state"] = request["state"]
    return _with_query(request["redirect_uri"], params)


def _deny(request: dict) -> Response:
    return Response.redirect(_error_redirect(request, "access_denied"))


def _approve(emu, request: dict, email: str, granted: list[str], *, shown: bool) -> str:
    """Record the consent, mint a code and return the redirect URL back to the client."""
    state: State = emu.state
    if state.grant_only_scopes_next is not None:
        # Exactly what the test says the user left ticked (identity scopes may not have been requested).
        granted = normalize_scopes(" ".join(state.grant_only_scopes_next))
        state.grant_only_scopes_next = None
    if not granted:
        return _error_redirect(request, "access_denied")
    client_id = request["client_id"]
    grant = state.grants.get((email, client_id))
    if grant is None:
        grant = Grant(id=secrets.token_hex(8), email=email, client_id=client_id)
        state.grants[(email, client_id)] = grant
    has_refresh = any(rt.grant_id == grant.id and not rt.revoked for rt in state.refresh_tokens.values())
    covered = set(granted)
    if request.get("include_granted_scopes") == "true":
        covered |= grant.scopes
    grant.scopes |= set(granted)
    code = "4/0A" + secrets.token_urlsafe(48)
    state.codes[code] = AuthCode(
        code=code,
        client_id=client_id,
        redirect_uri=request["redirect_uri"],
        email=email,
        scopes=frozenset(covered),
        grant_id=grant.id,
        issue_refresh_token=request["access_type"] == "offline" and (not has_refresh or "consent" in request["prompt"]),
        expires_at=emu.clock.now() + emu.code_lifetime,
        code_challenge=request.get("code_challenge"),
        code_challenge_method=(request.get("code_challenge_method") or "plain")
        if request.get("code_challenge")
        else None,
        nonce=request.get("nonce"),
    )
    params = {}
    if request.get("state") is not None:
        params["state"] = request["state"]
    params["code"] = code
    params["scope"] = " ".join(_ordered(covered))
    params["authuser"] = "0"
    if shown:
        params["prompt"] = "consent"
    return _with_query(request["redirect_uri"], params)


def _ordered(scopes) -> list[str]:
    # Google lists identity scopes first, then the rest; any stable order works for clients.
    return sorted(scopes, key=lambda s: (s.startswith("https://www.googleapis.com/auth/calendar"), s))


# --- token -----------------------------------------------------------------------------


def _client_credentials(req: Request, form: dict[str, str]) -> tuple[str | None, str | None]:
    auth = req.header("authorization") or ""
    if auth.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(auth[6:].strip()).decode()
        except (ValueError, UnicodeDecodeError):
            return None, None
        client_id, _, secret = decoded.partition(":")
        return unquote(client_id), unquote(secret)
    return form.get("client_id"), form.get("client_secret")


def token(emu, req: Request) -> Response:
    form = _single(req.form())
    client_id, secret = _client_credentials(req, form)
    state: State = emu.state
    if not client_id:
        return oauth_error(400, "invalid_request", "Could not determine client ID from request.")
    with emu.lock:
        client = state.clients.get(client_id)
        if client is None:
            return oauth_error(401, "invalid_client", "The OAuth client was not found.")
        if secret is None or secret == "":
            return oauth_error(400, "invalid_request", "client_secret is missing.")
        if secret != client.client_secret:
            return oauth_error(401, "invalid_client", "Unauthorized")
        grant_type = form.get("grant_type")
        if not grant_type:
            return oauth_error(400, "invalid_request", "Required parameter is missing: grant_type")
        if grant_type == "authorization_code":
            return _exchange_code(emu, client_id, form)
        if grant_type == "refresh_token":
            return _refresh(emu, client_id, form)
        return oauth_error(400, "unsupported_grant_type", f"Invalid grant_type: {grant_type}")


def _pkce_ok(code: AuthCode, verifier: str) -> bool:
    if code.code_challenge_method == "S256":
        digest = hashlib.sha256(verifier.encode()).digest()
        expected = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    else:
        expected = verifier
    return secrets.compare_digest(expected, code.code_challenge or "")


def _exchange_code(emu, client_id: str, form: dict[str, str]) -> Response:
    state: State = emu.state
    raw = form.get("code")
    if not raw:
        return oauth_error(400, "invalid_request", "Missing required parameter: code")
    if "%" in raw:
        return oauth_error(400, "invalid_grant", "Malformed auth code.")
    code = state.codes.get(raw)
    if code is None or code.used or code.expires_at < emu.clock.now() or code.client_id != client_id:
        return oauth_error(400, "invalid_grant", "Bad Request")
    redirect_uri = form.get("redirect_uri")
    if not redirect_uri:
        return oauth_error(400, "invalid_request", "Missing parameter: redirect_uri")
    if redirect_uri != code.redirect_uri:
        return oauth_error(400, "redirect_uri_mismatch", "Bad Request")
    verifier = form.get("code_verifier")
    if code.code_challenge:
        if not verifier:
            return oauth_error(400, "invalid_grant", "Missing code verifier.")
        if not _pkce_ok(code, verifier):
            return oauth_error(400, "invalid_grant", "Invalid code verifier.")
    elif verifier:
        return oauth_error(400, "invalid_grant", "code_verifier or verifier is not needed")
    grant = state.grants.get((code.email, client_id))
    if grant is None or grant.id != code.grant_id:
        return oauth_error(400, "invalid_grant", "Bad Request")
    code.used = True
    payload = _issue_access(emu, grant, code.scopes, nonce=code.nonce)
    if code.issue_refresh_token:
        refresh = "1//0" + secrets.token_urlsafe(64)
        state.refresh_tokens[refresh] = RefreshToken(refresh, grant.id, client_id, grant.email, code.scopes)
        payload = {"access_token": payload.pop("access_token"), **payload, "refresh_token": refresh}
    return Response.json(200, payload, _NO_STORE)


def _refresh(emu, client_id: str, form: dict[str, str]) -> Response:
    state: State = emu.state
    raw = form.get("refresh_token")
    if not raw:
        return oauth_error(400, "invalid_request", "Missing required parameter: refresh_token")
    refresh = state.refresh_tokens.get(raw)
    if refresh is None or refresh.revoked:
        return oauth_error(400, "invalid_grant", "Token has been expired or revoked.")
    if refresh.client_id != client_id:
        return oauth_error(400, "unauthorized_client", "Unauthorized")
    grant = state.grants.get((refresh.email, client_id))
    if grant is None or grant.id != refresh.grant_id:
        return oauth_error(400, "invalid_grant", "Token has been expired or revoked.")
    scopes = refresh.scopes
    if form.get("scope"):
        wanted = frozenset(normalize_scopes(form["scope"]))
        if not wanted <= refresh.scopes:
            return oauth_error(400, "invalid_scope", "Some requested scopes were not granted by the user.")
        scopes = wanted
    return Response.json(200, _issue_access(emu, grant, scopes), _NO_STORE)


def _issue_access(emu, grant: Grant, scopes: frozenset[str], *, nonce: str | None = None) -> dict:
    state: State = emu.state
    access = "ya29.a0" + secrets.token_urlsafe(96)
    now = emu.clock.now()
    state.access_tokens[access] = AccessToken(
        access, grant.id, grant.client_id, grant.email, scopes, now + emu.access_token_lifetime
    )
    payload = {
        "access_token": access,
        "expires_in": int(emu.access_token_lifetime),
        "scope": " ".join(_ordered(scopes)),
        "token_type": "Bearer",
    }
    if "openid" in scopes:
        payload["id_token"] = id_token(emu, grant, scopes, access, nonce)
    return payload


# --- revoke ----------------------------------------------------------------------------


def revoke_grant(state: State, grant_id: str) -> None:
    for key, grant in list(state.grants.items()):
        if grant.id == grant_id:
            del state.grants[key]
    for tokens in (state.refresh_tokens, state.access_tokens):
        for value in tokens.values():
            if value.grant_id == grant_id and not value.revoked:
                value.revoked = True
                state.revoked.append(value.token)


def revoke(emu, req: Request) -> Response:
    if req.method != "POST":
        return Response.html(404, "<!doctype html><title>Error 404 (Not Found)!!1</title><p>404. That's an error.")
    params = _single(req.params())
    raw = params.get("token")
    if not raw:
        return oauth_error(400, "invalid_request", "Missing required parameter: token")
    with emu.lock:
        state: State = emu.state
        found = state.refresh_tokens.get(raw) or state.access_tokens.get(raw)
        expired = isinstance(found, AccessToken) and found.expires_at <= emu.clock.now()
        if found is None or found.revoked or expired:
            return oauth_error(400, "invalid_token", "Token expired or revoked")
        # The token itself first, so revoked_tokens() lists what the client sent before the rest of the grant.
        found.revoked = True
        state.revoked.append(found.token)
        revoke_grant(state, found.grant_id)
    return Response.json(200, {}, _NO_STORE)


# --- OpenID Connect extras ---------------------------------------------------------------

_SIGNING_KEY = None


def _signing_key():
    global _SIGNING_KEY
    if _SIGNING_KEY is None:
        from cryptography.hazmat.primitives.asymmetric import rsa

        _SIGNING_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return _SIGNING_KEY


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


KEY_ID = "emulator-key-1"


def id_token(emu, grant: Grant, scopes, access_token: str, nonce: str | None) -> str:
    """An RS256 JWT like Google's; verifiable against ``{base}oauth2/v3/certs``."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    account = emu.state.account(grant.email)
    now = int(emu.clock.now())
    at_hash = _b64(hashlib.sha256(access_token.encode()).digest()[:16])
    claims = {
        "iss": "https://accounts.google.com",
        "azp": grant.client_id,
        "aud": grant.client_id,
        "sub": account.sub if account else grant.email,
        "at_hash": at_hash,
        "iat": now,
        "exp": now + 3600,
    }
    if "https://www.googleapis.com/auth/userinfo.email" in scopes:
        claims["email"] = grant.email
        claims["email_verified"] = True
    if "https://www.googleapis.com/auth/userinfo.profile" in scopes and account:
        claims["name"] = account.name
    if nonce:
        claims["nonce"] = nonce
    header = {"alg": "RS256", "kid": KEY_ID, "typ": "JWT"}
    signing_input = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())
    signature = _signing_key().sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return signing_input + "." + _b64(signature)


def certs(emu, req: Request) -> Response:
    numbers = _signing_key().public_key().public_numbers()

    def as_b64(value: int) -> str:
        return _b64(value.to_bytes((value.bit_length() + 7) // 8, "big"))

    key = {"kty": "RSA", "alg": "RS256", "use": "sig", "kid": KEY_ID, "n": as_b64(numbers.n), "e": as_b64(numbers.e)}
    return Response.json(200, {"keys": [key]})


def openid_configuration(emu, req: Request) -> Response:
    base = emu.base_url
    return Response.json(
        200,
        {
            "issuer": "https://accounts.google.com",
            "authorization_endpoint": emu.auth_uri,
            "token_endpoint": emu.token_uri,
            "revocation_endpoint": emu.revoke_uri,
            "userinfo_endpoint": base + "v1/userinfo",
            "jwks_uri": base + "oauth2/v3/certs",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "code_challenge_methods_supported": ["plain", "S256"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
        },
    )
