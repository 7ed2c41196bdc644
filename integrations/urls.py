from django.urls import path

from integrations import api, webhooks

app_name = "integrations"

urlpatterns = [
    path("merchant/integrations/google/calendar", api.GoogleCalendarView.as_view(), name="google-calendar"),
    path(
        "merchant/integrations/google/calendar/callback",
        api.GoogleCalendarCallbackView.as_view(),
        name="google-calendar-callback",
    ),
    path(
        "merchant/integrations/google/calendar/calendars",
        api.GoogleCalendarCalendarsView.as_view(),
        name="google-calendar-calendars",
    ),
    path(
        "merchant/integrations/google/calendar/sync", api.GoogleCalendarSyncView.as_view(), name="google-calendar-sync"
    ),
    path("merchant/integrations/google/calendar/watch", webhooks.google_calendar_watch, name="google-calendar-watch"),
]
