"""``{base}_emulator/ui``: a page to add, move and delete an emulated account's events by hand.

The emulated calendar.google.com, reduced to a list: every account's calendars with their
events (in each calendar's time zone) and plain HTML forms (POST, then a redirect back).
Changes go through the same ``GoogleEmulator`` methods the tests use, so watch channels get
their push notifications and an app that is watching (the demo) follows live.
"""

from __future__ import annotations

import datetime as dt
import html
from urllib.parse import urlencode

from .errors import EmulatorError, Response
from .timeutil import zone
from .wire import Request

PATH = "/_emulator/ui"


def handle(emu, req: Request) -> Response:
    if req.method == "POST":
        return _change(emu, req)
    return _page(emu, req)


# --- changes --------------------------------------------------------------------------------


def _times(form: dict, time_zone: str) -> dict:
    day = dt.date.fromisoformat(form.get("date", ""))
    if form.get("all_day"):
        return {"start": {"date": day.isoformat()}, "end": {"date": (day + dt.timedelta(days=1)).isoformat()}}
    start = dt.datetime.combine(day, dt.time.fromisoformat(form.get("start", "")))
    end = dt.datetime.combine(day, dt.time.fromisoformat(form.get("end", "")))
    if end <= start:
        raise ValueError("the end must be after the start")
    return {
        "start": {"dateTime": start.isoformat(), "timeZone": time_zone},
        "end": {"dateTime": end.isoformat(), "timeZone": time_zone},
    }


def _change(emu, req: Request) -> Response:
    form = {key: values[0] for key, values in req.form().items() if values}
    action, calendar_id, event_id = form.get("action"), form.get("calendar", ""), form.get("event", "")
    try:
        time_zone = _calendar_zone(emu, calendar_id)
        if action == "add":
            body = {"summary": form.get("summary") or "New event", **_times(form, time_zone)}
            if form.get("show_as") == "free":
                body["transparency"] = "transparent"
            emu.insert_event(calendar_id, body)
            message = f"Added “{body['summary']}”."
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
    watching = sum(
        1 for c in emu.channels() if c["calendarId"] == calendar_id and not c["stopped"] and not c["expired"]
    )
    message += f" Push notification sent to {watching} watch channel(s)." if watching else " Nobody is watching it."
    return Response.redirect(f"{PATH}?{urlencode({'msg': message})}")


def _calendar_zone(emu, calendar_id: str) -> str:
    with emu.lock:
        calendar = emu.state.calendars.get(calendar_id)
        if calendar is None:
            raise EmulatorError(f"Unknown calendar {calendar_id!r}")
        return calendar.time_zone


# --- the page -------------------------------------------------------------------------------


def _edt(value: dict, tz) -> tuple[dt.date, dt.time | None]:
    if "date" in value:
        return dt.date.fromisoformat(value["date"]), None
    moment = dt.datetime.fromisoformat(value["dateTime"].replace("Z", "+00:00")).astimezone(tz)
    return moment.date(), moment.time().replace(second=0, microsecond=0)


def _sort_key(event: dict) -> str:
    start = event.get("start", {})
    return start.get("dateTime") or start.get("date") or ""


def _event_row(event: dict, calendar_id: str, tz) -> str:
    esc = html.escape
    day, start = _edt(event["start"], tz)
    _, end = _edt(event["end"], tz)
    when = f"{day:%a %d %b} · " + ("all day" if start is None else f"{start:%H:%M}\u2013{end:%H:%M}")
    notes = []
    if event.get("recurrence"):
        notes.append("repeats: " + "; ".join(r.removeprefix("RRULE:") for r in event["recurrence"]))
    if event.get("recurringEventId"):
        notes.append("a changed occurrence of a series")
    if event.get("transparency") == "transparent":
        notes.append("shown as free")
    if event.get("status") == "tentative":
        notes.append("tentative")
    for attendee in event.get("attendees", []):
        if attendee.get("self"):
            notes.append(f"you: {attendee.get('responseStatus', 'needsAction')}")
    if event.get("eventType", "default") != "default":
        notes.append(event["eventType"])
    hidden = (
        f'<input type="hidden" name="calendar" value="{esc(calendar_id)}">'
        f'<input type="hidden" name="event" value="{esc(event["id"])}">'
    )
    all_day = ' <input type="hidden" name="all_day" value="1">' if start is None else ""
    times = (
        ""
        if start is None
        else (
            f'<input type="time" name="start" value="{start:%H:%M}" aria-label="New start">'
            f'<input type="time" name="end" value="{end:%H:%M}" aria-label="New end">'
        )
    )
    return (
        f'<tr data-event-id="{esc(event["id"])}"><td><b>{esc(event.get("summary", "(no title)"))}</b>'
        f'<small>{esc(" · ".join(notes))}</small></td><td class="when">{esc(when)}</td><td>'
        f'<form method="post" class="row">{hidden}{all_day}<input type="hidden" name="action" value="move">'
        f'<input type="date" name="date" value="{day.isoformat()}" aria-label="New date">{times}'
        f'<button type="submit">Move</button></form></td><td>'
        f'<form method="post">{hidden}<input type="hidden" name="action" value="delete">'
        f'<button type="submit" class="danger">Delete</button></form></td></tr>'
    )


