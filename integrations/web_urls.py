"""Web pages of the integrations app, included at the site root."""

from django.urls import path

from integrations import web

urlpatterns = [
    path("app/integrations", web.integrations_page, name="integrations"),
    path("app/integrations/<str:provider>/calendars", web.calendars_update, name="integrations-calendars"),
    path("app/integrations/<str:provider>/preferences", web.preferences_update, name="integrations-preferences"),
    path("app/integrations/<str:provider>/bookings", web.bookings_update, name="integrations-bookings"),
    path("app/integrations/<str:provider>/sync", web.sync_now, name="integrations-sync"),
    path("app/integrations/<str:provider>/disconnect", web.disconnect, name="integrations-disconnect"),
    path("app/integrations/<str:provider>/connect", web.credentials_connect, name="integrations-connect"),
    path("app/integrations/<str:provider>/password", web.password_replace, name="integrations-password"),
    path("app/integrations/kept/<int:group_id>/delete", web.kept_group_delete, name="integrations-kept-delete"),
]
