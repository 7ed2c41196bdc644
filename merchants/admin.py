"""Staff view of merchant accounts, with their business hours inline.

Deleting a merchant disconnects their calendar connections through the disconnect service
first (revoking grants, stopping channels), never by a bare cascade.
"""

from django.apps import apps
from django.contrib import admin
from knox.models import AuthToken

from integrations.services.connections import connection_disconnect
from merchants.models import BusinessHours, Merchant


def _disconnect_all(merchants) -> None:
    for merchant in merchants:
        for connection in merchant.calendar_connections.all():
            connection_disconnect(connection=connection, delete_blocked_times=True)


class BusinessHoursInline(admin.TabularInline):
    model = BusinessHours
    extra = 0


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "user", "time_zone", "created_at"]
    search_fields = ["name", "slug", "user__email", "user__username"]
    list_filter = ["time_zone"]
    list_select_related = ["user"]
    readonly_fields = ["created_at", "business_hours_set_at"]
    raw_id_fields = ["user"]
    inlines = [BusinessHoursInline]

    def get_deleted_objects(self, objs, request):
        # The integrations admin refuses deletes (they would skip the disconnect service);
        # here the service runs first (delete_model), so those rows may go with the merchant.
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        integration_names = {str(m._meta.verbose_name) for m in apps.get_app_config("integrations").get_models()}
        return deleted, counts, perms_needed - integration_names, protected

    def delete_model(self, request, obj):
        _disconnect_all([obj])
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        _disconnect_all(queryset)
        super().delete_queryset(request, queryset)


# API tokens (django-rest-knox): staff see whose token, when issued and when it expires, and
# may revoke one (delete); never the token, nor its digest. Knox's own admin would print a
# new token in full after "add", so tokens are not added here: clients log in for one.
admin.site.unregister(AuthToken)


@admin.register(AuthToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["user", "token_start", "created", "expiry"]
    list_select_related = ["user"]
    search_fields = ["user__email", "user__username"]
    ordering = ["-created"]
    fields = ["user", "token_start", "created", "expiry"]
    readonly_fields = fields

    @admin.display(description="token")
    def token_start(self, obj) -> str:
        return f"{obj.token_key[:6]}…"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
