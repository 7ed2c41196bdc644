"""Merchant-facing Google Calendar endpoints (SPEC §3). Filled in by the connection work."""

from rest_framework.views import APIView


class GoogleCalendarView(APIView):
    pass


class GoogleCalendarCallbackView(APIView):
    pass


class GoogleCalendarCalendarsView(APIView):
    pass


class GoogleCalendarSyncView(APIView):
    pass
