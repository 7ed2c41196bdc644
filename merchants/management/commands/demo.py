"""``demo``: the whole product on one machine with no services: the app, the local Google
emulator, a local CalDAV server (Radicale) and a demo merchant whose emulated accounts
each have a realistic week.

Steps: migrate the SQLite file, create the demo merchant (and a few bookings this week),
start the Google emulator in this process, seed its demo account (``merchants.demo``),
point the app's Google settings at it, print the login and the URLs, run the web server.
Tasks run eagerly (no Redis); the emulator's push notifications reach the app's watch
endpoint on loopback, so a change made on the emulator's page shows up in the week view.
See README.md ("Try it").
"""

from __future__ import annotations

import os

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from integrations.models import CalendarConnection
from integrations.providers.google.provider import GoogleProvider
from merchants.demo import bookings_seed, current_monday, google_week_seed
from merchants.models import Merchant
from merchants.services import merchant_create

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo-calendar-2026"
DEMO_NAME = "Demo Salon"
DEMO_SLUG = "demo"
DEMO_TIME_ZONE = "Europe/Berlin"
EMULATOR_CLIENT_ID = "demo-client-id"
EMULATOR_CLIENT_SECRET = "demo-client-secret"
MICROSOFT_DEMO_ACCOUNT = "demo.merchant@outlook.com"


