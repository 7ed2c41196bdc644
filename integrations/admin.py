"""Django admin for the integrations: connections, calendars, channels, sync runs.

Staff see status, account, last sync and last error, and can "sync now" or "disconnect".
Everything is read-only here (changes go through the services): nothing can be deleted,
since deleting a connection would skip the disconnect service (revoking the grant,
stopping channels) and a disconnected connection keeps its sync history. Times show in
the merchant's zone and in UTC. No token, not even an encrypted one, is ever rendered:
token columns are excluded and deferred.
https://docs.djangoproject.com/en/5.2/ref/contrib/admin/actions/
"""

from __future__ import annotations

import datetime as dt

from django.contrib import admin, messages
from django.template.defaultfilters import truncatechars

from config.api import ApplicationError
from integrations.models import BookingCopy, CalendarConnection, ExternalCalendar, SyncRun, WatchChannel
from integrations.providers.base import ProviderError
from integrations.services.booking_copies import booking_copies_queue
from integrations.services.connections import connection_disconnect, connection_sync_request
from integrations.services.sync import calendar_sync_enqueue

CONNECTION_TOKEN_FIELDS = ("access_token", "refresh_token")


def in_both_zones(value, zone) -> str:
    """``2026-12-01 10:00 Europe/Berlin (09:00 UTC)``: staff answer merchants in their time."""
    if value is None:
        return "-"
    local, utc = value.astimezone(zone), value.astimezone(dt.UTC)
    return f"{local:%Y-%m-%d %H:%M} {zone.key} ({utc:%H:%M} UTC{'' if local.date() == utc.date() else f' {utc:%d %b}'})"


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # only the disconnect action removes anything, through the service


class ExternalCalendarInline(admin.TabularInline):
    model = ExternalCalendar
    fields = ("summary", "external_id", "primary", "selected", "last_synced_at", "last_error")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(CalendarConnection)
class CalendarConnectionAdmin(ReadOnlyAdmin):
    list_display = ("merchant", "provider", "account_email", "status", "last_synced", "short_error", "connected_at")
    list_filter = ("provider", "status")
    search_fields = ("merchant__name", "merchant__slug", "account_email")
    list_select_related = ("merchant",)
    exclude = CONNECTION_TOKEN_FIELDS
    readonly_fields = (
        "merchant",
        "provider",
        "status",
        "account_email",
        "granted_scopes",
        "token_expires_at",
        "block_tentative",
        "block_all_day",
        "write_bookings",
        "bookings_calendar_name",
        "bookings_calendar_id",
        "connected_at",
        "last_synced_at",
        "last_error",
        "created_at",
        "updated_at",
    )
    inlines = (ExternalCalendarInline,)
    actions = ("sync_now", "disconnect_keep_blocks", "disconnect_delete_blocks")

    def get_queryset(self, request):
        return super().get_queryset(request).defer(*CONNECTION_TOKEN_FIELDS)

    @admin.display(description="last error")
    def short_error(self, obj):
        return truncatechars(obj.last_error, 80)

    @admin.display(description="last synced", ordering="last_synced_at")
    def last_synced(self, obj):
        return in_both_zones(obj.last_synced_at, obj.merchant.zone)

    @admin.action(description="Sync now (all selected calendars)")
    def sync_now(self, request, queryset):
        queued = 0
        for connection in queryset:
            try:
                queued += len(connection_sync_request(connection=connection, provider=connection.provider))
            except ApplicationError as exc:
                self.message_user(request, f"{connection}: {exc.message}", messages.WARNING)
        self.message_user(request, f"Queued {queued} calendar sync(s).", messages.SUCCESS)

    def _disconnect(self, request, queryset, *, delete_blocked_times: bool):
        done = 0
        for connection in queryset:
            try:
                connection_disconnect(connection=connection, delete_blocked_times=delete_blocked_times)
                done += 1
            except ProviderError as exc:
                self.message_user(request, f"{connection}: {exc}", messages.ERROR)
        self.message_user(request, f"Disconnected {done} connection(s).", messages.SUCCESS)

    @admin.action(description="Disconnect (keep synced blocked times as manual)")
    def disconnect_keep_blocks(self, request, queryset):
        self._disconnect(request, queryset, delete_blocked_times=False)

    @admin.action(description="Disconnect and delete synced blocked times")
    def disconnect_delete_blocks(self, request, queryset):
        self._disconnect(request, queryset, delete_blocked_times=True)


