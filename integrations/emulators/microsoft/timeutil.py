"""Time zones and Graph's ``dateTimeTimeZone``: Windows and IANA names, seven fractional digits.

https://learn.microsoft.com/en-us/graph/api/resources/datetimetimezone
https://learn.microsoft.com/en-us/graph/api/resources/event (``Prefer: outlook.timezone``)
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from .errors import EmulatorError

# The Windows names Outlook uses most (CLDR windowsZones, "001" territory).
WINDOWS_ZONES = {
    "UTC": "UTC",
    "Coordinated Universal Time": "UTC",
    "GMT Standard Time": "Europe/London",
    "Greenwich Standard Time": "Atlantic/Reykjavik",
    "W. Europe Standard Time": "Europe/Berlin",
    "Central Europe Standard Time": "Europe/Budapest",
    "Romance Standard Time": "Europe/Paris",
    "Central European Standard Time": "Europe/Warsaw",
    "E. Europe Standard Time": "Europe/Chisinau",
    "FLE Standard Time": "Europe/Kiev",
    "GTB Standard Time": "Europe/Bucharest",
    "Russian Standard Time": "Europe/Moscow",
    "Eastern Standard Time": "America/New_York",
    "Central Standard Time": "America/Chicago",
    "Mountain Standard Time": "America/Denver",
    "US Mountain Standard Time": "America/Phoenix",
    "Pacific Standard Time": "America/Los_Angeles",
    "Alaskan Standard Time": "America/Anchorage",
    "Hawaiian Standard Time": "Pacific/Honolulu",
    "Atlantic Standard Time": "America/Halifax",
    "E. South America Standard Time": "America/Sao_Paulo",
    "Pacific SA Standard Time": "America/Santiago",
    "India Standard Time": "Asia/Kolkata",
    "China Standard Time": "Asia/Shanghai",
    "Tokyo Standard Time": "Asia/Tokyo",
    "Korea Standard Time": "Asia/Seoul",
    "Singapore Standard Time": "Asia/Singapore",
    "AUS Eastern Standard Time": "Australia/Sydney",
    "New Zealand Standard Time": "Pacific/Auckland",
    "Arabian Standard Time": "Asia/Dubai",
    "South Africa Standard Time": "Africa/Johannesburg",
}


def zone(name: str | None) -> zoneinfo.ZoneInfo:
    """A zone for a Windows or IANA name; raises EmulatorError for unknown names."""
    name = (name or "UTC").strip()
    iana = WINDOWS_ZONES.get(name, name)
    try:
        return zoneinfo.ZoneInfo(iana)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise EmulatorError(f"Unknown time zone {name!r}") from None


def known_zone(name: str | None) -> bool:
    try:
        zone(name)
    except EmulatorError:
        return False
    return True


def parse_local(text: str) -> dt.datetime:
    """Graph's naive ``dateTime`` (up to seven fractional digits)."""
    text = text.strip().removesuffix("Z")
    if "." in text:
        head, frac = text.split(".", 1)
        text = f"{head}.{frac[:6].ljust(6, '0')}"
    value = dt.datetime.fromisoformat(text)
    return value.replace(tzinfo=None)


def parse_instant(text: str) -> dt.datetime:
    """An ISO 8601 instant for ``startDateTime``/``endDateTime``: its offset, or UTC without one."""
    value = text.strip().replace("Z", "+00:00")
    if "." in value:
        head, rest = value.split(".", 1)
        digits = "".join(ch for ch in rest if ch.isdigit())
        offset = rest[len(digits) :]
        value = f"{head}.{digits[:6].ljust(6, '0')}{offset}"
    parsed = dt.datetime.fromisoformat(value)
    return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)


def graph_local(value: dt.datetime) -> str:
    """``2016-12-09T20:30:00.0000000``: naive local time, seven fractional digits."""
    return value.replace(tzinfo=None).strftime("%Y-%m-%dT%H:%M:%S") + f".{value.microsecond:06d}0"


def graph_instant(value: dt.datetime) -> str:
    """DateTimeOffset as Graph writes it: ``2026-11-27T11:00:00Z``."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def subscription_instant(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond:06d}0+00:00"
