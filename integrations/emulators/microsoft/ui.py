"""``{base}_emulator/ui``: add, move and delete an emulated account's events by hand (the demo's
stand-in for outlook.com). Changes go through the same ``MicrosoftEmulator`` methods the tests
use, so subscriptions get their change notifications and a watching app follows live.
"""

from __future__ import annotations

import datetime as dt
import html
from urllib.parse import urlencode

from .errors import EmulatorError
from .store import parse_local
from .timeutil import zone
from .wire import Response

PATH = "/_emulator/ui"


def handle(emu, req) -> Response:
    if req.method == "POST":
        return _change(emu, req)
    return _page(emu, req)


def _times(form: dict, time_zone: str) -> dict:
    day = dt.date.fromisoformat(form.get("date", ""))
    if form.get("all_day"):
        start, end = dt.datetime.combine(day, dt.time(0)), dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0))
        extra = {"isAllDay": True}
    else:
        start = dt.datetime.combine(day, dt.time.fromisoformat(form.get("start", "")))
        end = dt.datetime.combine(day, dt.time.fromisoformat(form.get("end", "")))
        if end <= start:
            raise ValueError("the end must be after the start")
        extra = {}
    return {
        "start": {"dateTime": start.isoformat(), "timeZone": time_zone},
        "end": {"dateTime": end.isoformat(), "timeZone": time_zone},
        **extra,
    }


def _change(emu, req) -> Response:
    form = req.form()
    action, calendar_id, event_id = form.get("action"), form.get("calendar", ""), form.get("event", "")
    try:
        time_zone = _zone_of(emu, calendar_id)
        if action == "add":
            body = {"subject": form.get("subject") or "New event", "showAs": form.get("show_as") or "busy"}
            body.update(_times(form, time_zone))
            emu.insert_event(calendar_id, body)
            message = f"Added “{body['subject']}”."
        elif action == "move":
            emu.update_event(calendar_id, event_id, _times(form, time_zone))
            message = "Moved the event."
        elif action == "delete":
            emu.delete_event(calendar_id, event_id)
            message = "Deleted the event."
        else:
            raise ValueError(f"unknown action {action!r}")
    except (EmulatorError, ValueError, KeyError) as exc:
        return Response.redirect(f"{PATH}?{urlencode({'error': str(exc)})}")
    watching = sum(1 for s in emu.subscriptions() if s["calendarId"] == calendar_id and not s["expired"])
    message += f" Change notification sent to {watching} subscription(s)." if watching else " Nobody subscribes to it."
    return Response.redirect(f"{PATH}?{urlencode({'msg': message})}")


def _zone_of(emu, calendar_id: str) -> str:
    with emu.lock:
        calendar = emu.state.calendars.get(calendar_id)
        if calendar is None:
            raise EmulatorError(f"Unknown calendar {calendar_id!r}")
        return emu.state.account(calendar.owner_email).time_zone


def _row(event: dict, calendar_id: str, tz) -> str:
    esc = html.escape
    start_local = parse_local(event["start"]["dateTime"])
    end_local = parse_local(event["end"]["dateTime"])
    all_day = event["isAllDay"]
    if not all_day:
        start_local = start_local.replace(tzinfo=dt.UTC).astimezone(tz)
        end_local = end_local.replace(tzinfo=dt.UTC).astimezone(tz)
    when = f"{start_local:%a %d %b} · " + ("all day" if all_day else f"{start_local:%H:%M}\u2013{end_local:%H:%M}")
    notes = [f"show as {event['showAs']}"]
    if event["type"] != "singleInstance":
        notes.append({"occurrence": "an occurrence of a series", "exception": "a changed occurrence"}[event["type"]])
    if event["isCancelled"]:
        notes.append("cancelled by the organiser")
    if not event["isOrganizer"]:
        notes.append(f"you: {event['responseStatus']['response']}")
    hidden = (
        f'<input type="hidden" name="calendar" value="{esc(calendar_id)}">'
        f'<input type="hidden" name="event" value="{esc(event["id"])}">'
    )
    times = (
        '<input type="hidden" name="all_day" value="1">'
        if all_day
        else f'<input type="time" name="start" value="{start_local:%H:%M}" aria-label="New start">'
        f'<input type="time" name="end" value="{end_local:%H:%M}" aria-label="New end">'
    )
    return (
        f'<tr data-event-id="{esc(event["id"])}"><td><b>{esc(event["subject"] or "(no title)")}</b>'
        f'<small>{esc(" · ".join(notes))}</small></td><td class="when">{esc(when)}</td><td>'
        f'<form method="post" class="row">{hidden}<input type="hidden" name="action" value="move">'
        f'<input type="date" name="date" value="{start_local.date().isoformat()}" aria-label="New date">{times}'
        f'<button type="submit">Move</button></form></td><td>'
        f'<form method="post">{hidden}<input type="hidden" name="action" value="delete">'
        f'<button type="submit" class="danger">Delete</button></form></td></tr>'
    )


