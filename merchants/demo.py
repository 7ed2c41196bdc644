"""Demo data for ``manage.py demo``: the demo merchant's realistic week, in Google and in the app.

``google_week_seed`` gives an emulated Google account (``integrations.emulators.google``,
or its ``EmulatorControl`` client) a believable week around the current one, with one
event for every rule of SPEC §4 a merchant runs into first:

- "Team stand-up": a recurring series, weekdays 09:00-09:15 (busy, every instance);
- "Company off-site": an all-day event on Thursday (busy all day);
- "Quarterly review": a meeting the merchant declined (never busy);
- "Focus time": a focus block shown as "free" (never busy);
- "Lunch with Sam": a tentative lunch (busy only with "block tentative events" on);
- three ordinary appointments (busy), and a second calendar, "Team", with one event
  (busy once the merchant ticks that calendar).

``bookings_seed`` adds a few customer bookings and a lunch break to the merchant's week.
The browser tests use the same week, so the screenshots and the tests agree.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.utils import timezone

from config.api import ApplicationError
from merchants.models import Merchant
from scheduling import selectors, services
from scheduling.localtime import local_to_instant

TEAM_CALENDAR_ID = "team.demo@group.calendar.google.com"
TEAM_CALENDAR_NAME = "Team"


@dataclass(frozen=True)
class DemoEvent:
    """An event of the seeded week, and whether the default preferences make it busy."""

    summary: str
    weekday: int  # 0 = Monday of the current week
    start: dt.time | None  # None: all day
    end: dt.time | None
    busy: bool
    extra: dict | None = None


def demo_week(owner_email: str) -> list[DemoEvent]:
    boss = "alex.boss@example.com"
    return [
        DemoEvent("Dentist", 1, dt.time(10), dt.time(11), busy=True),
        DemoEvent("Supplier call", 2, dt.time(10, 30), dt.time(11, 30), busy=True),
        DemoEvent("Accountant", 4, dt.time(15), dt.time(16), busy=True),
        DemoEvent("Company off-site", 3, None, None, busy=True),
        DemoEvent(
            "Quarterly review",
            1,
            dt.time(14),
            dt.time(15),
            busy=False,
            extra={
                "organizer": {"email": boss},
                "attendees": [
                    {"email": boss, "responseStatus": "accepted", "organizer": True},
                    {"email": owner_email, "responseStatus": "declined"},
                ],
            },
        ),
        DemoEvent(
            "Focus time",
            2,
            dt.time(13),
            dt.time(15),
            busy=False,
            extra={"eventType": "focusTime", "transparency": "transparent"},
        ),
        DemoEvent(
            "Lunch with Sam",
            0,
            dt.time(12, 30),
            dt.time(13, 30),
            busy=False,
            extra={
                "organizer": {"email": "sam@example.com"},
                "attendees": [
                    {"email": "sam@example.com", "responseStatus": "accepted", "organizer": True},
                    {"email": owner_email, "responseStatus": "tentative"},
                ],
            },
        ),
    ]


STANDUP = DemoEvent("Team stand-up", 0, dt.time(9), dt.time(9, 15), busy=True)
TEAM_EVENT = DemoEvent("Inventory count", 2, dt.time(15), dt.time(17), busy=True)


def current_monday(time_zone: str, now: dt.datetime | None = None) -> dt.date:
    today = (now or timezone.now()).astimezone(zoneinfo.ZoneInfo(time_zone)).date()
    return today - dt.timedelta(days=today.weekday())


def _event_json(event: DemoEvent, monday: dt.date, time_zone: str) -> dict:
    day = monday + dt.timedelta(days=event.weekday)
    if event.start is None:
        times = {"start": {"date": day.isoformat()}, "end": {"date": (day + dt.timedelta(days=1)).isoformat()}}
    else:
        times = {
            "start": {"dateTime": dt.datetime.combine(day, event.start).isoformat(), "timeZone": time_zone},
            "end": {"dateTime": dt.datetime.combine(day, event.end).isoformat(), "timeZone": time_zone},
        }
    return {"summary": event.summary, **times, **(event.extra or {})}


def google_week_seed(emulator, *, email: str, time_zone: str, monday: dt.date | None = None) -> dict:
    """Create ``email`` in the emulator with the demo week (``monday``: default the current week)."""
    monday = monday or current_monday(time_zone)
    emulator.add_account(email, name="Demo Merchant", time_zone=time_zone)
    standup = _event_json(STANDUP, monday - dt.timedelta(days=14), time_zone)
    standup["recurrence"] = ["RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"]
    emulator.insert_events(email, [standup, *(_event_json(e, monday, time_zone) for e in demo_week(email))])
    emulator.add_calendar(email, calendar_id=TEAM_CALENDAR_ID, summary=TEAM_CALENDAR_NAME, time_zone=time_zone)
    emulator.insert_events(TEAM_CALENDAR_ID, [_event_json(TEAM_EVENT, monday, time_zone)])
    return {"email": email, "calendars": [email, TEAM_CALENDAR_ID], "monday": monday.isoformat()}


DEMO_BOOKINGS = (
    # weekday, start, minutes, customer
    (0, dt.time(10), 60, "Lena Fischer"),
    (1, dt.time(15, 30), 30, "Jonas Weber"),
    (2, dt.time(10), 60, "Mia Schneider"),
    (4, dt.time(11), 30, "Noah Wagner"),
    (4, dt.time(14), 60, "Emma Becker"),
)


def bookings_seed(*, merchant: Merchant, monday: dt.date) -> int:
    """Book a few customers into the merchant's week (skipping any time already taken) and block
    a lunch break; does nothing when the week already has bookings."""
    zone = merchant.zone
    week_start = local_to_instant(dt.datetime.combine(monday, dt.time()), zone)
    week_end = week_start + dt.timedelta(days=7)
    if selectors.bookings_in_range(merchant=merchant, start=week_start, end=week_end).exists():
        return 0
    made = 0
    for weekday, start_time, minutes, name in DEMO_BOOKINGS:
        start = local_to_instant(dt.datetime.combine(monday + dt.timedelta(days=weekday), start_time), zone)
        email = name.lower().replace(" ", ".") + "@example.com"
        try:
            # ``now`` at the week's start: the demo's earlier days are booked too.
            services.booking_create(
                merchant=merchant,
                start=start,
                end=start + dt.timedelta(minutes=minutes),
                customer_name=name,
                customer_email=email,
                now=week_start,
            )
        except ApplicationError:
            continue
        made += 1
    lunch = local_to_instant(dt.datetime.combine(monday + dt.timedelta(days=1), dt.time(12)), zone)
    services.blocked_time_create(merchant=merchant, start=lunch, end=lunch + dt.timedelta(hours=1), note="Lunch break")
    return made
