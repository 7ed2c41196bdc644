"""RFC 3339 parsing and formatting the way Google writes timestamps.

``updated``/``created`` are UTC with milliseconds (``2024-08-09T14:56:48.154Z``); event
``dateTime`` values carry the offset of the response zone, ``Z`` for UTC.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = dt.UTC


@lru_cache(maxsize=256)
def zone(name: str | None) -> dt.tzinfo:
    if not name or name == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"Unknown time zone {name!r}") from exc


_OFFSET_NAME = re.compile(r"^(?:GMT|UTC)(?:([+-])(\d{1,2})(?::?(\d{2}))?)?$", re.IGNORECASE)


@lru_cache(maxsize=256)
def event_zone(name: str | None) -> dt.tzinfo:
    """The zone of an event's ``start``/``end.timeZone``: an IANA name, or an offset name.

    Real events carry names such as ``GMT+02:00`` (seen in public reports, e.g.
    home-assistant/core#81917); they mean that fixed offset, not a POSIX ``Etc/GMT`` zone.
    """
    try:
        return zone(name)
    except ValueError:
        match = _OFFSET_NAME.match((name or "").strip())
        if not match:
            raise
    sign, hours, minutes = match.groups()
    if sign is None:
        return UTC
    offset = dt.timedelta(hours=int(hours), minutes=int(minutes or 0))
    if offset >= dt.timedelta(hours=24):
        raise ValueError(f"Unknown time zone {name!r}")
    return dt.timezone(-offset if sign == "-" else offset)


def is_valid_zone(name: str) -> bool:
    try:
        zone(name)
    except ValueError:
        return False
    return True


def parse_rfc3339(value: str, *, require_offset: bool = True) -> dt.datetime:
    """Parse an RFC 3339 timestamp. Raises ValueError if malformed (or naive when an offset is required)."""
    text = value.strip()
    if len(text) < 19 or text[10] not in "Tt ":
        raise ValueError(value)
    parsed = dt.datetime.fromisoformat(text.replace("z", "Z"))
    if parsed.tzinfo is None and require_offset:
        raise ValueError(value)
    return parsed


def ms_to_rfc3339(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def format_datetime(value: dt.datetime, tz: dt.tzinfo) -> str:
    local = value.astimezone(tz)
    offset = local.utcoffset()
    if not offset:
        return local.strftime("%Y-%m-%dT%H:%M:%SZ")
    return local.replace(microsecond=0).isoformat()


def rfc1123(epoch_seconds: float) -> str:
    return dt.datetime.fromtimestamp(epoch_seconds, UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")


def start_of_day(day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    """Midnight of ``day`` in ``tz``, as an aware UTC datetime."""
    return dt.datetime.combine(day, dt.time(), tzinfo=tz).astimezone(UTC)
