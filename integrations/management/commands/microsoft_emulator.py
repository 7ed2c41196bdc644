"""``manage.py microsoft_emulator``: run the local Microsoft emulator (identity platform + Graph).

It serves HTTPS with its own test certificate authority, kept in ``--ca-dir`` so other
processes (and a browser, if you import it) can trust it across restarts. Point the app at it
with the settings it prints; drive it from other processes with ``EmulatorControl``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from integrations.emulators.microsoft import MicrosoftEmulator

CALLBACK_PATH = "/api/v1/merchant/integrations/microsoft/calendar/callback"


class Command(BaseCommand):
    help = "Run the local Microsoft emulator (identity platform v2.0 + Graph calendars + change notifications)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8002)
        parser.add_argument("--client-id", default=None, help="default: MICROSOFT_OAUTH_CLIENT_ID or a fixed GUID")
        parser.add_argument("--client-secret", default=None)
        parser.add_argument(
            "--redirect-uri",
            action="append",
            default=[],
            help="registered redirect URI (repeatable); default: PUBLIC_BASE_URL + the callback path",
        )
        parser.add_argument("--ca-dir", default=".microsoft-emulator-ca", help="where the test CA is kept")
        parser.add_argument("--token-lifetime", type=int, default=3599, help="access-token lifetime in seconds")
        parser.add_argument("--auto-approve", action="store_true", help="skip the consent page")
        parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every Graph response")
        parser.add_argument(
            "--listing-latency", type=float, default=0.0, help="seconds added to every listing page (benchmarks)"
        )
        parser.add_argument("--seed-demo", action="store_true", help="create a demo account with a week of events")
        parser.add_argument("--demo-email", default="demo.merchant@outlook.com")

    def handle(self, *args, **options):
        client_id = options["client_id"] or getattr(settings, "MICROSOFT_OAUTH_CLIENT_ID", "") or None
        client_secret = options["client_secret"] or getattr(settings, "MICROSOFT_OAUTH_CLIENT_SECRET", "") or None
        redirect_uris = options["redirect_uri"] or [settings.PUBLIC_BASE_URL + CALLBACK_PATH]
        kwargs = {"client_id": client_id} if client_id else {}
        if client_secret:
            kwargs["client_secret"] = client_secret
        emulator = MicrosoftEmulator(
            redirect_uris=redirect_uris,
            ca_dir=options["ca_dir"],
            access_token_lifetime=options["token_lifetime"],
            auto_approve=options["auto_approve"],
            graph_latency=options["latency"],
            listing_latency=options["listing_latency"],
            **kwargs,
        )
        emulator.start(host=options["host"], port=options["port"])
        if options["seed_demo"]:
            from integrations.emulators.microsoft.demo import seed_demo

            seeded = seed_demo(emulator, email=options["demo_email"])
            self.stdout.write(f"Seeded demo account {seeded['email']} ({len(seeded['calendars'])} calendars)")
        client = emulator.state.clients[next(iter(emulator.state.clients))]
        self.stdout.write(
            "Microsoft emulator running. Settings for the app:\n"
            f"  MICROSOFT_OAUTH_CLIENT_ID={client.client_id}\n"
            f"  MICROSOFT_OAUTH_CLIENT_SECRET={client.client_secret}\n"
            f"  MICROSOFT_AUTHORITY_HOST={emulator.authority_host}\n"
            f"  MICROSOFT_GRAPH_ROOT={emulator.graph_root}\n"
            f"  REQUESTS_CA_BUNDLE={emulator.ca_bundle_path}\n"
            f"  SSL_CERT_FILE={emulator.ca_bundle_path}\n"
            f"Redirect URIs: {', '.join(redirect_uris)}\n"
            f"Events page: {emulator.base_url}_emulator/ui\n"
            f"Control API: {emulator.base_url}_emulator/  (Ctrl+C to stop)"
        )
        try:
            emulator.serve_forever(options["host"], options["port"])
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")