@admin.register(ExternalCalendar)
class ExternalCalendarAdmin(ReadOnlyAdmin):
    list_display = ("summary", "connection", "primary", "selected", "last_synced_at", "short_error", "window_end")
    list_filter = ("selected", "primary", "connection__provider")
    search_fields = ("summary", "external_id", "connection__merchant__name", "connection__account_email")
    list_select_related = ("connection", "connection__merchant")
    # The sync cursor is opaque provider state, not something staff need to read.
    exclude = ("sync_cursor",)
    readonly_fields = (
        "connection",
        "external_id",
        "summary",
        "primary",
        "selected",
        "time_zone",
        "window_end",
        "last_synced_at",
        "last_error",
        "created_at",
    )
    actions = ("sync_now",)

    def get_queryset(self, request):
        return super().get_queryset(request).defer(*(f"connection__{f}" for f in CONNECTION_TOKEN_FIELDS))

    @admin.display(description="last error")
    def short_error(self, obj):
        return truncatechars(obj.last_error, 80)

    @admin.action(description="Sync now")
    def sync_now(self, request, queryset):
        calendars = list(queryset.filter(selected=True).values_list("pk", flat=True))
        for calendar_id in calendars:
            calendar_sync_enqueue(calendar_id=calendar_id, trigger="manual")
        self.message_user(request, f"Queued {len(calendars)} calendar sync(s).", messages.SUCCESS)


@admin.register(WatchChannel)
class WatchChannelAdmin(ReadOnlyAdmin):
    list_display = ("channel_id", "calendar", "status", "expires_at", "last_message_number", "created_at")
    list_filter = ("status",)
    search_fields = ("channel_id", "resource_id", "calendar__summary")
    exclude = ("token",)
    readonly_fields = (
        "calendar",
        "channel_id",
        "resource_id",
        "resource_uri",
        "status",
        "expires_at",
        "last_message_number",
        "created_at",
        "stopped_at",
    )

    def get_queryset(self, request):
        return super().get_queryset(request).defer("token")


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = (
        "started",
        "calendar",
        "trigger",
        "kind",
        "status",
        "duration_ms",
        "events_seen",
        "blocks_upserted",
        "blocks_deleted",
        "short_error",
    )
    list_filter = ("status", "trigger", "kind", "started_at")
    search_fields = ("calendar__summary", "calendar__connection__merchant__name", "error")
    list_select_related = ("calendar__connection__merchant",)
    date_hierarchy = "started_at"
    readonly_fields = (
        "calendar",
        "trigger",
        "kind",
        "status",
        "started_at",
        "finished_at",
        "duration_ms",
        "pages",
        "events_seen",
        "blocks_upserted",
        "blocks_deleted",
        "error",
    )

    @admin.display(description="error")
    def short_error(self, obj):
        return truncatechars(obj.error, 80)

    @admin.display(description="started", ordering="started_at")
    def started(self, obj):
        return in_both_zones(obj.started_at, obj.calendar.connection.merchant.zone)

    def get_queryset(self, request):
        return super().get_queryset(request).defer(*(f"calendar__connection__{f}" for f in CONNECTION_TOKEN_FIELDS))


@admin.register(BookingCopy)
class BookingCopyAdmin(ReadOnlyAdmin):
    """Copies of bookings in merchants' calendars (SPEC §10): what failed, how often, why."""

    list_display = ("booking", "connection", "state", "attempts", "last_attempt", "short_error")
    list_filter = ("state", "connection__provider")
    search_fields = ("booking__customer_name", "connection__merchant__name", "last_error")
    list_select_related = ("booking", "connection__merchant")
    readonly_fields = (
        "booking",
        "connection",
        "calendar_id",
        "state",
        "written_sequence",
        "attempts",
        "last_error",
        "last_attempt_at",
        "created_at",
        "updated_at",
    )
    actions = ("write_again",)

    def get_queryset(self, request):
        return super().get_queryset(request).defer(*(f"connection__{f}" for f in CONNECTION_TOKEN_FIELDS))

    @admin.display(description="last error")
    def short_error(self, obj):
        return truncatechars(obj.last_error, 80)

    @admin.display(description="last attempt", ordering="last_attempt_at")
    def last_attempt(self, obj):
        return in_both_zones(obj.last_attempt_at, obj.connection.merchant.zone)

    @admin.action(description="Write again now")
    def write_again(self, request, queryset):
        queued = sum(booking_copies_queue(booking_id=copy.booking_id, connection=copy.connection) for copy in queryset)
        self.message_user(request, f"Queued {queued} write(s).", messages.SUCCESS)
