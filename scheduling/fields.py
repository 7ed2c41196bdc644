"""Serializer fields for instants: strict ISO 8601 in, ISO 8601 with the merchant's offset out.

The merchant's zone comes from the serializer context (``context["zone"]``, a ``ZoneInfo``).
https://www.django-rest-framework.org/api-guide/fields/#datetimefield
"""

import datetime as dt
import zoneinfo
from functools import cache

from django.utils.dateparse import parse_date, parse_datetime
from rest_framework import serializers

from scheduling.localtime import UTC, local_to_instant
from scheduling.text import plain_text_problem

MIN_YEAR, MAX_YEAR = 1970, 2199


@cache
def available_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _zone(field: serializers.Field):
    zone = field.context.get("zone")
    if zone is None:
        raise RuntimeError(f"{field.__class__.__name__} needs context['zone']")
    return zone


def _parse_datetime(value: str) -> dt.datetime | None:
    try:
        return parse_datetime(value.strip())
    except ValueError:  # well-formed but impossible, e.g. month 13
        return None


class InstantField(serializers.DateTimeField):
    """An instant. Input: ISO 8601 *with* a UTC offset (``Z`` or ``+01:00``); output: in the merchant's zone."""

    default_error_messages = {
        "invalid": "Not an ISO 8601 date-time, e.g. 2026-03-02T10:00:00+01:00.",
        "naive": "Include a UTC offset, e.g. 2026-03-02T10:00:00+01:00 or 2026-03-02T09:00:00Z.",
        "out_of_range": "Must lie between the years 1970 and 2199.",
    }

    def to_internal_value(self, value):
        if not isinstance(value, str):
            self.fail("invalid")
        parsed = _parse_datetime(value)
        if parsed is None:
            self.fail("invalid")
        if parsed.tzinfo is None:
            self.fail("naive")
        return self._checked(parsed)

    def _checked(self, instant: dt.datetime) -> dt.datetime:
        # Far-away years would overflow date arithmetic later (a day's padding, a week view).
        if not MIN_YEAR <= instant.year <= MAX_YEAR:
            self.fail("out_of_range")
        return instant.astimezone(UTC)

    def to_representation(self, value):
        if value is None:
            return None
        return value.astimezone(_zone(self)).isoformat()


class RangeBoundField(InstantField):
    """A range bound in a query string: a date-time with offset, or a local date / date-time.

    A bare date means local midnight and a date-time without offset means that wall-clock
    time, both in the merchant's zone, so ``?start=2026-03-02&end=2026-03-09`` is one
    local week.
    """

    default_error_messages = {
        "invalid": "Not an ISO 8601 date or date-time, e.g. 2026-03-02 or 2026-03-02T10:00:00+01:00.",
    }

    def to_internal_value(self, value):
        if not isinstance(value, str):
            self.fail("invalid")
        parsed = _parse_datetime(value)
        if parsed is None:
            try:
                day = parse_date(value.strip())
            except ValueError:
                day = None
            if day is None:
                self.fail("invalid")
            parsed = dt.datetime.combine(day, dt.time())
        if not MIN_YEAR <= parsed.year <= MAX_YEAR:
            self.fail("out_of_range")
        if parsed.tzinfo is None:
            return local_to_instant(parsed, _zone(self))
        return self._checked(parsed)


class CustomerNameField(serializers.CharField):
    """A customer's name: plain text only (``scheduling.text``), at most 200 characters."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 200)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        problem = plain_text_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value


class TimeZoneNameField(serializers.CharField):
    """An IANA zone name (the customer's, from the browser); blank when unknown or not a zone."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("default", "")
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value and value not in available_zones():
            raise serializers.ValidationError("Not an IANA time zone, e.g. America/New_York.")
        return value
