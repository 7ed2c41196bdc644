"""A realistic week in a CalDAV account, for the demo: what a salon owner's iPhone calendar holds.

Everything is relative to the current week in ``zone``: a weekly team meeting (one week
moved, one cancelled), a dentist appointment, a school pick-up series, a tentative supplier
call, an invitation the owner declined, a holiday (all-day, Apple's TRANSP:TRANSPARENT
default, so it does not block), a birthday reminder, and a to-do list that is no calendar.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from integrations.emulators.caldav.radicale import RadicaleServer

DEMO_USER = "demo@example.com"
DEMO_PASSWORD = "demo-app-specific-password"


def _local(day: dt.date, hour: int, minute: int = 0) -> str:
    return f"{day:%Y%m%d}T{hour:02d}{minute:02d}00"


def _event(uid: str, lines: list[str]) -> str:
    body = "\r\n".join(["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20260101T000000Z", *lines, "END:VEVENT"])
    return body


def _calendar(*events: str) -> str:
    return "\r\n".join(
        ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Apple Inc.//iOS 18//EN", *events, "END:VCALENDAR", ""]
    )


def seed_demo_week(server: RadicaleServer, *, zone: str = "Europe/Berlin", today: dt.date | None = None) -> dict:
    """Create the demo user, a "Home" and a "Work" calendar and a to-do list; returns what was made."""
    today = today or dt.datetime.now(ZoneInfo(zone)).date()
    monday = today - dt.timedelta(days=today.weekday())
    tz = f";TZID={zone}:"
    server.user_add(DEMO_USER, DEMO_PASSWORD)
    work = server.calendar_create(DEMO_USER, "work", "Work")
    home = server.calendar_create(DEMO_USER, "home", "Home")
    server.calendar_create(DEMO_USER, "reminders", "Reminders", components=("VTODO",))
    me = f"mailto:{DEMO_USER}"
    events = {
        (work, "team-meeting"): _calendar(
            _event("team-meeting", [f"DTSTART{tz}{_local(monday, 8, 30)}", f"DTEND{tz}{_local(monday, 9, 15)}",
                                    "RRULE:FREQ=WEEKLY;BYDAY=MO,TH", "SUMMARY:Team meeting"]),
            _event("team-meeting", [f"RECURRENCE-ID{tz}{_local(monday + dt.timedelta(days=3), 8, 30)}",
                                    f"DTSTART{tz}{_local(monday + dt.timedelta(days=3), 13, 0)}",
                                    f"DTEND{tz}{_local(monday + dt.timedelta(days=3), 13, 45)}"]),
            _event("team-meeting", [f"RECURRENCE-ID{tz}{_local(monday + dt.timedelta(days=7), 8, 30)}",
                                    f"DTSTART{tz}{_local(monday + dt.timedelta(days=7), 8, 30)}",
                                    f"DTEND{tz}{_local(monday + dt.timedelta(days=7), 9, 15)}", "STATUS:CANCELLED"]),
        ),
        (work, "supplier-call"): _calendar(
            _event("supplier-call", [f"DTSTART{tz}{_local(monday + dt.timedelta(days=2), 11, 0)}",
                                     "DURATION:PT30M", "STATUS:TENTATIVE", "SUMMARY:Call with the supplier (maybe)"]),
        ),
        (work, "declined-invite"): _calendar(
            _event("declined-invite", [f"DTSTART{tz}{_local(monday + dt.timedelta(days=1), 15, 0)}",
                                       f"DTEND{tz}{_local(monday + dt.timedelta(days=1), 16, 0)}",
                                       "ORGANIZER:mailto:chamber@example.org", f"ATTENDEE;PARTSTAT=DECLINED:{me}",
                                       "SUMMARY:Chamber of commerce evening"]),
        ),
        (home, "dentist"): _calendar(
            _event("dentist", [f"DTSTART{tz}{_local(monday + dt.timedelta(days=2), 14, 0)}",
                               f"DTEND{tz}{_local(monday + dt.timedelta(days=2), 15, 0)}", "SUMMARY:Dentist"]),
        ),
        (home, "school-pickup"): _calendar(
            _event("school-pickup", [f"DTSTART{tz}{_local(monday, 15, 30)}", f"DTEND{tz}{_local(monday, 16, 0)}",
                                     "RRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR", "SUMMARY:School pick-up"]),
        ),
        (home, "holiday"): _calendar(
            _event("holiday", [f"DTSTART;VALUE=DATE:{monday + dt.timedelta(days=4):%Y%m%d}",
                               f"DTEND;VALUE=DATE:{monday + dt.timedelta(days=5):%Y%m%d}",
                               "TRANSP:TRANSPARENT", "SUMMARY:Day off (shown as free, as Apple writes it)"]),
        ),
        (home, "day-off-busy"): _calendar(
            _event("day-off-busy", [f"DTSTART;VALUE=DATE:{monday + dt.timedelta(days=9):%Y%m%d}",
                                    f"DTEND;VALUE=DATE:{monday + dt.timedelta(days=10):%Y%m%d}",
                                    "SUMMARY:Trade fair (all day, busy)"]),
        ),
    }  # fmt: skip
    for (calendar_url, name), ics in events.items():
        server.event_put(DEMO_USER, calendar_url, name, ics)
    return {"user": DEMO_USER, "password": DEMO_PASSWORD, "calendars": [work, home], "server": server.url}