class Command(BaseCommand):
    help = "Run the demo: the app plus the local Google emulator, with a demo merchant and a realistic week."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000", help="Where to serve (host:port).")
        parser.add_argument("--emulator-port", type=int, default=8001, help="Port of the local Google emulator.")
        parser.add_argument("--caldav-port", type=int, default=5232, help="Port of the local CalDAV server.")
        parser.add_argument("--microsoft-port", type=int, default=8002, help="Port of the local Microsoft emulator.")
        parser.add_argument(
            "--no-emulator", action="store_true", help="Keep the GOOGLE_* settings from the environment (real Google)."
        )
        parser.add_argument("--no-server", action="store_true", help="Only migrate and create the demo merchant.")

    def handle(self, *args, addrport, emulator_port, caldav_port, microsoft_port, no_emulator, no_server, **options):
        call_command("migrate", interactive=False, verbosity=0)
        merchant = self._demo_merchant()
        host, _, port = addrport.rpartition(":")
        if not host or not port.isdigit():
            raise CommandError(f"Give the address as host:port, not {addrport!r}.")
        shown_host = "127.0.0.1" if host in ("0.0.0.0", "") else host.strip("[]")
        base = f"http://{shown_host}:{port}"
        bookings_seed(merchant=merchant, monday=current_monday(merchant.time_zone))
        if no_server:
            self._print_login(base)
            return

        emulator = caldav = microsoft = None
        if not no_emulator:
            caldav = self._caldav_start(caldav_port)
            microsoft = self._microsoft_start(base, microsoft_port)
            emulator = self._emulator_start(base, emulator_port)
            # The emulator forgets everything when it stops: tokens kept from an earlier run
            # point at accounts that no longer exist, so the demo merchant starts disconnected.
            CalendarConnection.objects.filter(merchant=merchant).delete()
            google_week_seed(emulator, email=DEMO_EMAIL, time_zone=DEMO_TIME_ZONE)
        self._print_login(base, emulator, caldav, microsoft)
        try:
            # No autoreloader: it would re-run this whole command (and the emulator) in a child.
            call_command("runserver", addrport, use_reloader=False)
        finally:
            if emulator is not None:
                emulator.stop()
            if caldav is not None:
                caldav.stop()
            if microsoft is not None:
                microsoft.stop()

    def _demo_merchant(self) -> Merchant:
        user = get_user_model().objects.filter(username=DEMO_EMAIL).select_related("merchant").first()
        if user is not None:
            return user.merchant
        merchant = merchant_create(
            email=DEMO_EMAIL, password=DEMO_PASSWORD, name=DEMO_NAME, time_zone=DEMO_TIME_ZONE, slug=DEMO_SLUG
        )
        self.stdout.write(self.style.SUCCESS("Created the demo merchant."))
        return merchant

    def _emulator_start(self, base: str, port: int):
        from integrations.emulators.google import GoogleEmulator

        public = os.environ.get("PUBLIC_BASE_URL") or base
        emulator = GoogleEmulator(
            client_id=EMULATOR_CLIENT_ID,
            client_secret=EMULATOR_CLIENT_SECRET,
            redirect_uris=[public.rstrip("/") + GoogleProvider.callback_path],
        )
        try:
            emulator.start(host="127.0.0.1", port=port)
        except OSError as exc:
            raise CommandError(
                f"The Google emulator cannot listen on port {port} ({exc}); try --emulator-port."
            ) from exc
        # Settings are read per request, and runserver runs in this process: this is enough.
        settings.PUBLIC_BASE_URL = public.rstrip("/")
        if not os.environ.get("GOOGLE_WEBHOOK_URL"):
            settings.GOOGLE_WEBHOOK_URL = settings.PUBLIC_BASE_URL + settings.GOOGLE_WEBHOOK_PATH
        settings.GOOGLE_OAUTH_CLIENT_ID = EMULATOR_CLIENT_ID
        settings.GOOGLE_OAUTH_CLIENT_SECRET = EMULATOR_CLIENT_SECRET
        settings.GOOGLE_OAUTH_AUTH_URI = emulator.auth_uri
        settings.GOOGLE_OAUTH_TOKEN_URI = emulator.token_uri
        settings.GOOGLE_OAUTH_REVOKE_URI = emulator.revoke_uri
        settings.GOOGLE_API_ROOT = emulator.api_root
        # oauthlib refuses plain http; the emulator is on loopback only.
        os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
        return emulator

    def _caldav_start(self, port: int):
        """A Radicale on loopback with the demo account's week ("Other CalDAV" card)."""
        from integrations.emulators.caldav import RadicaleServer
        from integrations.emulators.caldav.demo import seed_demo_week

        server = RadicaleServer()
        try:
            server.start(port=port)
        except (OSError, RuntimeError) as exc:
            raise CommandError(f"The CalDAV server cannot start on port {port} ({exc}); try --caldav-port.") from exc
        seed_demo_week(server, zone=DEMO_TIME_ZONE)
        # The product refuses private addresses for CalDAV; this local server is the demo's.
        settings.CALDAV_ALLOW_PRIVATE_ADDRESSES = True
        return server

    def _microsoft_start(self, base: str, port: int):
        """The Microsoft emulator (HTTPS with its own test authority, which the app is told to
        trust) with an Outlook account and a realistic week ("Outlook / Microsoft 365" card)."""
        from integrations.emulators.microsoft import MicrosoftEmulator
        from integrations.emulators.microsoft.demo import seed_demo

        public = (os.environ.get("PUBLIC_BASE_URL") or base).rstrip("/")
        callback = "/api/v1/merchant/integrations/microsoft/calendar/callback"
        emulator = MicrosoftEmulator(
            client_id=EMULATOR_CLIENT_ID, client_secret=EMULATOR_CLIENT_SECRET, redirect_uris=[public + callback]
        )
        try:
            emulator.start(host="127.0.0.1", port=port)
        except OSError as exc:
            raise CommandError(
                f"The Microsoft emulator cannot listen on port {port} ({exc}); try --microsoft-port."
            ) from exc
        seed_demo(emulator, email=MICROSOFT_DEMO_ACCOUNT, time_zone=DEMO_TIME_ZONE)
        os.environ["REQUESTS_CA_BUNDLE"] = os.environ["SSL_CERT_FILE"] = emulator.ca_bundle_path
        settings.MICROSOFT_OAUTH_CLIENT_ID = EMULATOR_CLIENT_ID
        settings.MICROSOFT_OAUTH_CLIENT_SECRET = EMULATOR_CLIENT_SECRET
        settings.MICROSOFT_AUTHORITY_HOST = emulator.authority_host
        settings.MICROSOFT_GRAPH_ROOT = emulator.graph_root
        if not os.environ.get("MICROSOFT_WEBHOOK_URL"):
            settings.MICROSOFT_WEBHOOK_URL = public + "/api/v1/merchant/integrations/microsoft/calendar/watch"
        return emulator

    def _print_login(self, base: str, emulator=None, caldav=None, microsoft=None) -> None:
        lines = [
            "",
            self.style.SUCCESS("Merchant calendar demo"),
            f"  Log in:          {base}/accounts/login/",
            f"    email:         {DEMO_EMAIL}",
            f"    password:      {DEMO_PASSWORD}",
            f"  Booking page:    {base}/book/{DEMO_SLUG}",
            f"  API docs:        {base}/api/v1/docs/",
        ]
        if emulator is not None:
            lines += [
                f"  Google emulator: {emulator.base_url}  (account {DEMO_EMAIL}, a week of events)",
                f"  Edit Google events live: {emulator.base_url}_emulator/ui",
                "",
                "  Then: Integrations -> Connect Google Calendar -> Allow on the emulator's consent page;",
                "  the week view fills with the busy times. Add or move an event on the emulator's page",
                "  and watch the week view follow (push notification -> sync).",
            ]
        if microsoft is not None:
            lines += [
                "",
                f"  Microsoft emulator: {microsoft.base_url}  (Outlook account {MICROSOFT_DEMO_ACCOUNT}, a week)",
                f"  Edit Outlook events live: {microsoft.base_url}_emulator/ui",
                "  It serves https with its own test certificate: the browser asks once to accept it.",
            ]
        if caldav is not None:
            from integrations.emulators.caldav.demo import DEMO_PASSWORD as CALDAV_PASSWORD
            from integrations.emulators.caldav.demo import DEMO_USER as CALDAV_USER

            lines += [
                "",
                f"  CalDAV server:   {caldav.url}  (Radicale; the 'Other CalDAV' card)",
                f"    user name:     {CALDAV_USER}",
                f"    password:      {CALDAV_PASSWORD}",
            ]
        self.stdout.write("\n".join(lines) + "\n")
