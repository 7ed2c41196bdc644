"""Staff view of merchant accounts, with their business hours inline."""

from django.contrib import admin

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
    readonly_fields = ["created_at", "business_hours_set_at"]
    raw_id_fields = ["user"]
    inlines = [BusinessHoursInline]
