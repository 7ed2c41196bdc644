"""JSON-over-HTTP control API (``{base}_emulator/<operation>``) and its client, ``EmulatorControl``.

``POST {base}_emulator/<name>`` with ``{"args": [...], "kwargs": {...}}`` (``Content-Type:
application/json``) calls ``MicrosoftEmulator.<name>``; the answer is ``{"result": ...}`` or a
400 ``{"error": "..."}``. ``GET {base}_emulator/state`` summarises the state. Requests from
another origin (an ``Origin`` or ``Sec-Fetch-Site`` header naming another site, or a ``Host``
that is not the emulator's: DNS rebinding) are refused with 403, and POSTs must be JSON, so a
web page cannot drive the emulator from a browser.
"""

from __future__ import annotations

import contextlib
import html
import json
import ssl
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from .errors import EmulatorError
from .wire import Response

OPERATIONS = (
    "add_account",
    "add_calendar",
    "remove_calendar",
    "default_calendar",
    "add_client",
    "add_redirect_uri",
    "insert_event",
    "insert_events",
    "update_event",
    "delete_event",
    "get_event",
    "instances",
    "list_events",
    "stored_events",
    "calendar_ids",
    "writes",
    "invalidate_delta_tokens",
    "revoke_grant",
    "revoke_sessions",
    "expire_refresh_tokens",
    "disable_account",
    "deny_next_consent",
    "grant_only_scopes_next",
    "set_auto_approve",
    "set_access_token_lifetime",
    "set_graph_latency",
    "set_listing_latency",
    "configure",
    "expire_access_tokens",
    "expire_auth_codes",
    "advance_time",
    "issue_tokens",
    "subscriptions",
    "send_lifecycle_notification",
    "notifications",
    "validations",
    "wait_for_notifications",
    "set_notifications_enabled",
    "pause_notifications",
    "resume_notifications",
    "deliver_notifications",
    "inject_fault",
    "clear_faults",
    "calls",
    "clear_calls",
    "reset",
    "snapshot",
    "seed_demo",
)


LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def cross_origin(emu, req) -> bool:
    """True when the request looks sent by another origin's page: a ``Host`` that is not a name
    of the emulator's (DNS rebinding), an ``Origin`` other than this host (or ``null``), or a
    ``Sec-Fetch-Site`` other than same-origin / none."""
    host = req.header("host") or ""
    scheme = urlsplit(emu.base_url).scheme
    hostname = urlsplit(f"{scheme}://{host}").hostname or ""
    if host and hostname not in LOOPBACK | {urlsplit(emu.base_url).hostname or ""}:
        return True
    origin = req.header("origin")
    if origin is not None and origin != f"{scheme}://{host}":
        return True
    site = (req.header("sec-fetch-site") or "").lower()
    return site not in ("", "same-origin", "none")


def handle(emu, req, segments: list[str]) -> Response:
    if cross_origin(emu, req):
        return Response.plain_json(403, {"error": "Cross-origin requests to the emulator's control API are refused"})
    if segments == ["ui"]:
        from . import ui

        return ui.handle(emu, req)
    if segments in (["state"], []) and req.method == "GET":
        return Response.plain_json(200, emu.snapshot())
    if len(segments) != 1 or segments[0] not in OPERATIONS or req.method != "POST":
        return Response.plain_json(404, {"error": f"Unknown control operation {'/'.join(segments)!r}"})
    if not (req.header("content-type") or "").lower().startswith("application/json"):
        return Response.plain_json(415, {"error": "Control operations take Content-Type: application/json"})
    payload = req.json() if req.body else {}
    if not isinstance(payload, dict):
        return Response.plain_json(400, {"error": "Body must be a JSON object {args, kwargs}"})
    name = segments[0]
    try:
        if name == "seed_demo":
            from .demo import seed_demo

            result = seed_demo(emu, *payload.get("args", []), **payload.get("kwargs", {}))
        else:
            result = getattr(emu, name)(*payload.get("args", []), **payload.get("kwargs", {}))
    except (EmulatorError, ValueError, TypeError, KeyError) as exc:
        return Response.plain_json(400, {"error": f"{type(exc).__name__}: {exc}"})
    return Response.plain_json(200, {"result": result})


def index_page(emu, req) -> Response:
    snap = emu.snapshot()
    esc = html.escape
    rows = "".join(
        f"<li><b>{esc(a['email'])}</b> &mdash; "
        + ", ".join(f"{esc(c['name'])} ({c['events']} events)" for c in a["calendars"])
        + "</li>"
        for a in snap["accounts"]
    )
    text = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Microsoft emulator</title>
<style>body{{font-family:"Segoe UI",Arial,sans-serif;margin:40px;max-width:860px}}
code{{background:#eee;padding:2px 4px}}
</style></head><body><h1>Local Microsoft emulator</h1>
<p>Authority host: <code>{esc(emu.authority_host)}</code> (tenant <code>common</code>).
Graph root: <code>{esc(emu.graph_root)}</code>. CA bundle: <code>{esc(str(emu.ca_bundle_path))}</code>.</p>
<p>Auto-approve: {"on" if snap["knobs"]["auto_approve"] else "off"}. Subscriptions: {snap["subscriptions"]}.
State as JSON: <a href="_emulator/state">_emulator/state</a>. Add, move or delete events:
<a href="_emulator/ui">_emulator/ui</a>.</p>
<h2>Accounts</h2><ul>{rows or "<li>none yet</li>"}</ul></body></html>"""
    return Response.html(200, text)


class EmulatorControlError(Exception):
    pass


def _remote(name: str):
    def call(self, *args, **kwargs):
        return self._call(name, list(args), kwargs)

    call.__name__ = name
    call.__doc__ = f"Remote ``MicrosoftEmulator.{name}``."
    return call


class EmulatorControl:
    """Drive an emulator in another process through its control API (same method names).

    ``ca_bundle`` is the emulator's CA file (``MicrosoftEmulator.ca_bundle_path``)."""

    def __init__(self, base_url: str, *, ca_bundle: str | None = None, timeout: float = 30.0):
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.timeout = timeout
        context = ssl.create_default_context(cafile=ca_bundle) if ca_bundle else None
        handlers = [urllib.request.ProxyHandler({})]
        if context is not None:
            handlers.append(urllib.request.HTTPSHandler(context=context))
        self._opener = urllib.request.build_opener(*handlers)

    @property
    def authority_host(self) -> str:
        return self.base_url.rstrip("/")

    @property
    def graph_root(self) -> str:
        return self.base_url + "v1.0/"

    def state(self) -> dict:
        with self._opener.open(self.base_url + "_emulator/state", timeout=self.timeout) as response:
            return json.loads(response.read())

    def _call(self, name: str, args: list, kwargs: dict):
        request = urllib.request.Request(
            self.base_url + "_emulator/" + name,
            data=json.dumps({"args": args, "kwargs": kwargs}).encode(),
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
