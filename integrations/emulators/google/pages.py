"""HTML pages of the emulated accounts.google.com: the consent screen and error pages."""

from __future__ import annotations

import html
from pathlib import Path
from string import Template

from .errors import Response

SCOPE_LABELS = {
    "openid": "Associate you with your personal info on Google",
    "https://www.googleapis.com/auth/userinfo.email": "See your primary Google Account email address",
    "https://www.googleapis.com/auth/userinfo.profile": "See your personal info, including any personal info "
    "you've made publicly available",
    "https://www.googleapis.com/auth/calendar": "See, edit, share, and permanently delete all the calendars you can "
    "access using Google Calendar",
    "https://www.googleapis.com/auth/calendar.readonly": "See and download any calendar you can access using your "
    "Google Calendar",
    "https://www.googleapis.com/auth/calendar.events.readonly": "View events on all your calendars",
    "https://www.googleapis.com/auth/calendar.events": "View and edit events on all your calendars",
    "https://www.googleapis.com/auth/calendar.calendarlist.readonly": "See the list of Google calendars you're "
    "subscribed to",
}
# Google grants these without a checkbox; the emulator shows them ticked and disabled.
IDENTITY_SCOPES = {
    "openid",
    "https://www.googleapis.com/auth/userinfo.email",
    "https://www.googleapis.com/auth/userinfo.profile",
}

_CONSENT = Template((Path(__file__).with_name("consent.html")).read_text(encoding="utf-8"))

_ERROR = Template("""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Error $status: $error</title>
<style>body{font-family:Roboto,Arial,sans-serif;background:#f0f4f9}main{max-width:560px;margin:48px auto;
background:#fff;border-radius:28px;padding:36px 40px}h1{font-weight:400}</style></head>
<body><main><h1>Access blocked: This app's request is invalid</h1>
<p><b>Error $status: $error</b></p><p>$description</p>
<p><small>Served by the local Google emulator.</small></p></main></body></html>
""")


def error_page(status: int, error: str, description: str) -> Response:
    return Response.html(
        status,
        _ERROR.substitute(status=status, error=html.escape(error), description=html.escape(description)),
    )


def consent_page(
    *,
    action: str,
    request_id: str,
    client_name: str,
    accounts: list[tuple[str, str]],
    chosen: str | None,
    scopes: list[str],
    hint: str | None = None,
) -> Response:
    account_rows = []
    for index, (email, name) in enumerate(accounts):
        checked = "checked" if (email == chosen or (chosen is None and index == 0)) else ""
        account_rows.append(
            f'<label><input type="radio" name="account" value="{html.escape(email)}" {checked}>'
            f"<span>{html.escape(name)}<small>{html.escape(email)}</small></span></label>"
        )
    scope_rows = []
    for scope in scopes:
        label = html.escape(SCOPE_LABELS.get(scope, scope))
        value = html.escape(scope)
        if scope in IDENTITY_SCOPES:
            scope_rows.append(
                f'<input type="hidden" name="scope" value="{value}">'
                f'<label><input type="checkbox" value="{value}" checked disabled>'
                f"<span>{label}<small>{value}</small></span></label>"
            )
        else:
            scope_rows.append(
                f'<label><input type="checkbox" name="scope" value="{value}" checked>'
                f"<span>{label}<small>{value}</small></span></label>"
            )
    text = _CONSENT.substitute(
        action=html.escape(action),
        request_id=html.escape(request_id),
        client_name=html.escape(client_name),
        accounts="\n      ".join(account_rows),
        new_email_required=("" if accounts else "required ")
        + (f'value="{html.escape(hint)}"' if hint and hint != chosen else ""),
        scopes="\n      ".join(scope_rows),
    )
    return Response.html(200, text)
