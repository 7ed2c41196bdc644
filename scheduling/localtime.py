"""Wall-clock times in a merchant's IANA zone -> instants, correct across DST changes.

Business hours are wall-clock times ("09:00 on Mondays in Europe/Berlin"). On a DST
change day a wall-clock time can be missing (the spring gap) or occur twice (the
autumn fold). We turn them into instants like this:

- a normal time: its one instant;
- a repeated time (fold): its first occurrence (PEP 495 ``fold=0``);
- a missing time (gap): the instant the clocks jumped, i.e. the first instant whose
  wall-clock time is at or after it. "Open 02:30-04:00" on the spring day in Berlin
  therefore opens at 03:00 CEST, when the clock first shows a time past 02:30.

https://peps.python.org/pep-0495/  https://docs.python.org/3/library/zoneinfo.html
"""

import datetime as dt
import zoneinfo

UTC = dt.UTC


def _is_missing(naive: dt.datetime, zone: zoneinfo.ZoneInfo) -> bool:
    aware = naive.replace(tzinfo=zone)
    return aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive


def _transition_in(lo: dt.datetime, hi: dt.datetime, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    """The first instant in (lo, hi] whose UTC offset differs from ``lo``'s (bisection to the second)."""
    offset = lo.astimezone(zone).utcoffset()
    while hi - lo > dt.timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        if mid.astimezone(zone).utcoffset() == offset:
            lo = mid
        else:
            hi = mid
    return hi.replace(microsecond=0) if hi.microsecond else hi


def local_to_instant(naive: dt.datetime, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    """The UTC instant of the wall-clock time ``naive`` in ``zone`` (see the module docstring)."""
    if not _is_missing(naive, zone):
        return naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    # In a gap, fold=1 applies the offset after the change and lands before the jump;
    # fold=0 applies the offset before it and lands after the jump.
    before = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    after = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    return _transition_in(min(before, after), max(before, after), zone)


def local_midnight(day: dt.date, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    return local_to_instant(dt.datetime.combine(day, dt.time()), zone)
