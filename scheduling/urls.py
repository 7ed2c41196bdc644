"""Scheduling API routes, included under ``/api/v1/``.

Path parameters are plain strings: a malformed id or slug then reaches the view and
gets the JSON 404 instead of Django's HTML one.
"""

from django.urls import path

from scheduling import api, manage_api

app_name = "scheduling"

urlpatterns = [
    path("merchant/blocked-times", api.BlockedTimesView.as_view(), name="blocked-times"),
    path("merchant/blocked-times/<str:pk>", api.BlockedTimeDetailView.as_view(), name="blocked-time-detail"),
    path("merchant/bookings", api.BookingsView.as_view(), name="bookings"),
    path("merchant/bookings/<str:pk>", manage_api.MerchantBookingDetailView.as_view(), name="booking-detail"),
    path(
        "public/bookings/<str:token>/cancel", manage_api.PublicBookingCancelView.as_view(), name="public-booking-cancel"
    ),
    path(
        "public/bookings/<str:token>/reschedule",
        manage_api.PublicBookingRescheduleView.as_view(),
        name="public-booking-reschedule",
    ),
    path("public/merchants/<str:slug>/bookings", api.PublicBookingCreateView.as_view(), name="public-bookings"),
    path("public/merchants/<str:slug>/availability", api.PublicAvailabilityView.as_view(), name="public-availability"),
]
