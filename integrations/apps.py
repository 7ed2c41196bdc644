from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"

    def ready(self) -> None:
        # Bookings reach the providers through scheduling's signals (scheduling never imports
        # integrations): copies into the merchant's calendars (§10), the live check (§11).
        from integrations.services.booking_copies import booking_changed_receiver
        from integrations.services.live_check import live_check_receiver
        from scheduling.signals import booking_changed, live_check

        booking_changed.connect(booking_changed_receiver, dispatch_uid="integrations.booking_copies")
        live_check.connect(live_check_receiver, dispatch_uid="integrations.live_check")
