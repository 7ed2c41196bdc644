"""Calendar connections, the calendars they expose, watch channels and sync runs.

Provider-neutral: ``provider`` is a key of ``integrations.providers.PROVIDERS`` and
``sync_cursor`` is an opaque string (a Google sync token, a Graph delta link, a CalDAV
sync-token), so later providers need no schema change.
"""

from django.db import models
from django.utils import timezone

from integrations.fields import EncryptedTextField


class CalendarConnection(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active"
        ERROR = "error"
        REAUTH_REQUIRED = "reauth_required"
        DISCONNECTED = "disconnected"

    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.CASCADE, related_name="calendar_connections")
    provider = models.CharField(max_length=20)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    account_email = models.EmailField(blank=True)
    account_id = models.CharField(
        max_length=255, blank=True, help_text="The provider's id of the external account (one merchant each)."
    )
    access_token = EncryptedTextField(null=True, blank=True)
    refresh_token = EncryptedTextField(null=True, blank=True)
    token_expires_at = models.DateTimeField(null=True, blank=True)
    granted_scopes = models.TextField(blank=True)
    # CalDAV: the calendar home found by discovery (iCloud: on the account's partition host)
    # and the account's calendar-user addresses, one a line, to find the merchant's ATTENDEE.
    server_url = models.CharField(max_length=1024, blank=True)
    calendar_user_addresses = models.TextField(blank=True)
    block_tentative = models.BooleanField(default=False)
    block_all_day = models.BooleanField(default=True)
    # Two-way (SPEC §10): bookings are copied into a calendar the product created in this
    # account (its id and name once made); never into any other.
    write_bookings = models.BooleanField(default=False)
    bookings_calendar_id = models.CharField(max_length=1024, blank=True)
    bookings_calendar_name = models.CharField(max_length=255, blank=True)
    connected_at = models.DateTimeField(null=True, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["merchant", "provider"], name="one_connection_per_provider"),
            # SPEC §8: one external account belongs to one merchant (a disconnect by one
            # would otherwise revoke the other's grant).
            models.UniqueConstraint(
                fields=["provider", "account_id"],
                condition=~models.Q(status="disconnected") & ~models.Q(account_id=""),
                name="one_merchant_per_external_account",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider}: {self.account_email or '-'} ({self.status})"

    @property
    def is_connected(self) -> bool:
        return self.status != self.Status.DISCONNECTED


class ExternalCalendar(models.Model):
    connection = models.ForeignKey(CalendarConnection, on_delete=models.CASCADE, related_name="calendars")
    external_id = models.CharField(max_length=1024)
    summary = models.CharField(max_length=255, blank=True)
    primary = models.BooleanField(default=False)
    selected = models.BooleanField(default=False)
    time_zone = models.CharField(max_length=64, blank=True)
    sync_cursor = models.TextField(blank=True)
    window_end = models.DateTimeField(null=True, blank=True, help_text="How far ahead the last full sync reached.")
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    failing_since = models.DateTimeField(
        null=True, blank=True, help_text="Start of the failures since the last successful sync."
    )
    # When the calendar is synced next without being asked: its next poll slot (CalDAV) or its
    # periodic safety-net sync (push providers), spread over the interval
    # (integrations.selectors.next_poll_at), set when a run ends. A new calendar is due at once.
    # Beat's minute tick reads only what is due through the partial index; null: never due.
    next_poll_at = models.DateTimeField(null=True, blank=True, default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-primary", "summary"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "external_id"], name="unique_calendar_per_connection"),
        ]
        indexes = [
            models.Index(
                fields=["next_poll_at"], condition=models.Q(selected=True), name="calendar_next_poll_selected"
            ),
        ]

    def __str__(self) -> str:
        return self.summary or self.external_id


class WatchChannel(models.Model):
    """A push-notification channel; ``token`` is our secret, checked on every notification."""

    class Status(models.TextChoices):
        ACTIVE = "active"
        STOPPED = "stopped"

    calendar = models.ForeignKey(ExternalCalendar, on_delete=models.CASCADE, related_name="channels")
    channel_id = models.CharField(max_length=64, unique=True)
    token = EncryptedTextField()
    resource_id = models.CharField(max_length=255)
    resource_uri = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    expires_at = models.DateTimeField()
    # When to open the successor (or extend): a day before expiry at the calendar's own time
    # of day (integrations.selectors.channel_renew_at), so renewals spread over the day.
    renew_at = models.DateTimeField(null=True, blank=True)
    last_message_number = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    stopped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "expires_at"]),
            models.Index(fields=["renew_at"], condition=models.Q(status="active"), name="channel_renew_active"),
        ]

    def __str__(self) -> str:
        return f"{self.channel_id} ({self.status})"


