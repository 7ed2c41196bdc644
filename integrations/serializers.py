"""Input and output serializers of the Google Calendar endpoints (SPEC §3).

Inputs are strict: unknown fields and non-boolean flags are refused with 400 rather
than guessed at. Outputs never carry a token or an event detail.
"""

from __future__ import annotations

from rest_framework import serializers

from scheduling.fields import InstantField


class StrictBooleanField(serializers.BooleanField):
    """JSON ``true``/``false`` only: ``"yes"`` or ``1`` is a client bug, not a choice."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        self.fail("invalid", input=data)


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not declare."""

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError({"non_field_errors": ["Expected a JSON object."]})
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


# --- inputs ----------------------------------------------------------------------------------


class PreferencesInput(StrictSerializer):
    block_tentative = StrictBooleanField(required=False)
    block_all_day = StrictBooleanField(required=False)
    write_bookings = StrictBooleanField(required=False, help_text="Copy bookings into a calendar of ours (§10).")
    bookings_calendar = serializers.IntegerField(
        required=False, min_value=1, help_text="CalDAV: a calendar (id) to write bookings into when none can be made."
    )

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError(
                "Give block_tentative, block_all_day, write_bookings and/or bookings_calendar."
            )
        return attrs


class PreferencesPatchInput(StrictSerializer):
    """``{"preferences": {...}}``; the flat form ``{"block_tentative": ...}`` is accepted too."""

    preferences = PreferencesInput()

    def to_internal_value(self, data):
        if isinstance(data, dict) and "preferences" not in data:
            data = {"preferences": data}
        return super().to_internal_value(data)


class CalendarSelectionItem(StrictSerializer):
    id = serializers.IntegerField(min_value=1)
    selected = StrictBooleanField()


class CalendarSelectionInput(serializers.Serializer):
    """``[{"id", "selected"}, ...]``; ``{"calendars": [...]}`` is accepted too."""

    calendars = CalendarSelectionItem(many=True, allow_empty=False)

    def to_internal_value(self, data):
        if isinstance(data, list):
            data = {"calendars": data}
        elif not isinstance(data, dict) or set(data) != {"calendars"}:
            raise serializers.ValidationError({"non_field_errors": ['Expected a list of {"id", "selected"}.']})
        attrs = super().to_internal_value(data)
        ids = [item["id"] for item in attrs["calendars"]]
        if len(ids) != len(set(ids)):
            raise serializers.ValidationError({"calendars": ["Each calendar id may appear once."]})
        return attrs


class DisconnectQuery(StrictSerializer):
    delete_blocked_times = serializers.BooleanField(required=False, default=False)


class CredentialsConnectInput(StrictSerializer):
    """CalDAV (SPEC §8.2): ``server`` is ``"icloud"`` or the server's URL."""

    server = serializers.CharField(max_length=2000)
    username = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=1000, trim_whitespace=False, style={"input_type": "password"})


class PasswordReplaceInput(StrictSerializer):
    password = serializers.CharField(max_length=1000, trim_whitespace=False, style={"input_type": "password"})


# --- outputs: instants in the merchant's zone (context["zone"]), like every other endpoint ---


class AuthorizationUrlOutput(serializers.Serializer):
    authorization_url = serializers.URLField()


class CalendarOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk", help_text="The product's id of the calendar.")
    external_id = serializers.CharField(help_text="The provider's id (Google/Graph calendar id, CalDAV URL).")
    summary = serializers.CharField()
    primary = serializers.BooleanField()
    selected = serializers.BooleanField()
    last_synced_at = InstantField(allow_null=True)
    last_error = serializers.SerializerMethodField()

    def get_last_error(self, calendar) -> str | None:
        return calendar.last_error or None


class SyncRunOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    calendar = serializers.IntegerField(source="calendar_id")
    trigger = serializers.CharField()
    kind = serializers.CharField()
    status = serializers.CharField()
    started_at = InstantField()
    finished_at = InstantField(allow_null=True)
    duration_ms = serializers.IntegerField(allow_null=True)
    events_seen = serializers.IntegerField()
    blocks_upserted = serializers.IntegerField()
    blocks_deleted = serializers.IntegerField()
    error = serializers.SerializerMethodField()

    def get_error(self, run) -> str | None:
        return run.error or None


class PreferencesOutput(serializers.Serializer):
    block_tentative = serializers.BooleanField()
    block_all_day = serializers.BooleanField()
    write_bookings = serializers.BooleanField()


class BookingsCalendarOutput(serializers.Serializer):
    """Where bookings are copied (SPEC §10) and how that goes."""

    name = serializers.CharField(allow_null=True, help_text="The bookings calendar, once made (null before).")
    external_id = serializers.CharField(allow_null=True)
    written = serializers.IntegerField(help_text="Bookings whose copy is in place.")
    pending = serializers.IntegerField(help_text="Copies waiting to be written.")
    failed = serializers.IntegerField(help_text="Copies whose last write failed (retried with backoff).")
    last_error = serializers.CharField(allow_null=True)


class ConsentRequiredError(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class ConsentRequiredOutput(serializers.Serializer):
    error = ConsentRequiredError()
    authorization_url = serializers.URLField()


class ConnectionStatusOutput(serializers.Serializer):
    provider = serializers.CharField()
    push = serializers.BooleanField(help_text="True when the provider notifies us of changes, false when we poll.")
    next_sync_at = InstantField(allow_null=True, help_text="When a polled connection is next checked; null with push.")
    connected = serializers.BooleanField()
    status = serializers.ChoiceField(choices=["not_connected", "active", "syncing", "error", "reauth_required"])
    account_email = serializers.EmailField(allow_null=True)
    connected_at = InstantField(allow_null=True)
    last_synced_at = InstantField(allow_null=True)
    last_error = serializers.CharField(allow_null=True)
    calendars = CalendarOutput(many=True)
    channel_expires_at = InstantField(allow_null=True)
    preferences = PreferencesOutput()
    bookings_calendar = BookingsCalendarOutput(allow_null=True, help_text="Null while write_bookings is off.")
    recent_sync_runs = SyncRunOutput(many=True)


class ProviderSummaryOutput(serializers.Serializer):
    provider = serializers.CharField()
    name = serializers.CharField()
    configured = serializers.BooleanField(help_text="False when this server lacks the provider's settings.")
    missing_settings = serializers.ListField(child=serializers.CharField())
    connected = serializers.BooleanField()
    status = serializers.ChoiceField(choices=["not_connected", "active", "syncing", "error", "reauth_required"])


class SyncQueuedOutput(serializers.Serializer):
    queued_calendars = serializers.ListField(child=serializers.IntegerField())
