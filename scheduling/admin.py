"""Staff views of blocked times and bookings.

Synced blocked times are managed by the sync engine: their timing, source, calendar and
external key are read-only here, and there is no event detail to show (none is stored).
"""

from django.contrib import admin

from scheduling.models import BlockedTime, Booking

SYNCED_READ_ONLY = ["merchant", "start", "end", "all_day", "source", "calendar", "external_key", "note"]


@admin.register(BlockedTime)
class BlockedTimeAdmin(admin.ModelAdmin):
    list_display = ["merchant", "start", "end", "all_day", "source", "calendar"]
    list_filter = ["source", "all_day"]
    list_select_related = ["merchant", "calendar"]
    search_fields = ["merchant__name", "merchant__slug", "calendar__summary"]
    date_hierarchy = "start"
    raw_id_fields = ["merchant"]
    fields = [
        "merchant",
        "start",
        "end",
        "all_day",
        "source",
        "calendar",
        "external_key",
        "note",
        "created_at",
        "updated_at",
    ]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.is_synced:
            return [*SYNCED_READ_ONLY, "created_at", "updated_at"]
        return ["source", "calendar", "external_key", "created_at", "updated_at"]


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    list_display = ["merchant", "start", "end", "customer_name", "customer_email", "status", "created_at"]
    list_filter = ["status"]
    list_select_related = ["merchant"]
    search_fields = ["merchant__name", "merchant__slug", "customer_name", "customer_email"]
    date_hierarchy = "start"
    raw_id_fields = ["merchant"]
    # Status, sequence and the UID change only through scheduling.services (emails, invitations).
    readonly_fields = ["uid", "status", "sequence", "cancelled_at", "cancelled_by", "created_at", "updated_at"]
