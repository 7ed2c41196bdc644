"""Staff view of merchant accounts, with their business hours inline."""

from django.contrib import admin
from knox.models import AuthToken

from merchants.models import BusinessHours, Merchant


class BusinessHoursInline(admin.TabularInline):
    model = BusinessHours
    extra = 0


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "user", "time_zone", "created_at"]
    search_fields = ["name", "slug", "user__email", "user__username"]
    list_filter = ["time_zone"]
    list_select_related = ["user"]
    readonly_fields = ["created_at"]
    raw_id_fields = ["user"]
    inlines = [BusinessHoursInline]


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
