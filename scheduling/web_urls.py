"""Web pages of the scheduling app, included at the site root: the merchant's week and the public booking page."""

from django.urls import path

from scheduling import booking_page, live, web

urlpatterns = [
    path("app/", web.week, name="week"),
    path("app/blocked-times", web.blocked_time_add, name="blocked-time-add"),
    path("app/blocked-times/<int:pk>/remove", web.blocked_time_remove, name="blocked-time-remove"),
    path("app/bookings/<int:pk>/cancel", web.booking_cancel, name="booking-cancel"),
    path("app/checklist/dismiss", web.checklist_dismiss, name="checklist-dismiss"),
    path("app/live/<str:token>", live.live_version, name="live-version"),
    path("book/<slug:slug>", booking_page.booking_page, name="booking-page"),
    path("book/<slug:slug>/confirmed", booking_page.booking_confirmed, name="booking-confirmed"),
    path("book/<slug:slug>/manage/<str:token>", booking_page.booking_manage, name="booking-manage"),
    path(
        "book/<slug:slug>/manage/<str:token>/cancel", booking_page.booking_manage_cancel, name="booking-manage-cancel"
    ),
]
