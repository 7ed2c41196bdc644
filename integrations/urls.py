from django.urls import path, register_converter

from integrations import api, webhooks, webhooks_microsoft
from integrations.providers import PROVIDERS


class ProviderConverter:
    """Only registered provider keys match: any other ``/integrations/<x>/`` is a 404."""

    regex = "|".join(PROVIDERS)

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ProviderConverter, "provider")

app_name = "integrations"

urlpatterns = [
    path("merchant/integrations", api.IntegrationsView.as_view(), name="providers"),
    path("merchant/integrations/google/calendar/watch", webhooks.google_calendar_watch, name="google-calendar-watch"),
    path(
        "merchant/integrations/microsoft/calendar/watch",
        webhooks_microsoft.microsoft_calendar_watch,
        name="microsoft-calendar-watch",
    ),
    path(
        "merchant/integrations/microsoft/calendar/lifecycle",
        webhooks_microsoft.microsoft_calendar_lifecycle,
        name="microsoft-calendar-lifecycle",
    ),
    path("merchant/integrations/<provider:provider>/calendar", api.CalendarConnectionView.as_view(), name="calendar"),
    path(
        "merchant/integrations/<provider:provider>/calendar/callback",
        api.OAuthCallbackView.as_view(),
        name="calendar-callback",
    ),
    path(
        "merchant/integrations/<provider:provider>/calendar/calendars",
        api.CalendarsView.as_view(),
        name="calendar-calendars",
    ),
    path("merchant/integrations/<provider:provider>/calendar/sync", api.SyncView.as_view(), name="calendar-sync"),
]
