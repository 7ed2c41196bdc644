from django.urls import path

from merchants import api, settings_api

app_name = "merchants_api"

urlpatterns = [
    path("auth/token", api.AuthTokenView.as_view(), name="auth-token"),
    path("merchant/business-hours", settings_api.BusinessHoursView.as_view(), name="business-hours"),
    path("merchant/booking-rules", settings_api.BookingRulesView.as_view(), name="booking-rules"),
]