class SyncRun(models.Model):
    class Trigger(models.TextChoices):
        INITIAL = "initial"
        NOTIFICATION = "notification"
        PERIODIC = "periodic"
        MANUAL = "manual"
        HORIZON = "horizon"
        SELECTION = "selection"
        PREFERENCES = "preferences"
        LIVE_CHECK = "live_check"  # a booking's live check found the provider busy (SPEC §11)

    class Kind(models.TextChoices):
        FULL = "full"
        INCREMENTAL = "incremental"

    class Status(models.TextChoices):
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    calendar = models.ForeignKey(ExternalCalendar, on_delete=models.CASCADE, related_name="sync_runs")
    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    pages = models.PositiveIntegerField(default=0)
    events_seen = models.PositiveIntegerField(default=0)
    blocks_upserted = models.PositiveIntegerField(default=0)
    blocks_deleted = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["calendar", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.kind} sync of {self.calendar_id} ({self.status})"


class OAuthState(models.Model):
    """One authorization attempt: single use, short-lived, bound to the merchant who started it.

    Only a hash of ``state`` is kept: the value itself travels in the merchant's signed
    cookie and Google's redirect. ``used_at`` makes a replayed callback fail.
    """

    class Purpose(models.TextChoices):
        CONNECT = "connect"
        WRITE_BOOKINGS = "write_bookings"  # the incremental consent that turns two-way on (§10)

    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.CASCADE, related_name="oauth_states")
    provider = models.CharField(max_length=20)
    purpose = models.CharField(max_length=20, choices=Purpose.choices, default=Purpose.CONNECT)
    state_hash = models.CharField(max_length=64, unique=True)
    # What must stay on the server until the callback: the PKCE verifier (or a provider's
    # whole flow), encrypted, so the cookie carries nothing but the state.
    secret = EncryptedTextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "OAuth state"

    def __str__(self) -> str:
        return f"{self.provider} state for merchant {self.merchant_id}"


class KeptBlockGroup(models.Model):
    """Blocked times kept from one calendar at a disconnect ("kept from Work (Google), 279 blocks").

    The blocks stay as the merchant's own (source ``manual``) with their external keys, so
    a reconnect of the same account adopts them back instead of showing each twice, and
    deleting the group removes them all in one go (SPEC §9).
    """

    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.CASCADE, related_name="kept_block_groups")
    provider = models.CharField(max_length=20)
    account_id = models.CharField(max_length=255, blank=True)
    calendar_external_id = models.CharField(max_length=1024)
    calendar_name = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"kept from {self.calendar_name or self.calendar_external_id} ({self.provider})"


class ConnectionIncident(models.Model):
    """A connection that needs the merchant (SPEC §9): shown as a banner on every merchant
    page while open, and emailed to the merchant once."""

    class Kind(models.TextChoices):
        REAUTH_REQUIRED = "reauth_required", "reconnect needed"
        SYNC_FAILING = "sync_failing", "syncs failing for over an hour"

    connection = models.ForeignKey(CalendarConnection, on_delete=models.CASCADE, related_name="incidents")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    opened_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "kind"],
                condition=models.Q(resolved_at__isnull=True),
                name="one_open_incident_per_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.connection} ({'open' if self.resolved_at is None else 'resolved'})"


class CalDAVObject(models.Model):
    """A CalDAV calendar object as far as timing goes, kept so the horizon roll needs no server.

    ``data`` is the object's *timing-only* iCalendar (``providers/caldav/events.timing_only``):
    times, recurrence rules and exceptions, STATUS/TRANSP and the merchant's own PARTSTAT;
    never a title, description, location or another attendee. ``href`` is the path the
    server names the object by; the object's blocked times are keyed ``{path}#{recurrence}``.
    """

    calendar = models.ForeignKey(ExternalCalendar, on_delete=models.CASCADE, related_name="caldav_objects")
    href = models.CharField(max_length=1024)
    etag = models.CharField(max_length=255, blank=True)
    data = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "CalDAV object"
        constraints = [models.UniqueConstraint(fields=["calendar", "href"], name="unique_caldav_object_per_calendar")]

    def __str__(self) -> str:
        return self.href


class BookingCopy(models.Model):
    """A booking's copy in one connection's bookings calendar (SPEC §10), and how writing it went.

    One row per booking and connection: every change of the booking makes it ``pending``
    and queues a write; ``written_sequence`` is the booking's SEQUENCE the provider holds,
    so a retried or duplicate task writes only what is newer. Failures stay visible (the
    card, the admin) and are retried with backoff until the write lands.
    """

    class State(models.TextChoices):
        PENDING = "pending"
        WRITTEN = "written"
        REMOVED = "removed"  # the booking was cancelled and its copy deleted
        FAILED = "failed"  # the last attempt failed; retried with backoff

    booking = models.ForeignKey("scheduling.Booking", on_delete=models.CASCADE, related_name="calendar_copies")
    connection = models.ForeignKey(CalendarConnection, on_delete=models.CASCADE, related_name="booking_copies")
    calendar_id = models.CharField(max_length=1024, blank=True, help_text="The bookings calendar written to.")
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    written_sequence = models.IntegerField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "booking copies"
        constraints = [
            models.UniqueConstraint(fields=["booking", "connection"], name="one_copy_per_booking_and_connection")
        ]
        indexes = [models.Index(fields=["state", "last_attempt_at"])]

    def __str__(self) -> str:
        return f"copy of booking {self.booking_id} in {self.connection} ({self.state})"
