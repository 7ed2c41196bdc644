"""Demo data: an Outlook account with a believable week (for ``--seed-demo`` and the demo).

Every busy rule of SPEC §8.1 shows up once: busy, free, working elsewhere, tentative, an
unanswered and a declined invitation, a meeting the organiser cancelled, out of office, an
all-day event, and series (weekly with a moved and a deleted occurrence, monthly relative).
"""

from __future__ import annotations

import datetime as dt

from .timeutil import zone


def seed_demo(emu, email: str = "demo.merchant@outlook.com", time_zone: str = "Europe/Berlin") -> dict:
    account = emu.add_account(email, name="Demo Merchant", time_zone=time_zone)
    calendar = account["default_calendar"]
    tz = zone(time_zone)
    today = dt.datetime.now(tz).date()
    monday = today - dt.timedelta(days=today.weekday())

    def at(day: dt.date, hour: int, minute: int = 0) -> dict:
        return {"dateTime": dt.datetime(day.year, day.month, day.day, hour, minute).isoformat(), "timeZone": time_zone}

    def day_(offset: int) -> dt.date:
        return today + dt.timedelta(days=offset)

    boss = {"emailAddress": {"name": "Pat Boss", "address": "pat.boss@contoso.com"}}
    singles = [
        {"subject": "Dentist", "start": at(today, 10), "end": at(today, 11)},
        {"subject": "Lunch with Sam", "showAs": "free", "start": at(today, 12), "end": at(today, 13)},
        {"subject": "Supplier call", "start": at(day_(1), 14), "end": at(day_(1), 15, 30)},
        {
            "subject": "Working from the workshop",
            "showAs": "workingElsewhere",
            "start": at(day_(1), 8),
            "end": at(day_(1), 12),
        },
        {"subject": "Maybe: networking", "showAs": "tentative", "start": at(day_(2), 16), "end": at(day_(2), 17)},
        {
            "subject": "Quarterly review (invitation)",
            "isOrganizer": False,
            "organizer": boss,
            "showAs": "tentative",
            "responseStatus": {"response": "notResponded", "time": "0001-01-01T00:00:00Z"},
            "start": at(day_(2), 9),
            "end": at(day_(2), 10),
        },
        {
            "subject": "Declined meeting",
            "isOrganizer": False,
            "organizer": boss,
            "showAs": "free",
            "responseStatus": {"response": "declined", "time": "2026-01-01T08:00:00Z"},
            "start": at(day_(3), 11),
            "end": at(day_(3), 12),
        },
        {
            "subject": "Canceled: Trade association",
            "isOrganizer": False,
            "organizer": boss,
            "isCancelled": True,
            "responseStatus": {"response": "accepted", "time": "2026-01-01T08:00:00Z"},
            "start": at(day_(3), 15),
            "end": at(day_(3), 16),
        },
        {"subject": "Out of office", "showAs": "oof", "start": at(day_(4), 8), "end": at(day_(4), 18)},
        {"subject": "Trade fair", "isAllDay": True, "start": at(day_(7), 0), "end": at(day_(9), 0)},
    ]
    emu.insert_events(calendar, singles)
    standup = emu.insert_event(
        calendar,
        {
            "subject": "Team stand-up",
            "start": at(monday, 9),
            "end": at(monday, 9, 15),
            "recurrence": {
                "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday", "wednesday", "friday"]},
                "range": {"type": "noEnd", "startDate": monday.isoformat()},
            },
        },
    )
    start = (dt.datetime.combine(monday, dt.time(0), tz) - dt.timedelta(days=1)).astimezone(dt.UTC).isoformat()
    end = (dt.datetime.combine(monday, dt.time(0), tz) + dt.timedelta(days=14)).astimezone(dt.UTC).isoformat()
    occurrences = emu.instances(calendar, standup["id"], start, end)
    if len(occurrences) >= 3:
        moved = occurrences[1]
        day = dt.date.fromisoformat(moved["start"]["dateTime"][:10])
        emu.update_event(calendar, moved["id"], {"start": at(day, 10), "end": at(day, 10, 15)})
        emu.delete_event(calendar, occurrences[2]["id"])
    emu.insert_event(
        calendar,
        {
            "subject": "Accounts review (first Monday)",
            "start": at(monday, 16),
            "end": at(monday, 17),
            "recurrence": {
                "pattern": {"type": "relativeMonthly", "interval": 1, "daysOfWeek": ["monday"], "index": "first"},
                "range": {
                    "type": "endDate",
                    "startDate": monday.isoformat(),
                    "endDate": (monday + dt.timedelta(days=365)).isoformat(),
                },
            },
        },
    )
    family = emu.add_calendar(email, "Family")
    emu.insert_events(family["id"], [{"subject": "School run", "start": at(day_(1), 7, 30), "end": at(day_(1), 8, 15)}])
    return {"email": email, "calendars": [calendar, family["id"]]}
