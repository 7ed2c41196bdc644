"""Merchant accounts: the login user, a public slug, a time zone, business hours and booking rules.

Booking rules (SPEC §11) live on the merchant: the slot lengths customers may book, a buffer
kept free after every booking, the minimum notice and how far ahead customers may book.
``scheduling`` applies them to public availability and public bookings alike.
"""

import datetime as dt
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

DEFAULT_SLOT_LENGTHS = (30, 60)
SLOT_LENGTH_CHOICES = (15, 20, 30, 45, 60, 90, 120, 180, 240)


def default_slot_lengths() -> list[int]:
    return list(DEFAULT_SLOT_LENGTHS)


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"'{value}' is not an IANA time zone.")


def validate_slot_lengths(value) -> None:
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, int) and not isinstance(v, bool) and 5 <= v <= 24 * 60 for v in value)
    ):
        raise ValidationError("Give at least one slot length, each 5 to 1440 minutes.")


class Merchant(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="merchant")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone], default="UTC")
    slot_lengths = models.JSONField(
        default=default_slot_lengths,
        validators=[validate_slot_lengths],
        help_text="Appointment lengths customers may book, in minutes (sorted, no duplicates).",
    )
    buffer_minutes = models.PositiveSmallIntegerField(default=0, help_text="Kept free after every booking.")
    minimum_notice_minutes = models.PositiveIntegerField(
        default=120, help_text="Customers cannot book a time that starts sooner than this."
    )
    max_days_ahead = models.PositiveSmallIntegerField(
        default=60, help_text="Customers cannot book a time that starts later than this many days from now."
    )
    business_hours_set_at = models.DateTimeField(
        null=True, blank=True, help_text="When the merchant last saved business hours (sign-up checklist)."
    )
    checklist_dismissed = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def buffer(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.buffer_minutes)

    @property
    def minimum_notice(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.minimum_notice_minutes)

    @property
    def booking_horizon(self) -> dt.timedelta:
        return dt.timedelta(days=self.max_days_ahead)


class BusinessHours(models.Model):
    """One opening interval on one weekday, in the merchant's local time; a day may have several."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0
        TUESDAY = 1
        WEDNESDAY = 2
        THURSDAY = 3
        FRIDAY = 4
        SATURDAY = 5
        SUNDAY = 6

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="business_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start = models.TimeField()
    end = models.TimeField()

    class Meta:
        ordering = ["weekday", "start"]
        verbose_name_plural = "business hours"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="business_hours_end_after_start"
            ),
            models.CheckConstraint(condition=models.Q(weekday__lte=6), name="business_hours_weekday_range"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}-{self.end:%H:%M}"