def _page(emu, req) -> Response:
    esc = html.escape
    query = {k: v[0] for k, v in req.query.items() if v}
    sections, options = [], []
    now = emu.clock.now_dt()
    start = (now - dt.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (now + dt.timedelta(days=60)).strftime("%Y-%m-%dT%H:%M:%SZ")
    first_zone = None
    for account in emu.snapshot()["accounts"]:
        for calendar in account["calendars"]:
            time_zone = _zone_of(emu, calendar["id"])
            tz = zone(time_zone)
            first_zone = first_zone or tz
            events = emu.list_events(calendar["id"], start, end)
            rows = "".join(_row(e, calendar["id"], tz) for e in events)
            label = f"{account['email']} \u2014 {calendar['name']} ({time_zone})"
            options.append(f'<option value="{esc(calendar["id"])}">{esc(label)}</option>')
            sections.append(
                f"<section><h2>{esc(calendar['name'])} <small>{esc(account['email'])} · {esc(time_zone)}</small></h2>"
                f"<table><thead><tr><th>Event</th><th>When</th><th>Move to</th><th></th></tr></thead>"
                f"<tbody>{rows or '<tr><td colspan=4>No events in the next 60 days.</td></tr>'}</tbody>"
                "</table></section>"
            )
    banner = ""
    if query.get("msg"):
        banner = f'<p class="banner ok" role="status">{esc(query["msg"])}</p>'
    elif query.get("error"):
        banner = f'<p class="banner error" role="alert">That did not work: {esc(query["error"])}</p>'
    today = dt.datetime.now(first_zone or dt.UTC).date().isoformat()
    add_form = (
        '<form method="post" class="add" aria-label="Add an event"><input type="hidden" name="action" value="add">'
        f'<label>Calendar <select name="calendar">{"".join(options)}</select></label>'
        '<label>Title <input name="subject" value="Parents\u2019 evening" required></label>'
        f'<label>Date <input type="date" name="date" value="{today}" required></label>'
        '<label>From <input type="time" name="start" value="14:00"></label>'
        '<label>To <input type="time" name="end" value="15:00"></label>'
        '<label class="inline"><input type="checkbox" name="all_day" value="1"> All day</label>'
        '<label>Show as <select name="show_as"><option value="busy">Busy</option><option value="tentative">Tentative'
        '</option><option value="free">Free</option><option value="oof">Away</option>'
        '<option value="workingElsewhere">Working elsewhere</option></select></label>'
        '<button type="submit" class="primary">Add event</button></form>'
        if options
        else "<p>No accounts yet.</p>"
    )
    return Response.html(200, _TEMPLATE.format(banner=banner, add_form=add_form, sections="".join(sections)))


_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Events - Microsoft emulator</title>
<style>
body{{font-family:"Segoe UI",Arial,sans-serif;background:#f5f5f5;color:#242424;margin:0}}
main{{max-width:1180px;margin:0 auto;padding:24px 16px 48px}}
h1{{font-weight:600;font-size:24px;margin:8px 0 4px}} h2{{font-weight:600;font-size:17px;margin:0 0 8px}}
h2 small,td small{{display:block;font-weight:400;color:#616161;font-size:12px}}
section,form.add{{background:#fff;border-radius:8px;padding:18px 20px;margin:16px 0;
box-shadow:0 1px 2px rgba(0,0,0,.12)}}
form.add{{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-end}}
label{{display:grid;gap:4px;font-size:13px;color:#424242}} label.inline{{display:flex;align-items:center;gap:6px}}
input,select{{font:inherit;padding:6px 8px;border:1px solid #8a8a8a;border-radius:4px;background:#fff}}
button{{font:inherit;padding:6px 14px;border-radius:4px;border:1px solid #8a8a8a;background:#fff;color:#0f6cbd;
cursor:pointer}}
button.primary{{background:#0f6cbd;border-color:#0f6cbd;color:#fff}} button.danger{{color:#b10e1c}}
button:focus-visible,input:focus-visible,select:focus-visible{{outline:2px solid #000;outline-offset:2px}}
table{{width:100%;border-collapse:collapse;font-size:14px}}
th{{text-align:left;font-weight:600;color:#616161;font-size:12px}}
td,th{{padding:8px 6px;border-top:1px solid #e0e0e0;vertical-align:middle}} td.when{{white-space:nowrap}}
form.row{{display:flex;gap:6px;margin:0}} form{{margin:0}}
.banner{{padding:10px 14px;border-radius:6px}} .ok{{background:#dff6dd;color:#0e700e}}
.error{{background:#fde7e9;color:#b10e1c}}
.brand{{font-size:14px;color:#424242}} .brand b{{color:#0f6cbd}}
@media (max-width:700px){{table,tbody,tr,td{{display:block}} thead{{display:none}} td{{border:0;padding:4px 0}}}}
</style></head>
<body><main>
<div class="brand"><b>Outlook</b> calendar · local Microsoft emulator</div>
<h1>Change events</h1>
<p>Add, move or delete events. Calendars with a subscription send a change notification to the app, as Microsoft
Graph does. <a href="/">Emulator home</a></p>
{banner}
{add_form}
{sections}
</main></body></html>
"""
