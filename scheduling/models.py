"""Blocked times and bookings: what makes a slot unavailable to customers.

Synced blocked times carry only timing, the calendar they came from and a
provider-neutral ``external_key``; never a title, description, location or attendee.
"""

import uuid

from django.db import models


class BlockedTime(models.Model):
    class Source(models.TextChoices):
        MANUAL = "manual", "Manual"
        GOOGLE = "google", "Google Calendar"
        MICROSOFT = "microsoft", "Outlook / Microsoft 365"
        CALDAV = "caldav", "CalDAV"

    class Reason(models.TextChoices):
        """Why a synced block blocks (SPEC §9), never what the event was."""

        BUSY = "busy", "a busy event"
        TENTATIVE = "tentative", "a tentative event, blocked because that setting is on"
        ALL_DAY = "all_day", "an all-day event, blocked because that setting is on"

    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.CASCADE, related_name="blocked_times")
    start = models.DateTimeField()
    end = models.DateTimeField()
    all_day = models.BooleanField(default=False)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.MANUAL)
    note = models.CharField(max_length=200, blank=True, help_text="The merchant's own note (manual blocks only).")
    calendar = models.ForeignKey(
        "integrations.ExternalCalendar",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="blocked_times",
    )
    external_key = models.CharField(max_length=512, null=True, blank=True)  # noqa: DJ001 - NULL: not unique-checked
    kept_group = models.ForeignKey(
        "integrations.KeptBlockGroup",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="blocked_times",
        help_text="Kept from a disconnected calendar; removing the group removes these.",
    )
    reason = models.CharField(max_length=20, choices=Reason.choices, blank=True, help_text="Synced blocks only.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["start"]
        indexes = [models.Index(fields=["merchant", "start", "end"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="blocked_time_end_after_start"),
            models.UniqueConstraint(
                fields=["calendar", "external_key"],
                condition=models.Q(external_key__isnull=False),
                name="blocked_time_unique_external_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.start:%Y-%m-%d %H:%M}-{self.end:%H:%M}"

    @property
    def is_synced(self) -> bool:
        return self.source != self.Source.MANUAL

    @property
    def provider_name(self) -> str | None:
        """The provider's display name (the ``Source`` label), None for a manual block."""
        return self.get_source_display() if self.is_synced else None


class Booking(models.Model):
    """A customer's appointment. A cancelled booking is kept (status ``cancelled``) so that its
    emails, its calendar invitation (same UID, higher SEQUENCE) and the merchant's history still
    work; only ``confirmed`` bookings take time (see ``scheduling.selectors``)."""

    class Status(models.TextChoices):
        CONFIRMED = "confirmed", "Confirmed"
        CANCELLED = "cancelled", "Cancelled"

    class By(models.TextChoices):
        CUSTOMER = "customer", "the customer"
        MERCHANT = "merchant", "the merchant"

    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.CASCADE, related_name="bookings")
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, help_text="Invitation UID, manage link.")
    start = models.DateTimeField()
    end = models.DateTimeField()
    customer_name = models.CharField(max_length=200)
    customer_email = models.EmailField()
    customer_time_zone = models.CharField(max_length=64, blank=True, help_text="The customer's browser zone, if known.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CONFIRMED)
    sequence = models.PositiveIntegerField(default=0, help_text="iCalendar SEQUENCE: bumped on every change.")
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.CharField(max_length=20, choices=By.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["start"]
        indexes = [
            models.Index(fields=["merchant", "start", "end"]),
            models.Index(fields=["merchant", "customer_email", "start"], name="booking_merchant_email_start"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="booking_end_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_name} {self.start:%Y-%m-%d %H:%M}"

    @property
    def is_cancelled(self) -> bool:
        return self.status == self.Status.CANCELLED
