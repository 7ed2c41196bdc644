"""JSON-over-HTTP control API (``{base}_emulator/<operation>``) and its client, ``EmulatorControl``.

Every operation of ``GoogleEmulator`` that sets up or inspects state is reachable as
``POST {base}_emulator/<name>`` with a JSON body ``{"args": [...], "kwargs": {...}}``;
the answer is ``{"result": ...}`` or a 400 ``{"error": "..."}``. ``GET {base}_emulator/state``
returns a summary. This is how the demo command and benchmarks drive an emulator that runs in
another process.

Only the emulator's own pages and non-browser clients may change its state: a web page on
another origin must not drive it through the visitor's browser (SPEC §12). Under
``_emulator/`` a request whose ``Origin`` is not the emulator's own (or whose
``Sec-Fetch-Site`` says another site sent it) is refused with 403, and so is one whose
``Host`` is not a name of the emulator's (DNS rebinding: evil.example resolving to
127.0.0.1). Control operations also require ``Content-Type: application/json``, which no
page can send to another origin without a CORS preflight the emulator never grants, so a
cross-origin "simple" POST (``text/plain``, a form) is refused even from a browser that sends
no ``Origin``. The event page (``_emulator/ui``) posts plain forms: its own origin only.
"""

from __future__ import annotations

import contextlib
import html
import json
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from .errors import EmulatorError, Response
from .urls import EmulatorUrls
from .wire import Request

OPERATIONS = (
    "add_account",
    "add_calendar",
    "remove_calendar",
    "add_client",
    "add_redirect_uri",
    "insert_event",
    "insert_events",
    "update_event",
    "delete_event",
    "get_event",
    "list_stored_events",
    "invalidate_sync_tokens",
    "revoke_grant",
    "deny_next_consent",
    "grant_only_scopes_next",
    "granted_scopes",
    "set_auto_approve",
    "set_access_token_lifetime",
    "expire_access_tokens",
    "expire_auth_codes",
    "advance_time",
    "issue_tokens",
    "inject_fault",
    "clear_faults",
    "calls",
    "calendar_writes",
    "calendar_ids",
    "calendar_creator",
    "clear_calls",
    "channels",
    "revoked_tokens",
    "notifications",
    "wait_for_notifications",
    "set_notifications_enabled",
    "pause_notifications",
    "resume_notifications",
    "deliver_notifications",
    "reset",
    "snapshot",
    "seed_demo",
    "set_page_size",
    "set_listing_latency",
)


_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def _cross_origin(emu, req: Request) -> str | None:
    """Why ``req`` looks sent by another origin's page (None when it does not)."""
    host = req.headers.get("host", "")
    hostname = urlsplit(f"http://{host}").hostname or ""
    own = urlsplit(emu.base_url).hostname or ""
    if host and hostname not in _LOOPBACK | {own}:
        return f"Host {host!r} is not this emulator"
    origin = req.headers.get("origin")
    if origin is not None and origin != f"http://{host}":
        return f"Origin {origin!r} is not this emulator"
    site = req.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return f"Sec-Fetch-Site {site!r}"
    return None


def _refused(reason: str) -> Response:
    return Response.json(403, {"error": f"Cross-origin request refused: {reason}."})


def handle(emu, req: Request, segments: list[str]) -> Response:
    reason = _cross_origin(emu, req)
    if reason is not None and (req.method in _STATE_CHANGING or req.headers.get("sec-fetch-site") == "cross-site"):
        return _refused(reason)
    if segments == ["ui"]:
        from . import ui  # the event-editing page (HTML forms), not a control operation

        return ui.handle(emu, req)
    if segments in (["state"], []) and req.method == "GET":
        return Response.json(200, emu.snapshot())
    if len(segments) != 1 or segments[0] not in OPERATIONS or req.method != "POST":
        return Response.json(404, {"error": f"Unknown control operation {'/'.join(segments)!r}"})
    content_type = req.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        return Response.json(415, {"error": "Control operations take Content-Type: application/json"})
    payload = req.json() if req.body else {}
    if not isinstance(payload, dict):
        return Response.json(400, {"error": "Body must be a JSON object {args, kwargs}"})
    name = segments[0]
    try:
        if name == "seed_demo":
            from .demo import seed_demo

            result = seed_demo(emu, *payload.get("args", []), **payload.get("kwargs", {}))
        else:
            result = getattr(emu, name)(*payload.get("args", []), **payload.get("kwargs", {}))
    except (EmulatorError, ValueError, TypeError, KeyError) as exc:
        return Response.json(400, {"error": f"{type(exc).__name__}: {exc}"})
    return Response.json(200, {"result": result})


def index_page(emu, req: Request) -> Response:
    snap = emu.snapshot()
    rows = []
    for account in snap["accounts"]:
        calendars = ", ".join(f"{html.escape(c['id'])} ({c['events']} events)" for c in account["calendars"])
        rows.append(f"<li><b>{html.escape(account['email'])}</b> &mdash; {calendars}</li>")
    text = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Google emulator</title>
<style>body{{font-family:Roboto,Arial,sans-serif;margin:40px;max-width:860px}}code{{background:#eee;padding:2px 4px}}
</style></head><body><h1>Local Google emulator</h1>
<p>OAuth: <code>{html.escape(emu.auth_uri)}</code>, <code>{html.escape(emu.token_uri)}</code>,
<code>{html.escape(emu.revoke_uri)}</code>. Calendar API root: <code>{html.escape(emu.api_root)}</code>.</p>
<p>Auto-approve: {"on" if snap["auto_approve"] else "off"}. Channels: {snap["channels"]}.
State as JSON: <a href="_emulator/state">_emulator/state</a>.
Add, move or delete events: <a href="_emulator/ui">_emulator/ui</a>.</p>
<h2>Accounts</h2><ul>{"".join(rows) or "<li>none yet</li>"}</ul></body></html>"""
    return Response.html(200, text)


class EmulatorControlError(Exception):
    pass


def _remote(name: str):
    def call(self, *args, **kwargs):
        return self._call(name, list(args), kwargs)

    call.__name__ = name
    call.__doc__ = f"Remote ``GoogleEmulator.{name}``."
    return call


class EmulatorControl(EmulatorUrls):
    """Drive an emulator in another process through its control API (same method names)."""

    def __init__(self, base_url: str, timeout: float = 30.0):
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.timeout = timeout
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def state(self) -> dict:
        with self._opener.open(self.base_url + "_emulator/state", timeout=self.timeout) as response:
            return json.loads(response.read())

    def _call(self, name: str, args: list, kwargs: dict):
        body = json.dumps({"args": args, "kwargs": kwargs}).encode()
        request = urllib.request.Request(
            self.base_url + "_emulator/" + name,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return json.loads(response.read())["result"]
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")
            with contextlib.suppress(ValueError, KeyError):
                detail = json.loads(detail)["error"]
            raise EmulatorControlError(f"{name}: {detail}") from None


for _name in OPERATIONS:
    setattr(EmulatorControl, _name, _remote(_name))
