"""Web pages of the integrations app, included at the site root."""

from django.urls import path

from integrations import web

urlpatterns = [
    path("app/integrations", web.integrations_page, name="integrations"),
    path("app/integrations/google/calendars", web.google_calendars_update, name="google-calendars-update"),
    path("app/integrations/google/preferences", web.google_preferences_update, name="google-preferences-update"),
    path("app/integrations/google/sync", web.google_sync_now, name="google-sync-now"),
    path("app/integrations/google/disconnect", web.google_disconnect, name="google-disconnect"),
]