def _page(emu, req: Request) -> Response:
    esc = html.escape
    query = {key: values[0] for key, values in req.query.items() if values}
    sections, options = [], []
    snapshot = emu.snapshot()
    for account in snapshot["accounts"]:
        for entry in account["calendars"]:
            if entry["deleted"]:
                continue
            calendar_id = entry["id"]
            time_zone = _calendar_zone(emu, calendar_id)
            tz = zone(time_zone)
            with emu.lock:
                summary = emu.state.calendars[calendar_id].summary
            events = [e for e in emu.list_stored_events(calendar_id) if e.get("status") != "cancelled"]
            rows = "".join(_event_row(e, calendar_id, tz) for e in sorted(events, key=_sort_key))
            label = f"{account['email']} \u2014 {summary} ({time_zone})"
            options.append(f'<option value="{esc(calendar_id)}">{esc(label)}</option>')
            sections.append(
                f"<section><h2>{esc(summary)} <small>{esc(account['email'])} · {esc(time_zone)}</small></h2>"
                f"<table><thead><tr><th>Event</th><th>When</th><th>Move to</th><th></th></tr></thead>"
                f"<tbody>{rows or '<tr><td colspan=4>No events.</td></tr>'}</tbody></table></section>"
            )
    banner = ""
    if query.get("msg"):
        banner = f'<p class="banner ok" role="status">{esc(query["msg"])}</p>'
    elif query.get("error"):
        banner = f'<p class="banner error" role="alert">That did not work: {esc(query["error"])}</p>'
    first_zone = zone(_calendar_zone(emu, snapshot["accounts"][0]["calendars"][0]["id"])) if options else None
    today = dt.datetime.now(first_zone).date().isoformat()
    add_form = (
        '<form method="post" class="add" aria-label="Add an event"><input type="hidden" name="action" value="add">'
        f'<label>Calendar <select name="calendar">{"".join(options)}</select></label>'
        '<label>Title <input name="summary" value="Haircut for my sister" required></label>'
        f'<label>Date <input type="date" name="date" value="{today}" required></label>'
        '<label>From <input type="time" name="start" value="14:00"></label>'
        '<label>To <input type="time" name="end" value="15:00"></label>'
        '<label class="inline"><input type="checkbox" name="all_day" value="1"> All day</label>'
        '<label>Show as <select name="show_as"><option value="busy">Busy</option>'
        '<option value="free">Free</option></select></label>'
        '<button type="submit" class="primary">Add event</button></form>'
        if options
        else "<p>No accounts yet.</p>"
    )
    return Response.html(200, _TEMPLATE.format(banner=banner, add_form=add_form, sections="".join(sections)))


_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Events - Google emulator</title>
<style>
body{{font-family:Roboto,Arial,sans-serif;background:#f0f4f9;color:#1f1f1f;margin:0}}
main{{max-width:1180px;margin:0 auto;padding:24px 16px 48px}}
h1{{font-weight:400;font-size:26px;margin:8px 0 4px}} h2{{font-weight:500;font-size:18px;margin:0 0 8px}}
h2 small,td small{{display:block;font-weight:400;color:#5f6368;font-size:12px}}
section,form.add{{background:#fff;border-radius:16px;padding:18px 20px;margin:16px 0}}
form.add{{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-end}}
label{{display:grid;gap:4px;font-size:13px;color:#444746}} label.inline{{display:flex;align-items:center;gap:6px}}
input,select{{font:inherit;padding:7px 9px;border:1px solid #747775;border-radius:6px;background:#fff}}
button{{font:inherit;padding:7px 16px;border-radius:18px;border:1px solid #747775;background:#fff;color:#0b57d0;
cursor:pointer}}
button.primary{{background:#0b57d0;border-color:#0b57d0;color:#fff}} button.danger{{color:#b3261e}}
button:focus-visible,input:focus-visible,select:focus-visible{{outline:2px solid #0b57d0;outline-offset:2px}}
table{{width:100%;border-collapse:collapse;font-size:14px}}
th{{text-align:left;font-weight:500;color:#5f6368;font-size:12px}}
td,th{{padding:8px 6px;border-top:1px solid #e3e3e3;vertical-align:middle}} td.when{{white-space:nowrap}}
form.row{{display:flex;gap:6px;margin:0}} form.row input[type=date]{{width:9.5rem}} form{{margin:0}}
.banner{{padding:10px 14px;border-radius:10px}} .ok{{background:#e6f4ea;color:#0d652d}}
.error{{background:#fce8e6;color:#b3261e}}
.brand{{font-size:14px;color:#444746}} .brand b{{color:#4285f4}}
@media (max-width:700px){{table,tbody,tr,td{{display:block}} thead{{display:none}} td{{border:0;padding:4px 0}}
tr{{border-top:1px solid #e3e3e3;padding:8px 0}}}}
</style></head>
<body><main>
<div class="brand"><b>G</b> Calendar · local emulator</div>
<h1>Change events</h1>
<p>Add, move or delete events. Watched calendars send a push notification to the app, as Google does.
<a href="/">Emulator home</a></p>
{banner}
{add_form}
{sections}
</main></body></html>
"""
