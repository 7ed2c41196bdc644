"""Demo data: a fake Google account with a believable week of events (for ``--seed-demo``)."""

from __future__ import annotations

import datetime as dt

from .timeutil import zone


def seed_demo(emu, email: str = "demo.merchant@example.com", time_zone: str = "Europe/Berlin") -> dict:
    """Create ``email`` with a primary calendar full of events around today, plus a shared team calendar."""
    emu.add_account(email, name="Demo Merchant", time_zone=time_zone)
    tz = zone(time_zone)
    today = dt.datetime.now(tz).date()
    monday = today - dt.timedelta(days=today.weekday())

    def at(day: dt.date, hour: int, minute: int = 0) -> dict:
        return {
            "dateTime": dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz).isoformat(),
            "timeZone": time_zone,
        }

    events = [
        {"summary": "Dentist", "start": at(today, 10), "end": at(today, 11)},
        {
            "summary": "Supplier call",
            "start": at(today + dt.timedelta(days=1), 14),
            "end": at(today + dt.timedelta(days=1), 15, 30),
        },
        {"summary": "Lunch (free)", "transparency": "transparent", "start": at(today, 12), "end": at(today, 13)},
        {
            "summary": "Maybe: networking",
            "status": "tentative",
            "start": at(today + dt.timedelta(days=2), 16),
            "end": at(today + dt.timedelta(days=2), 17),
        },
        {
            "summary": "Team stand-up",
            "start": at(monday, 9),
            "end": at(monday, 9, 15),
            "recurrence": ["RRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR"],
        },
        {
            "summary": "Trade fair",
            "start": {"date": (today + dt.timedelta(days=7)).isoformat()},
            "end": {"date": (today + dt.timedelta(days=9)).isoformat()},
        },
        {
            "summary": "Declined meeting",
            "start": at(today + dt.timedelta(days=3), 11),
            "end": at(today + dt.timedelta(days=3), 12),
            "organizer": {"email": "boss@example.com"},
            "attendees": [
                {"email": "boss@example.com", "responseStatus": "accepted"},
                {"email": email, "responseStatus": "declined"},
            ],
        },
        {
            "summary": "Out of office",
            "eventType": "outOfOffice",
            "start": at(today + dt.timedelta(days=4), 8),
            "end": at(today + dt.timedelta(days=4), 18),
        },
    ]
    emu.insert_events(email, events)
    team = emu.add_calendar(
        email, calendar_id="team.demo@group.calendar.google.com", summary="Team", time_zone=time_zone
    )
    emu.insert_events(
        team["id"],
        [
            {
                "summary": "Inventory",
                "start": at(today + dt.timedelta(days=1), 8),
                "end": at(today + dt.timedelta(days=1), 10),
            },
        ],
    )
    return {"email": email, "calendars": [email, team["id"]]}
