"""``manage.py google_emulator``: run the local Google emulator (OAuth 2.0, Calendar v3, push).

Point the app at it with GOOGLE_OAUTH_AUTH_URI / _TOKEN_URI / _REVOKE_URI / GOOGLE_API_ROOT
(printed on start). Drive it from other processes with ``EmulatorControl(base_url)``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from integrations.emulators.google import GoogleEmulator


class Command(BaseCommand):
    help = "Run the local Google emulator (OAuth 2.0 + Calendar v3 + push notifications)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8001)
        parser.add_argument("--client-id", default=None, help="default: GOOGLE_OAUTH_CLIENT_ID or 'emulator-client-id'")
        parser.add_argument("--client-secret", default=None)
        parser.add_argument(
            "--redirect-uri",
            action="append",
            default=[],
            help="registered redirect URI (repeatable); default: PUBLIC_BASE_URL + the callback path",
        )
        parser.add_argument("--token-lifetime", type=int, default=3600, help="access-token lifetime in seconds")
        parser.add_argument("--auto-approve", action="store_true", help="skip the consent page")
        parser.add_argument(
            "--listing-latency", type=float, default=0.0, help="seconds added to every listing page (benchmarks)"
        )
        parser.add_argument("--seed-demo", action="store_true", help="create a demo account with events")
        parser.add_argument("--demo-email", default="demo.merchant@example.com")

    def handle(self, *args, **options):
        client_id = options["client_id"] or settings.GOOGLE_OAUTH_CLIENT_ID or "emulator-client-id"
        client_secret = options["client_secret"] or settings.GOOGLE_OAUTH_CLIENT_SECRET or "emulator-client-secret"
        redirect_uris = options["redirect_uri"] or [
            settings.PUBLIC_BASE_URL + "/api/v1/merchant/integrations/google/calendar/callback"
        ]
        emulator = GoogleEmulator(
            client_id=client_id,
            client_secret=client_secret,
            redirect_uris=redirect_uris,
            access_token_lifetime=options["token_lifetime"],
            auto_approve=options["auto_approve"],
            listing_latency=options["listing_latency"],
        )
        emulator.start(host=options["host"], port=options["port"])
        if options["seed_demo"]:
            from integrations.emulators.google.demo import seed_demo

            seeded = seed_demo(emulator, email=options["demo_email"])
            self.stdout.write(f"Seeded demo account {seeded['email']} ({', '.join(seeded['calendars'])})")
        self.stdout.write(
            "Google emulator running. Settings for the app:\n"
            f"  GOOGLE_OAUTH_CLIENT_ID={client_id}\n"
            f"  GOOGLE_OAUTH_CLIENT_SECRET={client_secret}\n"
            f"  GOOGLE_OAUTH_AUTH_URI={emulator.auth_uri}\n"
            f"  GOOGLE_OAUTH_TOKEN_URI={emulator.token_uri}\n"
            f"  GOOGLE_OAUTH_REVOKE_URI={emulator.revoke_uri}\n"
            f"  GOOGLE_API_ROOT={emulator.api_root}\n"
            f"Redirect URIs: {', '.join(redirect_uris)}\n"
            f"Control API: {emulator.base_url}_emulator/  (Ctrl+C to stop)"
        )
        try:
            emulator.serve_forever(options["host"], options["port"])
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")
