"""Reading the week view (``/app/``) and the demo week's expected blocks, for the browser tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import NamedTuple

from merchants.demo import STANDUP, TEAM_EVENT, DemoEvent, demo_week


class Block(NamedTuple):
    date: str  # the local day the piece is drawn on
    kind: str  # booking, manual, synced
    start: str  # "HH:MM" of the entry's own start and end, local
    end: str
    title: str
    detail: str


_READ = """days => days.flatMap(day => [...day.querySelectorAll('.entry')].map(entry => [
  day.dataset.date, entry.dataset.kind, entry.dataset.start.slice(11), entry.dataset.end.slice(11),
  entry.querySelector('.title').textContent.trim(), entry.querySelector('.detail').textContent.trim(),
]))"""


def week_blocks(page) -> set[Block]:
    return {Block(*row) for row in page.locator("#week .day").evaluate_all(_READ)}


def expected(event: DemoEvent, monday: dt.date, calendar: str, kind: str = "synced", title: str = "Busy") -> Block:
    day = (monday + dt.timedelta(days=event.weekday)).isoformat()
    if event.start is None:
        return Block(day, kind, "00:00", "00:00", title, calendar)
    return Block(day, kind, f"{event.start:%H:%M}", f"{event.end:%H:%M}", title, calendar)


def demo_busy_blocks(monday: dt.date, calendar: str, **kwargs) -> set[Block]:
    """What the seeded primary calendar must put on the week view (default preferences)."""
    blocks = {expected(e, monday, calendar, **kwargs) for e in demo_week(calendar) if e.busy}
    for weekday in range(5):  # the stand-up series, Monday to Friday
        blocks.add(expected(replace(STANDUP, weekday=weekday), monday, calendar, **kwargs))
    return blocks


def demo_free_blocks(monday: dt.date, calendar: str) -> set[Block]:
    """Seeded events that must *not* block time (declined, shown as free, tentative)."""
    return {expected(e, monday, calendar) for e in demo_week(calendar) if not e.busy}


def team_block(monday: dt.date, calendar: str) -> Block:
    return expected(TEAM_EVENT, monday, calendar)
